"""The papers' loss (2.6), its exact gradient by backpropagation, and a finite-difference check."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._results import jsonable_result, summary_repr
from .._checks import int_at_least, positive_real
from .._rng import generator
from ..dynamics import Network
from ..dynamics.network import in_place_kernels
from .data import EmployeeDataset


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
    n_checks = int_at_least("n_checks", n_checks, 1)
    eps = positive_real("eps", eps)
    rtol = positive_real("rtol", rtol)
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
