"""The papers' continuation scheme, kept to reproduce the papers and their failure modes.

The papers' scheme: z_k = lambda + i b^{N-k}, k = 0..2N, fixed-point
iteration w <- T(w) with the Cauchy criterion |w_n - w_{n-1}| < eps and at
most N0 iterations, warm-started from the previous k (run as
t <- t - G(t), the same map in log variables).  Kept to reproduce the
papers and their failure modes; every step that hits N0 is reported.
"""

from __future__ import annotations

import numpy as np

from .equation import Equation
from .solvers import Status

__all__ = ["papers_iteration"]


def papers_iteration(eq: Equation, lam, b: float = 2.0, N: int = 20, eps: float = 1e-5, N0: int = 50,
                     w0: str = "asymptotic"):
    """The papers' continuation scheme (see module doc).

    Parameters
    ----------
    b, N : path z_k = lambda + i b^{N-k}, k = 0..2N (final eta = b^{-N}).
    eps, N0 : Cauchy tolerance and maximum number of iterations per step.
    w0 : {"asymptotic", "zero"}
        ``"zero"`` is the papers' start: w = 0 is an exact fixed point of T
        for L >= 2, so the scheme then returns zero density.  ``"asymptotic"``
        starts from m_1/z_0 and iterates t <- t - G(t), which is w <- T(w)
        conjugated by w = m_K(e^t) (the same sequence of w, without the
        underflow of the w-form at large depth).

    Returns
    -------
    w, n, z_final, status, n_hit
        ``n`` = 1 + w summed without cancellation; ``n_hit`` counts, per
        point, the steps that stopped at N0.
    """
    bk = eq.backend
    lam = bk.farray(lam)
    n = len(lam)
    if w0 not in ("asymptotic", "zero"):
        raise ValueError(f"w0 must be 'asymptotic' or 'zero', got {w0!r}")

    def zk(k):
        eta = (b ** (N - k)) if eq.dps is None else bk.number(b) ** (N - k)
        return (lam + 1j * eta) if eq.dps is None else bk.carray(lam) + bk.carray(1j * eta)

    use_t = w0 == "asymptotic"
    if use_t:  # the state is t; w = m_K(e^t)
        x = eq.t_start(bk.log_upper(zk(0)))
        with np.errstate(all="ignore"):
            w = eq.kernels(bk.exp(x))[0]
    else:  # the state is w itself
        w = bk.carray(np.zeros(n))
        x = w.copy()

    def advance(x_, z_):
        """One iteration: (new state, new w)."""
        if use_t:
            x_new = x_ - eq.log_residual(x_, bk.log_upper(z_))[0]
            return x_new, eq.kernels(bk.exp(x_new))[0]
        new = eq.T(x_, z_)
        return new, new

    n_hit = np.zeros(n, dtype=int)
    for k in range(2 * N + 1):
        z = zk(k)
        active = np.ones(n, dtype=bool)
        for _ in range(N0):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            with np.errstate(all="ignore"):
                x_new, new = advance(x[idx], z[idx])
            conv = np.asarray(bk.abs(new - w[idx]) < eps, dtype=bool)
            w[idx] = new
            x[idx] = x_new
            active[idx[conv]] = False
        n_hit += active
    with np.errstate(all="ignore"):
        nn = eq.kernels(bk.exp(x))[1] if use_t else 1 + w
    z = zk(2 * N)
    status = np.where(n_hit > 0, Status.MAX_ITER, Status.CONVERGED).astype(np.int8)
    finite = np.asarray(bk.isfinite(w), dtype=bool) & np.asarray(bk.isfinite(nn), dtype=bool)
    status[~finite] = Status.NOT_CONVERGED
    return w, nn, z, status, n_hit
