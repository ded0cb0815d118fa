"""Claim 11: the spectrum of J J^T narrows toward lambda = 0 as the depth grows.

Berlyand & Slavin, section V.1, Fig. 6: "with increase of L the curve is
pressed towards the lambda-axis, forming a narrow peak at lambda = 0. So, as
L -> infinity the ESD rho(lambda) -> delta(lambda). It means that the
eigenvalues of Jacobian tend to zero, providing contraction mapping";
Berlyand, Krupchytskyi & Slavin, section 4, the same argument for Q -> 1.

Measurement
-----------
For a linear network with weights of variance 1/N (sigma_w^2 = 1, chi = 1;
the papers' hard-tanh networks with variances 1/n have q* = 0 and the same
law), at each depth L: the theory's P(lambda <= 1) (:func:`rmtfp.sampling.
spectral_cdf`), its mean m_1 (:func:`rmtfp.moments`, exact: chi^L) and its
upper edge lambda_max (:func:`rmtfp.support`); and the same P and mean from
sampled networks (:func:`rmtfp.sample_depth_scan`) as a check.

Criterion
---------
*Concentration*: P(lambda <= 1) increases strictly with L.  *Mean*: the
theory's m_1 equals chi^L (relative error <= 1e-10: exact rational
arithmetic in the moment recursion) and the sampled mean is within 4
standard errors of it.

* ``not reproduced`` when P(lambda <= 1) does not increase;
* ``reproduced with correction`` when it increases while the mean stays
  chi^L and lambda_max grows: the mass piles up at 0, but the spectrum does
  not narrow and the eigenvalues do not all tend to 0 (rho -> delta only in
  distribution, not in moments);
* ``reproduced`` when it increases and the mean decreases to 0 as well.
"""

from __future__ import annotations

import numpy as np

import rmtfp
from rmtfp.sampling import spectral_cdf

from ._common import CORRECTED, NOT_REPRODUCED, REPRODUCED, Check, farr, sizes


SEED = 1111
QUICK = dict(depths=(1, 2, 3, 5, 10, 20), width=100, n_samples=20)
FULL = dict(depths=(1, 2, 3, 5, 10, 20, 50), width=400, n_samples=100)
SIGMA_W2 = 1.0
#: relative tolerance on m_1 = chi^L (exact recursion, float64 output)
MEAN_RTOL = 1e-10
#: standard errors allowed between the sampled mean and chi^L
MEAN_Z = 4.0


def compute(mode: str = "quick") -> dict:
    """P(lambda <= 1), mean and edge at each depth, in theory and sampled."""
    p = sizes(mode, QUICK, FULL)
    depths = list(p["depths"])
    chi = float(rmtfp.activations.get("linear").chi(SIGMA_W2))
    rows = []
    scan = rmtfp.sample_depth_scan("linear", depths, p["width"], p["n_samples"], sigma_w2=SIGMA_W2, rng=SEED)
    curves = {}
    for L, sp in zip(depths, scan.spectra):
        cdf = spectral_cdf("linear", L, sigma_w2=SIGMA_W2)
        m1 = float(rmtfp.moments("linear", L, 1, sigma_w2=SIGMA_W2)[0])
        sup = rmtfp.support("linear", L, sigma_w2=SIGMA_W2)
        per_sample = np.mean(sp.eigenvalues <= 1.0, axis=1)
        mean, se = sp.moments(1)
        rows.append({"depth": L, "P_le_1_theory": float(cdf(np.array([1.0]))[0]), "mean_theory": m1,
                     "chi_L": chi ** L, "lambda_max": float(sup.lambda_max),
                     "P_le_1_sampled": float(per_sample.mean()),
                     "P_le_1_sampled_stderr": float(per_sample.std(ddof=1) / np.sqrt(per_sample.size)),
                     "mean_sampled": float(mean[0]), "mean_sampled_stderr": float(se[0]),
                     "median_theory": float(np.interp(0.5, cdf.cdf, cdf.lam))})
        sel = (cdf.lam > 1e-3) & (cdf.lam <= min(10.0, sup.lambda_max))
        curves[str(L)] = {"lam": cdf.lam[sel][::3].tolist(), "density": cdf.density[sel][::3].tolist()}
    return {"params": dict(p, activation="linear", sigma_w2=SIGMA_W2, chi=chi, weights="gaussian"),
            "seeds": {"rng": SEED, "network": "one stream per network, spectra of its first L layers"},
            "per_depth": rows, "curves": curves}


def check(result: dict) -> Check:
    """Concentration of the mass at 0 against the mean and the edge."""
    rows = result["per_depth"]
    L = [r["depth"] for r in rows]
    P = farr([r["P_le_1_theory"] for r in rows])
    m, chiL = farr([r["mean_theory"] for r in rows]), farr([r["chi_L"] for r in rows])
    ms, mse = farr([r["mean_sampled"] for r in rows]), farr([r["mean_sampled_stderr"] for r in rows])
    lmax = farr([r["lambda_max"] for r in rows])
    increasing = bool(np.all(np.diff(P) > 0))
    mean_exact = bool(np.all(np.abs(m / chiL - 1) <= MEAN_RTOL))
    z = np.abs(ms - chiL) / np.where(mse > 0, mse, np.inf)
    mean_sampled_ok = bool(np.all(z <= MEAN_Z))
    edge_grows = bool(np.all(np.diff(lmax) > 0))
    numbers = {"depths": L, "P_le_1": P.tolist(),
               "P_le_1_sampled": [r["P_le_1_sampled"] for r in rows],
               "mean_theory": m.tolist(), "chi_L": chiL.tolist(), "mean_sampled": ms.tolist(),
               "max_mean_z": float(np.max(z)), "lambda_max": lmax.tolist(),
               "median_theory": [r["median_theory"] for r in rows]}
    text = (f"P(lambda <= 1) goes {' -> '.join(f'{v:.3f}' for v in P)} for L = {', '.join(map(str, L))}; the mean "
            f"stays {m[0]:.6g} ... {m[-1]:.6g} (chi^L; sampled within {np.max(z):.1f} s.e.) while lambda_max grows "
            f"{lmax[0]:.3g} -> {lmax[-1]:.3g}.")
    if not increasing:
        return Check(NOT_REPRODUCED, text, numbers)
    if mean_exact and mean_sampled_ok and edge_grows:
        return Check(CORRECTED, text, numbers,
                     correction="the mass concentrates at 0 (rho -> delta_0 in distribution) but the mean of the "
                                "spectrum stays chi^L and the soft edge lambda_max grows with L: the spectrum does not "
                                "narrow and the eigenvalues do not all tend to 0, so no contraction follows from it")
    if float(m[-1]) < float(m[0]):
        return Check(REPRODUCED, text, numbers)
    return Check(NOT_REPRODUCED, text + " The mean does not behave as chi^L.", numbers)


def plot(result: dict):
    """Theory densities per depth (log scale) and P(lambda <= 1), mean and lambda_max against L."""
    from rmtfp.plotting._common import pyplot

    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.0), layout="constrained")
    for k, (L, c) in enumerate(result["curves"].items()):
        a.loglog(c["lam"], c["density"], color=f"C{k}", lw=1.2, label=f"L = {L}")
    a.set_xlabel("lambda")
    a.set_ylabel("density (theory)")
    a.set_title("linear network, sigma_w^2 = 1", fontsize="medium")
    a.legend(fontsize="small", frameon=False)
    rows = result["per_depth"]
    L = [r["depth"] for r in rows]
    b.plot(L, [r["P_le_1_theory"] for r in rows], "o-", label="P(lambda <= 1), theory")
    b.errorbar(L, [r["P_le_1_sampled"] for r in rows], yerr=[r["P_le_1_sampled_stderr"] for r in rows], fmt="x",
               color="C0", label="P(lambda <= 1), sampled")
    b.plot(L, [r["mean_theory"] for r in rows], "s-", color="C1", label="mean = chi^L")
    b.errorbar(L, [r["mean_sampled"] for r in rows], yerr=[r["mean_sampled_stderr"] for r in rows], fmt="x",
               color="C1", label="mean, sampled")
    b.set_xscale("log")
    b.set_xlabel("depth L")
    b.set_ylim(0, 1.3)
    b2 = b.twinx()
    b2.semilogy(L, [r["lambda_max"] for r in rows], "^--", color="C2", label="lambda_max (right axis)")
    b2.set_ylabel("lambda_max")
    h1, l1 = b.get_legend_handles_labels()
    h2, l2 = b2.get_legend_handles_labels()
    b.legend(h1 + h2, l1 + l2, fontsize="small", frameon=False, loc="lower right")
    return fig
