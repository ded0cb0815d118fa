"""Usage errors of every command: exit status 2, one line on stderr that names the option."""

from __future__ import annotations

import pytest

from rmtfp.cli import main


@pytest.mark.parametrize(
    "args, message",
    [
        (["basins", "--widths", "2,10,2", "--random-starts", "0"], "--random-starts must be an integer >= 1, got 0"),
        (["basins", "--widths", "2,10,2", "--seed", "-1"], "--seed must be an integer >= 0, got -1"),
        (["basins", "--widths", "2,-5,2"], "--widths needs at least two positive integers"),
        (["basins", "--scale", "abc"], "--scale must be 'fan_in' or a number"),
        (["basins", "--weights", "laplace"], "--weights must be one of normal, cauchy, got 'laplace'"),
        (["basins", "--max-iter", "0"], "--max-iter must be an integer >= 1"),
        (["qstats", "--depths", "1", "--networks", "0"], "--networks must be an integer >= 1, got 0"),
        (["qstats", "--bootstrap", "-1"], "--bootstrap must be an integer >= 0, got -1"),
        (["qstats", "--depths", "0:2"], "depths must be START:STOP"),
        (["qstats", "--seed", "-1"], "--seed must be an integer >= 0"),
        (["beta-scan", "--vs-depth", "1:3", "--beta", "abc"], "--beta must be a number"),
        (["beta-scan", "--networks", "0"], "--networks must be an integer >= 1"),
        (["train-demo", "--employees", "0"], "--employees must be an integer >= 1"),
        (["train-demo", "--fakes", "-1"], "--fakes must be an integer >= 0"),
        (["train-demo", "--per-class", "0"], "--per-class must be an integer >= 1"),
        (["validate", "--workers", "0"], "--workers must be an integer >= 1"),
        (["sample", "--depth", "1", "--width", "2", "--samples", "1", "--seed", "-1"],
         "--seed must be an integer >= 0"),
        (["nosuch"], "invalid choice: 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line_naming_the_option(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "--help" in err


def test_import_and_help_do_not_load_sympy_or_scipy_stats():
    import subprocess
    import sys

    # import rmtfp cost ~1.2 s of CPU with sympy and scipy.stats loaded at import; they are loaded where used
    code = ("import sys, rmtfp, rmtfp.cli; rmtfp.cli.build_parser(); "
            "print(sorted(m for m in ('sympy', 'scipy.stats') if m in sys.modules)); "
            "import rmtfp.ensembles, rmtfp.training, rmtfp.sampling, rmtfp.dynamics, rmtfp.spectrum; "
            "print('scipy.stats' in sys.modules); print(callable(rmtfp.density), 'density' in rmtfp.__all__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "False", "True True"]
