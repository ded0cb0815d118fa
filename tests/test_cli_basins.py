"""The ``rmtfp basins`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rmtfp import Network, contraction_constant, find_fixed_points, grid, lipschitz_bound
from rmtfp.cli import main

ISSUE_ARGS = ["basins", "--widths", "2,100,100,2", "--activation", "hardtanh", "--weights", "cauchy", "--seed", "3"]


def run_json(capsys, args):
    assert main(args + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_matches_the_library(capsys):
    out = run_json(capsys, ISSUE_ARGS)
    assert {"Q", "fixed_points", "stability", "cycles", "fractions", "g", "lipschitz_bound"} <= set(out)
    net = Network.random([2, 100, 100, 2], "hardtanh", "cauchy", rng=3)
    res = find_fixed_points(net)
    assert out["Q"] == res.Q
    np.testing.assert_array_equal(np.array(out["fixed_points"]).reshape(res.Q, 2), res.fixed_points)
    assert [c["period"] for c in out["cycles"]] == [c.period for c in res.cycles]
    assert out["fractions"] == res.fractions
    assert sum(out["fractions"].values()) == pytest.approx(1.0, abs=1e-12)
    assert out["g"] == contraction_constant(net, grid())
    assert out["lipschitz_bound"] == lipschitz_bound(net)
    assert out["network"]["seed"] == 3 and out["n_starts"] == 41 * 41


def test_step_and_text_output(capsys):
    assert main(ISSUE_ARGS + ["--step", "0.1"]) == 0
    text = capsys.readouterr().out
    assert "starts: 441 (grid step 0.1)" in text
    assert "Q = " in text and "Lipschitz bound" in text


def test_weights_file_round_trip(tmp_path, capsys):
    path = tmp_path / "net.npz"
    first = run_json(capsys, ISSUE_ARGS + ["--step", "0.1", "--save-weights", str(path)])
    again = run_json(capsys, ["basins", "--weights-file", str(path), "--step", "0.1"])
    for key in ("Q", "fixed_points", "cycles", "fractions", "g", "lipschitz_bound"):
        assert again[key] == first[key]
    assert again["network"] == {"weights_file": str(path)}


def test_user_network_file(tmp_path, capsys):
    path = tmp_path / "mine.npz"
    np.savez(path, W0=[[-3.0]], b0=[0.0], activation="tanh")
    out = run_json(capsys, ["basins", "--weights-file", str(path), "--g-method", "jacobian"])
    assert out["Q"] == 1 and out["cycles"][0]["period"] == 2
    assert out["g"] == pytest.approx(3.0) and out["g_method"] == "jacobian"


def test_plot(tmp_path, capsys):
    png = tmp_path / "basins.png"
    assert main(ISSUE_ARGS + ["--step", "0.1", "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_random_starts_option(capsys):
    out = run_json(capsys, ["basins", "--widths", "3,20,3", "--seed", "1", "--random-starts", "200",
                            "--g-method", "none"])
    assert out["n_starts"] == 200 and out["g"] is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["basins"], "--widths is required"),
        (["basins", "--widths", "2,10,3"], "same n"),
        (["basins", "--widths", "2,10,2", "--step", "0"], "step must be"),
        (["basins", "--widths", "2,10,2", "--step", "-0.05"], "step must be"),
        (["basins", "--widths", "2,10,2", "--activation", "nope"], "unknown activation"),
        (["basins", "--widths", "2,10,2", "--tol", "0"], "tol must be"),
        (["basins", "--widths", "2,10,2", "--weights-file", "x.npz"], "not both"),
        (["basins", "--weights-file", "/nonexistent/net.npz"], "does not exist"),
    ],
)
def test_errors_exit_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_argument_type_errors_exit_via_argparse(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["basins", "--widths", "2,x,2"])
    assert exc.value.code == 2
    assert "--widths" in capsys.readouterr().err
