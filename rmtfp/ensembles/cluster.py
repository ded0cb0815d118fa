"""Ensembles on a dask.distributed cluster (the ``[cluster]`` extra: ``pip install 'rmtfp[cluster]'``).

The networks of an ensemble are independent tasks, and every network draws
from its own stream of the seed, so a cluster gives the same numbers, bit for
bit, as the local process pool: only the time changes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import math
import numbers
import socket
from typing import Iterator, Optional

from .._checks import int_at_least

__all__ = ["dask_executor"]

CLUSTER_EXTRA = "pip install 'rmtfp[cluster]'"


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"running on a dask cluster needs dask.distributed, the [cluster] extra: "
                          f"{CLUSTER_EXTRA}") from exc
    return distributed


def _check_reachable(address: str, timeout: float) -> None:
    """Refuse a TCP address where nothing listens, before a dask client is made for it.

    (A client that fails to connect leaves a half-made object whose clean-up
    prints a traceback at exit.)
    """
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import get_backend

    scheme, location = parse_address(address)
    get_backend(scheme)  # ValueError for an unknown scheme, naming the known ones
    if scheme != "tcp":
        return
    host, port = parse_host_port(location, default_port=8786)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise OSError(f"no dask scheduler answers at {address}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def dask_executor(scheduler: Optional[str] = None, *, n_workers: int = 2,
                  timeout: float = 30.0) -> Iterator[concurrent.futures.Executor]:
    """A :class:`concurrent.futures.Executor` on a dask.distributed cluster, closed on exit.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running dask scheduler (``"tcp://host:8786"``, as
        ``dask scheduler`` prints it).  None starts a ``LocalCluster`` of
        ``n_workers`` worker processes with one thread each on this machine
        (without the ``MALLOC_TRIM_THRESHOLD_`` dask's nannies set, which
        slows the search down: see the cluster how-to) and shuts it down on
        exit.
    n_workers : int >= 1, default 2
        Worker processes of the local cluster (not used with ``scheduler``).
    timeout : float > 0, default 30
        Seconds to wait for the scheduler to answer.

    Yields
    ------
    concurrent.futures.Executor
        The client's ``get_executor()``: pass it as ``executor=`` to the
        ensembles, or to :func:`use_executor` for code that passes none.  It
        reports the number of worker threads of the cluster at connection,
        which sets the chunking (and never the result).

    Raises
    ------
    ImportError
        Without dask.distributed.
    ValueError
        For a scheduler address that is not a non-empty string, bad
        ``n_workers`` or ``timeout``.
    OSError
        When no scheduler answers at ``scheduler`` within ``timeout``.

    Examples
    --------
    >>> from rmtfp.ensembles import dask_executor, q_statistics
    >>> with dask_executor("tcp://scheduler:8786") as executor:         # doctest: +SKIP
    ...     res = q_statistics(range(1, 21), n_networks=1000, executor=executor)
    """
    if scheduler is not None and not (isinstance(scheduler, str) and scheduler.strip()):
        raise ValueError(f"scheduler must be the address of a dask scheduler (e.g. 'tcp://host:8786') or None, "
                         f"got {scheduler!r}")
    n_workers = int_at_least("n_workers", n_workers, 1)
    if not (isinstance(timeout, numbers.Real) and not isinstance(timeout, bool) and math.isfinite(timeout)
            and timeout > 0):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            import dask

            # dask's nannies give their workers MALLOC_TRIM_THRESHOLD_=65536; a fixed trim threshold turns off
            # glibc's adaptive mmap threshold, so every half-megabyte temporary of a layer's product is mapped
            # and unmapped afresh: the fixed-point search ran 1.7-3 times slower per network in such workers
            environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
            environ.pop("MALLOC_TRIM_THRESHOLD_", None)
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                address = stack.enter_context(distributed.LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=True, scheduler_port=0,
                    dashboard_address=None, silence_logs=logging.ERROR))
        else:
            address = scheduler.strip()
            _check_reachable(address, timeout)
        client = stack.enter_context(distributed.Client(address, timeout=timeout, set_as_default=False))
        executor = client.get_executor()
        executor._max_workers = max(1, sum(client.nthreads().values()))  # read by the task runner for the chunking only
        yield executor
