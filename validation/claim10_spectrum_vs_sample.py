"""Claim 10: theory against sampled spectra, linear network L = 2: agreement except near the soft edge.

Berlyand & Slavin, section V.1, Fig. 5: the solution of the functional
equation (19) for a linear network of depth L = 2 against the eigenvalue
distribution of J J^T sampled at width N = 10^3 over 10^3 realisations: "One
can see good agreement between the results for finite-size system and
infinite-size one. The only difference is in the neighborhood of soft-edge of
spectra".

Measurement
-----------
:func:`rmtfp.sample_jacobian_spectrum` (linear, depth 2, Gaussian weights of
variance 1/N, no bias) and :func:`rmtfp.compare_spectrum` against the
infinite-width law (the Fuss-Catalan law with s = 2; sigma_w^2 = 1 so the
papers' equation without sigma_w^2 is the same here).  The Kolmogorov-Smirnov
distance of the pooled eigenvalues and the first four moments are measured
against their finite-width scales; the largest CDF deviation is located in
the bulk (lambda < 0.9 lambda_max) and at the edge (lambda >= 0.9
lambda_max).

Criterion
---------
``reproduced`` when the sample agrees with the theory by
:meth:`SpectrumComparison.agrees` (KS distance and every relative moment
error within 3 times their finite-width scales: a 3-sigma rule on scales
that are standard errors plus the known O(1/N) biases) and the bulk
deviation is within the same bound; ``not reproduced`` otherwise, with the
numbers.  The soft edge is reported: the sampled lambda_max (median over
samples) against the theory's.
"""

from __future__ import annotations

import numpy as np

import rmtfp

from ._common import NOT_REPRODUCED, REPRODUCED, Check, farr, sizes


SEED = 1010
QUICK = dict(width=300, n_samples=60, depth=2)
FULL = dict(width=1000, n_samples=1000, depth=2)
#: the bulk/edge split of the deviation: lambda < 0.9 lambda_max is "bulk"
EDGE_FRACTION = 0.9
#: agreement factor on the finite-width scales (3 sigma)
FACTOR = 3.0


def compute(mode: str = "quick") -> dict:
    """Sample the spectra and compare them with the infinite-width law."""
    p = sizes(mode, QUICK, FULL)
    s = rmtfp.sample_jacobian_spectrum("linear", p["depth"], p["width"], p["n_samples"], weights="gaussian",
                                       sigma_w2=1.0, rng=SEED)
    c = rmtfp.compare_spectrum(s)
    pooled = s.pooled
    n = pooled.size
    F = c.cdf(pooled)
    Fl = c.cdf(pooled, left=True)
    i = np.arange(1, n + 1)
    dev = np.maximum(i / n - F, Fl - (i - 1) / n)
    bulk = pooled < EDGE_FRACTION * c.lambda_max
    edges = np.linspace(0, max(c.lambda_max, pooled[-1]) * 1.02, 80)
    hist, _ = np.histogram(pooled, bins=edges, density=True)
    return {"params": dict(p, activation="linear", weights="gaussian", sigma_w2=1.0, sigma_b2=0.0,
                           edge_fraction=EDGE_FRACTION, factor=FACTOR),
            "seeds": {"rng": SEED, "network": "one SFC64 stream per network from SeedSequence(rng).spawn"},
            "comparison": c.to_dict(),
            "ks_bulk": float(dev[bulk].max()) if bulk.any() else 0.0,
            "ks_edge": float(dev[~bulk].max()) if (~bulk).any() else 0.0,
            "ks_at_lambda": float(pooled[int(np.argmax(dev))]),
            "lambda_max_samples": s.eigenvalues[:, -1].tolist(),
            "hist_edges": edges.tolist(), "hist": hist.tolist(),
            "theory_lam": c.cdf.lam.tolist(), "theory_density": c.cdf.density.tolist()}


def check(result: dict) -> Check:
    """KS and moments within their finite-width scales; the edge reported."""
    c = result["comparison"]
    ks_ratio, mom = float(c["ks_ratio"]), farr(c["moments_ratio"])
    bulk_ratio = result["ks_bulk"] / float(c["ks_scale"])
    lm = farr(result["lambda_max_samples"])
    numbers = {"ks": c["ks"], "ks_scale": c["ks_scale"], "ks_ratio": ks_ratio, "ks_bulk_ratio": bulk_ratio,
               "ks_edge_ratio": result["ks_edge"] / float(c["ks_scale"]),
               "max_deviation_at_lambda_over_lambda_max": result["ks_at_lambda"] / float(c["lambda_max"]),
               "moments_ratio": mom.tolist(), "moments_theory": c["moments"], "moments_sampled": c["moments_sampled"],
               "lambda_max_theory": c["lambda_max"], "lambda_max_sampled_median": c["lambda_max_sampled"],
               "lambda_max_sampled_range": [float(lm.min()), float(lm.max())]}
    agrees = ks_ratio <= FACTOR and bool(np.all(mom <= FACTOR)) and bulk_ratio <= FACTOR
    text = (f"KS distance {c['ks']:.3g} = {ks_ratio:.2f} x its finite-width scale (bulk {bulk_ratio:.2f}, edge "
            f"{numbers['ks_edge_ratio']:.2f}); moments within {float(mom.max()):.2f} x their scales; the sampled "
            f"largest eigenvalue ranges over {lm.min():.2f}-{lm.max():.2f} around the theory's edge "
            f"{c['lambda_max']:.3f}.")
    return Check(REPRODUCED if agrees else NOT_REPRODUCED, text, numbers)


def plot(result: dict):
    """Histogram of the sampled eigenvalues against the theory's density."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    e = farr(result["hist_edges"])
    ax.stairs(result["hist"], e, color="C3", label=f"sampled, N = {result['params']['width']}, "
                                                    f"{result['params']['n_samples']} networks")
    lam, rho = farr(result["theory_lam"]), farr(result["theory_density"])
    ax.plot(lam, rho, "k-", lw=1.2, label="theory (infinite width)")
    ax.axvline(result["comparison"]["lambda_max"], color="0.5", ls="--", lw=1, label="theory's soft edge")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, None)
    ax.set_xlabel("lambda")
    ax.set_ylabel("density")
    ax.set_title("linear network, L = 2: spectrum of J J^T", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    return fig
