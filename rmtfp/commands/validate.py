"""``rmtfp validate``: every claim of the papers, reproduced or refuted, in one report.

Run the validation suite: for every claim of the papers, compute the measurement, derive its status
(reproduced, reproduced with correction, not reproduced, inconclusive, or error) from stated criteria, draw its
figures, and write DIR/report.md, DIR/report.html (figures embedded), DIR/results.json and the PNG figures.
Exit status 1 when a claim ended in error.

    rmtfp validate                       # quick mode, report in rmtfp-report/
    rmtfp validate --full --out full-report
    rmtfp validate --only 3,7
    rmtfp validate --scheduler tcp://host:8786   # the ensembles on a dask cluster

The claims run one after the other (compute, check, then plot) and a summary table is printed.  A claim
ends in error when its computation, check or figure raised; the exit status is 0 also when claims are not
reproduced.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import platform
import sys
import time

from ._options import add_command, connect_scheduler, show_progress

__all__ = ["register", "run", "parse_only"]


def parse_only(text: str) -> list:
    """``3,7`` or ``1-5`` or ``1-3,9``: claim numbers (validated against the registry later)."""
    out = []
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                a, b = (int(v) for v in part.split("-", 1))
                if b < a:
                    raise ValueError
                out.extend(range(a, b + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--only must be claim numbers like 3,7 or 1-5, got {text!r}") from None
    if not out:
        raise argparse.ArgumentTypeError(f"--only must name at least one claim, got {text!r}")
    return sorted(set(out))


def register(subparsers) -> None:
    p = add_command(subparsers, "validate", run, doc=__doc__,
                    help="reproduce (or refute) every claim of the papers and write a report", scheduler=True,
                    workers=dict(kind="processes for the ensembles of networks", default="up to 2 usable cores"))
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small sizes, a few minutes at most (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the papers' sizes (about an hour on two cores)")
    p.set_defaults(mode="quick")
    p.add_argument("--out", default="rmtfp-report", metavar="DIR",
                   help="report directory (default: rmtfp-report)")
    p.add_argument("--only", type=parse_only, default=None, metavar="LIST",
                   help="claims to run, e.g. 3,7 or 1-5 (default: all of --group)")
    p.add_argument("--group", choices=["papers", "isometry", "all"], default="all",
                   help="papers: the claims of the two papers (1-15); isometry: dynamical isometry beyond them "
                        "(101-); all (default)")


def run(args) -> int:
    import numpy as np

    import rmtfp
    from rmtfp import validation
    from rmtfp.ensembles import use_executor
    from rmtfp.validation import report
    from rmtfp.validation._common import single_threaded_blas

    numbers = args.only if args.only is not None else validation.available(args.group)
    unknown = [n for n in numbers if n not in validation.available("all")]
    if unknown:
        raise ValueError(f"--only: no claim {unknown}; the claims are {validation.available('all')}")
    check_writable_dir(args.out, "--out")
    if args.workers is not None:
        validation.settings.workers = args.workers
    from tqdm.auto import tqdm

    with contextlib.ExitStack() as stack:
        stack.enter_context(use_executor(connect_scheduler(args, stack)))  # before the bar: errors in one line
        stack.enter_context(single_threaded_blas())
        started = datetime.datetime.now().astimezone()
        t0 = time.perf_counter()
        records = []
        bar = stack.enter_context(tqdm(total=len(numbers), desc="validate", unit="claim", file=sys.stderr,
                                       disable=not show_progress(args), leave=False))
        for n in numbers:
            bar.set_postfix_str(f"claim {n}")
            rec = validation.run_claim(n, args.mode)
            report.add_figures(rec, args.out)
            records.append(rec)
            bar.update(1)
    total = time.perf_counter() - t0
    meta = {"mode": args.mode, "group": args.group, "claims": ",".join(str(n) for n in numbers),
            "started": started.isoformat(timespec="seconds"), "total_seconds": round(total, 2),
            "workers": validation.settings.workers, "rmtfp": rmtfp.__version__,
            "python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
            "scheduler": args.scheduler,
            "command": "rmtfp validate --" + args.mode + (
                " --only " + ",".join(str(n) for n in numbers) if args.only is not None else "")}
    paths = report.write(records, args.out, meta)
    print(report.format_table(records))
    print(f"total {total:.1f} s ({args.mode} mode); report: {paths['html']}, {paths['md']}, {paths['json']}")
    return 1 if any(r.status == "error" for r in records) else 0


def check_writable_dir(path: str, option: str) -> None:
    """Create ``path`` if needed and prove that a file can be written there, before any work is done."""
    import os
    import tempfile

    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{option} must name a directory, got the file {path!r}")
    os.makedirs(path, exist_ok=True)  # an OSError here names the path
    with tempfile.NamedTemporaryFile(dir=path, prefix=".rmtfp-write-test-"):
        pass
