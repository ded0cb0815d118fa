"""The ``rmtfp basins`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rmtfp import Network, contraction_constant, find_fixed_points, grid, lipschitz_bound
from rmtfp.cli import main

ISSUE_ARGS = ["basins", "--widths", "2,100,100,2", "--activation", "hardtanh", "--weights", "cauchy", "--seed", "3"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


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
    assert again["network"] == {"weights_file": str(path), "widths": [2, 100, 100, 2], "activation": "hardtanh",
                                "last_activation": True}


def test_weights_file_activation_and_last_layer_override_the_file(tmp_path, capsys):
    path = tmp_path / "net.npz"
    net = Network.random([2, 30, 2], "hardtanh", "normal", rng=1)
    net.save(path)
    out = run_json(capsys, ["basins", "--weights-file", str(path), "--activation", "tanh", "--no-last-activation",
                            "--step", "0.2"])
    assert out["network"]["activation"] == "tanh" and out["network"]["last_activation"] is False
    same = Network(net.weights, net.biases, "tanh", last_activation=False)
    res = find_fixed_points(same, grid(step=0.2))
    assert out["Q"] == res.Q and out["fractions"] == res.fractions


def test_weights_file_without_activation_names_the_option(tmp_path, capsys):
    path = tmp_path / "bare.npz"
    np.savez(path, W0=[[0.5]], b0=[0.1])
    assert main(["basins", "--weights-file", str(path)]) == 2
    assert "--activation" in capsys.readouterr().err
    out = run_json(capsys, ["basins", "--weights-file", str(path), "--activation", "tanh"])
    assert out["Q"] == 1


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
        (["basins", "--widths", "2,10,2", "--weights-file", "x.npz"], "cannot be combined with --weights-file"),
        (["basins", "--weights", "cauchy", "--weights-file", "x.npz"], "(--weights) cannot be combined"),
        (["basins", "--no-bias", "--scale", "0.5", "--weights-file", "x.npz"], "(--scale, --no-bias)"),
        # {missing}: a directory under tmp_path that does not exist (a fixed path such as /nonexistent may exist)
        (["basins", "--widths", "2,10,2", "--plot", "{missing}/b.png"], "directory '{missing}' does not exist"),
        (["basins", "--widths", "2,10,2", "--save-weights", "{missing}/w.npz"], "--save-weights: the directory"),
        (["basins", "--widths", "2,10,2", "--step", "5"], "--step 5 leaves 1 grid point"),
        (["basins", "--weights-file", "{missing}/net.npz"], "does not exist"),
    ],
)
def test_errors_exit_2_with_one_line(args, message, capsys, tmp_path):
    missing = str(tmp_path / "missing")
    args = [a.replace("{missing}", missing) for a in args]
    message = message.replace("{missing}", missing)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_argument_type_errors_exit_via_argparse(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["basins", "--widths", "2,x,2"])
    assert exc.value.code == 2
    assert "--widths" in capsys.readouterr().err


def test_weights_file_with_unequal_dimensions(tmp_path, capsys):
    path = tmp_path / "rect.npz"
    np.savez(path, W0=np.ones((3, 2)), b0=np.zeros(3), activation="tanh")
    assert main(["basins", "--weights-file", str(path)]) == 2
    assert "n_in = n_out" in capsys.readouterr().err


# ------------------------------------------------------------------ the basin map itself
def _texts(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_plot_basins_grid_cycles_and_unstable_points():
    from matplotlib.collections import QuadMesh

    from rmtfp.plotting import plot_basins

    net = Network([[[-3.0]]], [[0.0]], "tanh")
    res1 = find_fixed_points(net, grid(dim=1))
    fig = plot_basins(res1)
    assert any("cycle 0 (p = 2, stable): 97.6%" in t for t in _texts(fig))
    assert any("unstable" in t for t in _texts(fig))
    assert any(t.startswith("fixed point 0 (unstable)") for t in _texts(fig))  # named as in the text output
    fig = plot_basins(res1, fixed_point_names=["origin"])
    assert any(t.startswith("origin (unstable)") for t in _texts(fig))
    with pytest.raises(ValueError, match="fixed_point_names must hold one name per fixed point"):
        plot_basins(res1, fixed_point_names=["a", "b"])

    rot = Network([2.0 * np.array([[0.0, -1.0], [1.0, 0.0]])], [np.zeros(2)], "hardtanh")
    res2 = find_fixed_points(rot)
    fig = plot_basins(res2, title="rotation")
    ax = fig.axes[0]
    mesh = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(mesh) == 1 and mesh[0].get_array().shape == (41, 41)
    assert ax.get_title() == "rotation"
    labels = _texts(fig)
    assert sum("cycle" in t for t in labels) >= 2 and any("fixed point (unstable)" in t for t in labels)


def test_plot_basins_scatter_projection_and_newton_result():
    import matplotlib.pyplot as plt

    from rmtfp import find_all_fixed_points, random_starts
    from rmtfp.plotting import plot_basins

    net = Network([3.0 * np.eye(3)], [np.zeros(3)], "tanh")
    res = find_fixed_points(net, random_starts(300, 3, rng=0))
    fig, ax = plt.subplots()
    assert plot_basins(res, ax=ax, dims=(0, 2)) is fig
    assert ax.get_xlabel() == "$x_{1}$" and ax.get_ylabel() == "$x_{3}$"
    with pytest.raises(ValueError, match="dims"):
        plot_basins(res, dims=(1, 1))
    with pytest.raises(ValueError, match="dims"):
        plot_basins(res, dims=(0, 3))
    full = find_all_fixed_points(Network([3.0 * np.eye(2)], [np.zeros(2)], "tanh"), grid(step=0.2))
    fig = plot_basins(full, legend=False)
    assert fig.axes[0].get_legend() is None
