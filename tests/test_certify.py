"""Certified densities (certify=True): enclosures that hold, the reference for the float64 route.

Skipped as a whole only when python-flint (the ``rmtfp[flint]`` extra) is not installed.
"""

import json

import mpmath
import numpy as np
import pytest

pytest.importorskip("flint", reason="python-flint (the rmtfp[flint] extra) is not installed")

from rmtfp import Status, density, fuss_catalan_density, fuss_catalan_lambda_max, support  # noqa: E402
from rmtfp.cli import main  # noqa: E402


def _exact_fc(lam, L):
    ex = fuss_catalan_density(lam, L, dps=40)
    return [mpmath.re(v) for v in ex]


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_enclosures_contain_fuss_catalan(L):
    lam = np.linspace(0.02, 0.98, 9) * fuss_catalan_lambda_max(L)
    res = density(lam, "linear", L, certify=True)
    assert list(res.status) == [Status.CERTIFIED] * len(lam)
    assert res.converged
    with mpmath.workdps(40):
        for lo, hi, e in zip(res.lower, res.upper, _exact_fc(lam, L)):
            assert lo <= e <= hi
            # 64-bit balls: enclosures a few ulps wide (1e-12 relative leaves room for the edge's conditioning)
            assert hi - lo <= 1e-12 * e


def _haagerup_moeller_l2(lam):
    """rho(lambda) for L = 2 from lambda(t) = sin^3 3t/(sin t sin^2 2t), rho = sin^2 t sin 2t/(pi sin^2 3t),
    with t = pi/3 - s solved in log form (s ~ (lambda sin(pi/3)^3/27)^(1/3) as lambda -> 0), at 60 digits."""
    with mpmath.workdps(60):
        x = mpmath.mpf(lam)
        def lam_t(s):
            return mpmath.sin(3 * s) ** 3 / (mpmath.sin(mpmath.pi / 3 - s) * mpmath.sin(2 * mpmath.pi / 3 - 2 * s) ** 2)

        s0 = (x * mpmath.sin(mpmath.pi / 3) ** 3 / 27) ** (mpmath.mpf(1) / 3)
        s = mpmath.findroot(lambda s: mpmath.log(lam_t(s)) - mpmath.log(x), (s0 * 0.99, s0 * 1.01))
        t = mpmath.pi / 3 - s
        return mpmath.sin(t) ** 2 * mpmath.sin(2 * t) / (mpmath.pi * mpmath.sin(3 * s) ** 2)


def test_enclosure_at_tiny_lambda():
    """L = 2 down to 1e-100 (rho ~ 5.9e66 at 1e-100 by the closed form): the scaled equation keeps 1 + w."""
    lam = np.array([1e-100, 1e-40, 1e-3])
    res = density(lam, "linear", 2, certify=True)
    assert res.converged
    with mpmath.workdps(40):
        for lo, hi, x in zip(res.lower, res.upper, lam):
            e = _haagerup_moeller_l2(x)
            assert lo <= e <= hi and hi - lo <= 1e-12 * e


def test_certified_at_dps_contains_exact_to_30_digits():
    lam = [0.05, 1.0, 6.0]
    res = density(lam, "linear", 2, dps=30, certify=True)
    assert res.converged
    with mpmath.workdps(40):
        for lo, hi, e in zip(res.lower, res.upper, _exact_fc(lam, 2)):
            assert lo <= e <= hi and hi - lo <= mpmath.mpf(10) ** -28 * e


def test_deep_relu_certified_and_matches_independent_value():
    """ReLU L = 25 and 200 at lambda = 0.01 (issue figures: 1.3436817546864..., about 0.215 at L = 200)."""
    res = density([0.01], "relu", 25, sigma_w2=2.0, certify=True)
    assert res.status[0] == Status.CERTIFIED
    assert res.lower[0] <= 1.3436817546864 + 1e-13 and res.upper[0] >= 1.3436817546864 - 1e-13
    deep = density([1e-300, 0.01, 0.1, 2000.0], "relu", 200, sigma_w2=2.0, certify=True)
    assert list(deep.status) == [Status.CERTIFIED] * 4
    assert abs(deep.density[1] - 0.215) < 0.001  # the figure carries three digits
    assert deep.lower[3] == 0.0 and deep.upper[3] < 1e-15  # above lambda_max = 1087
    # the certified w solves z w = s (1 + w)(c + w)^L, c = 1/2, s = sigma_w2^L: z w = (1 + w)(1 + 2 w)^200
    with mpmath.workdps(40):
        for x, w in zip([0.01, 0.1], deep.w[1:3]):  # (at 1e-300 a float64 w cannot hold c + w)
            w = mpmath.mpc(w)
            lhs, rhs = x * w, (1 + w) * (1 + 2 * w) ** 200
            assert abs(lhs - rhs) <= 1e-12 * abs(lhs)  # w is a float64 rounding of the proven root


def test_branch_point_is_not_certified():
    """At the edge lambda_max = 27/4 (L = 2) the root is double: no Krawczyk ball can prove it unique."""
    res = density([6.75], "linear", 2, certify=True)
    assert res.status[0] == Status.NOT_CERTIFIED
    assert np.isnan(res.lower[0]) and np.isnan(res.upper[0])
    assert not res.converged and res.n_failed == 1


@pytest.mark.parametrize("act,kw", [("relu", dict(sigma_w2=2.0)), ("hardtanh", dict(sigma_w2=1.5, sigma_b2=0.1)),
                                    pytest.param("erf", dict(sigma_w2=1.5, sigma_b2=0.1), marks=pytest.mark.slow)])
@pytest.mark.parametrize("L", [1, 3])
def test_float64_route_within_certified_enclosures(act, kw, L):
    """The float64 solver against the certified reference: relative error <= 1e-10 (its stated accuracy is
    ~1e-13 on the bulk; 1e-10 leaves room near the edge), on a grid across the bulk."""
    lam = np.geomspace(1e-3, 0.95 * support(act, L, **kw).lambda_max, 6)
    ref = density(lam, act, L, certify=True, **kw)
    f64 = density(lam, act, L, **kw)
    ok = ref.status == Status.CERTIFIED
    assert ok.sum() >= len(lam) - 1
    tol = 1e-10 * ref.upper[ok]
    assert np.all(f64.density[ok] >= ref.lower[ok] - tol) and np.all(f64.density[ok] <= ref.upper[ok] + tol)


@pytest.mark.parametrize("act,L,kw,lam", [("relu", 25, dict(sigma_w2=2.0), [0.01, 0.1, 1.0, 10.0]),
                                          ("hardtanh", 50, dict(sigma_w2=4.0, sigma_b2=0.05), [0.01, 1.0]),
                                          ("linear", 2, {}, [1e-100, 1e-50, 1e-20])])
def test_float64_deep_and_tiny_lambda_against_certified(act, L, kw, lam):
    """The float64 route agrees with the certified reference (1e-10 relative) or says it did not converge: never
    a wrong number marked converged (deep networks and tiny lambda, where float64 underflowed)."""
    ref = density(lam, act, L, certify=True, **kw)
    f64 = density(lam, act, L, **kw)
    assert np.all(ref.status == Status.CERTIFIED)
    ok = f64.status == Status.CONVERGED
    tol = 1e-10 * ref.upper[ok]
    assert np.all(f64.density[ok] >= ref.lower[ok] - tol) and np.all(f64.density[ok] <= ref.upper[ok] + tol)


def test_erf_point_certified_and_agrees_with_mpmath():
    """One erf point (L = 2): the Lerch route in Arb proves the root; mpmath at 30 digits lies in the ball."""
    kw = dict(sigma_w2=1.5, sigma_b2=0.1)
    res = density([0.5], "erf", 2, certify=True, **kw)
    ref = density([0.5], "erf", 2, dps=30, backend="mpmath", **kw)
    assert res.status[0] == Status.CERTIFIED
    assert res.lower[0] <= float(ref.density[0]) <= res.upper[0]


def test_outside_support_encloses_zero():
    res = density([20.0], "relu", 2, sigma_w2=2.0, certify=True)
    assert res.status[0] == Status.CERTIFIED
    assert res.lower[0] == 0.0 and 0 <= res.upper[0] < 1e-15


def test_to_dict_and_cli_carry_enclosures(capsys):
    res = density([0.5, 1.0], "relu", 2, sigma_w2=2.0, certify=True)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["status"] == ["certified", "certified"]
    assert all(lo <= x <= hi for lo, x, hi in zip(d["lower"], d["density"], d["upper"]))
    assert main(["esd", "--activation", "relu", "--depth", "2", "--sigma-w2", "2", "--lam", "0.5,1", "--certify",
                 "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "lam,density,lower,upper,status"
    x, lo, hi = map(float, lines[1].split(",")[1:4])
    assert lo <= x <= hi
    assert main(["esd", "--activation", "relu", "--depth", "2", "--sigma-w2", "2", "--lam", "0.5", "--certify",
                 "--dps", "25", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    with mpmath.workdps(25):
        assert mpmath.mpf(d["lower"][0]) <= mpmath.mpf(d["density"][0]) <= mpmath.mpf(d["upper"][0])


def test_certify_errors():
    with pytest.raises(ValueError, match="certify"):
        density([0.5], "relu", 2, certify=True, backend="mpmath")
    with pytest.raises(ValueError, match="certify"):
        density([0.5], "relu", 2, certify="yes")
    with pytest.raises(ValueError, match="method"):
        density([0.5], "relu", 2, certify=True, method="polynomial")
    assert main(["esd", "--activation", "relu", "--lam", "0.5", "--certify", "--backend", "mpmath"]) == 2


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=12, deadline=None)
@given(act=st.sampled_from(["linear", "relu", "hardtanh"]), L=st.integers(1, 10),
       sigma_w2=st.floats(0.5, 4.0), sigma_b2=st.one_of(st.just(0.0), st.floats(0.01, 0.5)),
       t=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3))
def test_certified_enclosures_hold_the_mpmath_route(act, L, sigma_w2, sigma_b2, t):
    """Drawn (activation, L, sigma_w2, sigma_b2, lambda from 1e-30 lambda_max to 1.2 lambda_max): every certified
    enclosure holds the independent mpmath route at 20 digits (float64 continuation, Newton on w in mpmath);
    a point that is not proven says so (NaN bounds), never a wrong enclosure."""
    if act != "hardtanh":
        sigma_b2 = 0.0
    q = 1.0 if (act == "linear" and sigma_w2 == 1.0 and sigma_b2 == 0.0) else None
    lmax = support(act, L, sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=q).lambda_max
    lam = np.unique(lmax * 10.0 ** (-30 + 30.08 * np.asarray(t)))
    cert = density(lam, act, L, sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=q, certify=True)
    ref = density(lam, act, L, sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=q, dps=20, backend="mpmath")
    for i in range(len(lam)):
        if cert.status[i] == Status.NOT_CERTIFIED:
            assert np.isnan(cert.lower[i]) and np.isnan(cert.upper[i])
            continue
        assert cert.status[i] == Status.CERTIFIED
        if ref.status[i] != Status.CONVERGED:
            continue
        y = ref.density[i]
        with mpmath.workdps(30):
            slack = mpmath.mpf(10) ** -18 * abs(y)  # the mpmath value is rounded to 20 digits
            assert cert.lower[i] - slack <= y <= cert.upper[i] + slack, (lam[i], cert.lower[i], y, cert.upper[i])


def test_without_python_flint_a_clear_error(monkeypatch, capsys):
    import rmtfp.spectrum.arb as arb_module

    def missing():
        raise ImportError("backend='flint' and certify=True need python-flint: pip install 'rmtfp[flint]'")

    monkeypatch.setattr(arb_module, "require_flint", missing)
    monkeypatch.setattr(arb_module, "have_flint", lambda: False)
    with pytest.raises(ImportError, match=r"rmtfp\[flint\]"):
        density([0.5], "relu", 2, certify=True)
    assert density([0.5], "relu", 2, dps=20).params.get("backend") is None  # dps falls back to mpmath
    assert main(["esd", "--activation", "relu", "--lam", "0.5", "--certify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'rmtfp[flint]'" in err[0]
