"""The ``.npz`` weights file of a network (:meth:`Network.save`, :meth:`Network.load`).

Keys ``W0, ..., W{L-1}`` (W_l of shape (n_{l+1}, n_l)), ``b0, ...,
b{L-1}``, ``activation`` (a registered name, a string) and
``last_activation`` (bool); the format of ``rmtfp basins --weights-file``.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from typing import Union

import numpy as np

__all__ = ["write_weights_file", "read_weights_file"]


def write_weights_file(path: Union[str, os.PathLike], weights, biases, activation: str,
                       last_activation: bool) -> None:
    """Write the arrays of a network to ``path`` exactly (no suffix added)."""
    arrays = {f"W{i}": w for i, w in enumerate(weights)}
    arrays.update({f"b{i}": b for i, b in enumerate(biases)})
    arrays["activation"] = np.array(activation)
    arrays["last_activation"] = np.array(last_activation)
    with open(path, "wb") as f:  # the name as given: numpy would append ".npz" to a bare path
        np.savez(f, **arrays)


def read_weights_file(path: Union[str, os.PathLike], activation=None):
    """The weights, biases, activation and last_activation flag stored in ``path``, checked.

    ``activation`` (a name or an Activation) overrides or supplies the
    stored one; errors are ``ValueError`` naming the file and the key.
    """
    name = repr(str(path))
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"weights file {name} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"weights file {name} is a directory, not an .npz file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # numpy reads a file that is neither .npy nor .npz as a pickle, which allow_pickle=False refuses
        why = "not in the .npz format (numpy.savez)" if "pickle" in str(exc) else \
            f"corrupt or truncated ({exc or type(exc).__name__})"
        raise ValueError(f"weights file {name} is not a readable .npz file: {why}") from None
    if not hasattr(data, "files"):
        raise ValueError(f"weights file {name} holds a single array (.npy), not an .npz archive of "
                         "W0.., b0.. (numpy.savez)")
    with data:
        keys = set(data.files)
        depth = 0
        while f"W{depth}" in keys:
            depth += 1
        if depth == 0:
            raise ValueError(f"weights file {name} has no W0 (found keys {sorted(keys)})")
        stored = "W0 and b0" if depth == 1 else f"W0..W{depth - 1} and b0..b{depth - 1}"
        missing = [f"b{i}" for i in range(depth) if f"b{i}" not in keys]
        if missing:
            raise ValueError(f"weights file {name} lacks bias vectors {missing}: a network of depth {depth} "
                             f"stores {stored} (zeros for layers without bias)")
        extra = sorted(k for k in keys - {f"W{i}" for i in range(depth)} - {f"b{i}" for i in range(depth)}
                       - {"activation", "last_activation"})
        if extra:
            layered = [k for k in extra if k[:1] in ("W", "b") and k[1:].isdigit()]
            gap = f" (W{depth} is missing: the layers stop at depth {depth})" if layered else ""
            raise ValueError(f"weights file {name} has unexpected keys {extra}{gap}; "
                             f"expected {stored}, activation, last_activation")

        def read(key):
            try:
                return data[key]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                why = "an object array (pickled), which is not read" if "allow_pickle" in str(exc) else \
                    f"corrupt or truncated ({exc or type(exc).__name__})"
                raise ValueError(f"weights file {name}: {key} is {why}") from None

        ws = [read(f"W{i}") for i in range(depth)]
        bs = [read(f"b{i}") for i in range(depth)]
        for key, arr in [*((f"W{i}", w) for i, w in enumerate(ws)), *((f"b{i}", b) for i, b in enumerate(bs))]:
            if arr.dtype.kind not in "iuf":
                raise ValueError(f"weights file {name}: {key} must hold real numbers, got dtype {arr.dtype}")
        if activation is None:
            if "activation" not in keys:
                raise ValueError(f"weights file {name} stores no activation; pass "
                                 "activation= (a registered name or an Activation)")
            stored = read("activation")
            if stored.dtype.kind not in "US" or stored.shape != ():
                raise ValueError(f"weights file {name}: activation must be a string (a registered name), "
                                 f"got {stored!r}")
            activation = str(stored)
        last = True
        if "last_activation" in keys:
            flag = read("last_activation")
            if flag.shape != () or not (flag.dtype.kind == "b" or (flag.dtype.kind in "iu" and flag in (0, 1))):
                raise ValueError(f"weights file {name}: last_activation must be a boolean (True/False or "
                                 f"1/0), got {flag.tolist()!r} of dtype {flag.dtype}")
            last = bool(flag)
    return ws, bs, activation, last
