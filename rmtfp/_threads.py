"""BLAS thread control for the parallel parts of rmtfp (threadpoolctl).

Threaded LAPACK reductions (svd, eigh) and small matrix products on a shared
or oversubscribed machine can be 10-40 times slower than single-threaded
ones, so the samplers and ensembles parallelise over networks and hold BLAS
to one thread.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from threadpoolctl import threadpool_limits

__all__ = ["single_blas_thread", "init_single_blas_thread_worker"]


@contextlib.contextmanager
def single_blas_thread(active: bool = True) -> Iterator[None]:
    """Run the enclosed block with one BLAS thread (restored on exit); a no-op when not ``active``."""
    if not active:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def init_single_blas_thread_worker() -> None:
    """Process-pool initializer: one BLAS thread for the whole worker process."""
    threadpool_limits(limits=1, user_api="blas")
