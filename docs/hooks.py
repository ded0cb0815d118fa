"""MkDocs hooks of the rmtfp site.

Pages that other parts of the project are still writing are listed in
``PENDING``.  While such a page does not exist, its entry is dropped from the
navigation and links to it are rendered as plain text, so that
``mkdocs build --strict`` keeps failing on every other missing page or broken
link.  Remove a name from ``PENDING`` once its page is in ``docs/``.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.rmtfp")

PENDING = {"ensembles.md", "training.md"}

_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s#]+\.md)(?P<anchor>#[^)\s]*)?\)")


def _missing(docs_dir: str) -> set[str]:
    return {name for name in PENDING if not (Path(docs_dir) / name).exists()}


def _prune(nav, missing: set[str]):
    out = []
    for item in nav:
        if isinstance(item, dict):
            (title, value), = item.items()
            if isinstance(value, list):
                value = _prune(value, missing)
                if value:
                    out.append({title: value})
            elif value not in missing:
                out.append(item)
        elif item not in missing:
            out.append(item)
    return out


def on_config(config):
    missing = _missing(config["docs_dir"])
    if missing and config.get("nav"):
        log.info("pages not written yet, left out of the navigation: %s", ", ".join(sorted(missing)))
        config["nav"] = _prune(config["nav"], missing)
    return config


def on_page_markdown(markdown, page, config, files):
    missing = _missing(config["docs_dir"])
    if not missing:
        return markdown
    base = Path(page.file.src_uri).parent

    def unlink(m):
        target = posixpath.normpath(posixpath.join(base.as_posix(), m.group("target")))
        return m.group("text") if target in missing else m.group(0)

    return _LINK.sub(unlink, markdown)
