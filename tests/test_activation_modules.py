"""The Activation class is assembled from one module per concept; every name stays where it was."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from rmtfp import activations

#: concept modules of rmtfp.activations and the methods each contributes to Activation
PARTS = {
    "quadrature": ("GaussianQuadrature", ("_quad_grid", "_quad_nodes", "_quad_mp", "_d2_even")),
    "mgf": ("MomentGeneratingFunction", ("mgf_d2", "_mgf_np", "_mgf_mp", "_series_terms")),
    "kernels": ("SpectralKernels", ("mgf_kernels", "mgf_kernels_mp", "_discrete_kernels")),
    "meanfield": ("MeanField", ("second_moment", "variance_map", "q_star", "chi", "_second_moment_mp")),
}


def test_core_keeps_its_names():
    from rmtfp.activations.core import Activation, X, _check_positive, _lerch_half_mp  # noqa: F401
    from rmtfp.activations import Activation as A, X as X2

    assert A is Activation and X2 is X and X.is_real
    assert activations.get("tanh").variable is X


@pytest.mark.parametrize("module", sorted(PARTS))
def test_every_part_is_a_base_of_activation(module):
    from rmtfp.activations.core import Activation

    mod = importlib.import_module(f"rmtfp.activations.{module}")
    cls_name, methods = PARTS[module]
    cls = getattr(mod, cls_name)
    assert cls in Activation.__mro__
    for name in methods:  # defined once, in its concept module
        assert name in vars(cls) and getattr(Activation, name) is getattr(cls, name)
        assert not any(name in vars(other) for other in Activation.__mro__ if other not in (cls, object))


@pytest.mark.parametrize("name", activations.available())
def test_parts_agree_with_each_other(name):
    """The kernels (one module) against m_K (another), the mean field's chi against the moments (core)."""
    act = activations.get(name)
    q = 0.7
    u = np.array([-3.0 + 0.5j, 0.1 + 0.2j, 2.0 + 1.0j])
    m, dm = act.mgf_d2(u, q=q, derivative=True)
    km, kn, kum = act.mgf_kernels(u, q)[:3]
    # two routes of one quantity: tolerance 1e-9 relative, well above the 1e-12 of the kernels' Lerch route and the
    # 1e3 eps of their quadrature route
    np.testing.assert_allclose(km, m, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(kn, 1 + m, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(kum, u * dm, rtol=1e-9, atol=1e-12)
    assert act.chi(1.5, 0.1, q=q) == pytest.approx(1.5 * act.d2_moment(1, q), rel=1e-15)
