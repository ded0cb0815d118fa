"""The results of the fixed-point search: per-start statuses, fixed points, cycles and their stability.

Small frozen dataclasses (arrays + status + the parameters that produced
them) with a short repr and a ``to_dict()`` that ``json.dumps`` accepts
after :func:`rmtfp.commands.to_jsonable`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._results import jsonable_result, summary_repr

__all__ = ["Stability", "Cycle", "FixedPointResult", "STATUSES"]

#: the per-start statuses, in the order of their internal codes
STATUSES = ("fixed_point", "cycle", "unresolved", "divergent")
_FP, _CYCLE, _UNRESOLVED, _DIVERGENT = range(4)
_STATUS_ARRAY = np.array(STATUSES)


@dataclasses.dataclass(frozen=True)
class Stability:
    """Linear stability of a fixed point x* (or of a cycle, through D(Phi^p)).

    Attributes
    ----------
    eigenvalues : ndarray of complex, shape (n,)
        Eigenvalues of DPhi(x*) (the multipliers of a cycle), sorted by
        decreasing modulus.
    spectral_radius : float
        max |eigenvalue|.
    kind : {"stable", "unstable", "neutral"}
        ``"stable"`` when spectral_radius < 1 - neutral_tol, ``"unstable"``
        when > 1 + neutral_tol, ``"neutral"`` otherwise (linearisation
        inconclusive).
    """

    eigenvalues: np.ndarray
    spectral_radius: float
    kind: str

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"eigenvalues": self.eigenvalues, "spectral_radius": self.spectral_radius, "kind": self.kind}


@dataclasses.dataclass(frozen=True)
class Cycle:
    """A periodic orbit x_0 -> x_1 -> ... -> x_{p-1} -> x_0 of Phi of minimal period p >= 2.

    Attributes
    ----------
    points : ndarray, shape (period, n)
        The orbit in the order Phi visits it, starting from its
        lexicographically smallest point.
    period : int
        The minimal period p.
    stability : Stability
        From the multipliers, the eigenvalues of D(Phi^p)(x_0) =
        DPhi(x_{p-1}) ... DPhi(x_0).
    residual : float
        |Phi^p(x_0) - x_0|.
    refined : bool
        Whether Newton's method on Phi^p(x) - x polished the orbit.
    """

    points: np.ndarray
    period: int
    stability: Stability
    residual: float
    refined: bool

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"period": self.period, "points": self.points, "residual": self.residual,
                "refined": self.refined, **{f"{k}": v for k, v in self.stability.to_dict().items()}}


@dataclasses.dataclass(frozen=True)
class FixedPointResult:
    """Fixed points, cycles and the classification of every start.

    Attributes
    ----------
    fixed_points : ndarray, shape (Q, n)
        Sorted lexicographically; pairwise farther apart than ``merge_tol``.
    labels : ndarray of int, shape (M,)
        Per start: the index of its fixed point (status ``"fixed_point"``) or
        of its cycle in :attr:`cycles` (status ``"cycle"``); -1 otherwise.
    status : ndarray of str, shape (M,)
        Per start, one of ``"fixed_point"``, ``"cycle"``, ``"unresolved"``,
        ``"divergent"``.
    cycles : tuple of Cycle
        Sorted by period, then lexicographically by first point.
    fractions : dict
        ``"fixed_point:k"`` and ``"cycle:k"`` (the basins, as fractions of the
        starts), ``"unresolved"`` and ``"divergent"``; the values sum to 1.
    stability : tuple of Stability
        One per fixed point, from the eigenvalues of DPhi(x*).
    residuals : ndarray, shape (Q,)
        |Phi(x*) - x*| for every fixed point, as ``net(fixed_points)``
        evaluates it with the search's BLAS threads (the points in this
        order, in one batch; a batch of another shape or order, or BLAS
        summing a wide layer on more threads, may round otherwise in the
        last bits).
    refined : ndarray of bool, shape (Q,)
        Whether Newton's method polished the fixed point (then the residual
        is <= ``refine_tol`` max(1, |x*|)).
    iterations : ndarray of int, shape (M,)
        Per start, the number of maps (or Newton steps) after which it was
        classified.
    starts : ndarray, shape (M, n)
    params : dict
        The parameters that produced the result (``method`` is
        ``"iteration"`` or ``"newton"``).
    """

    fixed_points: np.ndarray
    labels: np.ndarray
    status: np.ndarray
    cycles: tuple
    fractions: dict
    stability: tuple
    residuals: np.ndarray
    refined: np.ndarray
    iterations: np.ndarray
    starts: np.ndarray
    params: dict

    Q = property(lambda self: int(self.fixed_points.shape[0]), doc="The number of fixed points found.")
    n_cycles = property(lambda self: len(self.cycles), doc="The number of cycles found.")

    def basin(self, k: int, kind: str = "fixed_point") -> np.ndarray:
        """Boolean mask of the starts in the basin of fixed point (or cycle) ``k``."""
        if kind not in ("fixed_point", "cycle"):
            raise ValueError(f"kind must be 'fixed_point' or 'cycle', got {kind!r}")
        return (self.status == kind) & (self.labels == k)

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        """Plain containers (numpy arrays left as arrays; see :func:`rmtfp.commands.to_jsonable`)."""
        def plain(value):
            if isinstance(value, tuple):  # the Stability and Cycle records
                return [item.to_dict() for item in value]
            return dict(value) if isinstance(value, dict) else value

        return {"Q": self.Q, **{key: plain(getattr(self, key)) for key in _DICT_KEYS}}


#: the keys of :meth:`FixedPointResult.to_dict` after ``"Q"``, in order
_DICT_KEYS = ("fixed_points", "stability", "residuals", "refined", "cycles", "fractions", "labels", "status",
              "iterations", "starts", "params")


def eigenvalues_of(jac: np.ndarray) -> np.ndarray:
    """Eigenvalues of a stack of Jacobians (k, n, n), complex; a clear error where one is not finite in float64.

    Always complex: numpy returns a real array when every eigenvalue of the
    stack happens to be real, and complex eigenvalues written into it later
    would lose their imaginary parts.
    """
    bad = int(np.count_nonzero(~np.all(np.isfinite(jac), axis=(1, 2))))
    if bad:
        raise ValueError(f"DPhi is not finite in float64 at {bad} fixed point(s) or cycle(s) (the products of the "
                         f"weights overflow): their stability cannot be computed; rescale the network's weights")
    return np.linalg.eigvals(jac).astype(complex, copy=False)


def stability_of(jac: np.ndarray, neutral_tol: float) -> list:
    """Stability objects from a stack of Jacobians (k, n, n)."""
    if jac.shape[0] == 0:
        return []
    return stability_from_eigenvalues(eigenvalues_of(jac), neutral_tol)


def stability_from_eigenvalues(ev: np.ndarray, neutral_tol: float) -> list:
    """Stability objects from the eigenvalues (k, n) of a stack of Jacobians."""
    out = []
    for e in ev:
        e = e[np.argsort(-np.abs(e), kind="stable")]
        rho = float(np.max(np.abs(e)))
        kind = "stable" if rho < 1 - neutral_tol else "unstable" if rho > 1 + neutral_tol else "neutral"
        out.append(Stability(eigenvalues=e.astype(complex), spectral_radius=rho, kind=kind))
    return out

