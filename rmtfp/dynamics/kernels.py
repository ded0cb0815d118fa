"""In-place float64 kernels (phi, phi') of the built-in activations.

Network evaluation and training use them instead of the lambdified sympy
expressions (a ufunc writing into the layer's array costs no allocation);
they are used only when the activation's expression is the built-in one
(checked at construction), so a re-registered name never silently gets the
wrong function.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..activations import Activation
from ..activations.builtins import BUILTINS

__all__ = ["in_place_kernels"]

_SQRT_PI_2 = math.sqrt(math.pi) / 2


def _relu_inplace(h):
    np.maximum(h, 0.0, out=h)


def _relu_d(h):
    # sympy's derivative of Max(0, x) is Heaviside(x), which is 1/2 at 0
    return np.heaviside(h, 0.5)


def _hardtanh_d(h):
    return (np.abs(h) <= 1.0).astype(float)


def _erf_inplace(h):
    h *= _SQRT_PI_2
    special.erf(h, out=h)


def _erf_d(h):
    return np.exp(-(math.pi / 4) * h * h)


def _tanh_d(h):
    t = np.tanh(h)
    return 1.0 - t * t


def _sigmoid_d(h):
    return special.expit(h) * special.expit(-h)


# the clip ufunc itself: np.clip's Python wrapper costs microseconds per call, and the fixed-point search
# calls it once per layer and map on small blocks
_clip = getattr(getattr(np, "_core", None), "umath", None)
_clip = getattr(_clip, "clip", None) or np.clip

_FAST = {
    "linear": (lambda h: None, lambda h: np.ones_like(h)),
    "relu": (_relu_inplace, _relu_d),
    "hardtanh": (lambda h: _clip(h, -1.0, 1.0, out=h), _hardtanh_d),
    "erf": (_erf_inplace, _erf_d),
    "tanh": (lambda h: np.tanh(h, out=h), _tanh_d),
    "sigmoid": (lambda h: special.expit(h, out=h), _sigmoid_d),
}
_BUILTIN_EXPR = {a.name: a.expr for a in BUILTINS}


def in_place_kernels(act: Activation):
    """In-place float64 kernels (phi, phi') of a built-in activation, or None.

    Network evaluation and training use them instead of the lambdified
    expressions; a registered activation whose expression differs from the
    built-in of the same name gets None.
    """
    name = act.name.lower()
    if name in _FAST and _BUILTIN_EXPR.get(name) == act.expr:
        return _FAST[name]
    return None
