"""Draw the figures of the documentation into docs/img/.

    python3 docs/make_figures.py

``docs/img/overview.png`` (README, home page, getting started) has two panels:

* left: the eigenvalue density of J Jᵀ for hard-tanh, L = 3, σ_w² = 1.5,
  σ_b² = 0.1 from the functional equation, against the pooled eigenvalues of
  40 sampled networks of width 200 (KS distance and atom in the box);
* right: the basins of attraction of a random network R² → R² (widths
  2, 100, 100, 100, 100, 2, hard-tanh, Cauchy weights, seed 1) on the
  papers' 41 × 41 grid, with its two stable fixed points.

``docs/img/validation/claimNN_*.png`` (differences from the papers) are the
figures of the validation suite (``rmtfp validate --quick``) for the claims of
the papers that do not reproduce.

    python3 docs/make_figures.py --only overview     # or: --only validation

Every number in the figures is computed with fixed seeds, so the figures are
reproducible (about 5 s for the overview, a minute for the validation figures
on two cores).
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


#: claims of the papers shown in docs/differences-from-the-papers.md
VALIDATION_CLAIMS = (1, 2, 5, 6, 8, 14)


def validation_figures(out: Path, claims=VALIDATION_CLAIMS, mode: str = "quick") -> list:
    """Run the validation claims and save their figures in ``out``; returns the records."""
    from rmtfp import validation
    from rmtfp.validation.report import add_figures

    out.mkdir(parents=True, exist_ok=True)
    records = []
    for number in claims:
        rec = add_figures(validation.run_claim(number, mode), out)
        print(f"claim {number}: {rec.status}: {', '.join(rec.figures)}")
        records.append(rec)
    return records


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Draw the figures of the documentation into docs/img/.")
    ap.add_argument("--only", choices=("overview", "validation"), help="draw one group only")
    args = ap.parse_args(argv)
    IMG.mkdir(exist_ok=True)
    np.seterr(all="ignore")
    if args.only in (None, "overview"):
        print(overview(IMG / "overview.png"))
    if args.only in (None, "validation"):
        validation_figures(IMG / "validation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
