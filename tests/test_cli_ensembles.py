"""``rmtfp qstats``, ``rmtfp beta-scan`` and ``rmtfp train-demo``."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from rmtfp import grid
from rmtfp.cli import main
from rmtfp.commands.qstats import parse_depths
from rmtfp.ensembles import q_statistics

QUICK_Q = ["qstats", "--depths", "1:3", "--networks", "4", "--width", "12", "--step", "0.25", "--workers", "1",
           "--bootstrap", "200", "--quiet"]


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_parse_depths():
    assert parse_depths("1:4") == [1, 2, 3, 4]
    assert parse_depths("2:10:4") == [2, 6, 10]
    assert parse_depths("2,3,5,20") == [2, 3, 5, 20]
    for bad in ("0:3", "3:1", "a", "1:2:0", "2,2", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_depths(bad)


def test_qstats_json_matches_the_api(capsys):
    out = _json(capsys, QUICK_Q + ["--seed", "3", "--json"])
    api = q_statistics([1, 2, 3], width=12, n_networks=4, rng=3, workers=1, n_bootstrap=200,
                       starts=grid(step=0.25))
    assert out["depths"] == [1, 2, 3]
    assert out["Q"] == api.Q.tolist()
    assert out["mode"] == api.mode.tolist()
    assert out["mode_interval"] == api.mode_interval.tolist()
    assert out["params"]["seed"]["entropy"] == 3
    assert out["seconds"] > 0


def test_qstats_workers_do_not_change_the_result(capsys):
    a = _json(capsys, QUICK_Q + ["--seed", "0", "--json"])
    b = _json(capsys, [x if x != "1" or i != QUICK_Q.index("--workers") + 1 else "2"
                       for i, x in enumerate(QUICK_Q)] + ["--seed", "0", "--json"])
    assert a["Q"] == b["Q"] and a["status_fractions"] == b["status_fractions"]


def test_qstats_text_and_plot(capsys, tmp_path):
    path = tmp_path / "q.png"
    assert main(QUICK_Q + ["--plot", str(path)]) == 0
    text = capsys.readouterr().out
    assert "mode" in text and "distribution of Q" in text
    assert path.stat().st_size > 1000


def test_qstats_without_bootstrap_prints_no_interval(capsys):
    assert main(QUICK_Q + ["--bootstrap", "0"]) == 0
    text = capsys.readouterr().out
    assert "n/a" in text and "--bootstrap 0 draws no resamples" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["beta-scan", "--betas", "0.5"], "--betas needs at least two values (a scan), got 0.5"),
        (["beta-scan", "--vs-depth", "1:2"], "--vs-depth needs at least three depths"),
    ],
)
def test_beta_scan_counts_are_checked_with_the_option_name(args, message, capsys):
    assert main(args + ["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_beta_scan_json(capsys):
    out = _json(capsys, ["beta-scan", "--activation", "tanh", "--seed", "0", "--betas", "0.3:0.7:5", "--width", "16", "--networks", "5", "--step", "0.25",
                         "--workers", "1", "--quiet", "--json"])
    assert len(out["scan"]["betas"]) == 5
    assert 0.3 < out["beta_cr"] < 0.7
    lo, hi = out["interval"]
    assert lo <= out["beta_cr"] <= hi


def test_beta_scan_text_plot_and_vs_depth(capsys, tmp_path):
    path = tmp_path / "scan.png"
    assert main(["beta-scan", "--activation", "tanh", "--seed", "0", "--betas", "0.3,0.5,0.7", "--width", "12", "--networks", "3", "--step", "0.5",
                 "--workers", "1", "--quiet", "--plot", str(path)]) == 0
    assert "beta_cr" in capsys.readouterr().out
    assert path.stat().st_size > 1000
    out = _json(capsys, ["beta-scan", "--activation", "tanh", "--seed", "0", "--vs-depth", "1:3", "--beta", "0.4,0.7", "--width", "12", "--networks", "3",
                         "--step", "0.5", "--workers", "1", "--quiet", "--json"])
    assert [r["beta"] for r in out["vs_depth"]] == [0.4, 0.7]
    assert out["vs_depth"][1]["g0"] < out["vs_depth"][0]["g0"]


def test_beta_scan_grid_without_pairs_is_an_input_error(capsys):
    assert main(["beta-scan", "--betas", "0.3,0.5", "--width", "20", "--depth", "2", "--networks", "2",
                 "--step", "3"]) == 2
    assert "--step 3 leaves 1 grid point" in capsys.readouterr().err


def test_beta_scan_out_of_range_is_an_input_error(capsys):
    assert main(["beta-scan", "--activation", "tanh", "--seed", "0", "--betas", "0.9,1.0", "--width", "8", "--networks", "3", "--step", "0.5",
                 "--workers", "1", "--quiet"]) == 2
    assert "widen betas" in capsys.readouterr().err


def test_train_demo(capsys, tmp_path):
    fig = tmp_path / "demo.png"
    weights = tmp_path / "net.npz"
    out = _json(capsys, ["train-demo", "--seed", "1", "--widths", "2,24,24,2", "--epochs", "300", "--per-class", "12",
                         "--heldout", "4", "--fakes", "20", "--employees", "3", "--quiet", "--json",
                         "--plot", str(fig), "--save-weights", str(weights)])
    h = out["training"]["loss_history"]
    assert h[-1] < h[0]
    assert len(out["identification"]["distances"]) == 3
    assert set(out["tails"]) == {"W1"}
    assert fig.stat().st_size > 1000
    from rmtfp import Network

    net = Network.load(weights)
    assert net.widths == (2, 24, 24, 2)
    assert main(["train-demo", "--epochs", "2", "--widths", "2,8,2", "--per-class", "3", "--heldout", "0",
                 "--fakes", "0", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "held-out photos identified: n/a" in text and "fakes rejected: n/a" in text and "nan" not in text


def test_train_demo_bad_input(capsys):
    assert main(["train-demo", "--lr", "-1", "--quiet"]) == 2
    assert "lr" in capsys.readouterr().err
    assert main(["train-demo", "--widths", "2,8,3", "--quiet"]) == 2
    assert np.any(["widths" in capsys.readouterr().err])
