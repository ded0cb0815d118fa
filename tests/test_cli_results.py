"""Every result type: ``to_dict()`` goes through ``json.dumps`` and back, keeps the digits of ``dps``
results, and ``repr`` is a few lines (shape, parameters, key figures), never a whole array."""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

import rmtfp
from rmtfp import ensembles, training

#: a repr is "a few lines": at most this many lines and characters (a 41 x 41 grid of starts printed whole
#: is tens of thousands of characters)
MAX_REPR_LINES = 12
MAX_REPR_CHARS = 1200


def _results():
    """(name, result) for every result type of the API, at sizes that keep the test quick."""
    net = rmtfp.Network.random([2, 12, 2], "hardtanh", rng=0)
    # x -> x/2 + b: one attracting fixed point, 2b
    fp = rmtfp.find_fixed_points(rmtfp.Network([0.5 * np.eye(2)], [np.array([0.1, 0.2])], "linear"),
                                 rmtfp.grid(step=0.1))
    spec = rmtfp.sample_jacobian_spectrum("relu", 2, 20, 3, sigma_w2=2.0, rng=0)
    scan = ensembles.contraction_scan([0.3, 0.5, 0.7], width=10, depth=2, n_networks=3, rng=0, workers=1,
                                      points=rmtfp.grid(step=0.5), progress=False)
    data = training.employee_dataset(K=2, n_per_class=4, n_heldout_per_class=2, n_fakes=4, rng=0)
    trained = training.train_autoencoder([2, 8, 2], "hardtanh", data, epochs=3, rng=0)
    out = [
        ("DensityResult", rmtfp.density(np.linspace(0.1, 3, 50), "tanh", 2, sigma_w2=1.5, sigma_b2=0.1)),
        ("DensityResult(dps)", rmtfp.density([0.5, 1.0], "linear", 2, dps=30)),
        ("Support", rmtfp.support("tanh", 2, sigma_w2=1.5, sigma_b2=0.1)),
        ("Support(dps)", rmtfp.support("erf", 3, sigma_w2=1.5, sigma_b2=0.1, dps=30)),
        ("FixedPointResult", fp),
        ("Stability", fp.stability[0]),
        ("JacobianSpectrum", spec),
        ("Concentration", spec.concentration()),
        ("SpectrumComparison", rmtfp.compare_spectrum(spec)),
        ("SpectralCDF", rmtfp.spectral_cdf("relu", 2, sigma_w2=2.0)),
        ("DepthScan", rmtfp.sample_depth_scan("relu", [1, 2], 10, 2, sigma_w2=2.0, rng=0)),
        ("QStatistics", ensembles.q_statistics([1, 2], width=8, n_networks=3, rng=0, workers=1,
                                               starts=rmtfp.grid(step=0.5), n_bootstrap=20, progress=False)),
        ("ContractionScan", scan),
        ("CriticalBeta", ensembles.critical_beta(scan)),
        ("ContractionDepth", ensembles.contraction_vs_depth([1, 2, 3], beta=0.5, width=8, n_networks=3, rng=0,
                                                            workers=1, points=rmtfp.grid(step=0.5),
                                                            progress=False)),
        ("EmployeeDataset", data),
        ("TrainingResult", trained),
        ("IdentificationReport", training.identification_report(trained.network, data)),
        ("GradientCheck", training.gradient_check(net, data, n_checks=3, rng=0)),
        ("TailFit", training.weight_spectrum_tail(np.random.default_rng(0).standard_normal((40, 40)))),
    ]
    # x -> -x/2 + (1, 0) has the fixed point (2/3, 0); x -> hardtanh(-2x) has the 2-cycle +-1
    cyc = rmtfp.find_fixed_points(rmtfp.Network([-2 * np.eye(2)], [np.zeros(2)], "hardtanh"),
                                  np.array([[0.3, 0.4], [-0.2, 0.6]]))
    out.append(("Cycle", cyc.cycles[0]))
    return out


@pytest.fixture(scope="module")
def results():
    return _results()


def test_every_result_type_is_covered(results):
    names = {n.split("(")[0] for n, _ in results}
    assert {"DensityResult", "Support", "FixedPointResult", "Stability", "Cycle", "JacobianSpectrum",
            "Concentration", "SpectrumComparison", "SpectralCDF", "DepthScan", "QStatistics", "ContractionScan",
            "CriticalBeta", "ContractionDepth", "EmployeeDataset", "TrainingResult", "IdentificationReport",
            "GradientCheck", "TailFit"} <= names


def test_to_dict_round_trips_through_json(results):
    for name, r in results:
        d = r.to_dict()
        text = json.dumps(d, allow_nan=False)  # strict JSON: no NaN/Infinity tokens either
        assert json.loads(text) == json.loads(json.dumps(json.loads(text))), name
        assert isinstance(json.loads(text), dict), name


def test_dps_results_keep_their_digits(results):
    by_name = dict(results)
    d = json.loads(json.dumps(by_name["DensityResult(dps)"].to_dict()))
    # rho(0.5) for L = 2 (Haagerup-Moeller), 30 digits: more than a float64 holds
    assert d["density"][0].startswith("0.31830988618379067153776752674")
    sup = by_name["Support(dps)"]
    s = json.loads(json.dumps(sup.to_dict()))
    # the string reads back as the 30-digit number itself, not its float64 rounding
    with mpmath.workdps(40):
        read_back = mpmath.mpf(s["lambda_max"])
        assert abs(read_back - sup.lambda_max) <= mpmath.mpf(10) ** -28 * abs(sup.lambda_max)
        assert abs(mpmath.mpf(float(sup.lambda_max)) - sup.lambda_max) > mpmath.mpf(10) ** -25 * abs(sup.lambda_max)


def test_reprs_are_a_few_lines(results):
    for name, r in results:
        text = repr(r)
        assert len(text.splitlines()) <= MAX_REPR_LINES and len(text) <= MAX_REPR_CHARS, (name, len(text))
        assert type(r).__name__ in text, name
