"""The benchmark scripts stay importable (they are run by hand, not by the test suite)."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("bench_*.py")))
def test_benchmark_imports(script, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # the scripts import their helper _floor as a sibling
    spec = importlib.util.spec_from_file_location(script[:-3], BENCH / script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, script[:-3], module)
    spec.loader.exec_module(module)
    assert callable(module.main)


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("bench_*.py")))
def test_benchmark_help_prints_usage_and_runs_nothing(script):
    import subprocess

    # a benchmark runs for minutes; --help must answer at once (the import of rmtfp is the cost)
    done = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and "--help" in done.stdout


@pytest.mark.slow
def test_fixed_point_benchmark_runs_to_the_end():
    import subprocess

    # the whole script on one network, one repeat, without the fine basin map: every section prints (the
    # detailed cases once failed to unpack the timings after a line was added to the summary)
    done = subprocess.run([sys.executable, str(BENCH / "bench_fixed_points.py"), "--networks", "1", "--repeat", "1",
                           "--skip-fine"], capture_output=True, text=True, timeout=600, cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "1 Cauchy networks (seeds 0..0): rmtfp / plain numpy" in out
    for law, seed in (("cauchy", 1), ("cauchy", 2), ("normal", 4)):
        assert f"{law} seed {seed}: Q=" in out
    assert out.count("pairwise g (eq. 5.2)") == 3
