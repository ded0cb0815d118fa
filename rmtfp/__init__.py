"""rmtfp: random-matrix theory of deep networks Phi: R^n -> R^n.

Spectra of input-output Jacobians (free probability, float64 and arbitrary
precision) and fixed points, basins and contraction of the networks.
"""

from __future__ import annotations

from . import activations
from .activations import Activation
from .errors import ConvergenceError, RmtfpError

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "activations",
    "Activation",
    "ConvergenceError",
    "RmtfpError",
]
