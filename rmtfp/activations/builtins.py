"""Built-in activations: linear, relu, hardtanh, erf, tanh, sigmoid.

Each is an exact sympy expression; the closed forms of E[phi(sqrt(q) g)^2]
are the ones listed in docs/theory.md (checked against quadrature in the tests).
"""

from __future__ import annotations

import sympy as sp
from scipy import special

from .core import X, Activation
from .derive import Q

__all__ = ["BUILTINS"]

_x = X
_q = Q

_hardtanh_v = _q * (sp.erf(1 / sp.sqrt(2 * _q)) - sp.sqrt(2 / (sp.pi * _q)) * sp.exp(-1 / (2 * _q))) + sp.erfc(
    1 / sp.sqrt(2 * _q)
)


def _sigmoid_dphi(x):
    return special.expit(x) * special.expit(-x)


BUILTINS = (
    Activation("linear", _x, second_moment_expr=_q, description="phi(x) = x"),
    Activation("relu", sp.Max(0, _x), second_moment_expr=_q / 2, description="phi(x) = max(0, x)"),
    Activation(
        "hardtanh",
        sp.Piecewise((-1, _x < -1), (_x, _x <= 1), (1, True)),
        second_moment_expr=_hardtanh_v,
        description="phi(x) = max(-1, min(1, x))",
    ),
    Activation(
        "erf",
        sp.erf(sp.sqrt(sp.pi) * _x / 2),
        second_moment_expr=2 / sp.pi * sp.asin(sp.pi * _q / (2 + sp.pi * _q)),
        description="phi(x) = erf(sqrt(pi) x / 2), so that phi'(0) = 1",
    ),
    Activation("tanh", sp.tanh(_x), description="phi(x) = tanh(x)"),
    Activation(
        "sigmoid",
        1 / (1 + sp.exp(-_x)),
        numpy_phi=special.expit,
        numpy_dphi=_sigmoid_dphi,
        description="phi(x) = 1 / (1 + exp(-x))",
    ),
)
