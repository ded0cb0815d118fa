"""Subcommands of the ``rmtfp`` CLI, one module each (see :mod:`rmtfp.cli`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from .._results import jsonable

__all__ = ["parse_range", "parse_bounds", "parse_scale", "int_at_least", "int_list", "dump_json", "to_jsonable"]


def parse_range(text: str, name: str = "--lam") -> np.ndarray:
    """Parse ``start:stop:num`` (inclusive, linear; ``log:start:stop:num`` for a
    geometric grid) or a comma list ``a,b,c`` into a float array."""
    text = text.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            geometric = parts[0] == "log"
            if geometric:
                parts = parts[1:]
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1:
                raise ValueError
            if geometric:
                if start <= 0 or stop <= 0:
                    raise ValueError
                return np.geomspace(start, stop, num)
            return np.linspace(start, stop, num)
        values = [float(v) for v in text.split(",")]  # an empty item ("1,,2") is a float("") ValueError
        return np.array(values)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name} must be START:STOP:NUM, log:START:STOP:NUM or a comma list of numbers, got {text!r}"
        ) from None


def int_at_least(option: str, low: int = 1):
    """An argparse type: an integer >= ``low``; errors name ``option`` (``--networks``, ``--seed``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{option} must be an integer >= {low}, got {value}")
        return value

    return parse


def int_list(option: str):
    """An argparse type: a comma list of at least two positive integers (``--widths``)."""
    def parse(text: str) -> list:
        try:
            values = [int(v) for v in text.split(",")]  # an empty item is an int("") ValueError
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} must be a comma list of positive integers, got {text!r}") from None
        if len(values) < 2 or any(v < 1 for v in values):
            raise argparse.ArgumentTypeError(f"{option} needs at least two positive integers, got {text!r}")
        return values

    return parse


def check_pair_grid(points: np.ndarray, step: float) -> None:
    """The contraction constant compares pairs of points: the grid needs two."""
    if points.shape[0] < 2:
        raise ValueError(f"--step {step:g} leaves {points.shape[0]} grid point in the box; the contraction "
                         "constant compares pairs of points: use a smaller --step")


def parse_bounds(text: str) -> tuple[float, float]:
    """``LO,HI`` -> (lo, hi): the box of a start grid (``--bounds``)."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--bounds must be LO,HI, got {text!r}") from None
    return lo, hi


def parse_scale(text: str):
    """``fan_in`` or a number: the weight scale of random networks (``--scale``)."""
    if text == "fan_in":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale must be 'fan_in' or a number, got {text!r}") from None


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types (see :func:`rmtfp._results.jsonable`: NaN/inf become None, mpmath numbers strings)."""
    return jsonable(obj)


def dump_json(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), allow_nan=False)
