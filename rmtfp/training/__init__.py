"""Trained autoencoders: the papers' employee model, training, identification and weight tails.

The employee model (Berlyand, Krupchytskyi & Slavin, section 6; Berlyand &
Slavin, section II example 2) is a toy access-control system in R^2.  Each
of K employees k has a "true" photo x_k^* (the centre of a circle of radius
r in Omega = [-1, 1]^2) and other photos inside the circle.  A network
Phi: R^2 -> R^2 is trained with the loss of the papers' eq. (2.6),

.. math::

    \\mathcal{L}(\\alpha) = \\sum_{k=1}^{K} \\sum_{x \\in T_k}
        \\| \\Phi(x, \\alpha) - x_k^* \\|^2 ,

so that every photo of employee k is sent to x_k^*; then x_k^* is (close to)
a fixed point of Phi, and a photo x is identified as employee k's when the
iteration x, Phi(x), Phi(Phi(x)), ... converges to the fixed point at x_k^*
(x lies in its basin of attraction).  A photo attracted elsewhere (another
fixed point, a cycle, no convergence) is rejected as a fake.

Contents
--------
:func:`employee_dataset`       the circles, training, held-out and fake photos
:func:`train_autoencoder`      Adam on eq. (2.6) with analytic backpropagation
:func:`loss_and_gradient`      eq. (2.6) and its exact gradient
:func:`gradient_check`         the gradient against central finite differences
:func:`identification_report`  fixed points, basins, held-out accuracy, fakes
:func:`power_law_fit`          maximum-likelihood power-law tail, KS-chosen cutoff
:func:`weight_spectrum_tail`   that fit on the eigenvalues of W^T W

Everything is numpy; randomness comes only from the ``rng`` arguments.
"""

from __future__ import annotations

from .autoencoder import TrainingResult, train_autoencoder
from .data import EmployeeDataset, employee_dataset
from .gradient import GradientCheck, gradient_check, loss_and_gradient
from .identification import IdentificationReport, identification_report
from .tails import TailFit, power_law_fit, weight_spectrum_tail

__all__ = [
    "EmployeeDataset",
    "TrainingResult",
    "GradientCheck",
    "IdentificationReport",
    "TailFit",
    "employee_dataset",
    "train_autoencoder",
    "loss_and_gradient",
    "gradient_check",
    "identification_report",
    "power_law_fit",
    "weight_spectrum_tail",
]
