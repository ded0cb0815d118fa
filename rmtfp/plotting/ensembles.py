"""Figures of ensembles and trained autoencoders.

``plot_q_statistics``          Q(N_0, L): distribution, mode with interval, mean (papers' Fig. 2/3)
``plot_contraction_scan``      g(beta) quantile band, beta_cr (papers' Fig. 3)
``plot_contraction_vs_depth``  log g against L with the fitted g_0^L (papers' Fig. 4)
``plot_training``              the loss (2.6) per epoch
``plot_identification``        basins of a trained network with the employees' photos (papers' Fig. 5)
``plot_weight_spectra``        complementary CDF of W^T W eigenvalues with power-law fits
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._common import pyplot

__all__ = [
    "plot_q_statistics",
    "plot_contraction_scan",
    "plot_contraction_vs_depth",
    "plot_training",
    "plot_identification",
    "plot_weight_spectra",
]


def _set_title(ax, title, default: str) -> None:
    """The axes' title: ``title``, ``default`` when it is None, none when it is empty."""
    if title is None:
        title = default
    if title:
        ax.set_title(title, fontsize="medium")


def _axes(ax, figsize):
    """(figure, axes): a new figure, or the figure of the given axes."""
    if ax is None:
        return pyplot().subplots(figsize=figsize)
    return ax.figure, ax


def plot_q_statistics(result, ax=None, *, show_distribution: bool = True, show_mean: bool = True,
                      title=None, figsize=(7.0, 5.6)):
    """The number of fixed points Q against depth.

    Top panel: the share of networks with each Q as grey shading behind
    the mode (dots) with its bootstrap interval (bars) and the mean with
    one standard error (line and band).  Bottom panel: the fraction of
    networks some of whose starts end on a cycle, stay unresolved or
    diverge, so that a low Q can be read next to what replaced it.

    Parameters
    ----------
    result : rmtfp.ensembles.QStatistics
    ax : pair of matplotlib Axes, optional
        (top, bottom); a new figure otherwise.
    show_distribution, show_mean : bool
    title : str, optional
    figsize : tuple

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    if ax is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=figsize, sharex=True,
                                          gridspec_kw={"height_ratios": [3, 1.3]})
    else:
        top, bottom = ax
        fig = top.figure
    L = result.depths
    order = np.argsort(L)
    L = L[order]
    dist = result.distribution[order]
    if show_distribution:
        qs = np.arange(dist.shape[1])
        widths = np.diff(L) if L.size > 1 else np.array([1])
        w = 0.8 * (np.min(widths) if widths.size else 1)
        for d, depth in enumerate(L):
            for q in qs:
                if dist[d, q] > 0:
                    top.add_patch(pyplot().Rectangle((depth - w / 2, q - 0.45), w, 0.9, color="0.15",
                                                     alpha=0.08 + 0.6 * dist[d, q], linewidth=0, zorder=1))
    mode = result.mode[order]
    lo, hi = result.mode_interval[order, 0], result.mode_interval[order, 1]
    top.errorbar(L, mode, yerr=[mode - lo, hi - mode], fmt="o", color="C3", ms=6, capsize=3, zorder=4,
                 label=f"mode ({100 * result.confidence:.0f}% bootstrap interval)")
    if show_mean:
        mean, se = result.mean[order], result.mean_stderr[order]
        top.plot(L, mean, "-", color="C0", lw=1.5, zorder=3, label="mean")
        if np.all(np.isfinite(se)):
            top.fill_between(L, mean - se, mean + se, color="C0", alpha=0.2, lw=0, zorder=2,
                             label="mean $\\pm$ 1 s.e.")
    handles, labels = top.get_legend_handles_labels()
    if show_distribution:
        from matplotlib.patches import Patch

        handles.append(Patch(color="0.15", alpha=0.4, lw=0))
        labels.append("share of networks (darker: more)")
    top.set_ylabel("number of fixed points $Q$")
    top.set_ylim(-0.6, max(1, dist.shape[1] - 1) + 0.6)
    top.yaxis.get_major_locator().set_params(integer=True)
    top.legend(handles, labels, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    p = result.params
    _set_title(top, title, f"{p.get('weights', '')} weights, {p.get('activation', '')}, width {p.get('width', '')}, "
                           f"{result.n_networks} networks per depth")
    bottom.plot(L, result.cycle_fraction[order], "s-", ms=4, label="with cycles")
    bottom.plot(L, result.unresolved_fraction[order], "^-", ms=4, label="with unresolved starts")
    if np.any(result.divergent_fraction > 0):
        bottom.plot(L, result.divergent_fraction[order], "v-", ms=4, label="with divergent starts")
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("fraction of\nnetworks")
    bottom.set_xlabel("depth $L$ (weight matrices)")
    bottom.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.align_ylabels([top, bottom])
    return fig


def plot_contraction_scan(scan, ax=None, *, critical=None, show_lipschitz: bool = True, title=None,
                          figsize=(6.4, 4.4)):
    """g(beta) on a log scale: median, quantile band, the level g = 1 and beta_cr.

    Parameters
    ----------
    scan : ContractionScan or CriticalBeta
        A CriticalBeta also marks beta_cr and its interval.
    ax : matplotlib Axes, optional
    critical : CriticalBeta, optional
    show_lipschitz : bool, default True
        Median of the global bound prod ||W_l|| Lip(phi)^L (dashed).
    title : str, optional
    figsize : tuple

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..ensembles import CriticalBeta

    if isinstance(scan, CriticalBeta):
        critical, scan = scan, scan.scan
    fig, ax = _axes(ax, figsize)
    b = scan.betas
    levels = scan.quantile_levels
    med = np.median(scan.g, axis=1)
    ax.plot(b, med, "o-", color="C0", ms=4, label="median $g$")
    if levels.size >= 2:
        lo, hi = scan.quantiles[:, 0], scan.quantiles[:, -1]
        ax.fill_between(b, lo, hi, color="C0", alpha=0.2, lw=0,
                        label=f"{100 * levels[0]:.0f}-{100 * levels[-1]:.0f}% of networks")
    if show_lipschitz:
        ax.plot(b, np.median(scan.lipschitz, axis=1), "--", color="0.4", lw=1,
                label="Lipschitz bound $\\prod_l\\|W_l\\|\\,\\mathrm{Lip}(\\varphi)^L$")
    level = critical.level if critical is not None else 1.0
    ax.axhline(level, color="black", lw=0.8)
    if critical is not None:
        # a censored end of the interval (+-inf) is drawn at the edge of the scan
        lo, hi = np.clip(critical.interval, b[0], b[-1])
        ax.axvspan(lo, hi, color="C3", alpha=0.15, lw=0)
        ax.axvline(critical.beta_cr, color="C3", lw=1.2,
                   label=f"$\\beta_{{cr}}$ = {critical.beta_cr:.3f} "
                         f"[{critical.interval[0]:.3f}, {critical.interval[1]:.3f}]")
    ax.set_yscale("log")
    ax.set_xlabel("$\\beta$  ($\\sigma^2 = n^{-2\\beta}$)")
    ax.set_ylabel("contraction constant $g$")
    p = scan.params
    _set_title(ax, title, f"{p.get('activation', '')}, {p.get('weights', '')} weights, L = {p.get('depth', '')}, "
                          f"N = {p.get('width', '')}, {scan.g.shape[1]} networks")
    ax.legend(fontsize="small", frameon=False)
    return fig


def plot_contraction_vs_depth(results, ax=None, *, title=None, figsize=(6.4, 4.4)):
    """log g against depth with the fit exp(c + L log g_0) (one or several betas).

    Parameters
    ----------
    results : ContractionDepth or sequence of them
    ax : matplotlib Axes, optional
    title : str, optional
    figsize : tuple

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(results, (list, tuple)):
        results = [results]
    fig, ax = _axes(ax, figsize)
    for k, r in enumerate(results):
        color = f"C{k}"
        L = r.depths
        for d, depth in enumerate(L):
            g = r.g[d][r.g[d] > 0]
            ax.plot(np.full(g.size, depth), g, ".", color=color, alpha=0.25, ms=3)
        gm = np.exp(r.log_g_mean)
        err = [gm - np.exp(r.log_g_mean - r.log_g_stderr), np.exp(r.log_g_mean + r.log_g_stderr) - gm]
        ax.errorbar(L, gm, yerr=err, fmt="o", color=color, ms=4, capsize=2,
                    label=f"$\\beta$ = {r.beta:g}: geometric mean")
        fine = np.linspace(L.min(), L.max(), 100)
        lo, hi = r.g0_interval
        ax.plot(fine, r.fitted(fine), "-", color=color, lw=1,
                label=f"fit: $g_0$ = {r.g0:.3f} [{lo:.3f}, {hi:.3f}]")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("depth $L$")
    ax.set_ylabel("contraction constant $g$")
    p = results[0].params
    _set_title(ax, title, f"{p.get('activation', '')}, {p.get('weights', '')} weights, N = {p.get('width', '')}")
    ax.legend(fontsize="small", frameon=False)
    return fig


def plot_training(result, ax=None, *, title="training loss, eq. (2.6)", figsize=(5.6, 3.8)):
    """The loss history of :func:`rmtfp.training.train_autoencoder` on a log scale.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, figsize)
    h = np.asarray(result.loss_history)
    ax.plot(np.arange(h.size), h, color="C0", lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss $\\mathcal{L}$")
    _set_title(ax, title, "")
    return fig


def _grid_part(result, n: int):
    """The FixedPointResult restricted to its first n starts (fractions recomputed)."""
    status, labels = result.status[:n], result.labels[:n]
    fr = {}
    for key in result.fractions:
        if key.startswith("fixed_point:") or key.startswith("cycle:"):
            kind, k = key.split(":")
            fr[key] = float(np.mean((status == kind) & (labels == int(k))))
        else:
            fr[key] = float(np.mean(status == key))
    return dataclasses.replace(result, status=status, labels=labels, iterations=result.iterations[:n],
                               starts=result.starts[:n], fractions=fr)


def plot_identification(report, data, ax=None, *, show_train: bool = True, show_heldout: bool = True,
                        show_fakes: bool = True, title=None, figsize=(7.2, 5.6)):
    """Basins of a trained network with the employees' circles and photos (papers' Fig. 5).

    The basin map is :func:`rmtfp.plotting.plot_basins` of the grid
    starts; on top: the circles T_k (white outlines), the true photos x_k^*
    (white stars), training photos (small white dots), held-out photos
    (triangles, filled when identified) and fakes (crosses, red when
    accepted as an employee).

    Parameters
    ----------
    report : IdentificationReport
    data : EmployeeDataset
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .basins import plot_basins

    fig, ax = _axes(ax, figsize)
    sub = _grid_part(report.grid_result, report.n_grid)
    if title is None:
        acc = report.heldout_accuracy
        title = (f"Q = {report.Q}; held-out identified {100 * acc:.0f}%, "
                 f"fakes rejected {100 * report.fakes_rejected:.0f}%")
    # the basins are named after the employee whose true photo x_k^* each fixed point matches
    names = []
    for m in range(sub.Q):
        who = np.flatnonzero(report.matched == m)
        names.append(f"fixed point {m}, " + (", ".join(f"$x^*_{{{k}}}$" for k in who) if who.size else "spurious"))
    plot_basins(sub, ax=ax, title=title, fixed_point_names=names)
    th = np.linspace(0, 2 * np.pi, 200)
    for c in data.centres:
        ax.plot(c[0] + data.radius * np.cos(th), c[1] + data.radius * np.sin(th), color="white", lw=1.2, zorder=6)
    res = report.grid_result
    off = report.n_grid + data.K
    fp_lab = np.where(res.status == "fixed_point", res.labels, -1)
    if show_train:
        ax.scatter(data.train[:, 0], data.train[:, 1], s=5, color="white", edgecolors="0.3", linewidths=0.2, zorder=6,
                   label="training photos")
    off += data.train.shape[0]
    if show_heldout and data.heldout.shape[0]:
        got = fp_lab[off:off + data.heldout.shape[0]]
        ok = (report.matched[data.heldout_labels] >= 0) & (got == report.matched[data.heldout_labels])
        ax.scatter(data.heldout[ok, 0], data.heldout[ok, 1], s=14, marker="^", color="white",
                   edgecolors="black", linewidths=0.5, zorder=7, label="held-out, identified")
        if (~ok).any():
            ax.scatter(data.heldout[~ok, 0], data.heldout[~ok, 1], s=14, marker="^", facecolors="none",
                       edgecolors="black", linewidths=0.8, zorder=7, label="held-out, missed")
    off += data.heldout.shape[0]
    if show_fakes and data.fakes.shape[0]:
        got = fp_lab[off:off + data.fakes.shape[0]]
        acc = np.isin(got, report.matched[report.matched >= 0])
        ax.scatter(data.fakes[acc, 0], data.fakes[acc, 1], s=12, marker="x", color="red", linewidths=0.8,
                   zorder=7, label="fake, accepted")
        if (~acc).any():
            ax.scatter(data.fakes[~acc, 0], data.fakes[~acc, 1], s=12, marker="x", color="black",
                       linewidths=0.8, zorder=7, label="fake, rejected")
    ax.scatter(data.centres[:, 0], data.centres[:, 1], s=120, marker="*", color="white", edgecolors="black",
               linewidths=0.8, zorder=8, label="true photos $x_k^*$")
    handles, labels = ax.get_legend_handles_labels()
    old = ax.get_legend()
    if old is not None:
        handles = list(old.legend_handles) + handles
        labels = [t.get_text() for t in old.get_texts()] + labels
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
    return fig


def plot_weight_spectra(fits, ax=None, *, title="eigenvalues of $W^TW$", figsize=(5.6, 4.2)):
    """Complementary CDF of eigenvalues on log-log axes with the fitted power laws.

    Parameters
    ----------
    fits : TailFit or dict {label: TailFit}
        E.g. ``{"initial": weight_spectrum_tail(W0), "trained": weight_spectrum_tail(W1)}``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A density lambda^{-alpha} has the complementary CDF lambda^{1 - alpha}:
    the fitted line has slope 1 - alpha above lambda_min.
    """
    if not isinstance(fits, dict):
        fits = {"": fits}
    fig, ax = _axes(ax, figsize)
    for k, (label, fit) in enumerate(fits.items()):
        x = np.sort(fit.samples)
        n = x.size
        ccdf = 1.0 - np.arange(n) / n
        color = f"C{k}"
        ax.step(x, ccdf, where="post", color=color, lw=1.2,
                label=f"{label + ': ' if label else ''}$\\alpha$ = {fit.alpha:.2f} $\\pm$ {fit.alpha_stderr:.2f}")
        tail = x[x >= fit.xmin]
        frac = fit.n_tail / n
        ax.plot(tail, frac * (tail / fit.xmin) ** (1 - fit.alpha), "--", color=color, lw=1)
        ax.axvline(fit.xmin, color=color, lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$\\lambda$")
    ax.set_ylabel("$P(\\Lambda \\geq \\lambda)$")
    _set_title(ax, title, "")
    ax.legend(fontsize="small", frameon=False)
    return fig
