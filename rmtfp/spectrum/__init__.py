"""Spectrum of J J^T from the free-probability functional equation.

Entry points: :func:`density`, :func:`moments`, :func:`support`, and the exact
laws used as references (:func:`marchenko_pastur_density`,
:func:`fuss_catalan_density`, :func:`fuss_catalan_moments`).
"""

from __future__ import annotations

from .density import DensityResult, density
from .equation import Equation
from .exact import (fuss_catalan_density, fuss_catalan_lambda_max, fuss_catalan_moments, marchenko_pastur_density,
                    marchenko_pastur_support)
from .moments import moments, two_point_moments
from .solvers import Status
from .support import Support, support

__all__ = [
    "density",
    "DensityResult",
    "Status",
    "moments",
    "two_point_moments",
    "support",
    "Support",
    "Equation",
    "marchenko_pastur_density",
    "marchenko_pastur_support",
    "fuss_catalan_density",
    "fuss_catalan_moments",
    "fuss_catalan_lambda_max",
]
