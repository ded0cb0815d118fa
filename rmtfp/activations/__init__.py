"""Activation registry and the exact data derived from phi.

A new activation is registered from a sympy expression alone; the law of
phi'(h)^2, its moment generating function, q* and the spectrum follow.

Examples
--------
>>> from rmtfp import activations
>>> activations.get("relu").d2_moment(1)
0.5
>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> swish = activations.Activation("swish", x / (1 + sp.exp(-x)))
>>> swish.d2_structure.kind
'generic'
"""

from __future__ import annotations

from typing import Optional, Union

import sympy as sp

from .builtins import BUILTINS
from .core import X, Activation
from .derive import K, Q, U, D2Structure

__all__ = ["Activation", "D2Structure", "X", "U", "Q", "K", "get", "available", "register", "unregister",
           "mgf_d2_expr", "d2_moment_expr"]

_REGISTRY: dict[str, Activation] = {}
_ALIASES = {"identity": "linear", "hard_tanh": "hardtanh", "htanh": "hardtanh", "hard-tanh": "hardtanh",
            "logistic": "sigmoid"}


def register(activation: Activation, overwrite: bool = False) -> Activation:
    """Add ``activation`` to the registry under ``activation.name``.

    Parameters
    ----------
    activation : Activation
    overwrite : bool
        Replace an activation registered under the same name.

    Returns
    -------
    Activation
        The registered activation.

    Raises
    ------
    TypeError
        If ``activation`` is not an :class:`Activation`.
    ValueError
        If the name is taken and ``overwrite`` is false.
    """
    if not isinstance(activation, Activation):
        raise TypeError(f"activation must be an Activation, got {type(activation).__name__}")
    key = activation.name.lower()
    if key in _REGISTRY and not overwrite:
        raise ValueError(f"an activation named {activation.name!r} is already registered (pass overwrite=True)")
    _REGISTRY[key] = activation
    return activation


def unregister(name: str) -> None:
    """Remove a registered activation (built-ins included).

    Parameters
    ----------
    name : str
        Registry key; unknown names are ignored.
    """
    _REGISTRY.pop(name.lower(), None)


def available() -> list[str]:
    """Names of the registered activations."""
    return sorted(_REGISTRY)


def get(activation: Union[str, Activation]) -> Activation:
    """Look up an activation by name (or pass an :class:`Activation` through).

    Parameters
    ----------
    activation : str or Activation
        A registered name (case-insensitive; aliases ``identity``,
        ``hard_tanh``, ``logistic``, ...) or an :class:`Activation`.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For an unknown name, listing the registered ones.
    """
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a name or an Activation, got {type(activation).__name__}")
    key = activation.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}; available: {', '.join(available())}") from None


def mgf_d2_expr(activation: Union[str, Activation]) -> Optional[sp.Expr]:
    """Closed form of m_K(u) derived from phi, as a sympy expression in :data:`U` and :data:`Q`.

    ``None`` when no closed form exists (tanh, sigmoid, ...).  For the erf
    activation phi(x) = erf(sqrt(pi) x/2) this gives
    ``u lerchphi(u, 1/2, 1 + 1/(pi q)) / sqrt(pi q)``; the papers print the
    prefactor 1/sqrt(2 pi q), smaller by exactly 1/sqrt(2).

    Parameters
    ----------
    activation : str or Activation

    Returns
    -------
    sympy.Expr or None
    """
    return get(activation).d2_structure.mgf_expr()


def d2_moment_expr(activation: Union[str, Activation]) -> Optional[sp.Expr]:
    """E[phi'(h)^{2k}] as a sympy expression in :data:`K` and :data:`Q`, where exact.

    ``activation`` is a registered name or an :class:`Activation`; the result
    is ``None`` for activations without a closed form.
    """
    return get(activation).d2_structure.moment_expr()


for _a in BUILTINS:
    register(_a)
