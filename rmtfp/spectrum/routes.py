"""Which arithmetic the ``dps`` route of :func:`rmtfp.density` takes: mpmath or python-flint (Arb)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..activations import get

__all__ = ["check_backend", "options_block_flint", "is_per_layer"]


def is_per_layer(q) -> bool:
    """Whether ``q`` is a per-layer sequence (rather than one number or None)."""
    return q is not None and isinstance(q, (Sequence, np.ndarray)) and not isinstance(q, str)


def check_backend(backend, certify, dps, method, mgf_method, q, activation, other_arch=False) -> str:
    """Resolve backend=None|"mpmath"|"flint" (see :func:`density`); the Arb route solves square Gaussian
    layers only (``other_arch``: orthogonal or rectangular layers were asked for)."""
    if backend not in (None, "mpmath", "flint"):
        raise ValueError(f"backend must be None, 'mpmath' or 'flint', got {backend!r}")
    if not isinstance(certify, (bool, np.bool_)):
        raise ValueError(f"certify must be True or False, got {certify!r}")
    if certify and backend == "mpmath":
        raise ValueError("certify=True needs ball arithmetic: backend='flint' (or None), not 'mpmath'")
    wants_flint = bool(certify) or backend == "flint"
    if wants_flint and other_arch:
        raise ValueError("backend='flint' and certify=True solve square layers with Gaussian weights; for other "
                         "weights= or widths= use backend='mpmath' (dps) or float64")
    if wants_flint:
        if method not in ("auto", "newton") or mgf_method != "auto" or is_per_layer(q):
            raise ValueError("backend='flint' and certify=True solve one q with method='newton' and the default "
                             f"m_K routes; got method={method!r}, mgf_method={mgf_method!r}"
                             f"{', per-layer q' if is_per_layer(q) else ''}")
        from .arb import require_flint

        require_flint()
        return "flint"
    if backend is None and dps is not None and method in ("auto", "newton") and mgf_method == "auto" \
            and not is_per_layer(q) and not other_arch and not options_block_flint(activation):
        from .arb import have_flint

        return "flint" if have_flint() else "mpmath"
    return "mpmath"


def options_block_flint(activation) -> bool:
    """True where the default dps route stays mpmath: generic phi (Arb integration is slow) or unknown names."""
    try:
        return get(activation).d2_structure.kind == "generic"
    except (ValueError, KeyError, TypeError):
        return True
