"""Sampled Jacobians for orthogonal weights and rectangular layers, and their comparison with the theory.

Called by :func:`rmtfp.sample_jacobian_spectrum` (``weights="orthogonal"`` or
``widths=``) and :func:`rmtfp.compare_spectrum`.  Layer l has W_l of size
n_l x n_{l-1}:

- Gaussian: entries N(0, sigma_w^2/n_{l-1});
- orthogonal: W_l = sigma_w sqrt(n_l/n_{l-1}) O_l, O_l with orthonormal
  columns, Haar distributed (QR of a Gaussian matrix with the signs of R's
  diagonal moved into Q, Mezzadri 2007); needs n_l >= n_{l-1}.

Both give E|h^l|^2/n_l = sigma_w^2 |x^{l-1}|^2/n_{l-1} + sigma_b^2 (exactly for
orthogonal weights), so q* is that of square layers, and x^0 is scaled so
that q^1 = q.
"""

from __future__ import annotations

import math

import numpy as np

from ._threads import single_blas_thread
from .activations import get

__all__ = ["haar_columns", "sample_arch", "compare_arch", "arch_of"]


def haar_columns(gen: np.random.Generator, n: int, m: int) -> np.ndarray:
    """An n x m matrix (n >= m) with orthonormal columns, Haar distributed (n = m: a Haar orthogonal matrix)."""
    if n < m:
        raise ValueError(f"haar_columns needs n >= m, got n={n}, m={m}")
    q, r = np.linalg.qr(gen.standard_normal((n, m)))
    d = np.sign(np.diagonal(r))
    d[d == 0] = 1.0
    return q * d[None, :]


def arch_of(weights, widths, depth: int, width: int):
    """(law name, integer widths n_0..n_L) of a sampling request, checked."""
    from .spectrum.weights import architecture

    if widths is None:
        ws = (width,) * (depth + 1)
    else:
        ws = tuple(widths)
        if len(ws) != depth + 1:
            raise ValueError(f"widths must have depth + 1 = {depth + 1} entries (n_0, ..., n_L), got {len(ws)}: "
                             f"{widths!r}")
        for n in ws:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"widths must be integers >= 1 for sampling, got {n!r} in {widths!r}")
        ws = tuple(int(n) for n in ws)
    arch = architecture(weights, ws, depth, 1.0)
    if arch.law.name not in ("gaussian", "orthogonal"):
        raise ValueError(f"weights: sampling with widths= supports 'gaussian' and 'orthogonal', got {weights!r}")
    return arch.law.name, ws


def sample_arch(activation, depth: int, n_samples: int, law: str, widths: tuple, sigma_w2: float,
                sigma_b2: float, q, rng, method: str = "svd"):
    """:class:`~rmtfp.sampling.JacobianSpectrum` of ``n_samples`` networks (width = n_L)."""
    from ._checks import int_at_least, positive_real
    from .sampling.laws import _resolve_rng, _sample_generators
    from .sampling.results import JacobianSpectrum

    act = get(activation)
    depth = int_at_least("depth", depth, 1)
    n_samples = int_at_least("n_samples", n_samples, 1)
    sigma_w2 = positive_real("sigma_w2", sigma_w2)
    sigma_b2 = positive_real("sigma_b2", sigma_b2, allow_zero=True)
    if method not in ("svd", "eigh"):
        raise ValueError(f"method must be one of ('svd', 'eigh'), got {method!r}")
    if q is None:
        try:
            q1, source = act.q_star(sigma_w2, sigma_b2), "q_star"
        except ValueError:
            if act.depends_on_q:
                raise
            q1, source = sigma_w2 + sigma_b2, "unit input"
    else:
        if not isinstance(q, (int, float)) or isinstance(q, bool):
            raise ValueError(f"q must be one number (or None for q*) with weights={law!r}/widths, got {q!r}")
        q1, source = float(q), "given"
        if not math.isfinite(q1) or q1 < sigma_b2:
            raise ValueError(f"q must be finite and >= sigma_b2={sigma_b2}, got {q!r}")
    qs = [q1]
    for _ in range(depth - 1):
        qs.append(act.variance_map(qs[-1], sigma_w2, sigma_b2))
    src, seed = _resolve_rng(rng)
    gens = _sample_generators(src, n_samples)
    nL = widths[-1]
    eig = np.zeros((n_samples, nL))
    zeros = np.zeros(n_samples, dtype=np.int64)
    hq = np.empty((n_samples, depth))
    with single_blas_thread():
        _draw(act, gens, widths, law, depth, sigma_w2, sigma_b2, q1, method, eig, zeros, hq)
    return JacobianSpectrum(
        eigenvalues=eig, n_zeros=zeros, preactivation_q=hq, activation=act.name, depth=depth, width=nL,
        n_samples=n_samples, sigma_w2=sigma_w2, sigma_b2=sigma_b2, weight_variance=sigma_w2,
        weights={"name": law, "kind": law, "mean": 0.0, "variance": 1.0, "widths": list(widths)},
        q=tuple(qs), q_source=source, seed=seed, dtype="float64", method=method)


def _draw(act, gens, widths, law, depth, sigma_w2, sigma_b2, q1, method, eig, zeros, hq):
    """Fill eig, zeros, hq network by network."""
    nL, n0 = widths[-1], widths[0]
    for s, g in enumerate(gens):
        x = g.standard_normal(n0)
        x *= math.sqrt(max(q1 - sigma_b2, 0.0) * n0 / sigma_w2) / max(np.linalg.norm(x), 1e-300)
        J = np.eye(n0)
        rank = n0
        for l in range(1, depth + 1):
            n_in, n_out = widths[l - 1], widths[l]
            if law == "orthogonal":
                W = math.sqrt(sigma_w2 * n_out / n_in) * haar_columns(g, n_out, n_in)
            else:
                W = math.sqrt(sigma_w2 / n_in) * g.standard_normal((n_out, n_in))
            h = W @ x
            if sigma_b2 > 0:
                h += math.sqrt(sigma_b2) * g.standard_normal(n_out)
            hq[s, l - 1] = float(h @ h) / n_out
            d = act.dphi(h)
            x = act.phi(h)
            rank = min(rank, int(np.count_nonzero(d)))
            J = d[:, None] * (W @ J)
        if method == "svd":
            sv = np.linalg.svd(J, compute_uv=False)
            lam = np.zeros(nL)
            lam[:sv.size] = sv**2
            lam = np.sort(lam)
        else:
            lam = np.maximum(np.linalg.eigvalsh(J @ J.T), 0.0)
        z = nL - rank
        lam[:z] = 0.0
        eig[s], zeros[s] = lam, z


def _finite_width_atom(c: float, widths) -> float:
    """1 - E[min(n_0, min_l X_l)]/n_L, X_l ~ Binomial(n_l, c) independent (rank J)."""
    from scipy.stats import binom

    if c >= 1:
        return float(max(0.0, 1 - min(widths[0], min(widths[1:])) / widths[-1]))
    kmax = min(widths)
    k = np.arange(1, kmax + 1)
    surv = np.ones(kmax)
    for n in widths[1:]:
        surv *= binom.sf(k - 1, n, c)
    return float(1 - surv.sum() / widths[-1])


class _CDF:
    """F of the theory with atoms: continuous part on a grid plus the atoms (at 0 and lambda_top)."""

    def __init__(self, lam, cdf_cont, atoms, lambda_max, rel_tol=1e-9):
        self.lam, self.cdf_cont, self.atoms, self.lambda_max = lam, cdf_cont, atoms, lambda_max
        self.atom = atoms[0][1]
        self.rel_tol = rel_tol  # eigenvalues of an atom are sampled at its location up to rounding

    def __call__(self, x, left: bool = False):
        x = np.asarray(x, dtype=float)
        out = np.interp(x, self.lam, self.cdf_cont, left=self.cdf_cont[0], right=self.cdf_cont[-1])
        out = out - self.atom  # continuous part only
        for loc, mass in self.atoms:  # the atom fills the band [loc (1 - tol), loc (1 + tol)] of rounding
            out = out + mass * (x > loc * (1 + self.rel_tol) if left else x >= loc * (1 - self.rel_tol))
        out = np.where(x >= self.lambda_max * (1 + self.rel_tol), 1.0, out)
        return np.clip(np.where(x < 0, 0.0, out), 0.0, 1.0)


def theory_cdf(act, depth, sigma_w2, q, weights, widths, lam_min, per_decade: int = 24, n_edge: int = 161):
    """(CDF, lambda_max, atoms, n_failed) of the law of J J^T for ``weights``/``widths``."""
    from scipy.integrate import cumulative_simpson

    from .spectrum import density, support

    sup = support(act, depth, sigma_w2=sigma_w2, q=q, weights=weights, widths=widths)
    # the continuous part (atoms added separately); square Gaussian layers carry only the atom at 0
    lmax = float(sup.params.get("lambda_max_continuous", sup.lambda_max))
    atoms = [tuple(a) for a in sup.params.get("atoms", [[0.0, float(sup.atom)]])]
    if sum(m for _, m in atoms) >= 1 - 1e-12:
        lam = np.array([lam_min, lmax])
        return _CDF(lam, np.array([atoms[0][1]] * 2), atoms, lmax), lmax, atoms, 0
    n_log = max(3, int(math.ceil(per_decade * math.log10(lmax / 2 / lam_min))) + 1)
    t_low = np.linspace(math.log(lam_min), math.log(lmax / 2), n_log)
    s = np.linspace(0.0, 1.0, n_edge)[1:]
    lam_up = lmax * (1 - s**2 / 2)
    lam = np.concatenate([np.exp(t_low[:-1]), lam_up[::-1]])
    r = density(lam, act, depth, sigma_w2=sigma_w2, q=q, weights=weights, widths=widths)
    rho = np.where(np.isfinite(r.density), np.maximum(np.asarray(r.density, dtype=float), 0.0), 0.0)
    n_failed = int(np.sum(r.status != 0))
    rho_low = rho[:n_log]
    rho_up = np.concatenate([[0.0], rho[n_log - 1:][::-1]])
    s_full = np.concatenate([[0.0], s])
    tail_up = cumulative_simpson(rho_up * lmax * s_full, x=s_full, initial=0.0)
    g = rho_low * np.exp(t_low)
    tail_low = tail_up[-1] + cumulative_simpson(g[::-1], x=-t_low[::-1], initial=0.0)[::-1]
    tail = np.concatenate([tail_low[:-1], tail_up[::-1][:-1]])
    top = sum(m for a, m in atoms if a > 0)
    cdf = np.maximum.accumulate(np.clip(1.0 - top - tail, 0.0, 1.0))
    lam_top = float(sup.lambda_max)
    return _CDF(np.append(lam, lmax), np.append(cdf, 1.0 - top), atoms, lam_top), lam_top, atoms, n_failed


def compare_arch(result, k: int = 4, per_decade: int = 24):
    """:class:`~rmtfp.sampling.SpectrumComparison` for a sample with orthogonal weights or widths."""
    from ._checks import int_at_least
    from .sampling import SpectralCDF, SpectrumComparison, ks_distance
    from .sampling.compare import _pooled_cdf_stderr, _resolution
    from .spectrum import moments

    k = int_at_least("k", k, 1)
    act = get(result.activation)
    law, widths = result.weights["name"], tuple(result.weights.get("widths") or (result.width,) * (result.depth + 1))
    L = result.depth
    q = None if result.q_source == "q_star" or not act.depends_on_q else result.q[0]
    if result.q_source not in ("q_star", "given", "unit input") or (
            act.depends_on_q and result.q_source == "given" and max(result.q) - min(result.q) > 1e-12 * result.q[0]):
        raise ValueError("compare_spectrum with weights/widths needs networks at the fixed point (q=None or q=q*)")
    sw2 = result.weight_variance
    pooled = result.pooled
    positive = pooled[pooled > 0]
    lam_min = max(float(positive[0]) if positive.size else 1e-12, 1e-14)
    cdf, lmax, atoms, n_failed = theory_cdf(act, L, sw2, q, law, None if len(set(widths)) == 1 else widths,
                                            min(lam_min, 1e-6), per_decade)
    ks_floor = max(_resolution(result), float(cdf.lam[0]))
    ks = ks_distance(pooled, cdf, ks_floor)
    ns, N = result.n_samples, result.width
    zero_frac = result.n_zeros / N
    atom_se = float(zero_frac.std(ddof=1) / math.sqrt(ns)) if ns > 1 else 0.0
    cdf_se = _pooled_cdf_stderr(result.eigenvalues, pooled)
    c = 1 - (act.zero_probability(result.q[0]) if act.depends_on_q else act.zero_probability())
    atom_expected = _finite_width_atom(c, widths) if atoms[0][1] > 0 else 0.0
    ks_scale = 1 / N + abs(atom_expected - atoms[0][1]) + cdf_se
    m_th = np.asarray(moments(act, L, k, sigma_w2=sw2, q=q, weights=law,
                              widths=None if len(set(widths)) == 1 else widths), dtype=float)
    m_s, se = result.moments(k)
    j = np.arange(1, k + 1)
    rel_err = np.abs(m_s - m_th) / np.abs(m_th)
    rel_scale = (1 + j * (j - 1) * L / 2) / N + se / np.abs(m_th)
    spectral = SpectralCDF(cdf.lam, np.zeros_like(cdf.lam), cdf.cdf_cont, atoms[0][1], lmax, 0.0, 1.0, n_failed,
                           dict(activation=act.name, depth=L, sigma_w2=sw2, weights=law, widths=list(widths),
                                atoms=[list(a) for a in atoms]))
    theory_params = dict(spectral.params, lambda_max=lmax, atom=atoms[0][1])
    return SpectrumComparison(
        ks=ks, ks_scale=ks_scale, ks_floor=ks_floor, atom=atoms[0][1], atom_sampled=result.zero_fraction,
        atom_expected=atom_expected, atom_stderr=atom_se, moments=m_th, moments_sampled=m_s, moments_stderr=se,
        moments_rel_err=rel_err, moments_rel_scale=rel_scale, lambda_max=lmax,
        lambda_max_sampled=float(np.median(result.eigenvalues[:, -1])), cdf=spectral,
        sample_params=result.params, theory_params=theory_params)
