"""Criticality: chi_1, the critical line, c*, the depth scales; closed forms against quadrature."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rmtfp.activations import get
from rmtfp.criticality import (bivariate_expectation, c_star, correlation_map, critical_line, critical_point,
                               depth_scales, phase_diagram)


@pytest.mark.parametrize("act", ["linear", "relu", "erf"])
@pytest.mark.parametrize("which", ["phi", "dphi"])
@pytest.mark.parametrize("c", [-0.95, -0.3, 0.0, 0.4, 0.9, 0.999, 1 - 1e-7, 1.0])
def test_split_quadrature_against_closed_forms(act, which, c):
    """Arc-cosine (ReLU) and Williams (erf) kernels against the composite rule split at the break points."""
    for q in (0.05, 0.7, 3.0):
        a = bivariate_expectation(act, which, q, c, method="formula")
        b = bivariate_expectation(act, which, q, c, method="quadrature")
        # Gauss-Legendre panels on smooth pieces: rounding-level agreement (measured <= 1e-13)
        assert b == pytest.approx(a, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("act", ["tanh", "hardtanh", "sigmoid"])
def test_quadrature_at_c_one_is_the_one_dimensional_moment(act):
    a = get(act)
    for q in (0.1, 1.0):
        assert bivariate_expectation(a, "dphi", q, 1.0) == pytest.approx(a.d2_moment(1, q), rel=1e-12)
        assert bivariate_expectation(a, "phi", q, 1 - 1e-9) == pytest.approx(a.second_moment(q), rel=1e-7)


@given(st.one_of(st.just(0.0), st.floats(1e-10, 2.0)))
def test_chi_is_one_on_the_critical_line(sigma_b2):
    for act in ("tanh", "erf", "hardtanh"):
        sw2, q = critical_point(act, sigma_b2)
        a = get(act)
        chi = sw2 * a.d2_moment(1, q) if q > 0 else sw2
        # Brent to xtol 1e-15 sigma_w2 on a smooth chi_1: |chi - 1| at the accuracy of q* and E[phi'^2]
        assert abs(chi - 1) <= 1e-10
        if q > 0:
            assert a.variance_map(q, sw2, sigma_b2) == pytest.approx(q, rel=1e-12)


@given(st.floats(0.01, 1.0))
def test_xi_c_grows_toward_the_critical_line(sigma_b2):
    """In the ordered phase xi_c = -1/log chi_1 increases as sigma_w2 rises to the line; it diverges there."""
    sw_c, _ = critical_point("tanh", sigma_b2)
    xs = [depth_scales("tanh", sw_c * f, sigma_b2).xi_c for f in (0.5, 0.8, 0.95, 0.99)]
    assert all(b > a for a, b in zip(xs, xs[1:]))
    chaotic = [depth_scales("tanh", sw_c * f, sigma_b2).xi_c for f in (1.5, 1.1, 1.02)]
    assert all(b > a for a, b in zip(chaotic, chaotic[1:]))


def test_known_values():
    # ReLU: the critical point sigma_w2 = 2 (He initialisation); linear: 1
    assert critical_point("relu", 0.0)[0] == 2.0 and critical_point("linear", 0.3)[0] == 1.0
    # tanh, sigma_b2 = 0: the line starts at sigma_w2 = 1 with q* = 0
    assert critical_point("tanh", 0.0) == (pytest.approx(1.0, abs=1e-12), 0.0)
    d = depth_scales("erf", 3.0, 0.05)
    assert d.phase == "chaotic" and 0 < d.c_star < 1
    # c* is a fixed point of the correlation map, and chi_c = C'(c*) by a central difference
    assert correlation_map("erf", d.c_star, d.q_star, 3.0, 0.05) == pytest.approx(d.c_star, abs=1e-12)
    h = 1e-5
    slope = (correlation_map("erf", d.c_star + h, d.q_star, 3.0, 0.05)
             - correlation_map("erf", d.c_star - h, d.q_star, 3.0, 0.05)) / (2 * h)
    assert d.chi_c == pytest.approx(slope, rel=1e-8)  # central difference error ~ h^2 C''' ~ 1e-10
    # chi_q = dV/dq at q*: against a central difference of the variance map
    a = get("hardtanh")
    d = depth_scales(a, 1.5, 0.2)
    dv = (a.variance_map(d.q_star + 1e-5, 1.5, 0.2) - a.variance_map(d.q_star - 1e-5, 1.5, 0.2)) / 2e-5
    assert d.chi_q == pytest.approx(dv, rel=1e-7)
    assert d.xi_q == pytest.approx(-1 / math.log(d.chi_q), rel=1e-14)


def test_ordered_phase_has_c_star_one():
    assert c_star("tanh", 1.2, 0.3) == 1.0
    assert depth_scales("tanh", 1.2, 0.3).phase == "ordered"


def test_phase_diagram_and_line():
    pd = phase_diagram("erf", [0.0, 0.2], [0.5, 2.0, 4.0])
    assert pd.chi_1.shape == (3, 2)
    assert np.all(pd.chi_1[0] < 1) and np.all(pd.chi_1[2] > 1)
    line = critical_line("erf", [0.0, 0.2])
    assert np.all(line.residual <= 1e-10)
    assert pd.to_dict()["critical_line"]["activation"] == "erf"


@pytest.mark.parametrize("bad", [dict(which="x"), dict(c=1.5), dict(q=-1.0), dict(method="mc")])
def test_bad_input(bad):
    kw = dict(activation="erf", which="phi", q=1.0, c=0.5, method="auto")
    kw.update(bad)
    with pytest.raises(ValueError):
        bivariate_expectation(**kw)
    with pytest.raises(ValueError, match="sigma_w2"):
        depth_scales("tanh", -1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_b2"):
        critical_point("tanh", 1e-18)


def test_cli_phase(capsys, tmp_path):
    from rmtfp.cli import main

    assert main(["phase", "--activation", "erf", "--sigma-b2", "0,0.1", "--sigma-w2", "1,3"]) == 0
    out = capsys.readouterr().out
    assert "critical line" in out and "chaotic" in out
    assert main(["phase", "--activation", "tanh", "--sigma-b2", "0:0.2:3", "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert len(d["critical_line"]["sigma_w2"]) == 3
    png = tmp_path / "p.png"
    assert main(["phase", "--activation", "erf", "--sigma-b2", "0:0.3:3", "--sigma-w2", "0.5:3:4",
                 "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert main(["phase", "--sigma-b2", "-1"]) != 0
