"""Speed and memory of finite-width Jacobian sampling.

    python3 benchmarks/bench_sampling.py [--width 1000] [--depth 2] [--samples 200] [--activation erf] [--full]

Targets: width 1000, L = 2, 200 samples, float64: the sampler's total time
within 1.5x of the raw cost of the same matrix products and eigenvalue calls,
measured in the same run; the peak memory with batch = 10; the papers' figure
(L = 2, N = 1000, 1000 samples) in minutes on 2 cores (``--full`` runs it,
otherwise it is extrapolated from the measured throughput).

"Raw cost" is, per network, exactly the dense linear algebra the sampler
cannot avoid: the L - 1 products W^l J of N x N matrices and one
``np.linalg.svd(J, compute_uv=False)``, on preallocated matrices, with the
same single-threaded BLAS.  The sampler adds the random draws, the forward
pass, the row scalings, the checks and the bookkeeping.  Sampler and raw
calls are interleaved in blocks, so load from other processes on a shared
machine falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import textwrap
import time

import numpy as np

from rmtfp import sample_jacobian_spectrum
from rmtfp._threads import single_blas_thread


def raw_cost(width: int, depth: int, n: int, rng) -> float:
    """Seconds for n x (depth - 1 matrix products + one svd) on N x N float64 matrices."""
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    J = rng.standard_normal((width, width)) / np.sqrt(width)
    out = np.empty_like(J)
    with single_blas_thread():
        t = time.perf_counter()
        for _ in range(n):
            for _ in range(depth - 1):
                np.matmul(W, J, out=out)
            np.linalg.svd(out if depth > 1 else J, compute_uv=False)
        return time.perf_counter() - t


def interleaved(args) -> tuple[np.ndarray, np.ndarray]:
    """Per-block seconds of the sampler and of the raw calls, alternating which goes first."""
    blocks = max(1, args.samples // args.block)
    rng = np.random.default_rng(0)
    t_sampler, t_raw = np.empty(blocks), np.empty(blocks)

    def run_sampler(b):
        t = time.perf_counter()
        sample_jacobian_spectrum(args.activation, args.depth, args.width, args.block, sigma_w2=args.sigma_w2,
                                 rng=b, workers=1)
        t_sampler[b] = time.perf_counter() - t

    def run_raw(b):
        t_raw[b] = raw_cost(args.width, args.depth, args.block, rng)

    for b in range(blocks):
        first, second = (run_sampler, run_raw) if b % 2 == 0 else (run_raw, run_sampler)
        first(b)
        second(b)
    return t_sampler, t_raw


def peak_memory(args, batch: int, n: int) -> tuple[float, float]:
    """(peak resident memory above the baseline, matrices in flight) in MiB, in a fresh process.

    Read from VmHWM in /proc/self/status (the high-water mark of this process's own memory; ru_maxrss
    would carry the parent's peak across fork and exec).
    """
    code = textwrap.dedent(f"""
        from rmtfp import sample_jacobian_spectrum

        def hwm():
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024

        sample_jacobian_spectrum({args.activation!r}, {args.depth}, 8, 2, sigma_w2={args.sigma_w2}, rng=0)
        base = hwm()
        sample_jacobian_spectrum({args.activation!r}, {args.depth}, {args.width}, {n}, sigma_w2={args.sigma_w2},
                                 rng=0, batch={batch})
        print(hwm() - base)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = 4 * batch * args.width**2 * 8 / 2**20
    return float(out.stdout.strip().splitlines()[-1]), expected


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--block", type=int, default=10, help="networks per interleaved block")
    p.add_argument("--activation", default="erf")
    p.add_argument("--sigma-w2", type=float, default=2.0)
    p.add_argument("--full", action="store_true", help="also run the papers' figure: 1000 samples, all cores")
    args = p.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {platform.processor() or platform.machine()}, {cores} usable cores, numpy {np.__version__}")
    print(f"case: {args.activation}, L = {args.depth}, N = {args.width}, sigma_w2 = {args.sigma_w2}, float64, svd")

    t_s, t_r = interleaved(args)
    n = t_s.size * args.block
    ratio = t_s.sum() / t_r.sum()
    ratio_med = float(np.median(t_s / t_r))
    print(f"\n1 worker, {n} networks in {t_s.size} blocks of {args.block} (sampler and raw calls alternating):")
    print(f"  sampler              {t_s.sum():8.2f} s   ({1e3 * t_s.sum() / n:6.1f} ms per network)")
    print(f"  raw matmul + svd     {t_r.sum():8.2f} s   ({1e3 * t_r.sum() / n:6.1f} ms per network)")
    print(f"  ratio of totals      {ratio:8.2f}     (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
    print(f"  median block ratio   {ratio_med:8.2f}     (least sensitive to other load on the machine)")

    t = time.perf_counter()
    sample_jacobian_spectrum(args.activation, args.depth, args.width, n, sigma_w2=args.sigma_w2, rng=1)
    t_all = time.perf_counter() - t
    print(f"\n{cores} workers (default), {n} networks: {t_all:.2f} s ({1e3 * t_all / n:.1f} ms per network)")

    mem, expected = peak_memory(args, batch=10, n=20)
    print(f"\npeak memory, batch = 10: {mem:.0f} MiB above the baseline "
          f"(4 N^2 float64 per network in flight: {expected:.0f} MiB)")

    per = t_all / n
    est = 1000 * per * (args.width / 1000) ** 3
    print(f"\npapers' figure (L = 2, N = 1000, 1000 samples), {cores} cores: estimated {est / 60:.1f} min")
    if args.full:
        t = time.perf_counter()
        r = sample_jacobian_spectrum("linear", 2, 1000, 1000, rng=0, progress=True)
        dt = time.perf_counter() - t
        print(f"  ran it (linear): {dt / 60:.1f} min, {r.eigenvalues.size} eigenvalues")
    return 0


if __name__ == "__main__":
    sys.exit(main())
