"""Every claim of the two papers, reproduced or refuted: one module per claim.

The papers are *Random weights of DNNs and emergence of fixed points*
(Berlyand, Krupchytskyi & Slavin) and *Fixed points of deep neural networks:
emergence, stability, and applications* (Berlyand & Slavin).  The texts of
every claim (title, source, the claim as the papers make it, the criterion
that turns measurements into a status) are in one catalogue,
``validation/claims.toml`` (:func:`texts`); each claim module
(``validation/claimNN_<slug>.py``) implements

``compute(mode)``
    the measurement, ``mode`` = ``"quick"`` (small sizes, seconds) or
    ``"full"`` (the papers' sizes); returns plain data with ``"params"`` and
    ``"seeds"``;
``check(result)``
    a :class:`~validation._common.Check`: status, summary, the measured
    numbers it comes from (also works on the result read back from JSON);
``plot(result)``
    matplotlib figures (imported lazily; computations never plot).

:func:`run_claim` runs one claim and never raises: an exception (or a check
that is not a valid :class:`Check`, or a positive status resting on
non-finite numbers) becomes status ``"error"`` with the message and the
traceback.  ``rmtfp validate`` runs them all and writes the report
(:mod:`validation.report`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import pathlib
import re
import time
import tomllib
import traceback
import warnings
from types import ModuleType
from typing import Any, Optional

from rmtfp.errors import UnresolvedWarning

from ._common import CORRECTED, ERROR, MODES, REPRODUCED, STATUSES, Check, check_mode, settings

__all__ = ["CLAIMS", "ISOMETRY_CLAIMS", "GROUPS", "group_of", "ClaimRecord", "available", "load", "slug_of", "texts",
           "run_claim", "STATUSES", "MODES", "settings"]

#: claim number -> module name (``validation.<name>``)
CLAIMS = {
    1: "claim01_gaussian_unique",
    2: "claim02_cauchy_q",
    3: "claim03_q_nonmonotone",
    4: "claim04_weak_similarity",
    5: "claim05_proposition1",
    6: "claim06_beta_critical",
    7: "claim07_g_vs_depth",
    8: "claim08_cauchy_basin_contraction",
    9: "claim09_trained_autoencoder",
    10: "claim10_spectrum_vs_sample",
    11: "claim11_spectrum_narrows",
    12: "claim12_cauchy_spectra",
    13: "claim13_erf_prefactor",
    14: "claim14_continuation_scheme",
    15: "claim15_proposition2",
}

#: claims beyond the two papers (dynamical isometry, Pennington, Schoenholz & Ganguli 2017/2018): group "isometry"
ISOMETRY_CLAIMS = {
    101: "iso01_relu_no_isometry",
    102: "iso02_orthogonal_sigmoidal_isometry",
}
#: the claim groups of ``rmtfp validate --group``
GROUPS = {"papers": CLAIMS, "isometry": ISOMETRY_CLAIMS}


def group_of(number: int) -> str:
    """"papers" or "isometry"."""
    return "isometry" if number in ISOMETRY_CLAIMS else "papers"


def available(group: str = "papers") -> list:
    """The claim numbers of ``group`` ("papers", "isometry" or "all"), in order."""
    if group == "all":
        return sorted(CLAIMS) + sorted(ISOMETRY_CLAIMS)
    if group not in GROUPS:
        raise ValueError(f"group must be one of {sorted(GROUPS) + ['all']}, got {group!r}")
    return sorted(GROUPS[group])


def slug_of(number: int) -> str:
    """The claim's name in file names: its module's, without the ``claimNN_`` prefix (``gaussian_unique``);
    ``isoNN_`` becomes ``iso_`` (``iso_relu_no_isometry``)."""
    names = {**CLAIMS, **ISOMETRY_CLAIMS}
    if number not in names:
        raise ValueError(f"claim number must be one of {available('all')}, got {number!r}")
    return re.sub(r"^iso\d+_", "iso_", re.sub(r"^claim\d+_", "", names[number]))


#: the keys of a claim's entry in the catalogue validation/claims.toml
TEXT_KEYS = ("title", "source", "claim", "criterion")


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict:
    with open(pathlib.Path(__file__).with_name("claims.toml"), "rb") as f:
        return tomllib.load(f)


def texts(number: int) -> dict:
    """The claim's texts from ``validation/claims.toml``: ``title``, ``source``, ``claim`` and ``criterion``."""
    names = {**CLAIMS, **ISOMETRY_CLAIMS}
    if number not in names:
        raise ValueError(f"claim number must be one of {available('all')}, got {number!r}")
    entry = _catalogue().get(names[number], {})
    missing = [k for k in TEXT_KEYS if not isinstance(entry.get(k), str) or not entry[k]]
    if missing:
        raise KeyError(f"validation/claims.toml: [{names[number]}] lacks {', '.join(missing)}")
    return {k: entry[k] for k in TEXT_KEYS}


def load(number: int) -> ModuleType:
    """The module of claim ``number``."""
    names = {**CLAIMS, **ISOMETRY_CLAIMS}
    if number not in names:
        raise ValueError(f"claim number must be one of {available('all')}, got {number!r}")
    return importlib.import_module(f"{__name__}.{names[number]}")


@dataclasses.dataclass
class ClaimRecord:
    """Everything the report says about one claim.

    Attributes
    ----------
    number, slug : int, str
        From the registry (:data:`CLAIMS`, :func:`slug_of`).
    title, source, claim, criterion : str
        From the claim module.
    mode : str
    status : str
        One of :data:`STATUSES`; ``"error"`` when compute, check or plot
        raised, or the check was invalid.
    summary : str
    numbers : dict
        The measured numbers the status comes from.
    correction, decide : str or None
    params, seeds : dict
        From the computation.
    timing : dict
        Seconds spent in ``compute``, ``check`` and ``plot``.
    error, traceback : str or None
        For status ``"error"``.
    check_status : str or None
        The check's own status when a later step (plot) failed.
    figures : list of str
        File names of the PNG figures (relative to the report directory).
    result : dict
        The computation's output (in memory; the JSON report holds it without
        the ``_`` keys).
    """

    number: int
    slug: str
    title: str
    source: str
    claim: str
    criterion: str
    mode: str
    status: str = ERROR
    summary: str = ""
    numbers: dict = dataclasses.field(default_factory=dict)
    correction: Optional[str] = None
    decide: Optional[str] = None
    params: dict = dataclasses.field(default_factory=dict)
    seeds: dict = dataclasses.field(default_factory=dict)
    timing: dict = dataclasses.field(default_factory=dict)
    error: Optional[str] = None
    traceback: Optional[str] = None
    check_status: Optional[str] = None
    figures: list = dataclasses.field(default_factory=list)
    result: Any = dataclasses.field(default=None, repr=False)

    def fail(self, stage: str, exc: BaseException, tb: Optional[str] = None) -> None:
        """Mark the record as an error raised in ``stage``."""
        if self.status != ERROR:
            self.check_status = self.status
        self.status = ERROR
        self.error = f"{stage}: {type(exc).__name__}: {exc}"
        self.traceback = tb if tb is not None else "".join(traceback.format_exception(exc))

    def to_dict(self, with_result: bool = True) -> dict:
        from ._common import jsonable

        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "result"}
        if with_result:
            d["result"] = self.result
        return jsonable(d)


def _non_finite(obj, path: str = "") -> Optional[str]:
    """The path of the first None/nan/inf inside ``obj``, or None."""
    if obj is None:
        return path or "."
    if isinstance(obj, bool) or isinstance(obj, str):
        return None
    if isinstance(obj, dict):
        for k, v in obj.items():
            bad = _non_finite(v, f"{path}.{k}" if path else str(k))
            if bad:
                return bad
        return None
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            bad = _non_finite(v, f"{path}[{i}]")
            if bad:
                return bad
        return None
    try:
        f = float(obj)
    except (TypeError, ValueError):
        return None
    return None if math.isfinite(f) else (path or ".")


def _validate_check(chk) -> None:
    if not isinstance(chk, Check):
        raise TypeError(f"check() must return a validation Check, got {type(chk).__name__}")
    if chk.status in (REPRODUCED, CORRECTED):
        bad = _non_finite(chk.numbers)
        if bad:
            raise ValueError(f"status {chk.status!r} rests on a non-finite measured number ({bad})")
        if not chk.numbers:
            raise ValueError(f"status {chk.status!r} without measured numbers")


def run_claim(number: int, mode: str = "quick") -> ClaimRecord:
    """Compute and check claim ``number``; never raises (failures become status ``"error"``).

    Parameters
    ----------
    number : int
        One of :func:`available`.
    mode : {"quick", "full"}

    Returns
    -------
    ClaimRecord
        Without figures (see :func:`validation.report.add_figures`).
    """
    check_mode(mode)
    stage = "texts"
    try:
        text = texts(number)
        stage = "import"
        mod = load(number)
    except Exception as exc:  # noqa: BLE001 - a module that does not import is an error of its claim
        slug = slug_of(number) if number in {**CLAIMS, **ISOMETRY_CLAIMS} else f"claim{number}"
        rec = ClaimRecord(number=number, slug=slug, title=f"claim {number}", source="", claim="", criterion="",
                          mode=mode)
        rec.fail(stage, exc)
        return rec
    rec = ClaimRecord(number=number, slug=slug_of(number), mode=mode, **text)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # the claims run the papers' budget on purpose and report what is unresolved
            warnings.simplefilter("ignore", UnresolvedWarning)
            result = mod.compute(mode)
        if not isinstance(result, dict) or "params" not in result or "seeds" not in result:
            raise TypeError("compute() must return a dict with 'params' and 'seeds'")
        rec.result = result
        rec.params, rec.seeds = result["params"], result["seeds"]
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
        rec.timing["compute"] = time.perf_counter() - t0
        rec.fail("compute", exc)
        return rec
    rec.timing["compute"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        chk = mod.check(result)
        _validate_check(chk)
    except Exception as exc:  # noqa: BLE001
        rec.timing["check"] = time.perf_counter() - t1
        rec.fail("check", exc)
        return rec
    rec.timing["check"] = time.perf_counter() - t1
    rec.status, rec.summary, rec.numbers = chk.status, chk.summary, chk.numbers
    rec.correction, rec.decide = chk.correction, chk.decide
    return rec
