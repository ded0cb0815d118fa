"""The validation report: ``report.md``, ``report.html`` (figures embedded), ``results.json`` and PNG figures.

:func:`add_figures` calls a claim's ``plot`` and saves its figures as PNG;
:func:`write` writes the three report files.  The HTML page embeds every
figure as a base64 ``data:`` URI and uses no external resource, so it reads
offline in any browser.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time
import traceback
from pathlib import Path
from typing import Iterable, Optional, Sequence

from . import ClaimRecord, load
from ._common import CORRECTED, ERROR, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, jsonable

__all__ = ["add_figures", "write", "summary_rows", "format_table", "STATUS_ORDER"]

STATUS_ORDER = (REPRODUCED, CORRECTED, NOT_REPRODUCED, INCONCLUSIVE, ERROR)
_COLOURS = {REPRODUCED: "#1a7f37", CORRECTED: "#5a8f00", NOT_REPRODUCED: "#b42318", INCONCLUSIVE: "#9a6700",
            ERROR: "#6e40c9"}


def _stem(rec: ClaimRecord) -> str:
    return f"claim{rec.number:02d}_{rec.slug}"


def add_figures(rec: ClaimRecord, out_dir, dpi: int = 110) -> ClaimRecord:
    """Call the claim's ``plot(result)`` and save each figure as ``claimNN_slug[_k].png`` in ``out_dir``.

    A claim whose computation failed gets no figure; a ``plot`` that raises
    turns the record into an error (the check's status is kept in
    ``check_status``).
    """
    if rec.result is None:
        return rec
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        from rmtfp.plotting._common import pyplot

        plt = pyplot()
        figs = load(rec.number).plot(rec.result)
        figs = list(figs) if isinstance(figs, (list, tuple)) else [figs]
        names = []
        for k, fig in enumerate(figs):
            name = f"{_stem(rec)}.png" if len(figs) == 1 else f"{_stem(rec)}_{k + 1}.png"
            fig.savefig(out / name, dpi=dpi, bbox_inches="tight")
            plt.close(fig)
            names.append(name)
        rec.figures = names
    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
        rec.fail("plot", exc, "".join(traceback.format_exception(exc)))
    rec.timing["plot"] = time.perf_counter() - t0
    return rec


#: the line that separates the papers' claims from those of group "isometry" (numbers >= 101)
ISOMETRY_HEADING = "-- beyond the papers: dynamical isometry (group isometry) --"


def _starts_isometry(records, i: int) -> bool:
    return records[i].number >= 101 and (i == 0 or records[i - 1].number < 101)


def summary_rows(records: Sequence[ClaimRecord]) -> list:
    """(number, title, status, seconds) per claim."""
    return [(r.number, r.title, r.status, sum(r.timing.values())) for r in records]


def format_table(records: Sequence[ClaimRecord], width: int = 120) -> str:
    """The plain-text summary table printed by ``rmtfp validate``."""
    head = f"{'#':>3}  {'status':<27} {'time':>7}  claim"
    lines = [head, "-" * width]
    for i, (n, title, status, secs) in enumerate(summary_rows(records)):
        if _starts_isometry(records, i):
            lines.append(ISOMETRY_HEADING)
        room = max(20, width - 42)
        t = title if len(title) <= room else title[:room - 3] + "..."
        lines.append(f"{n:>3}  {status:<27} {secs:6.1f}s  {t}")
    counts = {s: sum(1 for r in records if r.status == s) for s in STATUS_ORDER}
    lines.append("-" * width)
    lines.append(", ".join(f"{c} {s}" for s, c in counts.items() if c))
    return "\n".join(lines)


def _fmt(v, digits: int = 4) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_fmt(x, digits) for x in v[:12])
        return f"[{inner}{', ...' if len(v) > 12 else ''}]"
    if isinstance(v, dict):
        inner = ", ".join(f"{k}: {_fmt(x, digits)}" for k, x in list(v.items())[:12])
        return "{" + inner + (", ..." if len(v) > 12 else "") + "}"
    return str(v)


def _number_rows(numbers: dict) -> list:
    """(name, formatted value) rows; a list of dicts (a per-cell table) is shown one row per entry."""
    rows = []
    for k, v in jsonable(numbers).items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                rows.append((f"{k}[{i}]", _fmt(x)))
        else:
            rows.append((k, _fmt(v)))
    return rows


def _meta_lines(meta: dict) -> list:
    return [f"{k}: {v}" for k, v in meta.items()]


def _markdown(records: Sequence[ClaimRecord], meta: dict) -> str:
    out = ["# rmtfp validation report", ""]
    out += [f"- {line}" for line in _meta_lines(meta)] + [""]
    out += ["Each claim of the papers, what the toolkit measured, and whether it reproduces. Statuses: "
            "**reproduced**; **reproduced with correction** (the correction is stated); **not reproduced** (with the "
            "measured numbers); **inconclusive** (with what would decide it); **error** (the computation failed; "
            "message and traceback below). Every status comes from the measured numbers by the criterion stated "
            "under the claim.", ""]
    out += ["| # | claim | status | time (s) |", "|---|---|---|---|"]
    for i, r in enumerate(records):
        if _starts_isometry(records, i):
            out.append(f"| | **{ISOMETRY_HEADING.strip('- ')}** | | |")
        out.append(f"| {r.number} | [{r.title}](#claim-{r.number}) | **{r.status}** | {sum(r.timing.values()):.1f} |")
    out.append("")
    for r in records:
        out += [f"## Claim {r.number}: {r.title}", "", f'<a id="claim-{r.number}"></a>', ""]
        out += [f"**Status: {r.status}**" + (f" (the check said: {r.check_status})" if r.check_status else ""), ""]
        out += [f"*Source:* {r.source}", "", f"*Claim:* {r.claim}", "", f"*Criterion:* {r.criterion}", ""]
        if r.summary:
            out += [f"*Measured:* {r.summary}", ""]
        if r.correction:
            out += [f"*Correction:* {r.correction}", ""]
        if r.decide:
            out += [f"*What would decide it:* {r.decide}", ""]
        if r.error:
            out += ["*Error:*", "", "```", r.error, "", (r.traceback or "").rstrip(), "```", ""]
        if r.numbers:
            out += ["| measured | value |", "|---|---|"]
            out += [f"| {k} | {v.replace('|', '/')} |" for k, v in _number_rows(r.numbers)]
            out.append("")
        for name in r.figures:
            out += [f"![claim {r.number}]({name})", ""]
        out += [f"*Parameters:* `{json.dumps(jsonable(r.params))}`", "",
                f"*Seeds:* `{json.dumps(jsonable(r.seeds))}`", "",
                "*Timing (s):* " + ", ".join(f"{k} {v:.2f}" for k, v in r.timing.items()), ""]
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2328;line-height:1.45}
table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
vertical-align:top;font-size:0.92em}th{background:#f6f8fa}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:0.9em}
pre{background:#f6f8fa;padding:0.6em;overflow-x:auto;font-size:0.85em}
section{border-top:1px solid #d0d7de;margin-top:1.6em;padding-top:0.4em}
img{max-width:100%;border:1px solid #eee;margin:0.4em 0}code{font-size:0.85em;word-break:break-all}
.meta{color:#57606a;font-size:0.9em}
"""


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{_COLOURS.get(status, "#555")}">{html.escape(status)}</span>'


def _html(records: Sequence[ClaimRecord], meta: dict, out_dir: Path) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>rmtfp validation report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>rmtfp validation report</h1>", "<ul class='meta'>"]
    parts += [f"<li>{e(line)}</li>" for line in _meta_lines(meta)]
    parts += ["</ul>", "<p>Each claim of the papers, what the toolkit measured, and whether it reproduces. Every "
              "status comes from the measured numbers by the criterion stated under the claim.</p>",
              "<table><tr><th>#</th><th>claim</th><th>status</th><th>time (s)</th></tr>"]
    for r in records:
        parts.append(f"<tr><td>{r.number}</td><td><a href='#claim-{r.number}'>{e(r.title)}</a></td>"
                     f"<td>{_badge(r.status)}</td><td>{sum(r.timing.values()):.1f}</td></tr>")
    parts.append("</table>")
    for r in records:
        parts.append(f"<section id='claim-{r.number}'><h2>Claim {r.number}: {e(r.title)} {_badge(r.status)}</h2>")
        if r.check_status:
            parts.append(f"<p>The check said: {_badge(r.check_status)}</p>")
        parts.append(f"<p><b>Source:</b> {e(r.source)}</p><p><b>Claim:</b> {e(r.claim)}</p>"
                     f"<p><b>Criterion:</b> {e(r.criterion)}</p>")
        if r.summary:
            parts.append(f"<p><b>Measured:</b> {e(r.summary)}</p>")
        if r.correction:
            parts.append(f"<p><b>Correction:</b> {e(r.correction)}</p>")
        if r.decide:
            parts.append(f"<p><b>What would decide it:</b> {e(r.decide)}</p>")
        if r.error:
            parts.append(f"<p><b>Error:</b> {e(r.error)}</p><pre>{e(r.traceback or '')}</pre>")
        if r.numbers:
            parts.append("<table><tr><th>measured</th><th>value</th></tr>")
            parts += [f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _number_rows(r.numbers)]
            parts.append("</table>")
        for name in r.figures:
            data = base64.b64encode((out_dir / name).read_bytes()).decode("ascii")
            parts.append(f"<div><img alt='claim {r.number} figure' src='data:image/png;base64,{data}'></div>")
        parts.append(f"<p><b>Parameters:</b> <code>{e(json.dumps(jsonable(r.params)))}</code></p>"
                     f"<p><b>Seeds:</b> <code>{e(json.dumps(jsonable(r.seeds)))}</code></p>"
                     f"<p class='meta'>Timing (s): {e(', '.join(f'{k} {v:.2f}' for k, v in r.timing.items()))}</p>"
                     "</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(records: Iterable[ClaimRecord], out_dir, meta: Optional[dict] = None) -> dict:
    """Write ``report.md``, ``report.html`` and ``results.json`` into ``out_dir``.

    Parameters
    ----------
    records : iterable of ClaimRecord
        With figures already saved in ``out_dir`` (:func:`add_figures`).
    out_dir : path
    meta : dict, optional
        Run information shown at the top (mode, time, versions, ...).

    Returns
    -------
    dict
        {"md": path, "html": path, "json": path}.
    """
    records = list(records)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    paths = {"md": out / "report.md", "html": out / "report.html", "json": out / "results.json"}
    paths["md"].write_text(_markdown(records, meta), encoding="utf-8")
    paths["html"].write_text(_html(records, meta, out), encoding="utf-8")
    payload = {"meta": jsonable(meta), "statuses": {str(r.number): r.status for r in records},
               "claims": [r.to_dict() for r in records]}
    tmp = paths["json"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, allow_nan=False), encoding="utf-8")
    os.replace(tmp, paths["json"])
    return {k: str(v) for k, v in paths.items()}
