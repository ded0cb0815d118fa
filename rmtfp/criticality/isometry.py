"""Dynamical isometry: how close J J^T is to the identity on the critical line.

On the critical line chi_1 = 1 the mean eigenvalue of J J^T is 1 at every depth; its spread is
(Pennington, Schoenholz & Ganguli 2017, 2018)

    m_2/m_1^2 - 1 = L (mu_2/mu_1^2 - 1 - s_1),    mu_k = E[phi'(h)^{2k}],

s_1 = -1 for Gaussian and 0 for orthogonal weights.  Isometry at large depth needs mu_2/mu_1^2 -> 1
(phi' constant on the pre-activations: q* -> 0 for erf, tanh, hard-tanh) and s_1 = 0.  ReLU has
mu_2/mu_1^2 = 2 at every q.

The critical line is parametrised by q*: sigma_w^2 = 1/E[phi'(sqrt(q) z)^2] and
sigma_b^2 = q - sigma_w^2 E[phi(sqrt(q) z)^2] (must be >= 0).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np

from ..activations import get

__all__ = ["IsometryResult", "isometry", "critical_parameters", "isometry_along_critical_line"]


def critical_parameters(activation, q_star: float) -> tuple[float, float]:
    """(sigma_w2, sigma_b2) on chi_1 = 1 with fixed point ``q_star`` (see the module documentation)."""
    act = get(activation)
    q = float(q_star)
    if not (math.isfinite(q) and q > 0):
        raise ValueError(f"q_star must be finite and > 0, got {q_star!r}")
    sw2 = 1.0 / act.d2_moment(1, q if act.depends_on_q else None)
    sb2 = q - sw2 * act.second_moment(q)
    if sb2 < -1e-12 * q:
        raise ValueError(f"q_star={q_star} is not on the critical line of {act.name!r}: it needs sigma_b2 = "
                         f"{sb2:.3g} < 0")
    return float(sw2), float(max(sb2, 0.0))


@dataclasses.dataclass(frozen=True)
class IsometryResult:
    """Moments, spread and edges of the law of J J^T at one (activation, depth, weights, sigma_w2, sigma_b2).

    Attributes
    ----------
    q_star, chi_1 : float
    m1, m2 : float
        First two moments of J J^T.
    variance : float
        m_2/m_1^2 - 1, from the moments.
    variance_formula : float
        L (mu_2/mu_1^2 - 1 - s_1): the same number from the D^2 moments (an independent route).
    lambda_max : float
        Top of the support (atoms included).
    condition_bulk : float
        lambda_95 / lambda_05, the ratio of the 95 % and 5 % quantiles of the law (atoms included,
        inf when the 5 % quantile is 0); 1 for an isometry.
    atoms : list
    params : dict
    """

    q_star: float
    chi_1: float
    m1: float
    m2: float
    variance: float
    variance_formula: float
    lambda_max: float
    condition_bulk: float
    atoms: list
    params: dict

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _quantiles(act, depth, sigma_w2, q, weights, probs):
    from .._arch_sampling import theory_cdf

    cdf, lmax, atoms, _ = theory_cdf(act, depth, sigma_w2, q, weights, None, lam_min=1e-12 * 1.0)
    grid = np.concatenate([[0.0], np.geomspace(cdf.lam[0], lmax, 4000)])
    F = cdf(grid)
    return [float(grid[min(np.searchsorted(F, p, side="left"), grid.size - 1)]) for p in probs]


def isometry(activation, depth: int, sigma_w2: Optional[float] = None, sigma_b2: float = 0.0,
             weights: str = "gaussian", q_star: Optional[float] = None, quantiles: bool = True) -> IsometryResult:
    """Isometry statistics of J J^T.

    Parameters
    ----------
    activation, depth
    sigma_w2, sigma_b2 : float
        The network; or give ``q_star`` instead to sit on the critical line at that fixed point.
    weights : {"gaussian", "orthogonal"}
    q_star : float, optional
        Place the network on the critical line with this q* (:func:`critical_parameters`).
    quantiles : bool
        Compute the bulk condition number (needs the density: slower).
    """
    from ..spectrum import moments, support
    from ..spectrum.weights import resolve_weights

    act = get(activation)
    if q_star is not None:
        if sigma_w2 is not None:
            raise ValueError("give either sigma_w2 (and sigma_b2) or q_star (the critical line), not both")
        sigma_w2, sigma_b2 = critical_parameters(act, q_star)
        q = float(q_star) if act.depends_on_q else None
    else:
        if sigma_w2 is None:
            raise ValueError("sigma_w2 is required (or q_star to sit on the critical line)")
        q = act.q_star(sigma_w2, sigma_b2) if act.depends_on_q else None
    law = resolve_weights(weights)
    mu1, mu2 = act.d2_moment(1, q), act.d2_moment(2, q)
    # q* = 0 (e.g. erf at sigma_w2 <= 1, sigma_b2 = 0) is no valid given q: the spectrum resolves it itself as
    # q* and takes the degenerate law D^2 = phi'(0)^2
    qs = None if q == 0 else q
    m1, m2 = (float(x) for x in moments(act, depth, 2, sigma_w2=sigma_w2, q=qs, sigma_b2=sigma_b2, weights=weights))
    sup = support(act, depth, sigma_w2=sigma_w2, q=qs, sigma_b2=sigma_b2, weights=weights)
    atoms = sup.params.get("atoms", [[0.0, float(sup.atom)]])
    cond = math.nan
    if quantiles:
        lo, hi = _quantiles(act, depth, sigma_w2, qs, weights, (0.05, 0.95))  # q* = 0 needs sigma_b2 = 0
        cond = hi / lo if lo > 0 else math.inf
    return IsometryResult(
        q_star=math.nan if q is None else float(q), chi_1=float(sigma_w2 * mu1), m1=m1, m2=m2,
        variance=m2 / m1**2 - 1, variance_formula=float(depth * (mu2 / mu1**2 - 1 - float(law.s1))),
        lambda_max=float(sup.lambda_max), condition_bulk=float(cond), atoms=atoms,
        params=dict(activation=act.name, depth=depth, sigma_w2=float(sigma_w2), sigma_b2=float(sigma_b2),
                    weights=law.name))


def isometry_along_critical_line(activation, depth: int, q_star: Sequence[float], weights: str = "gaussian",
                                 quantiles: bool = False) -> list:
    """:func:`isometry` at each q* on the critical line."""
    return [isometry(activation, depth, weights=weights, q_star=q, quantiles=quantiles) for q in q_star]
