"""The options every subcommand shares, each defined once.

A subcommand builds its parser with :func:`add_command`, naming the shared
options it takes (each added by one ``add_*`` function below), and reads them
back with the helpers (:func:`resolve_seed`, :func:`show_progress`,
:func:`wrote`), so that ``--activation``, ``--weights``, ``--seed``,
``--workers``, ``--json``/``--csv``, ``--plot [FILE]`` and ``--no-progress``
mean the same, default the same and fail the same in every command.

Policies (those of numpy/scipy and of git, pip, pytest):

- ``--activation`` defaults to :data:`DEFAULT_ACTIVATION` everywhere.
- ``--weights`` takes :data:`WEIGHT_LAWS` everywhere (``gaussian`` is read as
  ``normal``); a command may add laws of its own (``choices=``).
- ``--seed`` defaults to fresh entropy; the seed drawn is printed (on stderr,
  and in the command's output), so that every run can be repeated.
- ``--json`` and ``--csv`` exclude each other; both print to stdout, and
  every note (a file written, a fresh seed) goes to stderr.
- ``--plot [FILE]``: the format is the file's suffix, which must be one
  matplotlib writes; without FILE the figure goes to ``COMMAND.png``.
- Progress bars are drawn on stderr, only when stderr is a terminal, and
  never with ``--no-progress``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import textwrap
from typing import Iterable, Optional, Sequence

import numpy as np

from . import dump_json, int_at_least, parse_bounds, parse_scale

__all__ = [
    "DEFAULT_ACTIVATION", "WEIGHT_LAWS", "PLOT_FORMATS", "HelpFormatter", "command_doc", "add_command",
    "add_activation", "add_weights", "add_seed", "add_workers", "add_scheduler", "add_progress", "add_output",
    "add_scale", "add_grid", "add_iteration", "resolve_seed", "connect_scheduler", "announce_fresh_seed", "show_progress", "write_output",
    "wrote", "note", "print_csv", "parse_floats", "float_list", "check_plot_file",
]

#: the activation of every command when --activation is not given (the papers' fixed-point networks)
DEFAULT_ACTIVATION = "hardtanh"
#: the laws of weights every command accepts
WEIGHT_LAWS = ("normal", "cauchy")
_WEIGHT_ALIASES = {"gaussian": "normal"}
#: suffixes of --plot (the formats matplotlib's Agg, PDF, PS and SVG backends write)
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp", "pgf")


class _StoreGiven(argparse.Action):
    """Store the value and record that the option was given (``args.<dest>_given``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, self.dest + "_given", True)


class HelpFormatter(argparse.HelpFormatter):
    """Prose paragraphs wrapped to the terminal; indented paragraphs (the examples) kept as written."""

    def _fill_text(self, text, width, indent):
        return "\n\n".join(
            textwrap.indent(para, indent) if para.startswith(" ") else
            textwrap.fill(" ".join(para.split()), width, initial_indent=indent, subsequent_indent=indent)
            for para in text.strip("\n").split("\n\n"))


def command_doc(doc: str) -> tuple[str, str]:
    """(description, examples) of a command module's docstring.

    The docstring is a title line, then paragraphs: the prose ones are the
    description of ``rmtfp COMMAND --help``, the indented ones (command lines)
    its examples, printed as written below the options.
    """
    paragraphs = [p.rstrip() for p in doc.split("\n\n")[1:] if p.strip()]
    prose = [p.strip() for p in paragraphs if not p.startswith(" ")]
    examples = [p.strip("\n") for p in paragraphs if p.startswith(" ")]
    return "\n\n".join(prose), "\n\n".join(examples)


def _spec(value) -> dict:
    """The keywords of a shared option's ``add_*`` function: ``True`` for its defaults, or a dict."""
    return {} if value is True else dict(value)


def add_command(subparsers, name: str, run, *, help: str, doc: str, activation=None, weights=None, seed=None,
                workers=None, scheduler: bool = False, output=None) -> argparse.ArgumentParser:
    """The parser of ``rmtfp NAME``, with the shared options it takes; ``run(args)`` runs it.

    Parameters
    ----------
    subparsers
        The ``add_subparsers()`` object of ``rmtfp``.
    name : str
        The command, e.g. ``"beta-scan"``.
    run : callable
        ``run(args) -> int``, the command (``args.func``).
    help : str
        The one line of ``rmtfp --help``.
    doc : str
        The module's docstring: its prose is the description of ``rmtfp NAME --help``, its indented command
        lines the examples (see :func:`command_doc`).
    activation, weights, seed, workers, output
        The shared options the command takes: ``True`` (the option as defined here) or a dict of the keywords
        of :func:`add_activation`, :func:`add_weights`, :func:`add_seed`, :func:`add_workers`,
        :func:`add_output` (``output``: ``--json``/``--csv`` and ``--plot``); None: the command has no such
        option.
    scheduler : bool
        ``--scheduler`` (:func:`add_scheduler`).

    Every command has ``--no-progress`` (:func:`add_progress`).  The shared options come first, in the
    parser's own group (``options``), in one order everywhere; the command adds its own options (and groups)
    to the parser returned.
    """
    description, examples = command_doc(doc)
    parser = subparsers.add_parser(name, help=help, description=description or None, formatter_class=HelpFormatter,
                                   epilog=f"examples:\n\n{examples}" if examples else None)
    if activation is not None:
        add_activation(parser, **_spec(activation))
    if weights is not None:
        add_weights(parser, **_spec(weights))
    if seed is not None:
        add_seed(parser, **_spec(seed))
    if workers is not None:
        add_workers(parser, **_spec(workers))
    if scheduler:
        add_scheduler(parser)
    add_progress(parser)
    if output is not None:
        add_output(parser, **_spec(output))
    parser.set_defaults(func=run)
    return parser


def add_activation(group, *, extra_help: str = "") -> None:
    """``--activation NAME``, default :data:`DEFAULT_ACTIVATION`; ``args.activation_given`` says whether given."""
    group.add_argument("--activation", default=DEFAULT_ACTIVATION, metavar="NAME", action=_StoreGiven,
                       help=f"registered activation: linear, relu, hardtanh, tanh, erf, ... "
                            f"(rmtfp.activations.available()); default: {DEFAULT_ACTIVATION}{extra_help}")
    group.set_defaults(activation_given=False)


def _weight_law(choices: Sequence[str]):
    def parse(text: str) -> str:
        law = _WEIGHT_ALIASES.get(text.strip().lower(), text.strip().lower())
        if law not in choices:
            raise argparse.ArgumentTypeError(
                f"--weights must be one of {', '.join(choices)}, got {text!r}")
        return law

    parse.laws = tuple(choices)  # what the command accepts (tests, docs)
    return parse


def add_weights(group, *, default: Optional[str] = "normal", choices: Sequence[str] = WEIGHT_LAWS,
                extra_help: str = "") -> None:
    """``--weights LAW`` with the same names everywhere (``gaussian`` is read as ``normal``)."""
    shown = "normal (variance scale), cauchy (Cauchy scale)" if tuple(choices) == WEIGHT_LAWS else \
        ", ".join(choices)
    dflt = f"; default: {default}" if default is not None else ""
    group.add_argument("--weights", type=_weight_law(tuple(choices)), default=default, metavar="LAW",
                       action=_StoreGiven,
                       help=f"law of the weights: {shown}{dflt}{extra_help}")
    group.set_defaults(weights_given=False)


def add_seed(group, *, what: str = "random seed") -> None:
    """``--seed N``: default fresh entropy, printed so that the run can be repeated."""
    group.add_argument("--seed", type=int_at_least("--seed", 0), default=None, metavar="N",
                       help=f"{what} (default: fresh entropy, printed so that the run can be repeated)")


def resolve_seed(args) -> int:
    """``args.seed``, drawn from fresh entropy (and announced on stderr) when not given."""
    if args.seed is None:
        args.seed = int(np.random.SeedSequence().entropy % 2**32)
        args.fresh_seed = True  # announced by rmtfp.cli.main once the run is over (not before an input error)
    return args.seed


def announce_fresh_seed(args) -> None:
    """The note of a fresh seed, on stderr (called once the command has run)."""
    if getattr(args, "fresh_seed", False):
        note(args, f"seed {args.seed} (fresh; pass --seed {args.seed} to repeat this run)")


def add_workers(group, *, kind: str = "processes", default: str = "the usable cores") -> None:
    """``--workers N``: local worker threads or processes."""
    group.add_argument("--workers", type=int_at_least("--workers"), default=None, metavar="N",
                       help=f"parallel workers ({kind}; default: {default})")


def add_scheduler(group) -> None:
    """``--scheduler ADDRESS``: the networks on a running dask cluster (the ``[cluster]`` extra)."""
    group.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the networks on the dask cluster of this scheduler (e.g. tcp://host:8786; needs "
                            "pip install 'rmtfp[cluster]'); the numbers are those of the local pool, bit for bit")


def connect_scheduler(args, stack):
    """The executor of ``--scheduler`` (None without it), closed with the ``contextlib.ExitStack`` ``stack``.

    A missing extra, an unknown address scheme or a scheduler that does not
    answer is a ``ValueError`` naming the option: the command ends in one line.
    """
    if args.scheduler is None:
        return None
    from ..ensembles import dask_executor

    try:
        return stack.enter_context(dask_executor(args.scheduler))
    except ImportError as exc:
        raise ValueError(f"--scheduler needs dask.distributed: pip install 'rmtfp[cluster]' ({exc})") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"--scheduler {args.scheduler}: {exc}") from None


def add_progress(group) -> None:
    """``--no-progress`` (``--quiet`` is kept as a hidden synonym)."""
    group.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar (bars are drawn on stderr only when it is a terminal)")
    group.add_argument("--quiet", dest="progress", action="store_false", help=argparse.SUPPRESS)
    group.set_defaults(progress=True)


def add_scale(group) -> None:
    """``--scale``: the weight scale of random networks; ``args.scale_given`` says whether given."""
    group.add_argument("--scale", type=parse_scale, default="fan_in", action=_StoreGiven,
                       help="'fan_in' (variance 1/n_l for normal, scale 1/n_l for Cauchy; default) or a number")
    group.set_defaults(scale_given=False)


def add_grid(group) -> None:
    """``--bounds`` and ``--step``: the grid of starts of the fixed-point search (``rmtfp.grid``)."""
    group.add_argument("--bounds", type=parse_bounds, default=(-1.0, 1.0),
                       help="grid box LO,HI per axis (default: -1,1)")
    group.add_argument("--step", type=float, default=0.05, help="grid step (default: 0.05, the 41 x 41 grid)")


def add_iteration(group) -> None:
    """The budget and tolerances of the fixed-point search by iteration (``find_fixed_points``)."""
    group.add_argument("--tol", type=float, default=1e-5, help="Cauchy criterion tolerance (default: 1e-5)")
    group.add_argument("--max-iter", type=int_at_least("--max-iter"), default=50,
                       help="maximum number of maps (default: 50)")
    group.add_argument("--merge-tol", type=float, default=1e-3, help="merge distance (default: 1e-3)")
    group.add_argument("--max-period", type=int_at_least("--max-period"), default=8,
                       help="longest cycle looked for (default: 8)")
    group.add_argument("--no-refine", action="store_true", help="do not polish with Newton's method")


def show_progress(args) -> bool:
    """Whether to draw progress bars: not ``--no-progress``, and stderr is a terminal."""
    if not getattr(args, "progress", True):
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def check_plot_file(path: str) -> None:
    """A figure file's suffix must name a format matplotlib writes (no silent ``.png`` appended)."""
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        got = f"the suffix '.{suffix}'" if suffix else "no suffix"
        raise ValueError(f"--plot FILE needs a suffix naming the format ({', '.join(PLOT_FORMATS)}), "
                         f"got {path!r} with {got}")


def add_output(parser, *, plot: Optional[str], json: bool = True, csv: Optional[str] = None, group=None) -> None:
    """``--json`` / ``--csv`` (exclusive) and ``--plot [FILE]`` (default file ``plot``).

    ``csv`` is the help of ``--csv`` (what its rows are); ``plot=None`` adds no ``--plot``.
    """
    target = group if group is not None else parser
    if json or csv:
        fmt = target.add_mutually_exclusive_group()
        if json:
            fmt.add_argument("--json", action="store_true", help="print one JSON object")
        if csv:
            fmt.add_argument("--csv", action="store_true", help=f"print CSV: {csv}")
    parser.set_defaults(json=False, csv=False)
    if plot is not None:
        target.add_argument("--plot", nargs="?", const=plot, default=None, metavar="FILE",
                            help=f"write the figure; the format is the suffix (.png, .pdf, .svg, ...); "
                                 f"without FILE: {plot}")


def note(args, text: str) -> None:
    """A one-line note on stderr, ``rmtfp COMMAND: text`` (stdout stays the result)."""
    print(f"rmtfp {getattr(args, 'command', '')}: {text}", file=sys.stderr)


def wrote(args, path: str, what: str) -> None:
    """Say on stderr that ``what`` was written to ``path``."""
    note(args, f"wrote {what} to {path}")


def write_output(args, *, figure=None, figure_name: str = "the figure", json=None, csv=None) -> bool:
    """Honour ``--plot``, then ``--json`` or ``--csv`` (:func:`add_output`); True when the result is printed.

    Parameters
    ----------
    figure : callable, optional
        ``figure(plotting)``: the figure of ``--plot``, built from the module :mod:`rmtfp.plotting` (imported
        only with ``--plot``); it is written to the file (the format is its suffix) and said on stderr.
    json : dict or callable, optional
        The object ``--json`` prints (a callable builds it only with ``--json``).
    csv : (header, rows), optional
        The table ``--csv`` prints (:func:`print_csv`).

    Returns
    -------
    bool
        Whether ``--json`` or ``--csv`` printed the result: the command's table is not printed then.
    """
    if figure is not None and args.plot:
        from .. import plotting

        plotting.save_figure(figure(plotting), args.plot)
        wrote(args, args.plot, figure_name)
    if json is not None and args.json:
        print(dump_json(json() if callable(json) else json))
        return True
    if csv is not None and args.csv:
        print_csv(*csv)
        return True
    return False


def print_csv(header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Print a CSV table (header, then rows) to stdout; None and NaN print as empty cells."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None or (isinstance(v, float) and v != v) else
                         (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for v in row])
    sys.stdout.write(buf.getvalue())


def parse_floats(option: str, *, as_list: bool = False):
    """An argparse type: one number, or a comma list (returned as a list; ``as_list``: always a list)."""
    def parse(text: str):
        try:
            values = [float(v) for v in text.split(",")]  # an empty item is a float("") ValueError
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} must be a number or a comma list of numbers, got {text!r}") from None
        return values[0] if len(values) == 1 and not as_list else values

    return parse


def float_list(option: str):
    """An argparse type: a comma list of numbers (one number is a list of one)."""
    return parse_floats(option, as_list=True)
