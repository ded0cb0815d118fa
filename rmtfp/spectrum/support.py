"""Support of the spectrum of J J^T: upper edge lambda_max and the atom at 0.

On the real axis above the spectrum, w = m_K(u) with u in (0, 1/sup D^2)
real, and the equation gives lambda as a function of u,

    lambda(u) = sigma_w^{2L} (1 + m_K(u)) m_K(u)^{L-1} / u^L,

which decreases from +inf (u -> 0) to a minimum: that minimum is the upper
edge lambda_max (a branch point, dF/dw = 0).  For the two-point laws
m_K = c v u/(1 - v u) it is explicit (docs/theory.md): the branch point solves
L w^2 + (L-1) w - c = 0 and lambda_max = s (1+w)(c+w)^L / w,
s = (sigma_w^2 v)^L.  The atom at 0 has mass P(phi'(h) = 0).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

import mpmath
import numpy as np
from scipy import optimize

from .._results import jsonable_result, summary_repr
from ..activations import Activation
from ..errors import ConvergenceError
from ..precision import check_dps, round_to, workdps

__all__ = ["Support", "support"]


@dataclasses.dataclass(frozen=True)
class Support:
    """Upper edge and atom of the law of J J^T.

    Attributes
    ----------
    lambda_max : float
        Upper edge of the continuous part.
    atom : float
        Mass at lambda = 0.
    w_edge : float
        w at the edge (the branch point).
    params : dict
    """

    lambda_max: Any
    atom: float
    w_edge: Any
    params: dict

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        # floats, or strings of every digit for dps results
        return {"lambda_max": self.lambda_max, "atom": self.atom, "w_edge": self.w_edge, "params": dict(self.params)}


def _two_point_edge(L: int, log_s: float, c: float):
    """(lambda_max, w at the edge); lambda_max formed in logarithms (s = sigma_w^{2L} v^L overflows first)."""
    w = 2 * c / ((L - 1) + math.sqrt((L - 1) ** 2 + 4 * L * c))  # the root of L w^2 + (L-1) w - c, no cancellation
    log_lmax = log_s + math.log1p(w) + L * math.log(c + w) - math.log(w)
    return (math.exp(log_lmax) if log_lmax < 709.7 else math.inf), w


def support(activation, depth: int, sigma_w2: float = 1.0, q: Optional[float] = None, sigma_b2: float = 0.0,
            dps: Optional[int] = None, _resolved: bool = False, weights=None, widths=None) -> Support:
    """Upper edge lambda_max and atom of the spectrum of J J^T.

    Parameters
    ----------
    activation, depth, sigma_w2, q, sigma_b2
        As for :func:`rmtfp.density` (``q`` may be one value per layer).
    dps : int, optional
        Digits of lambda_max (mpmath); float64 when ``None``.
    weights, widths
        Weight ensemble and layer widths, as for :func:`rmtfp.density`;
        every atom is then listed in ``params["atoms"]`` as [location, mass].

    Returns
    -------
    Support
        ``w_edge`` is NaN for a per-layer q.
    """
    from .density import is_per_layer, resolve_layered, resolve_parameters

    dps = check_dps(dps)
    if is_per_layer(q):
        from .layered import support_layered

        act, depth, qs, sigma_w2 = resolve_layered(activation, depth, q, sigma_w2, sigma_b2, dps)
        lmax, atom = support_layered(act, qs, sigma_w2)
        return Support(lmax, atom, float("nan"), dict(activation=act.name, depth=depth, sigma_w2=sigma_w2,
                                                         q=list(qs), q_source="given per layer"))
    if _resolved:
        act = activation
        source = "given" if q is not None else "not needed"
    else:
        act, depth, sigma_w2, q, sigma_b2, source = resolve_parameters(activation, depth, sigma_w2, q, sigma_b2)
    params = dict(activation=act.name, depth=depth, sigma_w2=sigma_w2, q=None if q is None else float(q),
                  q_source=source)
    if weights is not None or widths is not None:
        from .density import _architecture

        arch = _architecture(weights, widths, depth, sigma_w2)
        if arch is not None:  # other weight ensembles, rectangular layers
            from .architectures import support_arch

            sa = support_arch(act, arch, q, dps)
            params.update(weights=arch.law.name, widths=None if arch.square else list(arch.widths),
                          atoms=[[float(a), float(m)] for a, m in sa.atoms],
                          lambda_max_continuous=float(sa.lambda_max_continuous))
            return Support(sa.lambda_max, sa.atom, sa.w_edge, params)
    atom = act.zero_probability(q) if act.depends_on_q else act.zero_probability()
    L = depth
    s_struct = act.d2_structure
    if (s_struct.kind == "discrete" and len(s_struct.values) == 1) or q == 0:
        if q == 0 and s_struct.kind != "discrete":
            c, v = 1.0, float(act.dphi(0.0)) ** 2
        else:
            vals, probs = act._discrete_law(q if q is not None else 1.0)
            c, v = float(probs[0]), float(vals[0])
        if dps is None:
            lmax, w = _two_point_edge(L, L * math.log(sigma_w2 * v), c)
            return Support(lmax, atom, w, params)
        with workdps(dps):
            vm, cm = _exact_two_point(act, q)
            sm = (mpmath.mpf(sigma_w2) * vm) ** L
            w = (-(L - 1) + mpmath.sqrt((L - 1) ** 2 + 4 * L * cm)) / (2 * L)
            lmax = sm * (1 + w) * (cm + w) ** L / w
            return Support(round_to(lmax, dps), atom, round_to(w, dps), params)
    lmax, u, w = _generic_edge(act, L, sigma_w2, q)
    if dps is None:
        return Support(lmax, atom, w, params)
    with workdps(dps):
        qm = mpmath.mpf(q)
        s2 = mpmath.mpf(sigma_w2)

        def dlog(uu):
            m, dm = act._mgf_mp(mpmath.mpc(uu), qm, "auto")
            m, dm = m.real, dm.real
            return dm * (1 / (1 + m) + (L - 1) / m) - L / uu

        try:
            um = mpmath.findroot(dlog, mpmath.mpf(u))
        except (ValueError, ZeroDivisionError) as exc:  # pragma: no cover
            raise ConvergenceError(f"edge refinement failed: {exc}", last=u) from exc
        m = act._mgf_mp(mpmath.mpc(um), qm, "auto")[0].real
        lmax = s2**L * (1 + m) * m ** (L - 1) / um**L
        return Support(round_to(lmax, dps), atom, round_to(m, dps), params)


def _exact_two_point(act: Activation, q):
    """(v, c) of a two-point law at the current mpmath precision."""
    if q == 0 and act.d2_structure.kind != "discrete":
        return act.dphi_mp(mpmath.mpf(0)) ** 2, mpmath.mpf(1)
    vals, probs = act._discrete_law_mp(mpmath.mpf(q) if q is not None else mpmath.mpf(1))
    return vals[0], probs[0]


def _generic_edge(act: Activation, L: int, sigma_w2: float, q):
    """lambda_max by minimising lambda(u) on (0, 1/sup D^2), float64."""
    ucut = 1.0 / act.d2_max

    def lam_of_x(x):
        # log lambda(u) = L log sigma_w^2 + log(1 + m) + (L - 1) log m - L log u: no overflow at any depth
        u = ucut * x
        m = np.real(act.mgf_d2(np.asarray(u, dtype=complex), q))
        with np.errstate(all="ignore"):
            return L * math.log(sigma_w2) + np.log1p(m) + (L - 1) * np.log(m) - L * np.log(u), m

    s = np.linspace(-20.0, 30.0, 600)
    x = 1.0 / (1.0 + np.exp(-s))
    x = x[x < 1 - 1e-13]
    lam, _ = lam_of_x(x)
    ok = np.isfinite(lam)  # log lambda
    if not ok.any():
        raise ConvergenceError(f"could not locate the spectral edge for {act.name!r}")
    # first local minimum from small u (large lambda)
    idx = np.flatnonzero(ok)
    lam_ok = lam[idx]
    i = int(np.argmax(np.diff(lam_ok) > 0)) if np.any(np.diff(lam_ok) > 0) else len(lam_ok) - 1
    lo = s[idx[max(i - 1, 0)]]
    hi = s[idx[min(i + 1, len(idx) - 1)]]

    def f(ss):
        xx = 1.0 / (1.0 + math.exp(-ss))
        return float(lam_of_x(np.array([xx]))[0][0])

    r = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    xx = 1.0 / (1.0 + math.exp(-r.x))
    log_lmax, m = lam_of_x(np.array([xx]))
    return (math.exp(log_lmax[0]) if log_lmax[0] < 709.7 else math.inf), ucut * xx, float(m[0])
