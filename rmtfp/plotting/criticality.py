"""Phase diagram (chi_1 and xi_c over (sigma_b^2, sigma_w^2)) and the isometry figure."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ._common import pyplot

__all__ = ["plot_phase_diagram", "plot_isometry_spectra"]


def plot_phase_diagram(diagram, figsize=(10, 4)):
    """Two panels: chi_1 and xi_c over the (sigma_b^2, sigma_w^2) plane, with the critical line chi_1 = 1.

    ``diagram`` is a :class:`rmtfp.criticality.PhaseDiagram`.
    """
    plt = pyplot()
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, 2, figsize=figsize, constrained_layout=True)
    B, W = np.meshgrid(diagram.sigma_b2, diagram.sigma_w2)
    im = axes[0].pcolormesh(B, W, diagram.chi_1, shading="auto", cmap="coolwarm", vmin=0, vmax=2)
    fig.colorbar(im, ax=axes[0], label=r"$\chi_1$")
    xi = np.where(np.isfinite(diagram.xi_c) & (diagram.xi_c > 0), diagram.xi_c, np.nan)
    lo = np.nanmin(xi) if np.isfinite(xi).any() else 1.0
    hi = max(np.nanmax(xi) if np.isfinite(xi).any() else 10.0, lo * 10)
    im2 = axes[1].pcolormesh(B, W, xi, shading="auto", cmap="viridis", norm=LogNorm(lo, hi))
    fig.colorbar(im2, ax=axes[1], label=r"$\xi_c$ (layers)")
    line = diagram.line
    for ax in axes:
        ax.plot(line.sigma_b2, line.sigma_w2, "k-", lw=2, label=r"$\chi_1 = 1$")
        ax.set_xlabel(r"$\sigma_b^2$")
        ax.set_ylabel(r"$\sigma_w^2$")
        ax.set_ylim(diagram.sigma_w2[0], diagram.sigma_w2[-1])
        ax.text(0.05, 0.92, "chaotic", transform=ax.transAxes, color="k")
        ax.text(0.65, 0.06, "ordered", transform=ax.transAxes, color="k")
    axes[0].legend(loc="center right")
    axes[0].set_title(f"{diagram.activation}: mean squared singular value per layer")
    axes[1].set_title(r"correlation depth scale $\xi_c$")
    return fig


def plot_isometry_spectra(panels: Sequence[dict], depths: Sequence[int], figsize: Optional[tuple] = None):
    """One panel per entry of ``panels`` (dict with ``title`` and ``curves``: {depth: (lam, rho, atoms)}).

    The densities are drawn against log10(lambda) as lambda rho(lambda) (the mass per decade), atoms as
    vertical bars of height equal to their mass.
    """
    plt = pyplot()
    n = len(panels)
    ncol = min(n, 4)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=figsize or (3.6 * ncol, 3.0 * nrow), squeeze=False,
                             constrained_layout=True)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(depths)))
    for ax, panel in zip(axes.flat, panels):
        for color, L in zip(colors, depths):
            if L not in panel["curves"]:
                continue
            lam, rho, atoms = panel["curves"][L]
            ax.plot(np.log10(lam), np.log(10) * lam * rho, color=color, label=f"L = {L}")
            for loc, mass in atoms:
                if loc > 0 and mass > 0:
                    ax.vlines(np.log10(loc), 0, mass, color=color, lw=3, alpha=0.6)
        ax.set_title(panel["title"], fontsize=9)
        ax.set_xlabel(r"$\log_{10}\lambda$")
        ax.set_ylabel(r"mass per decade")
        ax.set_xlim(-6, 3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    return fig
