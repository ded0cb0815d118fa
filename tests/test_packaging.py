"""What an installation of rmtfp contains, in every mode: source tree, wheel, sdist, editable.

The claims of the validation suite live in the repository's top-level
``validation/`` folder and install as ``rmtfp.validation``: an installation
adds ``rmtfp`` and nothing else to the top level of site-packages.

The sources are copied from the working tree (the files git tracks or would
track) into a temporary folder, as a clean checkout; the wheel and the sdist
are built there with ``python -m build`` (the wheel from the sdist, so the
sdist is complete when the wheel is) and installed into throw-away virtual
environments.  Building and installing take tens of seconds: the tests that
install are ``slow`` and ``.ci/run`` runs them in a step of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSION = "0.1.0"
CLAIM_FILES = sorted([*(p.name for p in (ROOT / "validation").glob("*.py")), "claims.toml"])


def _clean_env() -> dict:
    """The environment without PYTHONPATH (an installation must work on its own)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _tracked_files() -> list:
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: everything but build products
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                and not {"__pycache__", ".git", "build", "dist"} & set(p.relative_to(ROOT).parts)]
    return [f for f in out.splitlines() if (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the source tree as a fresh checkout has it."""
    dest = tmp_path_factory.mktemp("checkout") / "rmtfp"
    for f in _tracked_files():
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)
    return dest


@pytest.fixture(scope="module")
def dists(checkout, tmp_path_factory) -> dict:
    """The sdist and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(checkout)],
                          capture_output=True, text=True, env=_clean_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def _venv(path: Path) -> Path:
    """A throw-away venv that sees this interpreter's packages (numpy, scipy, pip, build, ...) but no rmtfp.

    The venv has no packages of its own: a ``.pth`` file puts the
    site-packages folders of the running interpreter on its path, after its
    own, as plain folders (their ``.pth`` hooks, e.g. an editable rmtfp, do
    not run).
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    sites = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    (_purelib(python) / "_rmtfp_test_packages.pth").write_text("\n".join(sites) + "\n")
    return python


def _purelib(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True, env=_clean_env()).stdout
    return Path(out.strip())


def _where(python: Path, cwd: Path, code: str) -> str:
    proc = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True, env=_clean_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


IMPORTS = ("import importlib.util, rmtfp, rmtfp.validation as v; from rmtfp.validation import report; "
           "assert all(v.texts(n)['criterion'] for n in v.available('all')); "  # the catalogue travels with them
           "print(rmtfp.__file__); print(v.__file__); print(v.load(13).__name__); "
           "print(importlib.util.find_spec('validation') is None)")


# ----------------------------------------------------------------- contents
def test_wheel_holds_rmtfp_only_with_the_claims(dists):
    with zipfile.ZipFile(dists["wheel"]) as z:
        names = z.namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"rmtfp", f"rmtfp-{VERSION}.dist-info"}
    claims = sorted(n.split("/")[-1] for n in names if n.startswith("rmtfp/validation/") and n.count("/") == 2)
    assert claims == CLAIM_FILES
    with zipfile.ZipFile(dists["wheel"]) as z:
        assert z.read(f"rmtfp-{VERSION}.dist-info/top_level.txt").decode().split() == ["rmtfp"]
    assert not any(n.endswith(".png") for n in names)  # the docs' figures are not part of the package


def test_sdist_holds_the_sources_and_the_claims(dists):
    with tarfile.open(dists["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for f in ("pyproject.toml", "setup.py", "README.md", "rmtfp/__init__.py", "rmtfp/cli.py"):
        assert f in names
    assert sorted(n.split("/")[-1] for n in names if n.startswith("validation/") and n.count("/") == 1) == CLAIM_FILES


def test_source_tree_imports_the_claims_as_rmtfp_validation(checkout, tmp_path):
    env = _clean_env()
    env["PYTHONPATH"] = str(checkout)
    proc = subprocess.run([sys.executable, "-c", IMPORTS], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pkg, claims, claim13, _ = proc.stdout.split()
    assert Path(pkg) == checkout / "rmtfp" / "__init__.py"
    assert Path(claims) == checkout / "validation" / "__init__.py"
    assert claim13 == "rmtfp.validation.claim13_erf_prefactor"


# ----------------------------------------------------------------- installations
@pytest.mark.slow
def test_wheel_installs_rmtfp_as_the_only_new_top_level_name(dists, tmp_path):
    python = _venv(tmp_path / "venv")
    site = _purelib(python)
    before = set(os.listdir(site))
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(dists["wheel"])], check=True, env=_clean_env())
    assert set(os.listdir(site)) - before == {"rmtfp", f"rmtfp-{VERSION}.dist-info"}
    pkg, claims, claim13, no_top_level = _where(python, tmp_path, IMPORTS).split()
    assert Path(pkg) == site / "rmtfp" / "__init__.py"
    assert Path(claims) == site / "rmtfp" / "validation" / "__init__.py"
    assert claim13 == "rmtfp.validation.claim13_erf_prefactor" and no_top_level == "True"
    # the installed command runs a claim from the installed package
    proc = subprocess.run([str(tmp_path / "venv" / "bin" / "rmtfp"), "validate", "--only", "13", "--no-progress",
                           "--out", str(tmp_path / "report")], cwd=tmp_path, capture_output=True, text=True,
                          env=_clean_env())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / "report" / "results.json").is_file()


@pytest.mark.slow
def test_editable_install_imports_the_claims_from_the_checkout(checkout, tmp_path):
    python = _venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "-e", str(checkout)], check=True, env=_clean_env(),
                   cwd=tmp_path)
    pkg, claims, claim13, no_top_level = _where(python, tmp_path, IMPORTS).split()
    assert Path(pkg) == checkout / "rmtfp" / "__init__.py"
    assert Path(claims) == checkout / "validation" / "__init__.py"
    assert claim13 == "rmtfp.validation.claim13_erf_prefactor" and no_top_level == "True"

