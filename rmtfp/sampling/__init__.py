"""Finite-width Jacobian spectra and their comparison with the theory.

The network has ``depth`` layers of equal width N,

    h^l = W^l x^{l-1} + b^l,    x^l = phi(h^l),    l = 1..L,

and its input-output Jacobian is J = D^L W^L ... D^1 W^1 with
D^l = diag phi'(h^l).  :func:`sample_jacobian_spectrum` draws independent
networks and returns the eigenvalues of J J^T (the squared singular values of
J) of each; :func:`compare_spectrum` measures how far they are from the
infinite-width law of :func:`rmtfp.density` and says how far they should be.

Weight laws
-----------
``"gaussian"``   W_ij ~ N(0, sigma_w2/N), b_i ~ N(0, sigma_b2).
``"cauchy"``     W_ij ~ Cauchy(0, sigma_w2/N), b_i ~ Cauchy(0, sigma_b2):
                 sigma_w2/N is the *scale* parameter (the law has no
                 variance), so sigma_w2 = 1 is the papers' Cauchy(0, 1/N).
frozen scipy     ``scipy.stats.t(5)``, ``scipy.stats.uniform(-3**.5, 2*3**.5)``...:
distribution     W_ij = sqrt(sigma_w2/N) X_ij with X_ij drawn from the law,
                 b_i ~ N(0, sigma_b2).  The theory sees the weight variance
                 sigma_w2 Var(X) and needs E[X] = 0.
callable         ``f(rng, shape) -> array`` of i.i.d. draws X, used like a
                 frozen distribution; X is taken to be standardised (mean 0,
                 variance 1).

Every network draws from its own stream (``SeedSequence(seed).spawn``, one
SFC64 generator per network: half the cost of PCG64 for the N^2 normal
draws), so the eigenvalues depend only on the seed: not on ``batch``,
``workers`` or the machine's number of cores.
"""

from __future__ import annotations

from .cdf import SpectralCDF, spectral_cdf
from .compare import SpectrumComparison, compare_spectrum, ks_distance
from .draw import sample_depth_scan, sample_jacobian_spectrum
from .laws import WEIGHT_LAWS
from .results import Concentration, DepthScan, JacobianSpectrum, spectrum_concentration

__all__ = [
    "JacobianSpectrum",
    "DepthScan",
    "Concentration",
    "SpectralCDF",
    "SpectrumComparison",
    "sample_jacobian_spectrum",
    "sample_depth_scan",
    "spectrum_concentration",
    "spectral_cdf",
    "compare_spectrum",
    "ks_distance",
    "WEIGHT_LAWS",
]
