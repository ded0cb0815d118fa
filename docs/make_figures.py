"""Draw the figures of the documentation into docs/img/.

    python3 docs/make_figures.py

``docs/img/overview.png`` (README, home page, getting started) has two panels:

* left: the eigenvalue density of J Jᵀ for hard-tanh, L = 3, σ_w² = 1.5,
  σ_b² = 0.1 from the functional equation, against the pooled eigenvalues of
  40 sampled networks of width 200 (KS distance and atom in the box);
* right: the basins of attraction of a random network R² → R² (widths
  2, 100, 100, 100, 100, 2, hard-tanh, Cauchy weights, seed 1) on the
  papers' 41 × 41 grid, with its two stable fixed points.

Every number in the figure is computed by the public API with a fixed seed, so
the figure is reproducible (about 20 s on one core).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import rmtfp  # noqa: E402
from rmtfp.plotting import plot_basins, plot_spectrum_comparison, save_figure  # noqa: E402
from rmtfp.plotting._common import pyplot  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"


def overview(path: Path) -> Path:
    plt = pyplot()
    fig, (ax_s, ax_b) = plt.subplots(1, 2, figsize=(11.0, 4.3), gridspec_kw={"width_ratios": [1.15, 1.0]})

    sample = rmtfp.sample_jacobian_spectrum("hardtanh", depth=3, width=200, n_samples=40, sigma_w2=1.5,
                                            sigma_b2=0.1, rng=7)
    comparison = rmtfp.compare_spectrum(sample)
    plot_spectrum_comparison(sample, comparison, ax=ax_s,
                             title="hard-tanh, L = 3, σ_w² = 1.5, σ_b² = 0.1: theory vs width 200")

    net = rmtfp.Network.random([2, 100, 100, 100, 100, 2], "hardtanh", weights="cauchy", rng=1)
    result = rmtfp.find_fixed_points(net)
    plot_basins(result, ax=ax_b, title=f"basins of a random network R² → R² (Q = {result.Q})")

    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    IMG.mkdir(exist_ok=True)
    np.seterr(all="ignore")
    print(overview(IMG / "overview.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
