"""Griffe extension for the API reference: Sphinx roles in docstrings become code spans.

The docstrings of rmtfp are numpydoc and use Sphinx cross-reference roles
(:func:`density`, :class:`~rmtfp.Network`), which Markdown would print
literally.  This extension rewrites them to inline code before mkdocstrings
renders the docstrings: ``:func:`~a.b.c``` becomes ``c``, ``:class:`a.b```
stays ``a.b``.  Loaded from mkdocs.yml (``extensions:`` of the python handler).
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const|math|ref|term):`(?P<body>[^`]+)`")


def _replace(m: re.Match) -> str:
    body = m.group("body").strip()
    if body.startswith("~"):
        body = body[1:].rsplit(".", 1)[-1]
    if body.endswith(">") and "<" in body:  # :func:`text <target>`
        body = body[:body.index("<")].strip()
    return f"`{body}`"


def convert(text: str) -> str:
    """Replace every Sphinx role in ``text`` by a code span."""
    return _ROLE.sub(_replace, text)


class SphinxRolesToCode(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:  # griffe calls this for every loaded object
        if getattr(obj, "docstring", None) is not None:
            obj.docstring.value = convert(obj.docstring.value)
