"""rmtfp: random-matrix theory of deep networks Phi: R^n -> R^n.

Spectra of input-output Jacobians (free probability, float64 and arbitrary
precision) and fixed points, basins and contraction of the networks.
"""

from __future__ import annotations

from . import activations, criticality, ensembles, training
from .activations import Activation
from .errors import ConvergenceError, RmtfpError
from .dynamics import *  # noqa: F401,F403
from .dynamics import __all__ as _dynamics_all
from .sampling import *  # noqa: F401,F403
from .spectrum import *  # noqa: F401,F403
from .spectrum import __all__ as _spectrum_all
from .criticality import isometry
from .sampling import __all__ as _sampling_all

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "activations",
    "criticality",
    "isometry",
    "ensembles",
    "training",
    "Activation",
    "ConvergenceError",
    "RmtfpError",
    *_dynamics_all,
    *_sampling_all,
    *_spectrum_all,
]
