"""The theory's cumulative distribution function of the eigenvalues of J J^T."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional, Sequence, Union

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import int_at_least, positive_real
from ..activations import Activation, get
from ..errors import ConvergenceError


# ------------------------------------------------------------ the theory's CDF
@dataclasses.dataclass(frozen=True, eq=False)
class SpectralCDF:
    """Cumulative distribution function of the infinite-width law of J J^T.

    F(lambda) = atom + int_0^lambda rho, computed as 1 - int_lambda^lambda_max rho
    (integrated from the upper edge down, so the singularity of rho at 0 never
    enters): Simpson's rule in log(lambda) on [lambda_lo, lambda_max/2] and in
    s on [lambda_max/2, lambda_max], lambda = lambda_max (1 - s^2/2), which
    resolves the square-root edge.  Below the grid F - atom is extrapolated as
    the power law (lambda/lambda_lo)^p that matches F and rho at lambda_lo.

    Attributes
    ----------
    lam, density, cdf : ndarray
        The grid (ascending), rho (continuous part) and F on it.
    atom : float
        Mass at lambda = 0.
    lambda_max : float
    unresolved_mass : float
        F(lambda_lo) - atom: continuous mass below the grid (clipped at 0).
    tail_exponent : float
        p of the extrapolation below the grid.
    n_failed : int
        Grid points where the density solver did not converge (interpolated
        from their neighbours).
    params : dict
    """

    lam: np.ndarray
    density: np.ndarray
    cdf: np.ndarray
    atom: float
    lambda_max: float
    unresolved_mass: float
    tail_exponent: float
    n_failed: int
    params: dict

    def __call__(self, x, left: bool = False) -> np.ndarray:
        """F(x), or its left limit F(x-) with ``left=True`` (F(0-) = 0)."""
        x = np.asarray(x, dtype=float)
        out = np.empty(x.shape)
        lo, hi = self.lam[0], self.lambda_max
        t = np.log(np.clip(x, lo, hi))
        out[...] = self._interp(t)
        below = (x < lo) & (x > 0)
        if np.any(below):
            r = x[below] / lo
            out[below] = self.atom + self.unresolved_mass * r**self.tail_exponent
        out[x >= hi] = 1.0
        out[x == 0] = 0.0 if left else self.atom
        out[x < 0] = 0.0
        return out

    @property
    def _interp(self):
        from scipy.interpolate import PchipInterpolator

        return PchipInterpolator(np.log(self.lam), self.cdf, extrapolate=True)

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"lam": self.lam.tolist(), "density": self.density.tolist(), "cdf": self.cdf.tolist(),
                "atom": self.atom, "lambda_max": self.lambda_max, "unresolved_mass": self.unresolved_mass,
                "tail_exponent": self.tail_exponent, "n_failed": self.n_failed, "params": dict(self.params)}


def _theory(activation, depth, sigma_w2, q, sigma_b2):
    """(density(lam) -> (rho, status), lambda_max, atom, moments(k), description) of the law of J J^T.

    ``q``: None (q* or not needed), a number, or a per-layer sequence.
    """
    from .. import spectrum
    from ..spectrum.layered import density_layered, moments_layered, support_layered

    act = get(activation)
    if q is not None and not isinstance(q, numbers.Real):
        qs = [float(v) for v in q]
        if len(qs) != depth:
            raise ValueError(f"q must have one value per layer (depth={depth}), got {len(qs)} values")
        if not act.depends_on_q or max(qs) - min(qs) <= 1e-12 * max(max(qs), 1e-300):
            q = None if not act.depends_on_q else qs[0]
        else:
            lmax, atom = support_layered(act, qs, sigma_w2)

            def dens(lam):
                rho, _, status = density_layered(lam, act, qs, sigma_w2)
                return rho, status

            return dens, lmax, atom, (lambda k: moments_layered(act, qs, k, sigma_w2)), "layered"
    sup = spectrum.support(act, depth, sigma_w2=sigma_w2, q=q, sigma_b2=sigma_b2)
    q_value = sup.params.get("q")
    q_value = (1.0 if not act.depends_on_q else act.q_star(sigma_w2, sigma_b2)) if q_value is None else q_value

    def dens(lam):
        r = spectrum.density(lam, act, depth, sigma_w2=sigma_w2, q=q, sigma_b2=sigma_b2)
        rho, status = np.array(r.density, dtype=float), np.array(r.status)
        bad = status != 0
        if bad.any():  # second opinion: the same law through the layer-dependent system
            rho2, _, status2 = density_layered(lam[bad], act, [q_value] * depth, sigma_w2)
            rho[bad], status[bad] = rho2, status2
        return rho, status

    return (dens, float(sup.lambda_max), float(sup.atom),
            (lambda k: np.asarray(spectrum.moments(act, depth, k, sigma_w2=sigma_w2, q=q, sigma_b2=sigma_b2),
                                  dtype=float)), "equal")


def spectral_cdf(activation: Union[str, Activation], depth: int, sigma_w2: float = 1.0,
                 q: Optional[Union[float, Sequence[float]]] = None, sigma_b2: float = 0.0,
                 lam_min: Optional[float] = None, per_decade: int = 24, n_edge: int = 161) -> SpectralCDF:
    """The theory's CDF of the eigenvalues of J J^T, atom included.

    Parameters
    ----------
    activation, depth, sigma_w2, q, sigma_b2
        As for :func:`rmtfp.density`; ``q`` may be a per-layer sequence
        (layer-dependent law, :mod:`rmtfp.spectrum.layered`).
    lam_min : float, optional
        Lower end of the grid (default 1e-12 lambda_max).
    per_decade : int
        Grid points per decade of lambda below lambda_max/2.
    n_edge : int
        Grid points on [lambda_max/2, lambda_max].

    Raises
    ------
    ConvergenceError
        When the density solver fails on more than 5 % of the grid.
    """
    from scipy.integrate import cumulative_simpson

    depth = int_at_least("depth", depth, 1, integral_floats=True)
    per_decade = int_at_least("per_decade", per_decade, 2, integral_floats=True)
    n_edge = int_at_least("n_edge", n_edge, 3, integral_floats=True)
    dens, lmax, atom, _, kind = _theory(activation, depth, sigma_w2, q, sigma_b2)
    lo = 1e-12 * lmax if lam_min is None else positive_real("lam_min", lam_min, allow_zero=False)
    if lo >= lmax / 2:
        raise ValueError(f"lam_min must be < lambda_max/2 = {lmax / 2}, got {lam_min}")
    n_log = max(3, int(math.ceil(per_decade * math.log10(lmax / 2 / lo))) + 1)
    t_low = np.linspace(math.log(lo), math.log(lmax / 2), n_log)
    s = np.linspace(0.0, 1.0, n_edge)[1:]  # s = 0 is the edge itself, rho = 0 there
    lam_up = lmax * (1 - s**2 / 2)
    lam = np.concatenate([np.exp(t_low[:-1]), lam_up[::-1]])
    rho, status = dens(lam)
    rho = np.where(np.isfinite(rho), np.maximum(rho, 0.0), np.nan)
    bad = (status != 0) | ~np.isfinite(rho)
    n_failed = int(np.sum(bad))
    if n_failed > 0.05 * lam.size:
        raise ConvergenceError(f"the density solver failed at {n_failed} of {lam.size} grid points "
                               f"(activation={get(activation).name}, depth={depth})", last=lam[bad])
    if n_failed:
        good = ~bad
        rho[bad] = np.exp(np.interp(np.log(lam[bad]), np.log(lam[good]), np.log(np.maximum(rho[good], 1e-300))))
    rho_low = np.concatenate([rho[: n_log - 1], rho[n_log - 1: n_log]])  # rho at t_low (last = lambda_max/2)
    rho_up = np.concatenate([[0.0], rho[n_log - 1:][::-1]])  # rho at s = 0..1
    s_full = np.concatenate([[0.0], s])
    tail_up = cumulative_simpson(rho_up * lmax * s_full, x=s_full, initial=0.0)  # mass in [lam(s), lmax]
    g = rho_low * np.exp(t_low)
    tail_low = tail_up[-1] + cumulative_simpson(g[::-1], x=-t_low[::-1], initial=0.0)[::-1]
    tail = np.concatenate([tail_low[:-1], tail_up[::-1][:-1]])  # on lam without lambda_max
    lam_all = np.append(lam, lmax)
    rho_all = np.append(rho, 0.0)
    cdf = np.clip(np.append(1.0 - tail, 1.0), 0.0, 1.0)
    cdf = np.maximum.accumulate(cdf)
    unresolved = float(max(cdf[0] - atom, 0.0))
    p = float(g[0] / unresolved) if unresolved > 0 else math.inf
    params = dict(activation=get(activation).name, depth=depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                  q=None if q is None else (float(q) if isinstance(q, numbers.Real) else [float(v) for v in q]),
                  law=kind, lam_min=lo, per_decade=per_decade, n_edge=n_edge,
                  mass_defect=float(cdf[0] - atom) if cdf[0] < atom else 0.0)
    return SpectralCDF(lam_all, rho_all, cdf, atom, lmax, unresolved, p, n_failed, params)
