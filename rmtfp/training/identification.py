"""How well the fixed points of a trained network identify the employees."""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import positive_real
from ..dynamics import Network, find_fixed_points, grid
from .data import EmployeeDataset


# ----------------------------------------------------------------- identification
@dataclasses.dataclass(frozen=True)
class IdentificationReport:
    """How well the fixed points of a trained network identify the employees.

    A photo is identified as employee k's when its iteration converges to
    the fixed point matched to x_k^* (the nearest fixed point, if within
    ``match_radius``).

    Attributes
    ----------
    matched : ndarray of int, shape (K,)
        Index of the fixed point matched to each x_k^*, -1 if none lies
        within ``match_radius``.
    distances : ndarray, shape (K,)
        Distance from x_k^* to the nearest fixed point (inf if Q = 0).
    train_in_basin : ndarray, shape (K,)
        Fraction of each training set T_k in the basin of x_k^*'s fixed point.
    heldout_accuracy : float
        Fraction of held-out photos identified as their own employee (nan
        without held-out photos); per employee in ``heldout_per_class``.
    fakes_rejected : float
        Fraction of fakes attracted by no matched fixed point (nan without
        fakes); ``fake_outcomes`` splits the fakes by where they went.
    spurious : ndarray of int
        Indices of fixed points matched to no employee.
    grid_result : FixedPointResult
        The search from the grid and the photos together (starts in the
        order grid, centres, train, held-out, fakes); ``n_grid`` is the
        number of grid starts.  Its fixed points are the report's
        (:attr:`fixed_points`, :attr:`stability`, :attr:`Q`).
    match_radius : float
    """

    matched: np.ndarray
    distances: np.ndarray
    train_in_basin: np.ndarray
    heldout_accuracy: float
    heldout_per_class: np.ndarray
    fakes_rejected: float
    fake_outcomes: dict
    spurious: np.ndarray
    grid_result: object
    n_grid: int
    match_radius: float

    @property
    def fixed_points(self) -> np.ndarray:
        """The fixed points reached from the grid and from the photos, shape (Q, n)."""
        return self.grid_result.fixed_points

    @property
    def stability(self) -> tuple:
        """"stable", "unstable" or "neutral" for each fixed point."""
        return tuple(s.kind for s in self.grid_result.stability)

    @property
    def Q(self) -> int:
        """The number of fixed points."""
        return self.grid_result.Q

    @property
    def grid_starts(self) -> np.ndarray:
        return self.grid_result.starts[:self.n_grid]

    def grid_labels(self) -> tuple:
        """(status, labels) of the grid starts, for plotting the basins."""
        return self.grid_result.status[:self.n_grid], self.grid_result.labels[:self.n_grid]

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"Q": self.Q, "fixed_points": self.fixed_points, "stability": list(self.stability),
                "matched": self.matched, "distances": self.distances, "train_in_basin": self.train_in_basin,
                "heldout_accuracy": self.heldout_accuracy, "heldout_per_class": self.heldout_per_class,
                "fakes_rejected": self.fakes_rejected, "fake_outcomes": dict(self.fake_outcomes),
                "spurious": self.spurious, "match_radius": self.match_radius,
                "grid_fractions": {k: v for k, v in self.grid_result.fractions.items()}}


def identification_report(net: Network, data: EmployeeDataset, starts=None, match_radius: Optional[float] = None,
                          **fixed_point_options) -> IdentificationReport:
    """Fixed points of a trained network and the identification they give.

    Runs :func:`rmtfp.find_fixed_points` once from the grid and from every
    photo (so that fixed-point indices agree), then for each employee k:
    the distance from x_k^* to the nearest fixed point; the fixed point
    matched to x_k^* (nearest, within ``match_radius``); the fraction of
    T_k in its basin (the papers' T_k subset Omega_k).  Held-out photos
    count as identified when they converge to their own employee's matched
    fixed point; fakes count as rejected when they converge to no matched
    fixed point (a spurious fixed point, a cycle, or no convergence).

    Parameters
    ----------
    net : Network
        With n_in = n_out = data.dim.
    data : EmployeeDataset
    starts : array_like, shape (M, n), optional
        Grid for the basins; default ``grid(data.bounds, 0.05, n)`` (41 x 41
        on [-1, 1]^2).
    match_radius : float, optional
        Default: the circles' radius (the fixed point must lie inside T_k's
        circle).
    **fixed_point_options
        Passed to :func:`rmtfp.find_fixed_points` (tol, max_iter, ...).

    Returns
    -------
    IdentificationReport
    """
    if not isinstance(data, EmployeeDataset):
        raise ValueError(f"data must be an EmployeeDataset, got {type(data).__name__}")
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    if net.n_in != data.dim or net.n_out != data.dim:
        raise ValueError(f"net must map R^{data.dim} to R^{data.dim} for this data set, got widths {list(net.widths)}")
    if "starts" in fixed_point_options:
        raise ValueError("pass the grid as starts=..., not inside fixed_point_options")
    match_radius = data.radius if match_radius is None else positive_real("match_radius", match_radius)
    if starts is None:
        starts = grid(data.bounds, 0.05, data.dim)
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 2 or starts.shape[1] != data.dim:
        raise ValueError(f"starts must have shape (M, {data.dim}), got shape {starts.shape}")
    blocks = [starts, data.centres, data.train, data.heldout, data.fakes]
    res = find_fixed_points(net, np.concatenate(blocks), **fixed_point_options)
    bounds = np.cumsum([0] + [b.shape[0] for b in blocks])
    st, lab = res.status, res.labels
    is_fp = st == "fixed_point"
    fp_label = np.where(is_fp, lab, -1)

    fps = res.fixed_points
    K = data.K
    if fps.shape[0]:
        d = np.linalg.norm(data.centres[:, None] - fps[None], axis=-1)
        nearest = d.argmin(axis=1)
        distances = d[np.arange(K), nearest]
        matched = np.where(distances <= match_radius, nearest, -1)
    else:
        distances = np.full(K, np.inf)
        matched = np.full(K, -1)

    def own(block: int, labels_k: np.ndarray) -> np.ndarray:
        got = fp_label[bounds[block]:bounds[block + 1]]
        want = matched[labels_k]
        return (want >= 0) & (got == want)

    train_ok = own(2, data.train_labels)
    train_in_basin = np.array([train_ok[data.train_labels == k].mean() for k in range(K)])
    if data.heldout.shape[0]:
        held_ok = own(3, data.heldout_labels)
        heldout_accuracy = float(held_ok.mean())
        per = np.array([held_ok[data.heldout_labels == k].mean() if np.any(data.heldout_labels == k) else np.nan
                        for k in range(K)])
    else:
        heldout_accuracy, per = float("nan"), np.full(K, np.nan)
    fake_lab = fp_label[bounds[4]:bounds[5]]
    fake_st = st[bounds[4]:bounds[5]]
    matched_set = set(int(m) for m in matched if m >= 0)
    accepted = np.array([int(v) in matched_set for v in fake_lab], dtype=bool)
    n_f = fake_lab.size
    if n_f:
        fakes_rejected = float(1 - accepted.mean())
        outcomes = {"accepted": float(accepted.mean()),
                    "spurious_fixed_point": float(np.mean((fake_st == "fixed_point") & ~accepted)),
                    "cycle": float(np.mean(fake_st == "cycle")),
                    "unresolved": float(np.mean(fake_st == "unresolved")),
                    "divergent": float(np.mean(fake_st == "divergent"))}
    else:
        fakes_rejected, outcomes = float("nan"), {}
    spurious = np.array(sorted(set(range(fps.shape[0])) - matched_set), dtype=int)
    return IdentificationReport(matched=matched, distances=distances, train_in_basin=train_in_basin,
                                heldout_accuracy=heldout_accuracy, heldout_per_class=per,
                                fakes_rejected=fakes_rejected, fake_outcomes=outcomes, spurious=spurious,
                                grid_result=res, n_grid=int(starts.shape[0]), match_radius=float(match_radius))
