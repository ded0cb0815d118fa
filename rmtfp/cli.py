"""The ``rmtfp`` command.

Each subcommand lives in :mod:`rmtfp.commands` as a module with
``register(subparsers)``, which adds its parser and sets ``func``.  Errors of
input (``ValueError``/``TypeError``) and of convergence become one-line
messages on stderr and exit status 2 and 3.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from . import __version__
from .errors import ConvergenceError

__all__ = ["main", "build_parser"]

SUBCOMMANDS = ("esd", "sample", "basins", "qstats", "beta_scan", "train_demo", "validate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rmtfp",
        description="Random-matrix theory of deep networks: Jacobian spectra and fixed points.",
    )
    parser.add_argument("--version", action="version", version=f"rmtfp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"rmtfp.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"rmtfp.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as exc:
        print(f"rmtfp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ConvergenceError as exc:
        print(f"rmtfp {args.command}: did not converge: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
