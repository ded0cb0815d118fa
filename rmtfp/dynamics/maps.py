"""Phi and DPhi on a batch of points, in cache-sized chunks.

The fixed-point search and the contraction constants evaluate the network
on thousands of points at once; a chunk of rows keeps the layer activations
in cache, which matters more than the size of the matrix products.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import threading
import time
from typing import Optional

import numpy as np

from .._checks import int_at_least
from .network import Network

#: elements of one float64 work array per chunk (512 KiB: layer activations stay in cache)
_CHUNK_ELEMENTS = 2**16
#: a batch of at least 2 * _SPLIT_ROWS rows is cut into an even number of chunks (two or more), a batch of at
#: least _SPLIT_WIDE rows into at least _SPLIT_CHUNKS, whatever the number of workers (so that the result does
#: not depend on it: BLAS may round a product of another shape differently in the last bit); an even number
#: of equal chunks keeps two workers equally busy (three chunks on two threads left one idle for a third of
#: the map: measured on two cores, two chunks map 256-1681 rows 3-26 % faster than three or four)
_SPLIT_ROWS = 80
_SPLIT_WIDE = 1024
_SPLIT_CHUNKS = 4
#: seconds for which a stalled helper thread makes new :class:`Workers` start on the calling thread alone: on
#: a loaded machine a stall comes back within every search, so this bridges back-to-back searches; a stall from
#: a short burst (another process, or BLAS threads still spinning, ~0.1 s, after a multi-threaded product) is
#: forgotten soon (a second's memory kept the searches of a machine at rest on one thread for that second)
_STALL_MEMORY = 0.2
_last_stall = [-np.inf]  # time.monotonic() of the last stall in this process


def _chunk_rows(net: Network, chunk_size, per_row: int) -> int:
    if chunk_size is None:
        return max(64, _CHUNK_ELEMENTS // max(1, per_row))
    return int_at_least("chunk_size", chunk_size, 1, integral_floats=True)


# ----------------------------------------------------------------- maps
def _even(total: int, rows: int) -> int:
    """At most ``rows`` rows per chunk, the chunks as equal as possible (no small last chunk)."""
    return -(-total // -(-total // rows)) if total else rows


def _chunking(total: int, rows: int) -> int:
    """Rows per chunk of a batch of ``total`` rows for parallel workers: at most ``rows``, equal chunks, an
    even number of them from 2 * _SPLIT_ROWS rows on, at least _SPLIT_CHUNKS from _SPLIT_WIDE rows on."""
    if total < 2 * _SPLIT_ROWS:
        return _even(total, rows)
    chunks = max(-(-total // rows), _SPLIT_CHUNKS if total >= _SPLIT_WIDE else 2)
    chunks += chunks % 2
    return -(-total // chunks)


class Workers:
    """Threads mapping the chunks of a batch in parallel (the calling thread is one of them).

    The chunks are handed out one at a time to whichever thread is free, so
    that a thread the operating system holds back (a loaded machine) leaves
    its share to the others instead of stalling the map; numpy releases the
    GIL in the matrix products and ufuncs.  The chunks do not depend on the
    number of workers, so neither does the result.  When a helper did not
    finish its chunk in time (see :meth:`run`), the next 1, 2, 4, ..., 16
    batches are mapped by the calling thread alone before the helpers are
    tried again: on a machine busy with other work, threads that wait for
    each other lose to one thread.  Workers made within 0.2 s of a stall
    in this process start with 16 maps on the calling thread.  The helper
    threads are shared by the searches of a process (started when first
    needed, idle in between, started anew in a forked child); use as a
    context manager; ``Workers(1)`` uses no helper.
    """

    def __init__(self, workers: int = 1, stacked: bool = False):
        self.workers = workers
        # each chunk's layer products as stacks of small products (Network._forward; for BLAS on one thread)
        self.stacked = stacked
        self._pool = _helper_threads(workers - 1) if workers > 1 else None
        self._serial, self._backoff = 0, 1
        if time.monotonic() - _last_stall[0] < _STALL_MEMORY:
            # a search in this process stalled a moment ago: the machine is busy; start on one thread
            self._serial, self._backoff = 16, 16
        elif self._pool is not None:
            # wake the helpers now: one asleep for long starts its first chunk late, which the checks and
            # set-up before the first map hide
            for _ in range(workers - 1):
                self._pool.submit(int)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        # the helper threads stay for the next search: starting and joining them costs a search of a few
        # milliseconds a tenth of its time on a loaded machine, where a thread waits to be scheduled
        self._pool = None

    def run(self, task, n_tasks: int) -> None:
        """task(0), ..., task(n_tasks - 1), spread over the threads.

        ``task(i)`` must be deterministic and write only its own part of
        the output: a task that a helper thread still holds when the
        calling thread has run out of work is run again by the calling
        thread once it has waited as long as a task takes it (a helper held
        back by a loaded machine does not stall the batch); the helper's
        late write then stores the same values.
        """
        helpers = min(self.workers, n_tasks) - 1
        if helpers > 0 and self._serial > 0:
            self._serial -= 1
            helpers = 0
        if helpers <= 0:
            for i in range(n_tasks):
                task(i)
            return
        counter = itertools.count()  # next() on it is atomic under the GIL
        done = [False] * n_tasks

        def work():
            for i in counter:
                if i >= n_tasks:
                    return
                task(i)
                done[i] = True

        futures = [self._pool.submit(work) for _ in range(helpers)]
        t0, mine = time.perf_counter(), 0
        for i in counter:
            if i >= n_tasks:
                break
            task(i)
            done[i] = True
            mine += 1
        stalled = False
        if not all(done):
            per_task = (time.perf_counter() - t0) / max(1, mine)
            concurrent.futures.wait(futures, timeout=per_task)
            for i in range(n_tasks):
                if not done[i]:
                    stalled = True
                    task(i)
                    done[i] = True
        if stalled:
            self._serial, self._backoff = self._backoff, min(16, 2 * self._backoff)
            _last_stall[0] = time.monotonic()
        else:
            self._backoff = 1
        for f in futures:
            if f.done():
                f.result()  # re-raises a helper's exception


_helpers = {"pool": None, "threads": 0}
_helpers_lock = threading.Lock()


def _helper_threads(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    """The process's pool of at least ``threads`` helper threads (a larger one replaces a smaller one)."""
    with _helpers_lock:
        if _helpers["threads"] < threads:
            old = _helpers["pool"]
            _helpers["pool"] = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="rmtfp-map")
            _helpers["threads"] = threads
            if old is not None:
                old.shutdown(wait=False)
        return _helpers["pool"]


def _forget_helpers_in_child() -> None:
    # a forked child has no threads of its parent: the pool object would wait for them forever
    global _helpers_lock
    _helpers_lock = threading.Lock()
    _helpers.update(pool=None, threads=0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers_in_child)


def blas_thread_count() -> int:
    """The BLAS threads allowed now (the largest over the loaded BLAS libraries; 1 when none is found)."""
    from .._threads import blas_libraries

    return max((lib.num_threads for lib in blas_libraries()), default=1)


def auto_workers(outer_blas_threads: int, blas_threads: Optional[int]) -> int:
    """``workers=None``: the cores this process may run on, at most the BLAS threads the caller allowed
    (``outer_blas_threads``, before the search limited them), divided by the BLAS threads of each worker."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    inner = blas_threads if blas_threads is not None else outer_blas_threads
    return max(1, min(cores, outer_blas_threads) // max(1, inner))


def _map(net: Network, x: np.ndarray, rows: int, pool: Optional[Workers] = None) -> np.ndarray:
    """Phi on the rows of x, at most ``rows`` at a time; the chunks over ``pool``'s threads when given."""
    rows = _even(x.shape[0], rows) if pool is None else _chunking(x.shape[0], rows)
    stacked = pool is not None and pool.stacked
    if x.shape[0] <= rows:
        return net._forward(x, stacked)
    out = np.empty((x.shape[0], net.n_out))

    def chunk(i):
        s = i * rows
        out[s:s + rows] = net._forward(x[s:s + rows], stacked)

    n_chunks = -(-x.shape[0] // rows)
    if pool is None:
        for i in range(n_chunks):
            chunk(i)
    else:
        pool.run(chunk, n_chunks)
    return out


def _map_jacobian(net: Network, x: np.ndarray, rows: int):
    """Phi and DPhi on the rows of x, at most ``rows`` at a time."""
    if x.shape[0] <= rows:
        return net._forward_jacobian(x)
    rows = _even(x.shape[0], rows)
    y = np.empty((x.shape[0], net.n_out))
    jac = np.empty((x.shape[0], net.n_out, net.n_in))
    for s in range(0, x.shape[0], rows):
        y[s:s + rows], jac[s:s + rows] = net._forward_jacobian(x[s:s + rows])
    return y, jac


class _DistinctMap:
    """Phi on the rows of x, evaluated once per distinct row.

    Starts that reach exactly the same state have the same future
    (saturating activations send many starts to the same corner).  The rows
    are sorted by a column of row sums (:func:`_row_sums`: equal rows have
    equal sums) and each is compared bit for bit with the one before it;
    where two unequal rows have equal sums (rows equal in their first
    eight coordinates, or a chance tie) the rows' bytes are sorted instead.
    When fewer than 10 % of the rows are repeats the search is skipped for
    1, 2, 4, ..., 16 maps before it is tried again; ``wait`` maps are made
    before the first search.

    Rows found equal stay equal (their images are one image, copied): the
    groups are remembered and the next batch, the last image less the rows
    the caller dropped (:meth:`keep`), is mapped once per group without a
    new search; a search looks for new repeats among the groups.
    """

    def __init__(self, net: Network, rows: int, pool: Optional[Workers] = None, wait: int = 0):
        self.net, self.rows, self.pool, self.wait, self.backoff = net, rows, pool, wait, 1
        # (first, inverse) of the last image: row i equals row first[inverse[i]], bit for bit
        self._groups = None

    def keep(self, rows: np.ndarray) -> None:
        """The next batch is the last image's ``rows`` (indices, increasing)."""
        if self._groups is None:
            return
        inverse = self._groups[1][rows]
        used = np.zeros(self._groups[0].size, dtype=bool)
        used[inverse] = True
        label = np.cumsum(used) - 1
        inverse = label[inverse]
        first = np.empty(int(label[-1]) + 1 if label.size else 0, dtype=np.intp)
        first[inverse] = np.arange(inverse.size)  # a row of each group (its rows are equal)
        self._groups = (first, inverse) if first.size < inverse.size else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        groups, self._groups = self._groups, None
        first, inverse = groups if groups is not None else (None, None)
        reps = x if first is None else x[first]  # one row per group known so far: reps = x[first]
        if self.wait > 0:
            self.wait -= 1
        else:
            found = self._search(reps)
            if found is not None:
                reps = reps[found[0]]
                first, inverse = found if first is None else (first[found[0]], found[1][inverse])
        if first is None:
            return _map(self.net, x, self.rows, self.pool)
        self._groups = (first, inverse)
        return _map(self.net, reps, self.rows, self.pool)[inverse]

    def _search(self, x: np.ndarray):
        """(first, inverse) of the repeated rows of x (x[first][inverse] == x), or None when fewer than 10 %
        of the rows repeat (and the next searches wait longer)."""
        m = x.shape[0]
        sums = _row_sums(x)
        order = np.argsort(sums, kind="stable")
        sums = sums[order]
        tie = sums[1:] == sums[:-1]
        # fewer than 10 % repeated sums: fewer than 10 % repeated rows, and the rows are not compared
        if m > 1 and np.count_nonzero(tie) >= 0.1 * m:
            x = np.ascontiguousarray(x)
            new_row = _new_rows(x.view(np.int64), order)  # bit for bit: -0.0 is not 0.0
            if (tie & new_row[1:]).any():
                # unequal rows with equal sums: equal rows need not be next to each other
                _, first, inverse = np.unique(x.view(np.dtype((np.void, 8 * x.shape[1]))).ravel(),
                                              return_index=True, return_inverse=True)
                inverse = inverse.ravel()
            else:  # each run of equal sums holds one row
                first = order[new_row]
                inverse = np.empty(m, dtype=np.intp)
                inverse[order] = np.cumsum(new_row) - 1
            if first.size <= 0.9 * m:
                self.backoff = 1
                return first, inverse
        self.wait, self.backoff = self.backoff, min(16, 2 * self.backoff)
        return None


#: arrays of at most this many columns are compared and reduced column by column: numpy reduces a narrow
#: array along its rows slowly (1680 rows of two: 8 us column by column against 44 us for a gather of the rows
#: and a reduction over each row's two values, 88 us for the minima and maxima over the rows)
_COLUMNWISE = 8


def _new_rows(a: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For the rows of ``a`` taken in ``order``: whether each differs from the one before it (the first does)."""
    new = np.ones(order.size, dtype=bool)
    if order.size > 1:
        if a.shape[1] <= _COLUMNWISE:
            col = a[:, 0].take(order)
            np.not_equal(col[1:], col[:-1], out=new[1:])
            for j in range(1, a.shape[1]):
                col = a[:, j].take(order)
                new[1:] |= col[1:] != col[:-1]
        else:
            rows = a[order]
            np.any(rows[1:] != rows[:-1], axis=1, out=new[1:])
    return new


def _span(points: np.ndarray) -> np.ndarray:
    """max - min of every column of a non-empty 2-d array."""
    if points.shape[1] <= _COLUMNWISE:
        return np.array([points[:, j].max() - points[:, j].min() for j in range(points.shape[1])])
    return points.max(axis=0) - points.min(axis=0)


#: distinct weights of the first eight coordinates in :func:`_row_sums` (few unequal rows have equal sums)
_SUM_WEIGHTS = 1 + 0.6180339887498949 * np.arange(8)


def _row_sums(x: np.ndarray) -> np.ndarray:
    """x_0 v_0 + ... + x_7 v_7 for every row of x, element by element in the same order for every row (no
    reduction whose order could depend on a row's alignment): equal rows have equal sums, so the repeats of a
    column of sums bound those of the rows."""
    s = x[:, 0] * _SUM_WEIGHTS[0]
    for j in range(1, min(8, x.shape[1])):
        s += x[:, j] * _SUM_WEIGHTS[j]
    return s


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("...i,...i->...", v, v))


def _residuals(net: Network, x: np.ndarray) -> np.ndarray:
    """|Phi(x) - x| of every row, as ``net(x)`` evaluates it with the same BLAS threads: the rows of x in this
    order, in one batch (a batch of another shape or order may round otherwise in the last bits: eps |x| |DPhi|)."""
    return _norm(net._forward(x) - x)

