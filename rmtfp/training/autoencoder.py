"""Training Phi by Adam on the papers' loss (2.6)."""

from __future__ import annotations

import dataclasses
import numbers
from typing import Optional, Sequence

import numpy as np

from .._results import jsonable_result, summary_repr
from .. import activations as _activations
from .._checks import int_at_least, positive_real
from .._rng import generator
from ..dynamics import Network
from .data import employee_dataset
from .gradient import _activation_funcs, _loss_grad, _xy


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
    epochs = int_at_least("epochs", epochs, 1)
    lr = positive_real("lr", lr)
    adam_eps = positive_real("adam_eps", adam_eps)
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
        batch_size = min(int_at_least("batch_size", batch_size, 1), m)
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
