"""Weight laws of the sampled networks and their random streams."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Optional

import numpy as np



#: names accepted by ``weights`` (besides frozen scipy distributions and callables)
WEIGHT_LAWS = ("gaussian", "cauchy")
_LAW_ALIASES = {"normal": "gaussian", "gauss": "gaussian"}



@dataclasses.dataclass(frozen=True)
class _Law:
    """A weight law: draws of the standardised entry X and how they are scaled."""

    name: str
    kind: str  # "gaussian" | "cauchy" | "scipy" | "callable"
    obj: Any = None
    mean: Optional[float] = 0.0
    variance: Optional[float] = 1.0  # Var(X); inf for laws without variance, None when unknown

    @property
    def has_variance(self) -> bool:
        return self.variance is None or math.isfinite(self.variance)

    def weight_scale(self, sigma_w2: float, width: int) -> float:
        if self.kind == "cauchy":
            return sigma_w2 / width
        return math.sqrt(sigma_w2 / width)

    def draw(self, gen: np.random.Generator, out: np.ndarray) -> None:
        """Fill ``out`` with i.i.d. draws of X."""
        if self.kind == "gaussian":
            gen.standard_normal(out=out, dtype=out.dtype)
            return
        shape = out.shape
        if self.kind == "cauchy":
            x = gen.standard_cauchy(shape)
        elif self.kind == "scipy":
            if hasattr(self.obj, "rvs"):
                x = self.obj.rvs(size=shape, random_state=gen)
            else:  # scipy.stats distribution objects of the new interface
                x = self.obj.sample(shape, rng=gen)
        else:
            x = self.obj(gen, shape)
        x = np.asarray(x)
        if x.shape != shape:
            raise ValueError(f"weights={self.name} returned an array of shape {x.shape}, expected {shape}")
        if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
            raise ValueError(f"weights={self.name} must return real numbers, got dtype {x.dtype}")
        out[...] = x

    def draw_bias(self, gen: np.random.Generator, size: int, sigma_b2: float, dtype) -> np.ndarray:
        if self.kind == "cauchy":
            return (sigma_b2 * gen.standard_cauchy(size)).astype(dtype, copy=False)
        return (math.sqrt(sigma_b2) * gen.standard_normal(size)).astype(dtype, copy=False)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "mean": self.mean, "variance": self.variance}


def _scipy_moment(obj, name: str) -> Optional[float]:
    try:
        f = getattr(obj, name)
        v = float(f())
    except Exception:  # noqa: BLE001 - scipy raises several types for undefined moments
        return None
    return v if not math.isnan(v) else math.inf


def _resolve_law(weights) -> _Law:
    if isinstance(weights, str):
        key = weights.strip().lower()
        key = _LAW_ALIASES.get(key, key)
        if key == "gaussian":
            return _Law("gaussian", "gaussian")
        if key == "cauchy":
            return _Law("cauchy", "cauchy", mean=None, variance=math.inf)
        raise ValueError(f"weights must be one of {WEIGHT_LAWS}, a frozen scipy.stats distribution or a "
                         f"callable (rng, shape) -> array; got unknown law {weights!r}")
    if hasattr(weights, "rvs") and hasattr(weights, "var") and hasattr(weights, "mean"):
        name = getattr(getattr(weights, "dist", None), "name", type(weights).__name__)
        args = ", ".join([*(repr(a) for a in getattr(weights, "args", ())),
                          *(f"{k}={v!r}" for k, v in getattr(weights, "kwds", {}).items())])
        try:
            lo, hi = (float(v) for v in weights.support())
        except Exception:  # noqa: BLE001 - frozen objects without support(): checked by their draws
            lo = hi = 0.0
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"weights=scipy.stats.{name}({args}) has invalid parameters (its support is undefined)")
        return _Law(f"scipy.stats.{name}({args})", "scipy", weights, _scipy_moment(weights, "mean"),
                    _scipy_moment(weights, "var"))
    if hasattr(weights, "sample") and hasattr(weights, "variance") and hasattr(weights, "mean"):
        return _Law(repr(weights), "scipy", weights, _scipy_moment(weights, "mean"),
                    _scipy_moment(weights, "variance"))
    if callable(weights):
        return _Law(getattr(weights, "__name__", repr(weights)), "callable", weights, mean=None, variance=None)
    raise TypeError(f"weights must be one of {WEIGHT_LAWS}, a frozen scipy.stats distribution or a callable "
                    f"(rng, shape) -> array; got {type(weights).__name__}")


def _resolve_rng(rng) -> tuple[Any, Optional[int]]:
    """(object with .spawn, recorded seed)."""
    if rng is None:
        ss = np.random.SeedSequence()
        return ss, ss.entropy
    if isinstance(rng, np.random.Generator):
        return rng, None
    if isinstance(rng, np.random.SeedSequence):
        return rng, rng.entropy if not rng.spawn_key else None
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed or a numpy Generator, got {rng}")
        return np.random.SeedSequence(int(rng)), int(rng)
    raise TypeError(f"rng must be None, a non-negative integer seed, a SeedSequence or a numpy Generator, "
                    f"got {type(rng).__name__}")


def _sample_generators(source, n: int) -> list[np.random.Generator]:
    if isinstance(source, np.random.Generator):
        return source.spawn(n)
    return [np.random.Generator(np.random.SFC64(s)) for s in source.spawn(n)]
