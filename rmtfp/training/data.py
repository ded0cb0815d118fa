"""The papers' employee model: circles of photos around each employee's true photo, and fakes."""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import int_at_least, positive_real
from .._rng import generator


# ----------------------------------------------------------------- data
@dataclasses.dataclass(frozen=True)
class EmployeeDataset:
    """Photos of K employees as points in R^n (the papers' employee model).

    Attributes
    ----------
    centres : ndarray, shape (K, n)
        The "true" photos x_k^*, centres of the circles T_k.
    radius : float
        Radius r of every circle.
    train : ndarray, shape (M, n)
        Training photos, uniform in the discs |x - x_k^*| <= r (the centres
        themselves first when ``include_centres``).
    train_labels : ndarray of int, shape (M,)
        The employee k of every training photo.
    heldout, heldout_labels : ndarray
        Further photos of the employees, drawn like the training photos.
    fakes : ndarray, shape (F, n)
        Photos of no employee: uniform in the box, at distance >= r +
        ``fake_margin`` from every centre.
    bounds : tuple of float
        The box (lo, hi) in every coordinate.
    params : dict
        The arguments that produced the data set (seed entropy included).
    """

    centres: np.ndarray
    radius: float
    train: np.ndarray
    train_labels: np.ndarray
    heldout: np.ndarray
    heldout_labels: np.ndarray
    fakes: np.ndarray
    bounds: tuple
    params: dict

    @property
    def K(self) -> int:
        """The number of employees."""
        return int(self.centres.shape[0])

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    @property
    def targets(self) -> np.ndarray:
        """x_k^* for every training photo, shape (M, n): the targets of eq. (2.6)."""
        return self.centres[self.train_labels]

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"centres": self.centres, "radius": self.radius, "train": self.train,
                "train_labels": self.train_labels, "heldout": self.heldout,
                "heldout_labels": self.heldout_labels, "fakes": self.fakes, "bounds": list(self.bounds),
                "params": dict(self.params)}


def _uniform_ball(gen: np.random.Generator, n_points: int, dim: int, radius: float) -> np.ndarray:
    """Uniform points in the ball of radius ``radius`` in R^dim (direction x radius U^{1/dim})."""
    d = gen.standard_normal((n_points, dim))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return d * (radius * gen.random(n_points) ** (1.0 / dim))[:, None]


def employee_dataset(K: int = 5, radius: float = 0.2, n_per_class: int = 40, rng=None, *,
                     n_heldout_per_class: int = 20, n_fakes: int = 200, dim: int = 2, bounds=(-1.0, 1.0),
                     centres=None, include_centres: bool = True, min_gap: float = 0.1,
                     fake_margin: float = 0.05, max_tries: int = 10000) -> EmployeeDataset:
    """The employee data set of the papers' section 6 / section II, example 2.

    K circles T_k of radius r with centres x_k^* (the "true" photos) lie in
    the box [lo, hi]^n, each circle inside the box and any two circles at
    least ``min_gap`` apart (|x_k^* - x_j^*| >= 2r + min_gap).  Training and
    held-out photos of employee k are uniform in the disc |x - x_k^*| <= r;
    fakes are uniform in the box at distance >= r + fake_margin from every
    centre.

    Parameters
    ----------
    K : int >= 1, default 5
        Number of employees (the papers use K = 5).
    radius : float > 0, default 0.2
    n_per_class : int >= 1, default 40
        Training photos per employee (the centre included when
        ``include_centres``).
    rng : int, Generator, SeedSequence or None
        Seed of the centres (unless given) and of all photos.
    n_heldout_per_class : int >= 0, default 20
    n_fakes : int >= 0, default 200
    dim : int >= 1, default 2
    bounds : (lo, hi), default (-1, 1)
    centres : array_like, shape (K, dim), optional
        Fixed centres instead of random ones (then ``K`` is ignored); they
        must satisfy the placement rules above.
    include_centres : bool, default True
        The true photo x_k^* is one of the photos of T_k (as in the papers).
    min_gap : float >= 0, default 0.1
    fake_margin : float >= 0, default 0.05
    max_tries : int, default 10000
        Rejection-sampling attempts for the centres and for the fakes.

    Returns
    -------
    EmployeeDataset

    Raises
    ------
    ValueError
        For bad sizes, or when K circles of this radius and gap do not fit in
        the box (after ``max_tries`` attempts), or given centres break the
        rules.
    """
    dim = int_at_least("dim", dim, 1)
    radius = positive_real("radius", radius)
    n_per_class = int_at_least("n_per_class", n_per_class, 1)
    n_heldout_per_class = int_at_least("n_heldout_per_class", n_heldout_per_class, 0)
    n_fakes = int_at_least("n_fakes", n_fakes, 0)
    min_gap = positive_real("min_gap", min_gap, allow_zero=True)
    fake_margin = positive_real("fake_margin", fake_margin, allow_zero=True)
    max_tries = int_at_least("max_tries", max_tries, 1)
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a pair (lo, hi), got {bounds!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be finite with lo < hi, got {bounds!r}")
    if hi - lo < 2 * radius:
        raise ValueError(f"radius={radius!r} is too large for bounds {bounds!r}: a circle must fit in the box")
    if not isinstance(include_centres, (bool, np.bool_)):
        raise ValueError(f"include_centres must be True or False, got {include_centres!r}")
    seed = rng if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) else None
    gen = generator(rng)
    sep = 2 * radius + min_gap

    if centres is None:
        K = int_at_least("K", K, 1)
        pts = []
        for _ in range(max_tries):
            c = gen.uniform(lo + radius, hi - radius, size=dim)
            if all(np.linalg.norm(c - p) >= sep for p in pts):
                pts.append(c)
                if len(pts) == K:
                    break
        if len(pts) < K:
            raise ValueError(f"could not place K={K} circles of radius={radius!r} with min_gap={min_gap!r} in "
                             f"the box {bounds!r} within max_tries={max_tries}; use fewer or smaller circles")
        c_arr = np.array(pts)
    else:
        try:
            c_arr = np.array(centres, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"centres must be a real array of shape (K, {dim})") from None
        if c_arr.ndim != 2 or c_arr.shape[1] != dim or c_arr.shape[0] < 1:
            raise ValueError(f"centres must have shape (K, {dim}) with K >= 1, got shape {c_arr.shape}")
        if np.any(c_arr - radius < lo - 1e-12) or np.any(c_arr + radius > hi + 1e-12):
            raise ValueError(f"centres must keep every circle of radius {radius!r} inside the box {bounds!r}")
        d = np.linalg.norm(c_arr[:, None] - c_arr[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        if d.min() < sep - 1e-12:
            raise ValueError(f"centres must be at least 2*radius + min_gap = {sep:g} apart, "
                             f"got a pair at distance {d.min():g}")
        K = c_arr.shape[0]

    def photos(n_each: int, with_centre: bool):
        xs, ys = [], []
        for k in range(K):
            n_rand = n_each - 1 if with_centre else n_each
            block = c_arr[k] + _uniform_ball(gen, n_rand, dim, radius)
            if with_centre:
                block = np.vstack([c_arr[k][None], block])
            xs.append(block)
            ys.append(np.full(block.shape[0], k))
        return np.concatenate(xs) if xs else np.empty((0, dim)), np.concatenate(ys).astype(int)

    train, train_labels = photos(n_per_class, bool(include_centres))
    heldout, heldout_labels = photos(n_heldout_per_class, False)
    fakes = np.empty((0, dim))
    if n_fakes:
        got, tries = [], 0
        need = radius + fake_margin
        while sum(len(g) for g in got) < n_fakes and tries < max_tries:
            cand = gen.uniform(lo, hi, size=(max(n_fakes, 64), dim))
            dist = np.linalg.norm(cand[:, None] - c_arr[None], axis=-1).min(axis=1)
            got.append(cand[dist >= need])
            tries += 1
        fakes = np.concatenate(got)[:n_fakes]
        if fakes.shape[0] < n_fakes:
            raise ValueError(f"could not place n_fakes={n_fakes} fakes outside the circles (radius + fake_margin "
                             f"= {need:g}) in the box {bounds!r}; the circles cover it")
    for a in (c_arr, train, train_labels, heldout, heldout_labels, fakes):
        a.setflags(write=False)
    params = dict(K=K, radius=radius, n_per_class=n_per_class, n_heldout_per_class=n_heldout_per_class,
                  n_fakes=n_fakes, dim=dim, bounds=(lo, hi), include_centres=bool(include_centres),
                  min_gap=min_gap, fake_margin=fake_margin, seed=seed, centres_given=centres is not None)
    return EmployeeDataset(centres=c_arr, radius=radius, train=train, train_labels=train_labels, heldout=heldout,
                           heldout_labels=heldout_labels, fakes=fakes, bounds=(lo, hi), params=params)
