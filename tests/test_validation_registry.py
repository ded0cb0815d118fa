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
    # the registry says the number and slug, the catalogue the texts: once each
    assert not any(hasattr(mod, k) for k in ("NUMBER", "SLUG", "TITLE", "SOURCE", "CLAIM", "CRITERION"))
    text = validation.texts(number)
    assert set(text) == set(validation.TEXT_KEYS) and all(isinstance(v, str) and v.strip() for v in text.values())
    assert "\n" not in text["title"]


def test_the_catalogue_holds_every_registered_claim_and_nothing_else():
    import tomllib

    with open(pathlib.Path(validation.__file__).with_name("claims.toml"), "rb") as f:
        catalogue = tomllib.load(f)
    assert set(catalogue) == set(validation.CLAIMS.values()) | set(validation.ISOMETRY_CLAIMS.values())
    assert all(set(entry) == set(validation.TEXT_KEYS) for entry in catalogue.values())


def test_a_claim_without_texts_is_an_error_of_that_claim(monkeypatch):
    monkeypatch.setattr(validation, "_catalogue", lambda: {})
    rec = validation.run_claim(13, "quick")
    assert rec.status == "error" and rec.error.startswith("texts: KeyError") and "claims.toml" in rec.error


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
