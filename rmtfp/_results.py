"""What every result class shares: a ``to_dict`` that ``json.dumps`` accepts, and a short ``repr``.

:func:`jsonable` turns numpy arrays and scalars, mpmath numbers, complex numbers, enums, seeds and nested
results into plain JSON types.  Non-finite floats become ``None`` (strict JSON has no NaN), complex numbers
``[re, im]``, and mpmath numbers decimal strings with every digit they carry (a float would keep 16).

:func:`summary_repr` is the ``__repr__`` of the result dataclasses: the class name, then each field with
arrays shown by shape and dtype (the values too when there are at most :data:`SHOWN` of them), long
containers and strings shortened.  Use it as ``__repr__ = summary_repr`` in the class body (a dataclass keeps
a ``__repr__`` its class defines).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

import numpy as np

__all__ = ["jsonable", "jsonable_result", "summary_repr"]

#: arrays of at most this many entries are shown whole in a repr
SHOWN = 6
#: longest text of one field in a repr
FIELD_CHARS = 120


def _mp_str(x) -> str:
    """Every digit an mpf carries: its mantissa's bits, whatever the working precision now."""
    import mpmath

    bits = x._mpf_[3] if len(x._mpf_) > 3 else 53
    return mpmath.nstr(x, max(15, mpmath.libmp.prec_to_dps(bits)))


def jsonable(obj: Any) -> Any:
    """``obj`` as JSON types: dict, list, str, int, float (finite), bool, None."""
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return [jsonable(v) for v in obj.tolist()] if obj.ndim else jsonable(obj.item())
        return jsonable(obj.tolist())
    if isinstance(obj, enum.Enum):
        return obj.name.lower()
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (complex, np.complexfloating)):
        return [jsonable(obj.real), jsonable(obj.imag)]
    module = type(obj).__module__ or ""
    if module.startswith("mpmath"):
        import mpmath

        if isinstance(obj, mpmath.mpc):
            return [jsonable(obj.real), jsonable(obj.imag)]
        if isinstance(obj, mpmath.mpf):
            return _mp_str(obj) if mpmath.isfinite(obj) else None
    if isinstance(obj, np.random.SeedSequence):
        return {"entropy": jsonable(obj.entropy), "spawn_key": list(obj.spawn_key)}
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    name = getattr(obj, "name", None)
    if isinstance(name, str):  # an Activation, a weight law
        return name
    return str(obj)


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= SHOWN and value.dtype != object:
            text = np.array2string(value, precision=6, separator=", ", threshold=SHOWN)
            return " ".join(text.split())
        return f"<array shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, (list, tuple)) and len(value) > SHOWN:
        kind = type(value).__name__
        return f"<{kind} of {len(value)}>"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = " ".join(repr(value).split())
    return text if len(text) <= FIELD_CHARS else text[:FIELD_CHARS - 3] + "..."


def summary_repr(self) -> str:
    """``ClassName(field=value, ...)``, arrays by shape, one field a line when long."""
    fields = [f.name for f in dataclasses.fields(self) if f.repr] if dataclasses.is_dataclass(self) else \
        list(vars(self))
    parts = [f"{name}={_short(getattr(self, name))}" for name in fields]
    one_line = f"{type(self).__name__}({', '.join(parts)})"
    if len(one_line) <= FIELD_CHARS:
        return one_line
    if len(parts) > 10:  # keep "a few lines": the first fields, then a count
        parts = parts[:9] + [f"... {len(parts) - 9} more fields"]
    return f"{type(self).__name__}(\n    " + ",\n    ".join(parts) + ",\n)"


def jsonable_result(to_dict):
    """Decorator of a result's ``to_dict``: whatever it builds is returned as JSON types (:func:`jsonable`)."""
    import functools

    @functools.wraps(to_dict)
    def wrapper(self, *args, **kwargs):
        return jsonable(to_dict(self, *args, **kwargs))

    return wrapper
