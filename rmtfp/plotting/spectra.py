"""Plots of Jacobian spectra: the theory's density, sampled spectra against it,
and the concentration of heavy-tailed spectra with depth.

Every function takes result objects and returns the matplotlib ``Figure``.
With ``log_lambda=True`` the x axis is log10(lambda) and densities are per
decade, lambda rho(lambda) ln 10, so that areas are still probabilities and
the singular mass near 0 (rho ~ lambda^{-L/(L+1)}, or worse for erf) is
visible.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from ._common import pyplot

__all__ = ["plot_density", "plot_spectrum_comparison", "plot_concentration"]

_LN10 = math.log(10.0)
_THEORY_COLOR = "black"
_SAMPLE_COLOR = "#d62728"


def _axes(ax, figsize):
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    else:
        fig = ax.figure
    return fig, ax


def _label_axes(ax, log_lambda: bool):
    if log_lambda:
        ax.set_xlabel(r"$\log_{10}\lambda$")
        ax.set_ylabel(r"density per decade, $\lambda\,\rho(\lambda)\ln 10$")
    else:
        ax.set_xlabel(r"$\lambda$")
        ax.set_ylabel(r"$\rho(\lambda)$")


def _theory_curve(lam, rho, log_lambda: bool):
    lam = np.asarray(lam, dtype=float)
    rho = np.asarray(rho, dtype=float)
    order = np.argsort(lam)
    lam, rho = lam[order], rho[order]
    if log_lambda:
        keep = lam > 0
        return np.log10(lam[keep]), lam[keep] * rho[keep] * _LN10
    return lam, rho


def plot_density(result, ax=None, *, log_lambda: bool = False, label: Optional[str] = None,
                 show_edge: bool = True, show_failed: bool = True, title: Optional[str] = None,
                 figsize=(5.0, 3.5)):
    """The theory's eigenvalue density of J J^T.

    Parameters
    ----------
    result : DensityResult
        From :func:`rmtfp.density` (``lam``, ``density``, ``status``,
        ``atom``, ``lambda_max``, ``params``).
    ax : matplotlib Axes, optional
    log_lambda : bool
        log10(lambda) axis and density per decade.
    label : str, optional
        Legend entry (default: activation and depth).
    show_edge : bool
        Dashed line at lambda_max.
    show_failed : bool
        Mark the points whose solver status is not 0.
    """
    fig, ax = _axes(ax, figsize)
    params = dict(getattr(result, "params", {}) or {})
    if label is None:
        label = f"{params.get('activation', '')}, L = {params.get('depth', '?')}"
    rho = np.array([float(v) for v in np.ravel(result.density)])
    lam = np.array([float(v) for v in np.ravel(result.lam)])
    status = np.ravel(np.asarray(getattr(result, "status", np.zeros(lam.size, dtype=int))))
    x, y = _theory_curve(lam, rho, log_lambda)
    ax.plot(x, y, color=_THEORY_COLOR, lw=1.4, label=label)
    bad = status != 0
    if show_failed and bad.any():
        xb, yb = _theory_curve(lam[bad], rho[bad], log_lambda)
        ax.plot(xb, yb, "x", color=_SAMPLE_COLOR, ms=5, label=f"not converged ({int(bad.sum())})")
    lmax = float(getattr(result, "lambda_max", math.nan))
    if show_edge and math.isfinite(lmax) and lmax > 0:
        ax.axvline(math.log10(lmax) if log_lambda else lmax, color="0.5", ls="--", lw=0.8)
    atom = float(getattr(result, "atom", 0.0))
    if atom > 0:
        ax.text(0.98, 0.95, f"atom at 0: {atom:.4g}", transform=ax.transAxes, ha="right", va="top", fontsize=8)
    _label_axes(ax, log_lambda)
    if not log_lambda:
        ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_spectrum_comparison(sample, comparison=None, ax=None, *, log_lambda: bool = False,
                             bins: Optional[int] = None, theory=None, title: Optional[str] = None,
                             figsize=(5.0, 3.5)):
    """Histogram of a sampled spectrum against the theory's density.

    The histogram shows the non-zero eigenvalues pooled over all samples,
    normalised like rho (its area is the sampled fraction of non-zero
    eigenvalues; the exact zeros are the atom, reported in the text box).

    Parameters
    ----------
    sample : JacobianSpectrum
        From :func:`rmtfp.sample_jacobian_spectrum`.
    comparison : SpectrumComparison, optional
        From :func:`rmtfp.compare_spectrum`: draws the theory's density and
        reports KS and the atom against their finite-width scales.
    ax : matplotlib Axes, optional
    log_lambda : bool
        Logarithmic bins, log10(lambda) axis, densities per decade.
    bins : int, optional
        Number of bins (default: about sqrt of the number of eigenvalues,
        between 30 and 200).
    theory : DensityResult, optional
        A density to draw when no ``comparison`` is given.
    """
    fig, ax = _axes(ax, figsize)
    lam = np.asarray(sample.eigenvalues, dtype=float).ravel()
    n_total = lam.size
    pos = lam[lam > 0]
    if bins is None:
        bins = int(np.clip(math.sqrt(max(pos.size, 1)), 30, 200))
    if pos.size:
        weights = np.full(pos.size, 1.0 / n_total)
        if log_lambda:
            x = np.log10(pos)
            counts, edges = np.histogram(x, bins=bins, weights=weights)
            heights = counts / np.diff(edges)  # per decade
        else:
            counts, edges = np.histogram(pos, bins=bins, weights=weights)
            heights = counts / np.diff(edges)
        ax.stairs(heights, edges, fill=True, color=_SAMPLE_COLOR, alpha=0.35,
                  label=f"N = {sample.width}, {sample.n_samples} samples")
        ax.stairs(heights, edges, color=_SAMPLE_COLOR, lw=0.8)
    curve = None
    if comparison is not None:
        curve = (comparison.cdf.lam, comparison.cdf.density)
    elif theory is not None:
        curve = (np.ravel(theory.lam), np.ravel(theory.density))
    if curve is not None:
        x, y = _theory_curve(np.array([float(v) for v in curve[0]]), np.array([float(v) for v in curve[1]]),
                             log_lambda)
        if log_lambda and pos.size:
            keep = x >= math.log10(pos.min()) - 1
            x, y = x[keep], y[keep]
        ax.plot(x, y, color=_THEORY_COLOR, lw=1.4, label=r"theory ($N\to\infty$)")
    lines = [f"exact zeros: {sample.zero_fraction:.4f}"] if sample.zero_fraction > 0 else []
    if comparison is not None:
        lines = [f"KS = {comparison.ks:.2g} (finite-width scale {comparison.ks_scale:.2g})"]
        if comparison.atom > 0 or comparison.atom_sampled > 0:
            lines.insert(0, f"atom: theory {comparison.atom:.4f}, sampled {comparison.atom_sampled:.4f}")
    _label_axes(ax, log_lambda)
    if not log_lambda:
        ax.set_xlim(left=0)
    # the density may diverge at 0: scale the y axis to the histogram away from the first bin
    top = [float(np.max(heights[1:]))] if pos.size and len(heights) > 1 else []
    if curve is not None and x.size:
        away = y[(x >= edges[1])] if pos.size else y
        if away.size:
            top.append(float(np.max(away)))
    if top and max(top) > 0:
        ax.set_ylim(0, 1.15 * max(top))
    else:
        ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8, loc="best", title="\n".join(lines) or None, title_fontsize=8)
    if title is None:
        title = f"{sample.activation}, L = {sample.depth}, weights: {sample.weights.get('name')}"
    ax.set_title(title, fontsize=10)
    return fig


def plot_concentration(scan, thresholds: Sequence[float] = (1e-6, 1e-3, 1e-1), ax=None, *,
                       title: Optional[str] = None, figsize=(5.0, 3.5)):
    """Concentration of the spectrum at 0 as the depth grows.

    Fraction of eigenvalues below each threshold (left axis, with standard
    errors) and the median eigenvalue (right axis, log scale) against depth.

    Parameters
    ----------
    scan : DepthScan
        From :func:`rmtfp.sample_depth_scan` (e.g. with ``weights="cauchy"``).
    thresholds : sequence of float
    """
    fig, ax = _axes(ax, figsize)
    conc = scan.concentration(thresholds)
    depths = np.array(scan.depths)
    frac = np.array([c.fraction_below for c in conc])
    se = np.array([c.fraction_below_stderr for c in conc])
    for j, t in enumerate(conc[0].thresholds):
        ax.errorbar(depths, frac[:, j], yerr=se[:, j], marker="o", ms=3, capsize=2,
                    label=rf"$P(\lambda \leq 10^{{{math.log10(t):.3g}}})$")
    ax.set_xlabel("depth $L$")
    ax.set_ylabel("fraction of eigenvalues")
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    med = np.array([c.median for c in conc])
    ax2.semilogy(depths, np.where(med > 0, med, np.nan), "k--", marker="s", ms=3, label="median $\\lambda$")
    ax2.set_ylabel(r"median $\lambda$")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, frameon=False, fontsize=8, loc="outside lower center", ncols=2)
    s0 = scan.spectra[0]
    ax.set_title(title or f"{s0.activation}, N = {s0.width}, weights: {s0.weights.get('name')}", fontsize=10)
    return fig
