"""Figures and numbers of the "Dynamical isometry" page.

    PYTHONPATH=. python3 docs/make_isometry.py     # writes docs/img/isometry_*.png, prints the tables
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rmtfp
from rmtfp.criticality import critical_parameters, phase_diagram
from rmtfp.plotting import plot_isometry_spectra, plot_phase_diagram, save_figure
from rmtfp.spectrum.layered import density_layered
from rmtfp.spectrum.weights import architecture

IMG = Path(__file__).parent / "img"
DEPTHS = (2, 8, 32, 128)
Q_STAR = 0.05  # the sigmoidal networks sit on the critical line at this q*


def spread_table():
    print("| activation | weights | q* | L = 2 | L = 8 | L = 32 | L = 128 |")
    print("|---|---|---|---|---|---|---|")
    for act, qs in (("relu", (1.0,)), ("hardtanh", (1.0, 0.1, 0.01, 0.001)), ("erf", (1.0, 0.1, 0.01, 0.001))):
        for weights in ("gaussian", "orthogonal"):
            for q in qs:
                v = [rmtfp.isometry(act, L, weights=weights, q_star=q, quantiles=False).variance for L in DEPTHS]
                qtxt = "any" if act == "relu" else f"{q:g}"
                print(f"| {act} | {weights} | {qtxt} | " + " | ".join(f"{x:.4g}" for x in v) + " |")


def condition_table():
    print("| activation | weights | L | lambda_max | lambda_95 / lambda_05 |")
    print("|---|---|---|---|---|")
    for act in ("relu", "hardtanh", "erf"):
        for weights in ("gaussian", "orthogonal"):
            r = rmtfp.isometry(act, 8, weights=weights, q_star=Q_STAR)
            print(f"| {act} | {weights} | 8 | {r.lambda_max:.4g} | {r.condition_bulk:.3g} |")


def spectra_figure():
    panels = []
    for act in ("relu", "hardtanh", "erf"):
        for weights in ("gaussian", "orthogonal"):
            curves = {}
            sw2, sb2 = (2.0, 0.0) if act == "relu" else critical_parameters(act, Q_STAR)
            q = None if act == "relu" else Q_STAR
            for L in DEPTHS:
                sup = rmtfp.support(act, L, sigma_w2=sw2, q=q, weights=weights)
                top = float(sup.params.get("lambda_max_continuous", sup.lambda_max))
                lam = np.geomspace(1e-6, 0.999 * top, 300)  # inverse-square-root edges (ReLU, orthogonal, L = 2)
                r = rmtfp.density(lam, act, L, sigma_w2=sw2, q=q, weights=weights)
                rho, status = np.asarray(r.density, dtype=float).copy(), np.asarray(r.status).copy()
                bad = status != 0
                if bad.any():  # second route: the layer system with the weight factor
                    arch = architecture(weights, None, L, sw2)
                    rho[bad], _, status[bad] = density_layered(lam[bad], act, [q or 1.0] * L, sw2, arch=arch)
                ok = status == 0
                atoms = sup.params.get("atoms", [[0.0, float(sup.atom)]])
                curves[L] = (lam[ok], rho[ok], atoms)
            title = f"{act}, {weights}" + ("" if act == "relu" else f", q* = {Q_STAR}")
            panels.append({"title": title, "curves": curves})
    save_figure(plot_isometry_spectra(panels, DEPTHS), IMG / "isometry_spectra.png")


def phase_figure():
    save_figure(plot_phase_diagram(phase_diagram("tanh", np.linspace(0, 0.3, 13), np.linspace(0.5, 3.0, 26))),
                IMG / "isometry_phase_tanh.png")


if __name__ == "__main__":
    import sys

    if "--spectra" not in sys.argv:
        spread_table()
        print()
        condition_table()
        phase_figure()
    spectra_figure()
