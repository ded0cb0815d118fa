"""The ``rmtfp`` command.

Each subcommand lives in :mod:`rmtfp.commands` as a module with
``register(subparsers)``, which adds its parser and sets ``func``.  Errors of
input (``ValueError``/``TypeError``, and argparse's usage errors), of files
that cannot be read or written (``OSError``) and of convergence become
one-line messages on stderr and exit status 2 and 3 (a run that does not fit
in memory is refused with its size, status 2); output files are checked
before any work is done.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from typing import Optional, Sequence

from . import __version__
from .errors import ConvergenceError

__all__ = ["main", "build_parser"]

SUBCOMMANDS = ("esd", "sample", "basins", "qstats", "beta_scan", "train_demo", "validate", "phase")
#: options naming a file the command writes: checked before any work is done
OUTPUT_FILES = ("plot", "save", "save_weights")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2), like the errors found later."""

    def error(self, message):
        # "argument --seed: --seed must be ..." -> "--seed must be ..."
        named = re.match(r"argument (\S+): (\1\b.*)", message, flags=re.S)
        if named:
            message = named.group(2)
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    from .commands._options import announce_fresh_seed

    try:
        for name in OUTPUT_FILES:
            _check_output_file(name, getattr(args, name, None))
        status = int(args.func(args) or 0)
        announce_fresh_seed(args)
        return status
    except (ValueError, TypeError) as exc:
        print(f"rmtfp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        print(f"rmtfp {args.command}: error: not enough memory: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader (head, less) closed the pipe: stop quietly, and keep the exit-time flush from failing again
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
            pass
        return 0
    except OSError as exc:
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"rmtfp {args.command}: error: cannot access{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ConvergenceError as exc:
        print(f"rmtfp {args.command}: did not converge: {exc}", file=sys.stderr)
        announce_fresh_seed(args)
        return 3
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


def _check_output_file(name: str, path) -> None:
    """An output file's folder must exist and the path must not be a folder."""
    if not isinstance(path, str):
        return
    option = "--" + name.replace("_", "-")
    if os.path.isdir(path):
        raise ValueError(f"{option} must name a file, got the directory {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{option}: the directory {folder!r} does not exist (got {path!r})")
    if name == "plot":
        from .commands._options import check_plot_file

        check_plot_file(path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
