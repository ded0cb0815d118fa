"""Shared pieces of the claim modules: statuses, the :class:`Check` result, statistics, settings.

What each claim says and how it is judged (title, source, claim, criterion) is in the catalogue
``validation/claims.toml``.  Every claim module implements the same small contract::

    compute(mode="quick") -> dict                   # measurement only: no plotting, no files
    check(result) -> Check                          # status from the measured numbers
    plot(result) -> Figure or list of Figures       # figures (matplotlib imported lazily)

``compute`` returns plain data (numbers, lists, numpy arrays, dicts) with at
least the keys ``"params"`` (sizes, laws, conventions) and ``"seeds"``.  Keys
starting with ``"_"`` hold in-memory objects that are not written to JSON.
``check`` must also accept the result read back from ``results.json`` (lists
instead of arrays, ``None`` where a number was not finite), so that every
status can be re-derived from the saved file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from typing import Any, Iterator, Optional

import numpy as np

__all__ = [
    "STATUSES", "TYPICAL", "REPRODUCED", "CORRECTED", "NOT_REPRODUCED", "INCONCLUSIVE", "ERROR", "MODES",
    "READINGS", "HEADLINE_READING", "HEADLINE_REASON", "READING_TEXT", "FanInPower", "gaussian_scale",
    "Check", "check_mode", "farr", "fnum", "proportion_interval", "proportion_verdict", "rate_check", "settings",
    "single_threaded_blas", "sizes", "per_reading", "reading_params",
]

REPRODUCED = "reproduced"
CORRECTED = "reproduced with correction"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
ERROR = "error"
#: every status a claim can end with (``error`` is set by the runner, never by ``check``)
STATUSES = (REPRODUCED, CORRECTED, NOT_REPRODUCED, INCONCLUSIVE, ERROR)
MODES = ("quick", "full")
#: "typically" / "each" in a claim about random networks, read as: in at least 90 % of the cases.
#: The papers state such properties from one or a few realisations and give no rate; 90 % leaves
#: room for rare exceptions (a basin cut by the grid, a network at a bifurcation) while a rate the
#: data put below 90 % contradicts "typically".
TYPICAL = 0.9

#: The two readings of the papers' Gaussian law N(0, sigma_l), sigma_l = 1/n_l (n_l the fan-in):
#: "sd" -- sigma_l is the standard deviation (variance 1/n_l^2, beta = 1 in sigma = n^-beta);
#: "variance" -- sigma_l is the variance (1/n_l, beta = 1/2, the critical scale of odd activations).
READINGS = ("sd", "variance")
#: The reading the text supports: the papers write N(0, sigma_l) and, in the contraction section, sigma = N^-beta
#: beside "variance sigma^2 = N^-2beta" (sigma a standard deviation), and sigma_l = 1/n_l is the same scale as the
#: Cauchy gamma_l = 1/n_l of the same paragraph.  Only the trained-network section writes N(0, sigma^2),
#: sigma^2 = 1/n_l.
HEADLINE_READING = "sd"
READING_TEXT = {
    "sd": "N(0, sigma_l) with sigma_l = 1/n_l the standard deviation (variance 1/n_l^2, beta = 1)",
    "variance": "N(0, sigma_l) with sigma_l = 1/n_l the variance (beta = 1/2, critical for odd activations)",
}
HEADLINE_REASON = ("the papers write N(0, sigma_l), sigma_l = 1/n_l, and in the contraction section sigma = N^-beta "
                   "beside 'variance sigma^2 = N^-2beta', so sigma_l is a standard deviation, the same scale as the "
                   "Cauchy gamma_l = 1/n_l of the same paragraph")


def reading_params() -> dict:
    """The ``params`` entries of a claim judged once per reading: each reading's text and the headline reading."""
    return {"readings": {r: READING_TEXT[r] for r in READINGS}, "headline_reading": HEADLINE_READING}


def per_reading(verdicts: dict, texts: Optional[dict] = None) -> tuple:
    """The numbers and the summary of a claim judged once per reading of N(0, 1/n_l).

    Parameters
    ----------
    verdicts : dict
        reading -> the verdict of that reading's measurement: a dict with ``"status"``, ``"summary"`` and
        ``"numbers"``.
    texts : dict, optional
        reading -> how the summary names the reading (default :data:`READING_TEXT`).

    Returns
    -------
    numbers : dict
        ``"headline_reading"``, then for each reading its ``status[r]`` and every number as ``name[r]``.
    summary : str
        The headline reading's summary (with the reason it is the headline), then each other reading's
        status and summary.
    """
    texts = READING_TEXT if texts is None else texts
    numbers = {"headline_reading": HEADLINE_READING}
    for r in READINGS:
        numbers[f"status[{r}]"] = verdicts[r]["status"]
        numbers.update({f"{k}[{r}]": v for k, v in verdicts[r]["numbers"].items()})
    others = "; ".join(f"Read as a {r} ({texts[r]}): {verdicts[r]['status']}: {verdicts[r]['summary']}"
                       for r in READINGS if r != HEADLINE_READING)
    summary = (f"Read as a standard deviation ({texts[HEADLINE_READING]}; the headline, because {HEADLINE_REASON}): "
               f"{verdicts[HEADLINE_READING]['summary']} {others}")
    return numbers, summary


@dataclasses.dataclass(frozen=True)
class FanInPower:
    """The per-layer number n_l^-power of :meth:`rmtfp.Network.random`'s ``scale`` (picklable, readable repr).

    With the normal law ``scale`` is a variance: ``FanInPower(1)`` is variance
    1/n_l, ``FanInPower(2)`` variance 1/n_l^2 (standard deviation 1/n_l).
    Both draw the same standard normal numbers from the same stream, so the two
    readings of one seed are the same network rescaled layer by layer.
    """

    power: float

    def __call__(self, n) -> float:
        return float(n) ** (-self.power)

    def __repr__(self) -> str:
        return f"n_l^-{self.power:g}"


def gaussian_scale(reading: str) -> FanInPower:
    """The variance ``scale`` of :meth:`rmtfp.Network.random` (normal law) for one reading of N(0, 1/n_l)."""
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    return FanInPower(2.0 if reading == "sd" else 1.0)


@dataclasses.dataclass(frozen=True)
class Check:
    """The verdict on one claim.

    Attributes
    ----------
    status : str
        One of ``reproduced``, ``reproduced with correction``, ``not
        reproduced``, ``inconclusive``.
    summary : str
        One or two sentences: what was measured against what was claimed.
    numbers : dict
        The measured numbers the status comes from (name -> number, list or
        short string).  The runner refuses a positive status whose numbers are
        not finite.
    correction : str, optional
        For ``reproduced with correction``: what had to be corrected.
    decide : str, optional
        For ``inconclusive``: what measurement would decide.
    """

    status: str
    summary: str
    numbers: dict
    correction: Optional[str] = None
    decide: Optional[str] = None

    def __post_init__(self):
        if self.status not in STATUSES[:-1]:
            raise ValueError(f"status must be one of {STATUSES[:-1]}, got {self.status!r}")
        if self.status == CORRECTED and not self.correction:
            raise ValueError("a 'reproduced with correction' check must say which correction")
        if self.status == INCONCLUSIVE and not self.decide:
            raise ValueError("an 'inconclusive' check must say what would decide it")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_mode(mode: str) -> str:
    """``mode`` if it is ``"quick"`` or ``"full"``; ValueError otherwise."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


def sizes(mode: str, quick: dict, full: dict) -> dict:
    """The parameter set of ``mode`` (a copy)."""
    return dict(quick if check_mode(mode) == "quick" else full)


def farr(values) -> np.ndarray:
    """``values`` as a float array; ``None`` (a non-finite number after JSON) becomes nan."""
    return np.array(values, dtype=float)


def fnum(value) -> float:
    """``value`` as a float; ``None`` becomes nan."""
    return math.nan if value is None else float(value)


def proportion_interval(k: int, n: int, confidence: float = 0.95) -> tuple:
    """Clopper-Pearson (exact binomial) interval of a proportion k/n.

    Returns (lo, hi); (0, 1) for n = 0.
    """
    from scipy import stats

    k, n = int(k), int(n)
    if n <= 0:
        return 0.0, 1.0
    a = (1 - confidence) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def proportion_verdict(k: int, n: int, level: float, confidence: float = 0.95) -> tuple:
    """Judge "the property holds in at least a fraction ``level`` of the cases".

    ``k`` of ``n`` cases have the property; with the Clopper-Pearson interval
    (lo, hi) of k/n the rule is symmetric:

    * ``"holds"`` when lo >= level (the data exclude a rate below the claim);
    * ``"fails"`` when hi < level (the data exclude the claimed rate);
    * ``"undecided"`` otherwise (more cases would decide).

    A point estimate alone decides nothing: 3 of 3 (interval 0.29-1.00) is
    undecided.  All of n cases reach lo >= 0.9 from n = 36 on (lo =
    0.025^(1/n)), so smaller samples can refute a rate but not confirm it.

    Returns (verdict, rate, (lo, hi)).
    """
    if n <= 0:
        return "undecided", math.nan, (0.0, 1.0)
    rate = k / n
    lo, hi = proportion_interval(k, n, confidence)
    if lo >= level:
        return "holds", rate, (lo, hi)
    if hi < level:
        return "fails", rate, (lo, hi)
    return "undecided", rate, (lo, hi)


def rate_check(verdict: str, summary: str, numbers: dict, decide: str) -> Check:
    """The Check of a rate claim from :func:`proportion_verdict`'s verdict.

    ``"holds"`` -> reproduced, ``"fails"`` -> not reproduced, ``"undecided"``
    -> inconclusive with ``decide``.
    """
    if verdict == "holds":
        return Check(REPRODUCED, summary, numbers)
    if verdict == "fails":
        return Check(NOT_REPRODUCED, summary, numbers)
    return Check(INCONCLUSIVE, summary, numbers, decide=decide)


@dataclasses.dataclass
class _Settings:
    """Run-wide settings of the validation (set by the ``rmtfp validate`` command)."""

    #: worker processes for the ensembles of networks (default: up to 2 of the usable cores)
    workers: int = dataclasses.field(default_factory=lambda: max(1, min(2, _cores())))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


settings = _Settings()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """One BLAS thread for the enclosed block.

    The validation evaluates many small matrix products; threaded BLAS on a
    shared machine makes them 10-50 times slower (measured: training the
    employee autoencoder took 42 s with two BLAS threads on a loaded 2-core
    machine and 0.8 s with one).  Parallelism comes from worker processes
    instead.
    """
    from rmtfp._threads import single_blas_thread

    with single_blas_thread():
        yield


def jsonable(obj: Any) -> Any:
    """Plain JSON types (arrays to lists, non-finite floats to None, ``_``-keys dropped)."""
    from rmtfp.commands import to_jsonable

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return to_jsonable(obj)
