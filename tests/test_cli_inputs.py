"""Hostile input ends in one clear line (CLI) or a ValueError naming the argument (API), never a traceback
or a silent number: broken weights files, runs larger than memory, empty or non-finite samples, extreme
lambda, unwritable report folders, unknown keywords, mostly unresolved starts."""

from __future__ import annotations

import json
import warnings

import mpmath
import numpy as np
import pytest

import rmtfp
from rmtfp import Network
from rmtfp.cli import main
from rmtfp.errors import UnresolvedWarning
from rmtfp.sampling import ks_distance


def _one_line_error(capsys, argv, status=2) -> str:
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------ weights files

@pytest.fixture
def files(tmp_path):
    net = Network.random([2, 6, 2], "tanh", rng=0)
    good = tmp_path / "good.npz"
    net.save(good)
    raw = good.read_bytes()
    out = {"good": good}
    out["truncated"] = tmp_path / "truncated.npz"
    out["truncated"].write_bytes(raw[: len(raw) // 2])
    out["corrupt"] = tmp_path / "corrupt.npz"  # the zip directory intact, a member's bytes overwritten
    out["corrupt"].write_bytes(raw[:100] + b"\0" * 200 + raw[300:])
    out["pickled"] = tmp_path / "pickled.npz"
    np.savez(out["pickled"], W0=np.array([[1, 2], [3, 4]], dtype=object), b0=np.zeros(2), activation="tanh")
    out["no_W1"] = tmp_path / "no_W1.npz"
    np.savez(out["no_W1"], W0=np.eye(2), b0=np.zeros(2), b1=np.zeros(2), activation="tanh")
    out["complex"] = tmp_path / "complex.npz"
    np.savez(out["complex"], W0=np.eye(2) * (1 + 1j), b0=np.zeros(2), activation="tanh")
    out["last_no"] = tmp_path / "last_no.npz"
    np.savez(out["last_no"], W0=np.eye(2), b0=np.zeros(2), activation="tanh", last_activation="no")
    return out


@pytest.mark.parametrize("kind, message", [
    ("truncated", "is not a readable .npz file: corrupt or truncated"),
    ("corrupt", "W0 is corrupt or truncated"),
    ("pickled", "W0 is an object array (pickled), which is not read"),
    ("no_W1", "W1 is missing"),
    ("complex", "W0 must hold real numbers, got dtype complex128"),
    ("last_no", "last_activation must be a boolean"),
])
def test_broken_weights_files_are_named(files, kind, message, capsys):
    with pytest.raises(ValueError) as info:
        Network.load(files[kind])
    assert message in str(info.value) and str(files[kind]) in str(info.value)
    err = _one_line_error(capsys, ["basins", "--weights-file", str(files[kind])])
    assert message in err


def test_complex_weights_are_refused_not_truncated():
    with pytest.raises(ValueError, match=r"weights\[0\] must be a real 2-d array, got complex"):
        Network([np.eye(2) * (1 + 1j)], [np.zeros(2)], "tanh")
    with pytest.raises(ValueError, match=r"biases\[0\] must be a real 1-d array, got complex"):
        Network([np.eye(2)], [np.zeros(2) + 1j], "tanh")
    # a complex dtype with zero imaginary part is refused as well: the caller says what is meant
    with pytest.raises(ValueError, match="complex"):
        Network([np.eye(2).astype(complex)], [np.zeros(2)], "tanh")


def test_last_activation_flags_that_are_booleans_are_read(tmp_path):
    for flag, expected in ((np.array(False), False), (np.array(0), False), (np.array(1), True)):
        np.savez(tmp_path / "f.npz", W0=np.eye(2), b0=np.zeros(2), activation="tanh", last_activation=flag)
        assert Network.load(tmp_path / "f.npz").last_activation is expected


# ------------------------------------------------------------------ memory, samples, extremes

def test_a_run_larger_than_memory_is_refused_before_it_starts(capsys):
    # 4 float64 matrices of 10^6 x 10^6 are 29 TiB a network: no machine running this suite has that
    with pytest.raises(MemoryError, match=r"width=1000000 needs .* TiB .* available"):
        rmtfp.sample_jacobian_spectrum("tanh", 2, 1_000_000, 1, rng=0)
    err = _one_line_error(capsys, ["sample", "--depth", "2", "--width", "1000000", "--samples", "1", "--seed", "0"])
    assert "not enough memory" in err and "TiB" in err


@pytest.mark.parametrize("sample, message", [
    (np.array([]), "non-empty"),
    (np.array([0.1, np.nan]), "non-finite"),
    (np.array([-1e-3, 0.5]), ">= 0"),
    (np.array([0.5, 0.1]), "sorted"),
])
def test_ks_distance_refuses_samples_that_are_not_eigenvalues(sample, message):
    with pytest.raises(ValueError, match=message):
        ks_distance(sample, lambda x, left=False: np.clip(x, 0, 1))


def test_tiny_lambda_is_not_a_silent_zero(capsys):
    # for L >= 2 the density reaches down to 0 (docs/theory.md), rho ~ lambda^(-L/(L+1)): a density of
    # exactly 0 at lambda = 1e-300 is an overflow, never the answer.  tanh at sigma_w2 = 1, sigma_b2 = 0 has
    # q* = 0, so its law is the linear one: Fuss-Catalan, exact down to 1e-300 (the log formulation)
    res = rmtfp.density([1e-300, 0.5], "tanh", 2)
    assert res.status_names() == ["converged", "converged"]
    # both to ~1e-13 (|log lambda| eps in t = log u at 1e-300)
    np.testing.assert_allclose(res.density, rmtfp.fuss_catalan_density([1e-300, 0.5], 2), rtol=1e-10)
    assert main(["esd", "--activation", "tanh", "--lam", "1e-300,0.5", "--csv"]) == 0
    captured = capsys.readouterr()
    assert "RuntimeWarning" not in captured.err and "Traceback" not in captured.err
    assert captured.out.splitlines()[1].endswith(",converged")


def test_tiny_lambda_at_high_precision_keeps_its_digits(capsys):
    ref = rmtfp.fuss_catalan_density([1e-300], 2, dps=30)[0]
    res = rmtfp.density([1e-300], "tanh", 2, dps=30)
    assert res.converged
    with mpmath.workdps(30):
        assert abs(res.density[0] / ref - 1) < mpmath.mpf(10) ** -28  # 30 digits, 2 for the closed form's root
    assert main(["esd", "--activation", "tanh", "--lam", "1e-300,0.5", "--dps", "30", "--csv"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    rows = captured.out.splitlines()
    assert rows[1].startswith("1e-300,2.75664447710896") and rows[1].endswith(",converged")
    # the other point keeps its 30 digits: rho(0.5) of the linear law (q* = 0 for tanh at sigma_b2 = 0)
    assert rows[2].startswith("0.5,0.31830988618379067153776752674")


def test_density_names_itself_and_its_options_for_an_unknown_keyword():
    with pytest.raises(TypeError, match=r"density\(\) got unexpected keyword argument\(s\) 'foo'; .* accepts "
                                        r"eta0, eta_min_rel, tol"):
        rmtfp.density([1.0], "tanh", 2, foo=1)
    with pytest.raises(TypeError, match=r"method='iteration' it accepts b, N, eps"):
        rmtfp.density([1.0], "tanh", 2, method="iteration", tol=1e-9)
    rmtfp.density([1.0], "tanh", 2, tol=1e-13)  # a known option is passed on


# ------------------------------------------------------------------ validate --out

def test_validate_checks_its_report_folder_before_computing(tmp_path, capsys, monkeypatch):
    from rmtfp import validation

    def must_not_run(*args, **kwargs):  # pragma: no cover - the point of the test
        raise AssertionError("a claim ran before --out was checked")

    monkeypatch.setattr(validation, "run_claim", must_not_run)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = _one_line_error(capsys, ["validate", "--only", "1", "--out", str(blocker)])
    assert "--out must name a directory" in err
    err = _one_line_error(capsys, ["validate", "--only", "1", "--out", str(blocker / "sub")])
    assert str(blocker / "sub") in err


# ------------------------------------------------------------------ unresolved starts

def test_mostly_unresolved_starts_are_said_with_the_option_to_change(tmp_path, capsys):
    # x -> tanh(0.995 x): contracting at rate 0.995, the Cauchy criterion |x_m - x_{m-1}| < 1e-5 needs
    # 0.005 * 0.995^m |x_0| < 1e-5, i.e. m > 1200 maps from |x_0| ~ 1: unresolved after 50
    net = Network([0.995 * np.eye(2)], [np.zeros(2)], "tanh")
    with pytest.warns(UnresolvedWarning, match="unresolved after max_iter=50 maps.*raise max_iter"):
        res = rmtfp.find_fixed_points(net)
    assert res.fractions["unresolved"] > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnresolvedWarning)  # enough maps: no warning
        rmtfp.find_fixed_points(net, max_iter=3000)
    path = tmp_path / "slow.npz"
    net.save(path)
    assert main(["basins", "--weights-file", str(path), "--step", "0.25", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["fractions"]["unresolved"] > 0.5
    assert "raise --max-iter" in captured.err and "UnresolvedWarning" not in captured.err


def test_files_are_written_under_the_name_given(tmp_path, capsys):
    # numpy.savez appends ".npz" to a bare name; the commands and Network.save keep the name they are given
    net_path, eig_path = tmp_path / "net.weights", tmp_path / "eigs"
    assert main(["basins", "--widths", "2,6,2", "--seed", "0", "--step", "0.5", "--g-method", "none",
                 "--save-weights", str(net_path)]) == 0
    assert main(["sample", "--depth", "1", "--width", "4", "--samples", "2", "--seed", "0", "--no-progress",
                 "--save", str(eig_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eigs", "net.weights"]
    assert Network.load(net_path).widths == (2, 6, 2)
    assert np.load(eig_path)["eigenvalues"].shape == (2, 4)
    err = capsys.readouterr().err
    assert f"wrote the network to {net_path}" in err and f"to {eig_path}" in err
