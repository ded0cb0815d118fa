"""Exceptions raised by rmtfp.

Two kinds of failure are kept apart:

* bad input raises the builtin :class:`ValueError` (or :class:`TypeError`)
  with a message naming the argument, the value received and what is allowed;
* a numerical method that does not reach its tolerance raises
  :class:`ConvergenceError` (or reports an explicit per-point status).
"""

from __future__ import annotations

from typing import Any

__all__ = ["RmtfpError", "ConvergenceError", "UnresolvedWarning"]


class RmtfpError(Exception):
    """Base class of the errors specific to rmtfp."""


class ConvergenceError(RmtfpError, ArithmeticError):
    """A solver did not reach its tolerance.

    Attributes
    ----------
    last : Any
        The last iterate (scalar or array), so the caller can inspect it.
    residual : float or None
        The residual of the last iterate, where the solver has one.
    """

    def __init__(self, message: str, *, last: Any = None, residual: float | None = None):
        super().__init__(message)
        self.last = last
        self.residual = residual


class UnresolvedWarning(UserWarning):
    """Most starts of a fixed-point search met no criterion within ``max_iter`` maps: the basins reported
    describe the iteration budget more than the network (raise ``max_iter``)."""
