"""BLAS thread control for the parallel parts of rmtfp (threadpoolctl).

Threaded LAPACK reductions (svd, eigh) and small matrix products on a shared
or oversubscribed machine can be 10-40 times slower than single-threaded
ones, so the samplers, the ensembles and the fixed-point search parallelise
over networks (or not at all) and hold BLAS to one thread.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from typing import Iterator, Optional

from threadpoolctl import ThreadpoolController, threadpool_limits

__all__ = ["single_blas_thread", "limit_blas_threads", "blas_limited", "init_single_blas_thread_worker"]

_controller: Optional[ThreadpoolController] = None
_blas_libs: list = []
_controller_modules = -1


def _blas_controller() -> ThreadpoolController:
    """A threadpoolctl controller, found again whenever modules (and so possibly BLAS libraries) were imported.

    Finding the loaded libraries costs milliseconds; limiting through a
    found controller costs tens of microseconds, which matters for a
    fixed-point search of a few milliseconds.
    """
    global _controller, _controller_modules, _blas_libs
    if _controller is None or len(sys.modules) != _controller_modules:
        _controller, _controller_modules = ThreadpoolController(), len(sys.modules)
        _blas_libs = [lib for lib in _controller.lib_controllers if lib.user_api == "blas"]
    return _controller


def blas_libraries() -> list:
    """threadpoolctl's controllers of the loaded BLAS libraries."""
    _blas_controller()
    return _blas_libs


@contextlib.contextmanager
def limit_blas_threads(threads: Optional[int]) -> Iterator[None]:
    """Run the enclosed block with ``threads`` BLAS threads (restored on exit); None changes nothing.

    As ``threadpoolctl.threadpool_limits(threads, user_api="blas")``, with
    the loaded libraries found once (see :func:`_blas_controller`) and only
    their thread counts read and set (threadpoolctl's limiter also reads
    every library's version and architecture: a tenth of a millisecond).
    """
    if threads is None:
        yield
        return
    libs = blas_libraries()
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(threads)
    try:
        yield
    finally:
        for lib, count in zip(libs, before):
            lib.set_num_threads(count)


@contextlib.contextmanager
def single_blas_thread(active: bool = True) -> Iterator[None]:
    """Run the enclosed block with one BLAS thread (restored on exit); a no-op when not ``active``."""
    with limit_blas_threads(1 if active else None):
        yield


def check_blas_threads(value) -> Optional[int]:
    """``blas_threads``: None or an integer >= 1."""
    if value is None:
        return None
    from ._checks import int_at_least

    try:
        return int_at_least("blas_threads", value, 1)
    except ValueError:
        raise ValueError(f"blas_threads must be None (leave BLAS as it is) or an integer >= 1, "
                         f"got {value!r}") from None


def blas_limited(func):
    """Run ``func`` under :func:`limit_blas_threads` of its keyword-only ``blas_threads`` argument (checked first)."""
    parameter = inspect.signature(func).parameters["blas_threads"]
    if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
        raise TypeError(f"{func.__name__}: blas_threads must be a keyword-only argument")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with limit_blas_threads(check_blas_threads(kwargs.get("blas_threads", parameter.default))):
            return func(*args, **kwargs)

    return wrapper


def init_single_blas_thread_worker() -> None:
    """Process-pool initializer: one BLAS thread for the whole worker process."""
    threadpool_limits(limits=1, user_api="blas")
