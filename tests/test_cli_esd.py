"""``rmtfp esd``: output formats, errors as one-line messages with non-zero exit."""

import json
import subprocess
import sys

import numpy as np
import pytest

from rmtfp import density
from rmtfp.cli import main


def test_json_output(capsys):
    assert main(["esd", "--activation", "hardtanh", "--depth", "3", "--sigma-w2", "1.5", "--sigma-b2", "0.1",
                 "--lam", "0.01:10:7", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"lam", "density", "status", "atom", "lambda_max", "params"}
    assert len(d["lam"]) == 7 and d["lam"][0] == 0.01 and d["lam"][-1] == 10.0
    ref = density(np.linspace(0.01, 10, 7), "hardtanh", 3, sigma_w2=1.5, sigma_b2=0.1)
    np.testing.assert_allclose(d["density"], ref.density, rtol=1e-15)
    assert d["atom"] == pytest.approx(ref.atom)
    assert d["params"]["q_source"] == "q_star"
    assert d["status"] == ["converged"] * 7


def test_comma_list_and_dps_keep_all_digits(capsys):
    assert main(["esd", "--activation", "linear", "--depth", "2", "--lam", "0.5,1", "--dps", "30", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["lam"] == [0.5, 1.0]
    # rho(0.5) for L = 2 (Haagerup-Moeller), 30 digits
    assert d["density"][0].startswith("0.31830988618379067153776752674")


def test_csv_output(capsys):
    assert main(["esd", "--activation", "relu", "--depth", "2", "--sigma-w2", "2", "--lam", "1,2", "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "lam,density,status"
    assert len(lines) == 3 and lines[1].endswith(",converged")


def test_table_and_plot(capsys, tmp_path):
    out = tmp_path / "esd.png"
    assert main(["esd", "--activation", "erf", "--depth", "2", "--sigma-w2", "1.5", "--sigma-b2", "0.1",
                 "--plot", str(out), "--log"]) == 0
    text = capsys.readouterr().out
    assert "lambda_max" in text and "atom at 0" in text
    assert out.stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["--depth", "0", "--lam", "1"], "depth must be an integer >= 1"),
    (["--lam", "-1"], "lam must be finite and > 0"),
    (["--activation", "nope", "--lam", "1"], "unknown activation"),
    (["--sigma-w2", "-1", "--lam", "1"], "sigma_w2 must be"),
    (["--q", "0", "--activation", "erf", "--lam", "1"], "q must be"),
    (["--dps", "2", "--lam", "1"], "dps must be"),
    # {missing}: a directory under tmp_path that does not exist (a fixed path such as /nonexistent may exist)
    (["--lam", "1", "--plot", "{missing}/rho.png"], "--plot: the directory '{missing}' does not exist"),
    (["--lam", "1", "--plot", "."], "--plot must name a file, got the directory"),
])
def test_errors_are_one_line(capsys, argv, message, tmp_path):
    missing = str(tmp_path / "missing")
    argv = [a.replace("{missing}", missing) for a in argv]
    message = message.replace("{missing}", missing)
    assert main(["esd", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("lam", ["1:2", "1,,2", "1,2,", ""])
def test_bad_lam_syntax_is_a_usage_error(capsys, lam):
    with pytest.raises(SystemExit) as exc:
        main(["esd", "--lam", lam])
    assert exc.value.code == 2
    assert "START:STOP:NUM" in capsys.readouterr().err


def test_non_convergence_is_reported(capsys):
    # the papers' iteration at L = 1 hits N0 on the bulk (docs/theory.md)
    assert main(["esd", "--activation", "relu", "--depth", "1", "--lam", "0.5", "--method", "iteration"]) == 3
    captured = capsys.readouterr()
    assert "max_iter" in captured.out
    assert "did not converge" in captured.err


def test_output_into_a_closed_pipe_ends_quietly():
    """``rmtfp esd ... | head -1``: the reader closes the pipe early; no traceback, exit 0."""
    cmd = f"{sys.executable} -m rmtfp.cli esd --lam 0.1:5:20000 --csv | head -1"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert out.stdout == "lam,density,status\n"
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr
    assert out.returncode == 0
