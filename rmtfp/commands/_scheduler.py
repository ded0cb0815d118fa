"""``--scheduler ADDRESS``: run a command's ensembles on a running dask cluster (the ``[cluster]`` extra)."""

from __future__ import annotations

import contextlib
from typing import Optional

__all__ = ["add_scheduler_option", "connect"]


def add_scheduler_option(group) -> None:
    """The one definition of ``--scheduler``."""
    group.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the networks on the dask cluster of this scheduler (e.g. tcp://host:8786; needs "
                            "pip install 'rmtfp[cluster]'); the numbers are those of the local pool, bit for bit")


def connect(address: Optional[str], stack: contextlib.ExitStack):
    """The executor of ``--scheduler ADDRESS`` (None without one), closed with ``stack``.

    A missing extra or a scheduler that does not answer is a ``ValueError``
    naming the option: the command ends in one line.
    """
    if address is None:
        return None
    from ..ensembles import dask_executor

    try:
        return stack.enter_context(dask_executor(address))
    except ImportError as exc:
        raise ValueError(f"--scheduler needs dask.distributed: pip install 'rmtfp[cluster]' ({exc})") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"--scheduler {address}: {exc}") from None
