"""Trained autoencoders: the papers' employee model, training, identification and weight tails.

The employee model (Berlyand, Krupchytskyi & Slavin, section 6; Berlyand &
Slavin, section II example 2) is a toy access-control system in R^2.  Each
of K employees k has a "true" photo x_k^* (the centre of a circle of radius
r in Omega = [-1, 1]^2) and other photos inside the circle.  A network
Phi: R^2 -> R^2 is trained with the loss of the papers' eq. (2.6),

.. math::

    \\mathcal{L}(\\alpha) = \\sum_{k=1}^{K} \\sum_{x \\in T_k}
        \\| \\Phi(x, \\alpha) - x_k^* \\|^2 ,

so that every photo of employee k is sent to x_k^*; then x_k^* is (close to)
a fixed point of Phi, and a photo x is identified as employee k's when the
iteration x, Phi(x), Phi(Phi(x)), ... converges to the fixed point at x_k^*
(x lies in its basin of attraction).  A photo attracted elsewhere (another
fixed point, a cycle, no convergence) is rejected as a fake.

Contents
--------
:func:`employee_dataset`       the circles, training, held-out and fake photos
:func:`train_autoencoder`      Adam on eq. (2.6) with analytic backpropagation
:func:`loss_and_gradient`      eq. (2.6) and its exact gradient
:func:`gradient_check`         the gradient against central finite differences
:func:`identification_report`  fixed points, basins, held-out accuracy, fakes
:func:`power_law_fit`          maximum-likelihood power-law tail, KS-chosen cutoff
:func:`weight_spectrum_tail`   that fit on the eigenvalues of W^T W

Everything is numpy; randomness comes only from the ``rng`` arguments.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional, Sequence

import numpy as np

from ._results import jsonable_result, summary_repr
from . import activations as _activations
from ._rng import generator
from .dynamics import Network, find_fixed_points, grid
from .dynamics.network import in_place_kernels

__all__ = [
    "EmployeeDataset",
    "TrainingResult",
    "GradientCheck",
    "IdentificationReport",
    "TailFit",
    "employee_dataset",
    "train_autoencoder",
    "loss_and_gradient",
    "gradient_check",
    "identification_report",
    "power_law_fit",
    "weight_spectrum_tail",
]


# ----------------------------------------------------------------- checks
def _int_at_least(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive(name: str, value, allow_zero: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    return float(value)


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
    dim = _int_at_least("dim", dim, 1)
    radius = _positive("radius", radius)
    n_per_class = _int_at_least("n_per_class", n_per_class, 1)
    n_heldout_per_class = _int_at_least("n_heldout_per_class", n_heldout_per_class, 0)
    n_fakes = _int_at_least("n_fakes", n_fakes, 0)
    min_gap = _positive("min_gap", min_gap, allow_zero=True)
    fake_margin = _positive("fake_margin", fake_margin, allow_zero=True)
    max_tries = _int_at_least("max_tries", max_tries, 1)
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
        K = _int_at_least("K", K, 1)
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


# ----------------------------------------------------------------- forward / backward
def _activation_funcs(act):
    """(phi, phi') on float arrays, the network module's fast versions for built-ins."""
    fast = in_place_kernels(act)  # the same kernels as Network's evaluation
    if fast is None:
        return act.phi, act.dphi

    def phi(h):
        h = h.copy()
        out = fast[0](h)
        return h if out is None else out

    return phi, fast[1]


def _forward_cache(weights, biases, funcs, last_activation: bool, x: np.ndarray):
    """Layer inputs x^l and pre-activations h^l for backpropagation."""
    phi, _ = funcs
    xs, hs = [x], []
    depth = len(weights)
    for l, (w, b) in enumerate(zip(weights, biases)):
        h = x @ w.T + b
        hs.append(h)
        x = phi(h) if (last_activation or l < depth - 1) else h
        xs.append(x)
    return xs, hs


def _loss_grad(weights, biases, funcs, last_activation: bool, x: np.ndarray, targets: np.ndarray,
               need_grad: bool = True):
    """Eq. (2.6) summed over the rows and its gradient (lists dW, db)."""
    _, dphi = funcs
    xs, hs = _forward_cache(weights, biases, funcs, last_activation, x)
    r = xs[-1] - targets
    loss = float(np.einsum("ij,ij->", r, r))
    if not need_grad:
        return loss, None, None
    depth = len(weights)
    delta = 2.0 * r  # dL/dx^L
    gw, gb = [None] * depth, [None] * depth
    for l in range(depth - 1, -1, -1):
        if last_activation or l < depth - 1:
            delta = delta * dphi(hs[l])  # dL/dh^l
        gw[l] = delta.T @ xs[l]
        gb[l] = delta.sum(axis=0)
        if l:
            delta = delta @ weights[l]  # dL/dx^l
    return loss, gw, gb


def _xy(data, n_in: int):
    """(inputs, targets) from an EmployeeDataset or a pair of arrays."""
    if isinstance(data, EmployeeDataset):
        x, t = data.train, data.targets
    else:
        try:
            x, t = data
        except (TypeError, ValueError):
            raise ValueError("data must be an EmployeeDataset or a pair (inputs, targets) of arrays") from None
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    if x.ndim != 2 or x.shape[1] != n_in or x.shape[0] == 0:
        raise ValueError(f"data inputs must have shape (M, {n_in}) with M >= 1, got shape {x.shape}")
    if t.shape != x.shape:
        raise ValueError(f"data targets must have the shape of the inputs {x.shape}, got shape {t.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
        raise ValueError("data must be finite")
    return x, t


def loss_and_gradient(net: Network, data) -> tuple:
    """The loss of the papers' eq. (2.6) and its gradient by backpropagation.

    .. math::

        \\mathcal{L} = \\sum_i \\|\\Phi(x_i) - t_i\\|^2, \\qquad
        \\delta^L = 2 (x^L - t) \\odot \\varphi'(h^L), \\quad
        \\delta^{l} = (W_{l}^T \\delta^{l+1}) \\odot \\varphi'(h^{l}),

        \\partial \\mathcal{L} / \\partial W_l = \\sum_i \\delta^{l+1}_i (x^l_i)^T, \\qquad
        \\partial \\mathcal{L} / \\partial b_l = \\sum_i \\delta^{l+1}_i,

    with h^{l+1} = W_l x^l + b_l, x^{l+1} = phi(h^{l+1}) (no phi' factor on
    an affine last layer).  For the employee data t_i = x_k^* of the
    photo's employee.  At a kink of a piecewise-linear phi the activation's
    one-sided derivative is used (phi'(+-1) = 1 for hard-tanh).

    Parameters
    ----------
    net : Network
    data : EmployeeDataset or (inputs, targets)

    Returns
    -------
    loss : float
    grad_weights : list of ndarray (shapes of ``net.weights``)
    grad_biases : list of ndarray
    """
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    x, t = _xy(data, net.n_in)
    if t.shape[1] != net.n_out:
        raise ValueError(f"data targets must have {net.n_out} columns (n_out), got {t.shape[1]}")
    funcs = _activation_funcs(net.activation)
    return _loss_grad(net.weights, net.biases, funcs, net.last_activation, x, t)


@dataclasses.dataclass(frozen=True)
class GradientCheck:
    """Analytic gradient against central finite differences at sampled parameters.

    Attributes
    ----------
    analytic, numeric : ndarray, shape (n_checks,)
        dL/dtheta at the checked parameters.
    relative_error : ndarray
        |analytic - numeric| / max(|analytic|, |numeric|, atol / rtol), with
        atol = 10 u (1 + L) / eps (u the float64 unit roundoff) the rounding
        floor of the central difference: for gradients smaller than
        atol / rtol the check is |analytic - numeric| <= atol.
    max_relative_error : float
    passed : bool
        ``max_relative_error <= rtol``.
    parameters : list of tuple
        ("W" or "b", layer, index) of each checked entry.
    eps, rtol : float
    """

    analytic: np.ndarray
    numeric: np.ndarray
    relative_error: np.ndarray
    max_relative_error: float
    passed: bool
    parameters: list
    eps: float
    rtol: float

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _distinct_parameters(ws, bs, n_checks: int, gen) -> list:
    """``min(n_checks, #parameters)`` distinct entries ("W" or "b", layer, index).

    First one weight of every layer, then one bias of every layer (while
    n_checks allows), then the rest uniformly among the entries not chosen.
    """
    blocks = [("W", l, w.shape) for l, w in enumerate(ws)] + [("b", l, b.shape) for l, b in enumerate(bs)]
    sizes = np.array([int(np.prod(shape)) for _, _, shape in blocks])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = min(n_checks, int(offsets[-1]))
    flat = [int(offsets[j] + gen.integers(sizes[j])) for j in range(min(n, len(blocks)))]
    if n > len(flat):
        rest = np.setdiff1d(np.arange(offsets[-1]), flat, assume_unique=False)
        flat += [int(v) for v in gen.choice(rest, size=n - len(flat), replace=False)]
    chosen = []
    for f in flat:
        j = int(np.searchsorted(offsets, f, side="right")) - 1
        kind, layer, shape = blocks[j]
        chosen.append((kind, layer, tuple(int(i) for i in np.unravel_index(f - offsets[j], shape))))
    return chosen


def gradient_check(net: Network, data, n_checks: int = 50, eps: float = 1e-6, rtol: float = 1e-5,
                   rng=None) -> GradientCheck:
    """Compare :func:`loss_and_gradient` with central differences (L(theta+eps) - L(theta-eps)) / 2 eps.

    ``n_checks`` distinct weights and biases are chosen at random (every
    layer's weights and biases are represented while ``n_checks`` allows;
    all of them when the network has fewer than ``n_checks`` parameters).
    The central difference has error O(eps^2 L''') plus rounding
    O(u L / eps), u = 2.2e-16: with eps = 1e-6 and losses of order 1-100
    far below ``rtol = 1e-5`` for gradients of order 1e-3 or more; smaller
    gradients are held to the rounding floor (see :class:`GradientCheck`).
    The check fails legitimately at an entry where a pre-activation of a
    piecewise-linear phi lies within eps of a kink (phi' jumps there).

    Returns
    -------
    GradientCheck
    """
    if not isinstance(net, Network):
        raise ValueError(f"net must be an rmtfp.Network, got {type(net).__name__}")
    n_checks = _int_at_least("n_checks", n_checks, 1)
    eps = _positive("eps", eps)
    rtol = _positive("rtol", rtol)
    gen = generator(rng)
    x, t = _xy(data, net.n_in)
    funcs = _activation_funcs(net.activation)
    ws = [w.copy() for w in net.weights]
    bs = [b.copy() for b in net.biases]
    loss0, gw, gb = _loss_grad(ws, bs, funcs, net.last_activation, x, t)
    chosen = _distinct_parameters(ws, bs, n_checks, gen)
    analytic, numeric = [], []
    for kind, layer, idx in chosen:
        arr = ws[layer] if kind == "W" else bs[layer]
        g = gw[layer] if kind == "W" else gb[layer]
        old = arr[idx]
        arr[idx] = old + eps
        lp = _loss_grad(ws, bs, funcs, net.last_activation, x, t, need_grad=False)[0]
        arr[idx] = old - eps
        lm = _loss_grad(ws, bs, funcs, net.last_activation, x, t, need_grad=False)[0]
        arr[idx] = old
        analytic.append(float(g[idx]))
        numeric.append((lp - lm) / (2 * eps))
    a, n = np.array(analytic), np.array(numeric)
    # rounding floor of the central difference: the two losses carry relative errors of a few ulps,
    # so (L+ - L-) / 2 eps is uncertain by about u L / eps; 10 u (1 + L) / eps leaves a wide margin,
    # and differences below it are not evidence against the analytic gradient
    atol = 10 * np.finfo(float).eps * (1 + abs(loss0)) / eps
    rel = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), atol / rtol)
    return GradientCheck(analytic=a, numeric=n, relative_error=rel, max_relative_error=float(rel.max()),
                         passed=bool(rel.max() <= rtol), parameters=chosen, eps=eps, rtol=rtol)


# ----------------------------------------------------------------- training
class _Adam:
    """Adam (Kingma & Ba 2015) with bias correction on a list of arrays."""

    def __init__(self, params: list, lr: float, betas: tuple, eps: float):
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params: list, grads: list) -> None:
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """A trained network and its training history.

    Unpacks as ``network, loss_history = train_autoencoder(...)``.

    Attributes
    ----------
    network : Network
        The trained network.
    loss_history : ndarray, shape (epochs + 1,)
        Eq. (2.6) on the whole training set before each epoch and, last,
        after the final one.
    initial_network : Network
        The network at initialisation (for comparing weight spectra).
    params : dict
        Architecture, optimiser settings and seed.
    """

    network: Network
    loss_history: np.ndarray
    initial_network: Network
    params: dict

    def __iter__(self):
        return iter((self.network, self.loss_history))

    @property
    def final_loss(self) -> float:
        return float(self.loss_history[-1])

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self) -> dict:
        return {"loss_history": self.loss_history, "final_loss": self.final_loss, "params": dict(self.params),
                "widths": list(self.network.widths), "activation": self.network.activation.name}


def train_autoencoder(widths: Sequence[int] = (2, 100, 100, 2), activation="hardtanh", data=None,
                      epochs: int = 1500, lr: float = 3e-3, rng=None, *, batch_size: Optional[int] = None,
                      weights="normal", scale="fan_in", last_activation: bool = True, betas=(0.9, 0.999),
                      adam_eps: float = 1e-8, init: Optional[Network] = None, progress: Optional[bool] = False
                      ) -> TrainingResult:
    """Train Phi by Adam on the papers' loss (2.6) with analytic backpropagation.

    The network is x^{l+1} = phi(W_l x^l + b_l), initialised as in the
    papers (W_l, b_l ~ N(0, 1/n_l), n_l the fan-in: :meth:`Network.random`
    with ``weights="normal"``, ``scale="fan_in"``); each step moves every
    parameter theta by Adam's rule

    .. math::

        m \\leftarrow \\beta_1 m + (1-\\beta_1) g,\\quad
        v \\leftarrow \\beta_2 v + (1-\\beta_2) g^2,\\quad
        \\theta \\leftarrow \\theta - \\mathrm{lr}\\,
        \\frac{m/(1-\\beta_1^t)}{\\sqrt{v/(1-\\beta_2^t)} + \\epsilon}

    with g = dL/dtheta from :func:`loss_and_gradient` (on a minibatch, scaled
    by M / batch so that it estimates the full-sum gradient).

    Parameters
    ----------
    widths : sequence of int, default (2, 100, 100, 2)
        (n_0, ..., n_L) with n_0 = n_L; the papers' trained network has
        L = 3 weight matrices, widths {2, 100, 100} and output 2.
    activation : str or Activation, default "hardtanh"
    data : EmployeeDataset or (inputs, targets)
        Default: ``employee_dataset(rng=rng)``.
    epochs : int >= 1, default 1500
        Passes over the training set.
    lr : float > 0, default 3e-3
    rng : int, Generator, SeedSequence or None
        Seeds the initialisation (and the minibatch order).
    batch_size : int, optional
        Full batch (deterministic gradient) when None.
    weights, scale : the initial law, as in :meth:`Network.random`
    last_activation : bool, default True
    betas : (float, float), default (0.9, 0.999)
    adam_eps : float, default 1e-8
    init : Network, optional
        Start from this network instead of a random one.
    progress : bool or None, default False
        tqdm progress bar over the epochs; None shows it on an interactive
        terminal only.

    Returns
    -------
    TrainingResult
        ``network, loss_history = result`` also works.
    """
    gen = generator(rng)
    seed = rng if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) else None
    epochs = _int_at_least("epochs", epochs, 1)
    lr = _positive("lr", lr)
    adam_eps = _positive("adam_eps", adam_eps)
    try:
        b1, b2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}") from None
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
    if init is not None:
        if not isinstance(init, Network):
            raise ValueError(f"init must be an rmtfp.Network, got {type(init).__name__}")
        net0 = init
    else:
        try:
            ws = [int(w) for w in widths]
        except (TypeError, ValueError):
            raise ValueError(f"widths must be a sequence of positive integers, got {widths!r}") from None
        if len(ws) < 2 or ws[0] != ws[-1]:
            raise ValueError(f"widths must start and end with the same dimension n_0 = n_L, got {list(widths)!r}")
        net0 = Network.random(ws, _activations.get(activation), weights=weights, scale=scale, rng=gen,
                              last_activation=last_activation)
    if data is None:
        data = employee_dataset(dim=net0.n_in, rng=gen)
    x, t = _xy(data, net0.n_in)
    m = x.shape[0]
    if batch_size is not None:
        batch_size = min(_int_at_least("batch_size", batch_size, 1), m)
    funcs = _activation_funcs(net0.activation)
    last = net0.last_activation
    params_w = [w.copy() for w in net0.weights]
    params_b = [b.copy() for b in net0.biases]
    opt = _Adam(params_w + params_b, lr, (b1, b2), adam_eps)
    history = np.empty(epochs + 1)

    it = range(epochs)
    if progress is None or progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="training", unit="epoch", disable=None if progress is None else False, leave=False)
    depth = len(params_w)
    with np.errstate(over="raise", invalid="raise"):
        try:
            for e in it:
                if batch_size is None or batch_size == m:
                    loss, gw, gb = _loss_grad(params_w, params_b, funcs, last, x, t)
                    history[e] = loss
                    opt.step(params_w + params_b, gw + gb)
                    continue
                history[e] = _loss_grad(params_w, params_b, funcs, last, x, t, need_grad=False)[0]
                order = gen.permutation(m)
                for s in range(0, m, batch_size):
                    sel = order[s:s + batch_size]
                    _, gw, gb = _loss_grad(params_w, params_b, funcs, last, x[sel], t[sel])
                    f = m / sel.size
                    opt.step(params_w + params_b, [g * f for g in gw + gb])
            history[epochs] = _loss_grad(params_w, params_b, funcs, last, x, t, need_grad=False)[0]
        except FloatingPointError as exc:
            from .errors import ConvergenceError

            raise ConvergenceError(f"training diverged (overflow) at epoch {e}; lower lr={lr!r}",
                                   last=None, residual=None) from exc
    history.setflags(write=False)
    net = Network(params_w, params_b, net0.activation, last_activation=last)
    params = dict(widths=list(net.widths), activation=net.activation.name, epochs=epochs, lr=lr,
                  batch_size=batch_size, betas=(b1, b2), adam_eps=adam_eps, last_activation=bool(last),
                  weights=weights if isinstance(weights, str) else repr(weights),
                  scale=scale if isinstance(scale, (str, float, int)) else repr(scale), seed=seed,
                  depth=depth, n_train=m)
    return TrainingResult(network=net, loss_history=history, initial_network=net0, params=params)


# ----------------------------------------------------------------- identification
@dataclasses.dataclass(frozen=True)
class IdentificationReport:
    """How well the fixed points of a trained network identify the employees.

    A photo is identified as employee k's when its iteration converges to
    the fixed point matched to x_k^* (the nearest fixed point, if within
    ``match_radius``).

    Attributes
    ----------
    fixed_points : ndarray, shape (Q, n)
        The fixed points reached from the grid and from the photos.
    stability : tuple of str
        "stable", "unstable" or "neutral" for each fixed point.
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
        number of grid starts.
    match_radius : float
    """

    fixed_points: np.ndarray
    stability: tuple
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
    def Q(self) -> int:
        return int(self.fixed_points.shape[0])

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
    match_radius = data.radius if match_radius is None else _positive("match_radius", match_radius)
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
    return IdentificationReport(fixed_points=fps, stability=tuple(s.kind for s in res.stability), matched=matched,
                                distances=distances, train_in_basin=train_in_basin,
                                heldout_accuracy=heldout_accuracy, heldout_per_class=per,
                                fakes_rejected=fakes_rejected, fake_outcomes=outcomes, spurious=spurious,
                                grid_result=res, n_grid=int(starts.shape[0]), match_radius=float(match_radius))


# ----------------------------------------------------------------- heavy tails
@dataclasses.dataclass(frozen=True)
class TailFit:
    """A power-law fit p(x) ~ x^{-alpha} for x >= x_min.

    Attributes
    ----------
    alpha : float
        Maximum-likelihood exponent of the density.
    alpha_stderr : float
        Its asymptotic standard error (alpha - 1) / sqrt(n_tail).
    alpha_interval : tuple or None
        Bootstrap percentile interval (cutoff re-chosen in every resample),
        when ``n_bootstrap > 0``.
    xmin : float
        The cutoff minimising the Kolmogorov-Smirnov distance.
    ks : float
        That KS distance between the tail and the fitted law.
    n_tail, n_total : int
    samples : ndarray
        The data, sorted (eigenvalues for :func:`weight_spectrum_tail`).
    confidence : float
    """

    alpha: float
    alpha_stderr: float
    alpha_interval: Optional[tuple]
    xmin: float
    ks: float
    n_tail: int
    n_total: int
    samples: np.ndarray
    confidence: float

    __repr__ = summary_repr

    @jsonable_result
    def to_dict(self, samples: bool = False) -> dict:
        out = {"alpha": self.alpha, "alpha_stderr": self.alpha_stderr,
               "alpha_interval": None if self.alpha_interval is None else list(self.alpha_interval),
               "xmin": self.xmin, "ks": self.ks, "n_tail": self.n_tail, "n_total": self.n_total,
               "confidence": self.confidence}
        if samples:
            out["samples"] = self.samples
        return out


def _fit_sorted(x: np.ndarray, min_tail: int, xmin: Optional[float]):
    """(alpha, xmin, ks, n_tail) for ascending positive x (Clauset, Shalizi & Newman 2009)."""
    n = x.size
    logx = np.log(x)
    # suffix sums of log x: S[i] = sum_{j >= i} log x_j
    suffix = np.cumsum(logx[::-1])[::-1]
    if xmin is not None:
        i = int(np.searchsorted(x, xmin, side="left"))
        cands = np.array([i])
    else:
        # candidate cutoffs: every distinct value leaving at least min_tail points
        first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
        cands = first[first <= n - min_tail]
    best = None
    for i in cands:
        m = n - i
        s = suffix[i] - m * logx[i]
        if s <= 0:
            continue
        a = 1.0 + m / s
        tail = x[i:]
        cdf = 1.0 - (tail / tail[0]) ** (1.0 - a)
        emp_hi = np.arange(1, m + 1) / m
        emp_lo = np.arange(0, m) / m
        ks = float(max(np.max(np.abs(emp_hi - cdf)), np.max(np.abs(cdf - emp_lo))))
        if best is None or ks < best[2]:
            best = (a, float(tail[0]), ks, m)
    return best


def power_law_fit(samples, xmin: Optional[float] = None, min_tail: int = 10, n_bootstrap: int = 0, rng=None,
                  confidence: float = 0.95) -> TailFit:
    """Maximum-likelihood power-law tail with a KS-chosen cutoff.

    For x >= x_min the density p(x) = (alpha - 1)/x_min (x/x_min)^{-alpha}
    has the maximum-likelihood estimate

    .. math:: \\hat\\alpha = 1 + n \\Big/ \\sum_{x_i \\ge x_{\\min}} \\ln(x_i / x_{\\min}),
              \\qquad \\sigma_{\\hat\\alpha} = (\\hat\\alpha - 1)/\\sqrt{n},

    and x_min is the sample value minimising the Kolmogorov-Smirnov
    distance between the tail's empirical CDF and the fitted one (Clauset,
    Shalizi & Newman, SIAM Review 51, 2009).  The asymptotic error ignores
    the choice of x_min; the bootstrap interval (``n_bootstrap`` resamples,
    x_min chosen again in each) includes it.

    Parameters
    ----------
    samples : array_like
        Positive values (non-positive ones are ignored: zero eigenvalues of a
        rank-deficient W^T W carry no tail information).
    xmin : float, optional
        Fixed cutoff instead of the KS choice.
    min_tail : int >= 2, default 10
        Smallest tail size considered.
    n_bootstrap : int >= 0, default 0
    rng : seed of the bootstrap
    confidence : float in (0, 1), default 0.95

    Returns
    -------
    TailFit

    Raises
    ------
    ValueError
        With fewer than ``min_tail`` positive samples, or a ``xmin`` leaving
        fewer than 2 of them.
    """
    x = np.asarray(samples, dtype=float).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite")
    x = np.sort(x[x > 0])
    min_tail = _int_at_least("min_tail", min_tail, 2)
    n_bootstrap = _int_at_least("n_bootstrap", n_bootstrap, 0)
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if x.size < min_tail:
        raise ValueError(f"samples must contain at least min_tail={min_tail} positive values, got {x.size}")
    if xmin is not None:
        xmin = _positive("xmin", xmin)
        if np.count_nonzero(x >= xmin) < 2:
            raise ValueError(f"xmin={xmin!r} leaves fewer than 2 samples in the tail")
    best = _fit_sorted(x, min_tail, xmin)
    if best is None:
        raise ValueError("samples have no spread above any admissible cutoff (all tail values equal)")
    alpha, x0, ks, m = best
    interval = None
    if n_bootstrap:
        gen = generator(rng)
        boots = []
        for _ in range(n_bootstrap):
            xb = np.sort(gen.choice(x, size=x.size, replace=True))
            fb = _fit_sorted(xb, min_tail, xmin)
            if fb is not None:
                boots.append(fb[0])
        if boots:
            q = (1 - confidence) / 2
            interval = (float(np.quantile(boots, q)), float(np.quantile(boots, 1 - q)))
    x.setflags(write=False)
    return TailFit(alpha=float(alpha), alpha_stderr=float((alpha - 1) / math.sqrt(m)), alpha_interval=interval,
                   xmin=x0, ks=ks, n_tail=int(m), n_total=int(x.size), samples=x, confidence=float(confidence))


def weight_spectrum_tail(W, xmin: Optional[float] = None, min_tail: int = 10, n_bootstrap: int = 0, rng=None,
                         confidence: float = 0.95) -> TailFit:
    """Power-law exponent of the eigenvalue density of W^T W.

    The eigenvalues lambda_i = s_i^2 (s_i the singular values of W, so the
    zero eigenvalues of a rectangular W are left out) are fitted by
    :func:`power_law_fit`: rho(lambda) ~ lambda^{-alpha} for lambda >=
    lambda_min.  Heavy-tailed self-regularisation (Martin & Mahoney 2021)
    reads alpha: for i.i.d. entries with P(|W_ij| > x) ~ x^{-mu}, mu < 2,
    the density of W^T W / N has the tail exponent alpha = 1 + mu/2
    (1.5 for Cauchy entries); Gaussian entries give a Marchenko-Pastur law
    with a hard edge, whose "tail" fit returns a large alpha with a large
    KS distance.  The exponent does not depend on the scale of W.

    Parameters
    ----------
    W : array_like, shape (m, n)
        A weight matrix (e.g. ``net.weights[1]``).
    xmin, min_tail, n_bootstrap, rng, confidence
        As in :func:`power_law_fit`.

    Returns
    -------
    TailFit
        ``samples`` holds the eigenvalues.
    """
    try:
        w = np.asarray(W, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("W must be a real 2-d array") from None
    if w.ndim != 2 or min(w.shape) == 0:
        raise ValueError(f"W must be a non-empty 2-d array, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("W must be finite")
    s = np.linalg.svd(w, compute_uv=False)
    return power_law_fit(s * s, xmin=xmin, min_tail=min_tail, n_bootstrap=n_bootstrap, rng=rng,
                         confidence=confidence)

