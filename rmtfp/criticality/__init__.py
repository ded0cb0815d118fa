"""Signal propagation at the mean-field fixed point: chi, the critical line, depth scales and c*.

Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017, "Deep information propagation"; Poole et al. 2016.
Entry points: :func:`depth_scales`, :func:`critical_point`, :func:`critical_line`, :func:`phase_diagram`,
:func:`correlation_map`, :func:`c_star`.
"""

from __future__ import annotations

from .gaussian2d import bivariate_expectation, correlation_map
from .isometry import IsometryResult, critical_parameters, isometry, isometry_along_critical_line
from .phase import CriticalLine, PhaseDiagram, critical_line, critical_point, phase_diagram
from .scales import DepthScales, c_star, chi_c, chi_q, depth_scales

__all__ = [
    "bivariate_expectation",
    "correlation_map",
    "c_star",
    "chi_c",
    "chi_q",
    "depth_scales",
    "DepthScales",
    "critical_point",
    "critical_line",
    "CriticalLine",
    "phase_diagram",
    "PhaseDiagram",
    "isometry",
    "IsometryResult",
    "critical_parameters",
    "isometry_along_critical_line",
]
