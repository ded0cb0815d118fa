"""Feed-forward networks Phi: R^{n_0} -> R^{n_L} as data.

A network is a list of weight matrices W_l (shape (n_{l+1}, n_l)), bias
vectors b_l (length n_{l+1}) and an activation phi applied elementwise:

    x^{l+1} = phi(W_l x^l + b_l),   l = 0, ..., L - 1,   Phi(x^0) = x^L,

with phi on every layer by default (the papers' reading); with
``last_activation=False`` the last layer is affine.  L = ``depth`` is the
number of weight matrices and ``widths`` = (n_0, ..., n_L).
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Callable, Optional, Sequence, Union

import numpy as np

from .. import activations as _activations
from .._rng import generator
from ..activations import Activation
from ..activations.core import _check_positive
from .kernels import in_place_kernels
from .weights_file import read_weights_file, write_weights_file

__all__ = ["Network", "in_place_kernels"]

_INIT_LAWS = ("normal", "cauchy")
#: OpenBLAS (the BLAS of numpy's and scipy's wheels) multiplies an (m, k) by a (k, n) matrix with m k n <= 10^6 in
#: a kernel that does not pack the operands: measured on two cores 15 % faster per row than the general kernel
#: (a 100 x 100 layer: 366 ns against 428 ns a row; 50 x 50: 94 against 121 ns).  A batch of more rows is
#: multiplied in stacked blocks of at most 10^6 / (k n) rows over the network's largest layer, one BLAS call
#: per block (numpy's matmul of a stack), which costs no more Python calls than one product.  Only where BLAS
#: runs on one thread (the fixed-point search's maps by default): OpenBLAS runs a small product on one thread
#: and a whole one on all it has (50 maps of 1681 rows with two BLAS threads: 167 ms stacked, 127 ms whole)
_SMALL_PRODUCT = 10**6
#: fewer rows per block gain nothing (16 rows of a 200 x 200 layer: 4 %) and make more BLAS calls
_MIN_BLOCK = 32
_SCALE_MEANS = ("variance", "scale")


def _real_array(value, name: str, kind: str) -> np.ndarray:
    """``value`` as a float array; complex or non-numeric input refused (``kind``: "1-d" or "2-d")."""
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must be a real {kind} array, got complex entries (the imaginary part is not "
                         "dropped: pass the real part explicitly if that is meant)")
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real {kind} array, got {type(value).__name__}") from None


def _finite_read_only(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {bad} non-finite entries")
    return _read_only(arr)


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _as_matrix(value, name: str) -> np.ndarray:
    arr = _real_array(value, name, "2-d")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-d array (n_out, n_in), got shape {arr.shape}")
    return _finite_read_only(arr, name)


def _as_vector(value, name: str, length: int) -> np.ndarray:
    arr = _real_array(value, name, "1-d")
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},) to match the weight matrix, got shape {arr.shape}")
    return _finite_read_only(arr, name)


def _block_rows(weights) -> int:
    """Rows per block of the stacked layer products (:data:`_SMALL_PRODUCT`), 0 when blocks would be too small."""
    rows = _SMALL_PRODUCT // max(w.size for w in weights)
    return rows if rows >= _MIN_BLOCK else 0


class Network:
    """A feed-forward network x -> phi(W_{L-1} ... phi(W_0 x + b_0) ... + b_{L-1}).

    Parameters
    ----------
    weights : sequence of array_like
        W_0, ..., W_{L-1}; W_l has shape (n_{l+1}, n_l).
    biases : sequence of array_like
        b_0, ..., b_{L-1}; b_l has shape (n_{l+1},).
    activation : str or Activation
        A registered name (see :func:`rmtfp.activations.available`) or an
        :class:`~rmtfp.activations.Activation`.
    last_activation : bool, default True
        Apply phi on the last layer too (the papers' convention).  When
        false the output layer is affine, x^L = W_{L-1} x^{L-1} + b_{L-1}.

    Attributes
    ----------
    weights, biases : list of ndarray
        Read-only float64 copies.
    activation : Activation
    widths : tuple of int
        (n_0, n_1, ..., n_L).
    depth : int
        L, the number of weight matrices.

    Raises
    ------
    ValueError
        For an empty network, shapes that do not chain, non-finite entries or
        an unknown activation name.

    Notes
    -----
    Fixed-point work (:func:`rmtfp.find_fixed_points`) needs n_0 = n_L.
    The networks are saved to and loaded from ``.npz`` files
    (:meth:`save`, :meth:`load`), the format of ``rmtfp basins --weights-file``.
    """

    def __init__(self, weights, biases, activation, last_activation: bool = True):
        if isinstance(weights, np.ndarray) and weights.ndim == 2:
            raise ValueError("weights must be a sequence of 2-d arrays (one per layer), got a single 2-d array; "
                             "wrap it in a list")
        try:
            weights = list(weights)
            biases = list(biases)
        except TypeError:
            raise ValueError("weights and biases must be sequences of arrays") from None
        if not weights:
            raise ValueError("weights must contain at least one matrix, got an empty sequence")
        if len(biases) != len(weights):
            raise ValueError(f"biases must have one vector per weight matrix: got {len(biases)} biases "
                             f"for {len(weights)} weight matrices")
        ws = [_as_matrix(w, f"weights[{i}]") for i, w in enumerate(weights)]
        for i in range(1, len(ws)):
            if ws[i].shape[1] != ws[i - 1].shape[0]:
                raise ValueError(
                    f"weights[{i}] has shape {ws[i].shape} but weights[{i - 1}] has shape {ws[i - 1].shape}: "
                    f"weights[{i}] needs {ws[i - 1].shape[0]} columns")
        bs = [_as_vector(b, f"biases[{i}]", ws[i].shape[0]) for i, b in enumerate(biases)]
        if not isinstance(last_activation, (bool, np.bool_)):
            raise ValueError(f"last_activation must be True or False, got {last_activation!r}")
        # W_l^T stored contiguous, W_l its transposed view (one copy of the weights): x @ W_l^T with both
        # operands in row-major order lets BLAS take its small-matrix kernel for a few rows (measured: 15-20 %
        # faster maps of up to ~100 rows of a width-100 network)
        self._weights_t = tuple(_read_only(np.ascontiguousarray(w.T)) for w in ws)
        self._weights = tuple(wt.T for wt in self._weights_t)
        self._biases = tuple(bs)
        self._activation = _activations.get(activation)
        self._last_activation = bool(last_activation)
        self._fast = in_place_kernels(self._activation)
        # (W_l^T, b_l, activated) per layer, for the evaluation loops
        self._plan = tuple((wt, b, self._activated(l)) for l, (wt, b) in enumerate(zip(self._weights_t, self._biases)))
        self._block = _block_rows(ws)

    # ------------------------------------------------------------- attributes
    @property
    def weights(self) -> list:
        """W_0, ..., W_{L-1} (read-only arrays, W_l of shape (n_{l+1}, n_l))."""
        return list(self._weights)

    @property
    def biases(self) -> list:
        """b_0, ..., b_{L-1} (read-only arrays)."""
        return list(self._biases)

    @property
    def activation(self) -> Activation:
        return self._activation

    @property
    def last_activation(self) -> bool:
        return self._last_activation

    @property
    def widths(self) -> tuple:
        """(n_0, ..., n_L)."""
        return (self._weights[0].shape[1],) + tuple(w.shape[0] for w in self._weights)

    @property
    def depth(self) -> int:
        """L, the number of weight matrices."""
        return len(self._weights)

    @property
    def n_in(self) -> int:
        return self._weights[0].shape[1]

    @property
    def n_out(self) -> int:
        return self._weights[-1].shape[0]

    def __repr__(self) -> str:
        last = "" if self._last_activation else ", last_activation=False"
        return f"Network(widths={list(self.widths)}, activation={self._activation.name!r}{last})"

    def _activated(self, layer: int) -> bool:
        return self._last_activation or layer < len(self._weights) - 1

    # ------------------------------------------------------------- evaluation
    def _check_input(self, x, name: str = "x") -> tuple[np.ndarray, tuple]:
        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a real array of shape (..., {self.n_in})") from None
        if x.ndim == 0 or x.shape[-1] != self.n_in:
            raise ValueError(f"{name} must have shape (..., {self.n_in}) (n_in = {self.n_in}), got shape {x.shape}")
        return x.reshape(-1, self.n_in), x.shape[:-1]

    def _phi_inplace(self, h: np.ndarray) -> np.ndarray:
        if self._fast is not None:
            out = self._fast[0](h)
            return h if out is None else out
        return self._activation.phi(h)

    def _dphi(self, h: np.ndarray) -> np.ndarray:
        if self._fast is not None:
            return self._fast[1](h)
        return self._activation.dphi(h)

    def _blocks(self, x: np.ndarray):
        """(x with its rows padded to blocks * rows, blocks, rows) for the layer products in stacked blocks of at
        most ``self._block`` rows (:data:`_SMALL_PRODUCT`), or (x, 0, 0) to multiply it whole; the blocks depend
        on the number of rows of x only."""
        m = x.shape[0]
        if not self._block or m <= self._block:
            return x, 0, 0
        blocks = -(-m // self._block)
        rows = -(-m // blocks)  # blocks as equal as possible: fewer than `blocks` padding rows
        if blocks * rows > m:
            padded = np.empty((blocks * rows, x.shape[1]))
            padded[:m] = x
            padded[m:] = x[m - 1]  # copies of a real row: the padding rows take no values the rows do not
            x = padded
        return x, blocks, rows

    @staticmethod
    def _product(x: np.ndarray, wt: np.ndarray, blocks: int, rows: int) -> np.ndarray:
        """x @ wt, in ``blocks`` stacked blocks of ``rows`` rows when ``blocks`` (numpy calls BLAS once per block:
        each block's product is exactly the 2-d product of its rows)."""
        if not blocks:
            return x @ wt
        return np.matmul(x.reshape(blocks, rows, x.shape[1]), wt).reshape(blocks * rows, wt.shape[1])

    def _forward(self, x: np.ndarray, stacked: bool = False) -> np.ndarray:
        """Phi on a 2-d float array (no checks); non-finite values propagate silently.

        ``stacked``: the layer products in stacks of small products (:data:`_SMALL_PRODUCT`), for BLAS on one
        thread (OpenBLAS runs a small product on one thread, a whole one on all it has).
        """
        m = x.shape[0]
        x, blocks, rows = self._blocks(x) if stacked else (x, 0, 0)
        with np.errstate(over="ignore", invalid="ignore"):
            for wt, b, activated in self._plan:
                h = self._product(x, wt, blocks, rows)
                h += b
                x = self._phi_inplace(h) if activated else h
        return x[:m] if blocks else x

    def _forward_jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Phi(x) and DPhi(x) on a 2-d float array (no checks); Phi(x) exactly as ``_forward(x)`` gives it (whole
        products).

        The Jacobian is accumulated input-side first, as J^T of shape
        (m, n_in, n_l), so that every layer is one matrix product.
        """
        m, n_in = x.shape
        jt = None
        with np.errstate(over="ignore", invalid="ignore"):
            for wt, b, activated in self._plan:
                h = x @ wt
                h += b
                if jt is None:  # I W_0^T = W_0^T, exactly
                    jt = np.empty((m,) + wt.shape)
                    jt[...] = wt
                else:
                    jt = (jt.reshape(-1, jt.shape[-1]) @ wt).reshape(m, n_in, wt.shape[1])
                if activated:
                    jt *= self._dphi(h)[:, None, :]
                    x = self._phi_inplace(h)
                else:
                    x = h
        return x, np.swapaxes(jt, 1, 2)

    def __call__(self, x) -> np.ndarray:
        """Phi(x) for x of shape (..., n_in); returns shape (..., n_out)."""
        x2, lead = self._check_input(x)
        return self._forward(x2).reshape(lead + (self.n_out,))

    def jacobian(self, x) -> np.ndarray:
        """DPhi(x) = D_{L-1} W_{L-1} ... D_0 W_0, D_l = diag phi'(W_l x^l + b_l).

        Parameters
        ----------
        x : array_like, shape (..., n_in)

        Returns
        -------
        ndarray, shape (..., n_out, n_in)
            At a kink of a piecewise-linear phi the one-sided value of the
            activation's ``dphi`` is used (e.g. phi'(+-1) = 1 for hard-tanh).
        """
        x2, lead = self._check_input(x)
        _, jac = self._forward_jacobian(x2)
        return jac.reshape(lead + (self.n_out, self.n_in))

    # ------------------------------------------------------------- sampling
    @classmethod
    def random(cls, widths: Sequence[int], activation: Union[str, Activation] = "hardtanh",
               weights="normal", scale: Union[str, float, Callable] = "fan_in", rng=None, *,
               scale_means: Optional[str] = None, bias: bool = True, last_activation: bool = True) -> "Network":
        """A network with i.i.d. random weights and biases.

        Parameters
        ----------
        widths : sequence of int
            (n_0, n_1, ..., n_L), at least two entries, each >= 1.
        activation : str or Activation, default "hardtanh"
        weights : {"normal", "cauchy"} or scipy.stats frozen distribution
            The law of the entries of W_l and b_l before scaling.
        scale : "fan_in", float or callable, default "fan_in"
            The per-layer number s_l: ``"fan_in"`` gives s_l = 1/n_l with n_l
            the fan-in of layer l (the papers' sigma_l = gamma_l = 1/n_l); a
            float is used for every layer; a callable is called as
            ``scale(n_l)`` (e.g. ``lambda n: n ** (-2 * beta)`` for the
            papers' sigma^2 = N^{-2 beta}).
        rng : int, Generator or None
            Seed or generator (``numpy.random.default_rng``).
        scale_means : {"variance", "scale"}, optional
            How s_l enters: ``"variance"`` multiplies unit draws by sqrt(s_l)
            (N(0, s_l) has variance s_l), ``"scale"`` by s_l (the standard
            deviation for the normal law, gamma for Cauchy).  Default: the
            papers' reading, ``"variance"`` for ``"normal"`` and ``"scale"``
            for ``"cauchy"`` and frozen distributions.
        bias : bool, default True
            Draw the biases from the same law and scale as the weights of
            their layer; zero biases when false.
        last_activation : bool, default True

        Returns
        -------
        Network

        Notes
        -----
        Draw order (so that the same numbers can be drawn by hand): for
        l = 0, ..., L-1, first W_l as one array of shape (n_{l+1}, n_l), then
        b_l of shape (n_{l+1},), each as ``rng.standard_normal(shape)``,
        ``rng.standard_cauchy(shape)`` or ``dist.rvs(size=shape,
        random_state=rng)``, times sqrt(s_l) or s_l.
        """
        try:
            ws = [int(n) for n in widths]
        except (TypeError, ValueError):
            raise ValueError(f"widths must be a sequence of positive integers, got {widths!r}") from None
        if len(ws) < 2 or any(n < 1 for n in ws) or any(int(n) != n for n in widths):
            raise ValueError(f"widths must have at least two positive integer entries, got {list(widths)!r}")
        if isinstance(weights, str):
            law = weights.strip().lower()
            if law not in _INIT_LAWS:
                raise ValueError(f"weights must be one of {_INIT_LAWS} or a scipy.stats frozen distribution, "
                                 f"got {weights!r}")
        elif hasattr(weights, "rvs"):
            law = "frozen"
        else:
            raise ValueError(f"weights must be one of {_INIT_LAWS} or a scipy.stats frozen distribution, "
                             f"got {type(weights).__name__}")
        if scale_means is None:
            scale_means = "variance" if law == "normal" else "scale"
        if scale_means not in _SCALE_MEANS:
            raise ValueError(f"scale_means must be one of {_SCALE_MEANS}, got {scale_means!r}")
        if isinstance(scale, str):
            if scale != "fan_in":
                raise ValueError(f"scale must be 'fan_in', a positive number or a callable, got {scale!r}")
            scale_of = lambda n: 1.0 / n  # noqa: E731
        elif callable(scale):
            scale_of = lambda n: _check_positive(f"scale({n})", scale(n))  # noqa: E731
        elif isinstance(scale, numbers.Real):
            s = _check_positive("scale", scale)
            scale_of = lambda n: s  # noqa: E731
        else:
            raise ValueError(f"scale must be 'fan_in', a positive number or a callable, got {scale!r}")
        gen = generator(rng)

        def draw(shape):
            if law == "normal":
                return gen.standard_normal(shape)
            if law == "cauchy":
                return gen.standard_cauchy(shape)
            return np.asarray(weights.rvs(size=shape, random_state=gen), dtype=float).reshape(shape)

        mats, vecs = [], []
        for fan_in, fan_out in zip(ws[:-1], ws[1:]):
            s = scale_of(fan_in)
            mult = math.sqrt(s) if scale_means == "variance" else s
            mats.append(draw((fan_out, fan_in)) * mult)
            b = draw((fan_out,)) * mult
            vecs.append(b if bias else np.zeros(fan_out))
        return cls(mats, vecs, activation, last_activation=last_activation)

    # ------------------------------------------------------------- files
    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the network to an ``.npz`` file.

        Keys: ``W0, ..., W{L-1}`` (W_l of shape (n_{l+1}, n_l)), ``b0, ...,
        b{L-1}``, ``activation`` (the registered name, a string) and
        ``last_activation`` (bool).  Read back with :meth:`load`.  The file
        is written under ``path`` exactly (no suffix is added).
        """
        write_weights_file(path, self._weights, self._biases, self._activation.name, self._last_activation)

    @classmethod
    def load(cls, path: Union[str, os.PathLike], activation: Union[str, Activation, None] = None) -> "Network":
        """Read a network written by :meth:`save` (or by hand, same keys).

        Parameters
        ----------
        path : str or path-like
            An ``.npz`` file with arrays ``W0, ..., W{L-1}``, ``b0, ...,
            b{L-1}`` and optionally ``activation`` (a registered name) and
            ``last_activation`` (bool, default True).
        activation : str or Activation, optional
            Overrides (or supplies) the activation stored in the file.

        Raises
        ------
        ValueError
            For a missing file, missing or extra ``W``/``b`` keys, shapes that
            do not chain, or no activation.
        """
        ws, bs, activation, last = read_weights_file(path, activation)
        return cls(ws, bs, activation, last_activation=last)
