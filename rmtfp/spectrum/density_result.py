"""The result of :func:`rmtfp.density`: :class:`DensityResult`."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .solvers import Status

__all__ = ["DensityResult"]


@dataclasses.dataclass(frozen=True)
class DensityResult:
    """Eigenvalue density of J J^T on a grid of lambda.

    Attributes
    ----------
    lam : ndarray
        The points, in the order given.
    density : ndarray
        rho(lambda), the continuous part (float64, or ``mpmath.mpf`` objects
        when computed with ``dps``).
    w : ndarray
        w(lambda + i eta) at the final eta (0 except for ``"iteration"``).
    status : ndarray of int8
        Per point :class:`~rmtfp.spectrum.Status` (0 = converged).
    atom : float
        Mass of the atom at lambda = 0, P(phi'(h) = 0).
    lambda_max : float
        Upper edge of the support.
    params : dict
        Everything that produced the result.
    lower, upper : ndarray or None
        With ``certify=True``: proven enclosures ``lower <= rho <= upper``
        (float64, or ``mpmath.mpf`` with ``dps``) at the points whose status
        is ``certified``, NaN elsewhere; None otherwise.
    """

    lam: np.ndarray
    density: np.ndarray
    w: np.ndarray
    status: np.ndarray
    atom: float
    lambda_max: float
    params: dict
    lower: Optional[np.ndarray] = None
    upper: Optional[np.ndarray] = None

    @property
    def converged(self) -> bool:
        """True when every point converged (or was certified)."""
        return self.n_failed == 0

    @property
    def n_failed(self) -> int:
        return int(np.sum(~np.isin(self.status, (Status.CONVERGED, Status.CERTIFIED))))

    def status_names(self) -> list[str]:
        return Status.names(self.status)

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: floats (strings of every digit for ``dps`` results), complex w as [re, im] pairs;
        ``lower``/``upper`` with certified results (null where not certified)."""
        d = {
            "lam": np.ravel(self.lam),
            "density": np.ravel(self.density),
            "w": np.ravel(self.w),
            "status": self.status_names(),
            "atom": float(self.atom),
            "lambda_max": float(self.lambda_max),
            "params": dict(self.params),
        }
        if self.lower is not None:
            d["lower"] = np.ravel(self.lower)
            d["upper"] = np.ravel(self.upper)
        return d
