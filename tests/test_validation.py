"""The validation suite and ``rmtfp validate``.

The quick validation runs once for the whole module (``report`` fixture,
through the real command line); every claim is then checked from its record:
the check ran, its status can be re-derived from ``results.json``, its
figures exist, and the measured numbers satisfy what must hold whatever the
verdict (exact mathematical facts, counts that add up).  Separate tests make
claims fail on purpose and check that a failure is reported as ``error``,
never as ``reproduced``.
"""

from __future__ import annotations

import argparse
import json
import math
import re

import numpy as np
import pytest

from rmtfp import validation
from rmtfp.cli import main
from rmtfp.commands.validate import parse_only
from rmtfp.validation import report as vreport
from rmtfp.validation._common import (CORRECTED, ERROR, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, STATUSES, Check,
                                      jsonable, proportion_interval, proportion_verdict)

CLAIMS = validation.available()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Run ``rmtfp validate --quick`` once; (exit status, output dir, results.json, records by number)."""
    out = tmp_path_factory.mktemp("rmtfp-report")
    rc = main(["validate", "--quick", "--out", str(out), "--no-progress"])
    data = json.loads((out / "results.json").read_text())
    by_number = {c["number"]: c for c in data["claims"]}
    return rc, out, data, by_number


# ----------------------------------------------------------------- the whole run
def test_quick_run_writes_the_report(report):
    rc, out, data, by_number = report
    assert rc == 0, {n: c["error"] for n, c in by_number.items() if c["status"] == ERROR}
    for name in ("report.md", "report.html", "results.json"):
        assert (out / name).stat().st_size > 1000
    assert sorted(by_number) == CLAIMS
    assert data["meta"]["mode"] == "quick"
    assert data["statuses"] == {str(n): by_number[n]["status"] for n in CLAIMS}
    md = (out / "report.md").read_text()
    for n in CLAIMS:
        assert f"## Claim {n}: " in md
        assert f"| {n} | [" in md


def test_html_is_self_contained(report):
    _, out, _, by_number = report
    text = (out / "report.html").read_text()
    n_figures = sum(len(c["figures"]) for c in by_number.values())
    assert n_figures >= len(CLAIMS)
    assert text.count("src='data:image/png;base64,") == n_figures
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", text)
    assert "<script" not in text
    for c in by_number.values():
        assert f"id='claim-{c['number']}'" in text


@pytest.mark.parametrize("number", CLAIMS)
def test_claim_quick(report, number):
    """Claim ``number`` ran in quick mode: status, numbers, parameters, seeds, timing, figures."""
    _, out, _, by_number = report
    c = by_number[number]
    assert c["status"] in STATUSES[:-1], c["error"]
    assert c["summary"] and c["criterion"] and c["claim"] and c["source"]
    assert c["numbers"] and c["params"] and c["seeds"]
    assert set(c["timing"]) == {"compute", "check", "plot"}
    assert c["figures"]
    for name in c["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if c["status"] == CORRECTED:
        assert c["correction"]
    if c["status"] == INCONCLUSIVE:
        assert c["decide"]
    # the status follows from the saved measurement alone
    again = validation.load(number).check(c["result"])
    assert again.status == c["status"]
    assert jsonable(again.numbers) == c["numbers"]
    SPECIFIC[number](c)


# ----------------------------------------------------------------- per-claim facts
def _claim1(c):
    n = c["numbers"]
    assert n["networks"] == c["params"]["n_networks"] == len(c["result"]["long_budget"])
    assert n["unique_attractor_networks"] <= n["networks"]
    # zero biases make 0 a fixed point of an odd activation: whenever that network has one attractor it is 0
    for s in c["result"]["zero_bias"]:
        if s["Q"] == 1 and s["n_cycles"] == 0 and s["unresolved"] == 0:
            assert s["x_star_norm"] < 1e-8


def _q_distribution(rows):
    for d in rows:
        Q = np.asarray(d["Q"])
        lo, hi = d["mode_interval"]
        assert lo <= d["mode"] <= hi
        assert d["mode"] == int(np.argmax(np.bincount(Q)))
        assert math.isclose(d["mean"], Q.mean())


def _claim2(c):
    _q_distribution(c["result"]["per_depth"])
    assert [d["depth"] for d in c["result"]["per_depth"]] == [2, 3, 5, 20]


def _claim3(c):
    _q_distribution(c["result"]["per_depth"])


def _claim4(c):
    rows = c["result"]["networks"]
    assert c["numbers"]["agreeing"] == sum(len(set(r["Q"].values())) == 1 for r in rows)
    assert len(rows) == len(c["params"]["depths"]) * c["params"]["n_networks"]


def _claim5(c):
    n = c["numbers"]
    assert n["counterexamples"] == sum(r["counterexamples"] for r in n["per_cell"])
    assert n["counterexamples"] <= n["with_2_or_more_fixed_points"] + n["with_cycles"]
    assert n["networks"] == sum(r["networks"] for r in n["per_cell"])


def _claim6(c):
    for s in c["result"]["scans"]:
        g = np.asarray(s["median_g"], dtype=float)
        assert np.all(g > 0)
        lo, hi = s["interval"]
        if lo is not None and hi is not None:
            assert lo <= s["beta_cr"] <= hi
    assert c["numbers"]["verdicts"].keys() == {"tanh", "sigmoid"}


def _claim7(c):
    for f in c["result"]["fits"]:
        L = np.asarray(f["depths"], dtype=float)
        y = np.asarray(f["log_g_mean"])
        assert np.all(np.diff(L) > 0) and np.all(np.isfinite(y))
        # g >= 0 on distinct points and log g below the log of the bound diam(Phi(Omega)) / grid step
        assert np.all(y < math.log(2 * math.sqrt(2) / c["params"]["step"]) + 1e-9)


def _claim8(c):
    for b in c["result"]["basins"]:
        if b["g"] is not None:
            assert b["g"] >= 0 and b["basin_points"] >= 2


def _claim9(c):
    for n in c["result"]["networks"]:
        h = np.asarray(n["loss_history"])
        assert h[-1] < h[0]  # training lowers the loss (2.6)
        assert len(n["distances"]) == c["params"]["K"]


def _claim10(c):
    cmp = c["result"]["comparison"]
    assert cmp["moments"] == pytest.approx([1, 3, 12, 55])  # Fuss-Catalan numbers, s = 2
    assert cmp["lambda_max"] == pytest.approx(27 / 4)  # (L+1)^(L+1)/L^L


def _claim11(c):
    n = c["numbers"]
    assert n["mean_theory"] == pytest.approx([1.0] * len(n["depths"]), rel=1e-12)  # chi^L, chi = 1
    assert n["lambda_max"][0] == pytest.approx(4.0)  # Marchenko-Pastur edge
    assert n["P_le_1"] == pytest.approx(n["P_le_1_sampled"], abs=0.05)


def _claim12(c):
    for rows in c["result"]["concentration"].values():
        for r in rows:
            f = r["fraction_below"]
            assert f == sorted(f)  # more eigenvalues below a larger threshold
            assert r["zero_fraction"] <= f[0] + 1e-12


def _claim13(c):
    n = c["numbers"]
    assert c["status"] == CORRECTED  # a mathematical fact, not a statistical finding
    assert n["max_rel_error_derived_vs_quadrature"] < 1e-8
    assert n["max_deviation_of_papers_over_derived_from_1_over_sqrt2"] < 1e-10
    assert n["symbolic_ratio_is_1_over_sqrt2"]


def _claim14(c):
    rows = c["numbers"]["per_depth"]
    assert c["numbers"]["newton_max_err"] < 1e-8
    for r in rows:
        if r["depth"] >= 2:  # w = 0 is a fixed point of the iteration: the scheme as written returns ~0
            assert r["as_written_max_density"] < 1e-5
    assert c["status"] in (CORRECTED, NOT_REPRODUCED)


def _claim15(c):
    n = c["numbers"]
    assert n["passing"] <= min(n["stable"], n["interior"]) <= n["fixed_points"]
    for f in c["result"]["fixed_points"]:
        assert (f["kind"] == "stable") == (f["spectral_radius"] < 1 - 1e-8)


SPECIFIC = {1: _claim1, 2: _claim2, 3: _claim3, 4: _claim4, 5: _claim5, 6: _claim6, 7: _claim7, 8: _claim8,
            9: _claim9, 10: _claim10, 11: _claim11, 12: _claim12, 13: _claim13, 14: _claim14, 15: _claim15}


def test_every_claim_has_a_specific_test():
    assert sorted(SPECIFIC) == CLAIMS


def test_claims_2_and_3_share_the_ensemble(report):
    _, _, _, by_number = report
    q3 = {d["depth"]: d["Q"] for d in by_number[3]["result"]["per_depth"]}
    for d in by_number[2]["result"]["per_depth"]:
        if d["depth"] in q3:
            assert d["Q"] == q3[d["depth"]]


# ----------------------------------------------------------------- failures are errors
def _cheap_claim():
    return 13  # about a second in quick mode


def test_a_claim_that_raises_is_an_error(monkeypatch):
    mod = validation.load(_cheap_claim())

    def broken(mode="quick"):
        raise RuntimeError("deliberately broken computation")

    monkeypatch.setattr(mod, "compute", broken)
    rec = validation.run_claim(_cheap_claim(), "quick")
    assert rec.status == ERROR
    assert "deliberately broken computation" in rec.error and "RuntimeError" in rec.traceback
    assert rec.result is None and "compute" in rec.timing


def test_a_broken_claim_fails_the_command_and_shows_in_the_report(monkeypatch, tmp_path, capsys):
    mod = validation.load(_cheap_claim())
    monkeypatch.setattr(mod, "compute", lambda mode="quick": {"params": {}, "seeds": {}, "points": []})
    rc = main(["validate", "--only", str(_cheap_claim()), "--out", str(tmp_path), "--no-progress"])
    assert rc == 1
    assert "error" in capsys.readouterr().out
    data = json.loads((tmp_path / "results.json").read_text())
    (claim,) = data["claims"]
    assert claim["status"] == ERROR and claim["traceback"]
    assert "Error:" in (tmp_path / "report.md").read_text()
    assert "reproduced" not in data["statuses"].values()


def test_a_positive_status_on_nan_is_an_error(monkeypatch):
    mod = validation.load(_cheap_claim())
    monkeypatch.setattr(mod, "compute", lambda mode="quick": {"params": {"a": 1}, "seeds": {"b": 2}})
    monkeypatch.setattr(mod, "check", lambda result: Check(REPRODUCED, "looks fine", {"error": float("nan")}))
    rec = validation.run_claim(_cheap_claim(), "quick")
    assert rec.status == ERROR and "non-finite" in rec.error


@pytest.mark.parametrize("bad_check", [lambda r: "reproduced", lambda r: Check(REPRODUCED, "no numbers", {}),
                                       lambda r: 1 / 0])
def test_an_invalid_check_is_an_error(monkeypatch, bad_check):
    mod = validation.load(_cheap_claim())
    monkeypatch.setattr(mod, "compute", lambda mode="quick": {"params": {}, "seeds": {}})
    monkeypatch.setattr(mod, "check", bad_check)
    assert validation.run_claim(_cheap_claim(), "quick").status == ERROR


def test_a_failing_plot_is_an_error_that_keeps_the_verdict(monkeypatch, tmp_path):
    mod = validation.load(_cheap_claim())
    monkeypatch.setattr(mod, "compute", lambda mode="quick": {"params": {}, "seeds": {}})
    monkeypatch.setattr(mod, "check", lambda r: Check(NOT_REPRODUCED, "measured", {"x": 1.0}))

    def bad_plot(result):
        raise ValueError("no figure")

    monkeypatch.setattr(mod, "plot", bad_plot)
    rec = vreport.add_figures(validation.run_claim(_cheap_claim(), "quick"), tmp_path)
    assert rec.status == ERROR and rec.check_status == NOT_REPRODUCED and "no figure" in rec.error


def test_check_needs_a_correction_or_a_decision():
    with pytest.raises(ValueError):
        Check(CORRECTED, "x", {"a": 1})
    with pytest.raises(ValueError):
        Check(INCONCLUSIVE, "x", {"a": 1})
    with pytest.raises(ValueError):
        Check(ERROR, "x", {"a": 1})


# ----------------------------------------------------------------- pieces
def test_parse_only():
    assert parse_only("3,7") == [3, 7]
    assert parse_only("1-3,9") == [1, 2, 3, 9]
    assert parse_only("7,3,3") == [3, 7]
    for bad in ("", "a", "3-1", "1,,x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_only(bad)


def test_unknown_claim_is_an_input_error(tmp_path, capsys):
    assert main(["validate", "--only", "99", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "99" in capsys.readouterr().err


def test_proportions():
    # Clopper-Pearson: k = 0 of 10 gives (0, 1 - 0.025^(1/10)) exactly
    lo, hi = proportion_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** 0.1)
    assert proportion_verdict(10, 10, 0.9)[0] == "holds"
    assert proportion_verdict(2, 10, 0.9)[0] == "fails"
    assert proportion_verdict(8, 10, 0.9)[0] == "undecided"


def test_jsonable_drops_private_keys_and_non_finite_numbers():
    out = jsonable({"a": np.array([1.0, np.nan]), "_obj": object(), "b": {"_c": 1, "d": np.inf}})
    assert out == {"a": [1.0, None], "b": {"d": None}}


@pytest.mark.slow
def test_full_mode_of_the_exact_claims(tmp_path):
    """Claims 13 and 14 are mathematics, not statistics: the papers' sizes give the same verdicts."""
    rc = main(["validate", "--full", "--only", "13,14", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    claims = {c["number"]: c for c in json.loads((tmp_path / "results.json").read_text())["claims"]}
    assert claims[13]["status"] == CORRECTED
    assert claims[13]["numbers"]["max_rel_error_derived_vs_quadrature"] < 1e-8
    assert claims[14]["numbers"]["newton_max_err"] < 1e-8
    assert claims[14]["params"]["depths"] == [1, 2, 3, 5, 10, 20]
