"""The registry names every claim once (number, module, slug); per-reading claims share one summary."""

from __future__ import annotations

import pathlib

import pytest

from rmtfp import validation
from rmtfp.validation._common import HEADLINE_READING, READING_TEXT, READINGS, per_reading


@pytest.mark.parametrize("number", validation.available("all"))
def test_slug_is_the_module_name_without_its_number(number):
    names = {**validation.CLAIMS, **validation.ISOMETRY_CLAIMS}
    slug = validation.slug_of(number)
    folder = pathlib.Path(validation.__file__).parent
    assert (folder / f"{names[number]}.py").is_file()
    if number in validation.CLAIMS:
        assert names[number] == f"claim{number:02d}_{slug}"
    else:  # the slugs the isometry claims had before the registry gave them (report file names stay)
        assert names[number] == f"iso{number - 100:02d}_{slug[len('iso_'):]}" and slug.startswith("iso_")
    mod = validation.load(number)
    assert not hasattr(mod, "NUMBER") and not hasattr(mod, "SLUG")  # the registry says it, once
    assert all(isinstance(getattr(mod, k), str) and getattr(mod, k) for k in ("TITLE", "SOURCE", "CLAIM", "CRITERION"))


def test_unknown_number_is_refused():
    with pytest.raises(ValueError, match="claim number must be one of"):
        validation.slug_of(99)


def test_per_reading_names_every_reading_and_puts_the_headline_first():
    verdicts = {r: {"status": f"status of {r}", "summary": f"summary of {r}.", "numbers": {"n": i, "rate": 0.5 * i}}
                for i, r in enumerate(READINGS)}
    numbers, summary = per_reading(verdicts)
    assert numbers["headline_reading"] == HEADLINE_READING
    for i, r in enumerate(READINGS):
        assert numbers[f"status[{r}]"] == f"status of {r}"
        assert numbers[f"n[{r}]"] == i and numbers[f"rate[{r}]"] == 0.5 * i
        assert f"summary of {r}." in summary and READING_TEXT[r] in summary
    assert summary.index(f"summary of {HEADLINE_READING}") == min(summary.index(f"summary of {r}") for r in READINGS)
    others = [r for r in READINGS if r != HEADLINE_READING]
    assert all(f"status of {r}: summary of {r}." in summary for r in others)  # the others with their status
