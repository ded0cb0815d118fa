"""rmtfp: random-matrix theory of deep networks Phi: R^n -> R^n.

Spectra of input-output Jacobians (free probability, float64 and arbitrary
precision) and fixed points, basins and contraction of the networks.

The public API is re-exported here (``rmtfp.density``, ``rmtfp.Network``,
...; ``rmtfp.__all__`` lists it).  The subpackages are imported on first use
(PEP 562), so that ``import rmtfp`` and ``rmtfp --help`` do not pay for sympy
and scipy.stats before a computation needs them.
"""

from __future__ import annotations

import importlib

from ._source_tree import register_validation
from .errors import ConvergenceError, RmtfpError, UnresolvedWarning  # noqa: F401 - public names

__version__ = "0.1.0"

#: subpackages whose ``__all__`` is re-exported at the top level, in this order
_REEXPORTED = ("dynamics", "sampling", "spectrum")
#: modules reachable as attributes (``rmtfp.activations``)
_MODULES = ("activations", "ensembles", "training", "dynamics", "sampling", "spectrum", "precision", "plotting",
            "criticality")
_EAGER = ["__version__", "activations", "ensembles", "training", "Activation", "ConvergenceError", "RmtfpError",
          "UnresolvedWarning", "criticality", "isometry"]


def _all() -> list:
    names = list(_EAGER)
    for module in _REEXPORTED:
        names += [n for n in importlib.import_module(f".{module}", __name__).__all__ if n not in names]
    return names


def __getattr__(name: str):
    if name == "__all__":
        value = _all()
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name == "Activation":
        value = importlib.import_module(".activations", __name__).Activation
    elif name == "isometry":
        value = importlib.import_module(".criticality", __name__).isometry
    else:
        for module in _REEXPORTED:
            mod = importlib.import_module(f".{module}", __name__)
            if name in mod.__all__:
                value = getattr(mod, name)
                break
        else:
            raise AttributeError(f"module 'rmtfp' has no attribute {name!r}")
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_all()))


register_validation(__path__[0])  # in a source checkout the top-level validation/ folder is rmtfp.validation
