"""Shared helpers of the plotting modules (matplotlib is imported lazily)."""

from __future__ import annotations

import os

__all__ = ["pyplot", "save_figure"]


def pyplot():
    """Import matplotlib with a non-interactive backend unless one is set."""
    import matplotlib

    if "MPLBACKEND" not in os.environ and not _in_notebook():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore

        return get_ipython() is not None
    except Exception:
        return False


def save_figure(fig, path, dpi: int = 150) -> str:
    """Save ``fig`` to ``path`` (format from the suffix) and close it."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return str(path)
