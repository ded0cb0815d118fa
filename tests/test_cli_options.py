"""One CLI: the options every command shares are defined once (rmtfp/commands/_options.py) and mean, default
and fail the same everywhere; every command with --json has --csv; files written and fresh seeds are said."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re

import numpy as np
import pytest

import rmtfp
from rmtfp.cli import build_parser, main
from rmtfp.commands import _options

COMMANDS = ("esd", "sample", "basins", "qstats", "beta-scan", "train-demo", "validate")


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def _option(sub, name):
    return next((a for a in sub._actions if name in a.option_strings), None)


def test_every_command_is_registered():
    assert set(COMMANDS) <= set(_subparsers())


@pytest.mark.parametrize("command", COMMANDS)
def test_shared_options_have_one_definition(command):
    sub = _subparsers()[command]
    act = _option(sub, "--activation")
    if act is not None:
        assert act.default == _options.DEFAULT_ACTIVATION and f"default: {_options.DEFAULT_ACTIVATION}" in act.help
    weights = _option(sub, "--weights")
    if weights is not None:
        assert "normal" in weights.type.laws and set(weights.type.laws) <= set(_options.WEIGHT_LAWS) | {"orthogonal"}
        for law in weights.type.laws:
            assert weights.type(law) == law
        assert weights.type("gaussian") == "normal"  # the sampler's old name is read as the common one
        with pytest.raises(argparse.ArgumentTypeError, match="--weights must be one of normal"):
            weights.type("laplace")
    seed = _option(sub, "--seed")
    if seed is not None:
        assert seed.default is None and "fresh entropy, printed" in seed.help
    if command in ("sample", "qstats", "beta-scan", "validate"):  # the commands that run many networks
        assert "parallel workers" in _option(sub, "--workers").help
    assert _option(sub, "--no-progress").dest == "progress"
    assert _option(sub, "--quiet").help == argparse.SUPPRESS  # the old switch, hidden, same meaning
    if _option(sub, "--json") is not None:
        assert _option(sub, "--csv") is not None
    plot = _option(sub, "--plot")
    if plot is not None:
        assert plot.nargs == "?" and plot.const.endswith(".png") and plot.default is None


def test_every_shared_option_lives_in_the_options_module():
    # no command spells out a shared option itself
    import pathlib

    for path in pathlib.Path(rmtfp.__file__).parent.joinpath("commands").glob("*.py"):
        if path.name == "_options.py":
            continue
        text = path.read_text()
        for name in ("--activation", "--weights", "--seed", "--workers", "--json", "--csv", "--plot",
                     "--no-progress", "--quiet"):
            assert f'add_argument("{name}"' not in text, (path.name, name)


def test_progress_only_on_a_terminal(monkeypatch):
    args = argparse.Namespace(progress=True)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not _options.show_progress(args)  # a log file, a pipe: no carriage-return frames
    monkeypatch.setattr("sys.stderr", Tty())
    assert _options.show_progress(args)
    assert not _options.show_progress(argparse.Namespace(progress=False))


@pytest.mark.parametrize("name", ["noext", "fig.", "fig.xyz"])
def test_plot_needs_a_format_suffix(name, tmp_path, capsys):
    path = tmp_path / name
    assert main(["esd", "--lam", "1", "--plot", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--plot FILE needs a suffix naming the format" in err and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written, no '.png' added silently


def test_plot_without_a_file_uses_the_command_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["esd", "--lam", "0.5,1", "--plot"]) == 0
    assert (tmp_path / "esd.png").stat().st_size > 1000
    assert "wrote the figure to esd.png" in capsys.readouterr().err


def test_fresh_seed_is_printed_and_repeats_the_run(capsys):
    argv = ["basins", "--widths", "2,8,2", "--step", "0.25", "--json"]
    assert main(argv) == 0
    first = capsys.readouterr()
    seed = int(re.search(r"seed (\d+) \(fresh; pass --seed \1 to repeat this run\)", first.err).group(1))
    assert json.loads(first.out)["network"]["seed"] == seed
    assert main(argv + ["--seed", str(seed)]) == 0
    again = capsys.readouterr()
    assert json.loads(again.out) == json.loads(first.out)
    assert "fresh" not in again.err  # a given seed is not announced


def test_fresh_seed_is_not_announced_before_an_input_error(capsys):
    assert main(["basins", "--widths", "2,8,3"]) == 2
    assert "seed" not in capsys.readouterr().err


def _csv(capsys, argv):
    assert main(argv) == 0
    return list(csv.reader(io.StringIO(capsys.readouterr().out)))


def test_csv_of_every_command(capsys, tmp_path):
    rows = _csv(capsys, ["sample", "--activation", "relu", "--depth", "2", "--width", "20", "--samples", "3",
                         "--sigma-w2", "2", "--seed", "0", "--compare", "--csv", "--no-progress"])
    assert rows[0] == ["k", "sampled", "stderr", "theory", "rel_err", "scale", "ratio"] and len(rows) == 5
    # relu, sigma_w2 = 2, L = 2: the moments of the theory are 1, 5, 33, 249 (docs/theory.md)
    assert [float(r[3]) for r in rows[1:]] == pytest.approx([1, 5, 33, 249], rel=1e-9)
    rows = _csv(capsys, ["basins", "--widths", "2,8,2", "--seed", "1", "--step", "0.25", "--csv"])
    assert rows[0][:2] == ["kind", "index"] and rows[-2][0] == "unresolved" and rows[-1][0] == "divergent"
    assert sum(float(r[-1]) for r in rows[1:]) == pytest.approx(1.0)  # basin fractions sum to 1
    rows = _csv(capsys, ["qstats", "--depths", "1,2", "--networks", "3", "--width", "8", "--step", "0.5",
                         "--workers", "1", "--seed", "0", "--bootstrap", "20", "--csv", "--no-progress"])
    assert rows[0][0] == "depth" and [r[0] for r in rows[1:]] == ["1", "2"]
    rows = _csv(capsys, ["beta-scan", "--activation", "tanh", "--betas", "0.3,0.5,0.7", "--width", "10",
                         "--networks", "3", "--step", "0.5", "--workers", "1", "--seed", "0", "--csv",
                         "--no-progress"])
    assert rows[0][0] == "beta" and rows[0][-1] == "lipschitz_median" and len(rows) == 4
    rows = _csv(capsys, ["train-demo", "--epochs", "2", "--widths", "2,8,2", "--per-class", "3", "--heldout", "0",
                         "--fakes", "0", "--employees", "2", "--seed", "0", "--csv", "--no-progress"])
    assert rows[0][0] == "employee" and len(rows) == 3


def test_json_and_csv_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["esd", "--lam", "1", "--json", "--csv"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_written_files_are_said(tmp_path, capsys):
    fig, net = tmp_path / "b.pdf", tmp_path / "n.npz"
    assert main(["basins", "--widths", "2,8,2", "--seed", "0", "--step", "0.25", "--json", "--plot", str(fig),
                 "--save-weights", str(net)]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays the result alone
    assert f"wrote the basin map to {fig}" in captured.err and f"wrote the network to {net}" in captured.err
    assert fig.read_bytes()[:4] == b"%PDF"  # the format is the suffix


def test_esd_q_per_layer_matches_the_api(capsys):
    assert main(["esd", "--activation", "tanh", "--depth", "3", "--sigma-w2", "1.5", "--q", "0.3,0.6,0.9",
                 "--lam", "0.5,1,2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    ref = rmtfp.density([0.5, 1, 2], "tanh", 3, sigma_w2=1.5, q=[0.3, 0.6, 0.9])
    np.testing.assert_array_equal(d["density"], ref.density)
    assert d["params"]["q"] == [0.3, 0.6, 0.9]
    assert main(["esd", "--depth", "2", "--q", "0.3,0.6", "--lam", "1", "--dps", "20"]) == 2
    assert "float64 only" in capsys.readouterr().err


def test_esd_help_says_what_log_changes():
    help_text = _option(_subparsers()["esd"], "--log").help
    assert "axis" in help_text and "grid" in help_text


def test_esd_in_chunks_gives_the_numbers_of_one_call(monkeypatch, capsys):
    from rmtfp.commands import esd

    lam = np.geomspace(1e-4, 7.0, 37)
    ref = rmtfp.density(lam, "erf", 2, sigma_w2=1.5, sigma_b2=0.1)
    monkeypatch.setattr(esd, "FLOAT64_CHUNK", 5)  # 8 chunks, the last one short
    argv = ["esd", "--activation", "erf", "--sigma-w2", "1.5", "--sigma-b2", "0.1", "--lam", "log:1e-4:7:37",
            "--json"]
    assert main(argv) == 0
    d = json.loads(capsys.readouterr().out)
    np.testing.assert_array_equal(d["density"], ref.density)
    assert d["status"] == ref.status_names()
    # high precision, point by point, against one call
    ref30 = rmtfp.density([0.5, 2.0], "erf", 2, sigma_w2=1.5, sigma_b2=0.1, dps=30)
    assert main(["esd", "--activation", "erf", "--sigma-w2", "1.5", "--sigma-b2", "0.1", "--lam", "0.5,2",
                 "--dps", "30", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    import mpmath

    assert d["density"] == [mpmath.nstr(v, 30) for v in ref30.density]


def test_long_runs_announce_their_cost(monkeypatch, capsys):
    from rmtfp.commands import esd

    monkeypatch.setattr(esd, "ANNOUNCE_SECONDS", 0.0)  # every run counts as long
    assert main(["esd", "--activation", "linear", "--lam", "0.5,1,2", "--dps", "20", "--csv"]) == 0
    assert re.search(r"3 points at 20 digits: about \d+ s \(\S+ s a point\)", capsys.readouterr().err)


def test_very_high_precision_is_announced_before_it_starts(monkeypatch, capsys):
    from rmtfp.commands import esd

    monkeypatch.setattr(esd, "SLOW_DPS", 20)  # stand-in for the 100+ digits that take minutes a point
    assert main(["esd", "--activation", "linear", "--lam", "1", "--dps", "20", "--csv"]) == 0
    assert "1 point(s) at 20 digits: each can take minutes" in capsys.readouterr().err
    assert main(["esd", "--activation", "linear", "--lam", "1", "--dps", "19", "--csv"]) == 0
    assert "minutes" not in capsys.readouterr().err


def test_basins_has_a_progress_bar_on_a_terminal(capsys, monkeypatch):
    import sys

    argv = ["basins", "--widths", "2,8,2", "--seed", "0", "--step", "0.25", "--json"]
    assert main(argv) == 0
    assert "iterating" not in capsys.readouterr().err  # not a terminal: no frames
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(argv) == 0
    with_bar = capsys.readouterr()
    assert "iterating" in with_bar.err and "map" in with_bar.err and "basins" in with_bar.err
    assert main(argv + ["--no-progress"]) == 0
    without = capsys.readouterr()
    assert "iterating" not in without.err
    assert json.loads(with_bar.out) == json.loads(without.out)  # the bar does not change the result
