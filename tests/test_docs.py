"""Every code example of the documentation runs.

* Each ```python block of every page in ``docs/`` (and of ``README.md``) is
  executed.  The blocks of one page run in order in one namespace, as a reader
  would run them, in a temporary working directory (examples may write
  files) with matplotlib's Agg backend.  A block whose first line starts with
  ``>>>`` is run as a doctest, so its printed output is checked as well.
* A block preceded by ``<!-- skip-test: reason -->`` is not run (for examples
  that need hours, a cluster, or data the reader supplies); the reason is
  required and appears in the test report.
* Each ``rmtfp ...`` command line of a ```bash block is parsed by the real
  parser (``rmtfp.cli.build_parser``), so a renamed or removed option fails
  here; the commands are not run.
* ``docs/cli.md`` is the output of ``docs/gen_cli.py`` for the current parser.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"<!--\s*skip-test:\s*(?P<reason>\S.*?)\s*-->\s*$")


def _pages() -> list[Path]:
    pages = sorted(p for p in DOCS.rglob("*.md"))
    readme = ROOT / "README.md"
    return pages + ([readme] if readme.exists() else [])


def _page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def code_blocks(text: str, languages: tuple[str, ...]) -> list[tuple[int, str, str | None]]:
    """(line number, dedented source, skip reason or None) of the fenced blocks in ``languages``."""
    blocks = []
    for m in FENCE.finditer(text):
        if m.group("lang").lower() not in languages:
            continue
        line = text.count("\n", 0, m.start()) + 1
        before = text[:m.start()].rstrip().rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        indent = m.group("indent")
        body = "".join(l[len(indent):] if l.startswith(indent) else l
                       for l in m.group("body").splitlines(keepends=True))
        blocks.append((line, body, skip.group("reason") if skip else None))
    return blocks


def test_skip_marker_needs_a_reason():
    for page in _pages():
        for m in re.finditer(r"<!--\s*skip-test\b(.*?)-->", page.read_text(encoding="utf-8"), re.DOTALL):
            assert m.group(1).strip(" :\n"), f"{_page_id(page)}: skip-test without a reason"


def test_fence_parser():
    text = "a\n<!-- skip-test: needs a cluster -->\n```python\nx = 1\n```\n\n```bash\nls\n```\n" \
           "- item\n\n    ```python\n    y = 2\n    ```\n"
    assert code_blocks(text, ("python",)) == [(3, "x = 1\n", "needs a cluster"), (12, "y = 2\n", None)]
    assert code_blocks(text, ("bash",)) == [(7, "ls\n", None)]


PYTHON_PAGES = [p for p in _pages() if code_blocks(p.read_text(encoding="utf-8"), ("python", "py", "pycon"))]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=_page_id)
def test_python_examples(page: Path, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rmtfp import activations

    monkeypatch.chdir(tmp_path)
    registered = set(activations.available())
    namespace: dict = {"__name__": "__docs__"}
    skipped = []
    try:
        for line, source, skip in code_blocks(page.read_text(encoding="utf-8"), ("python", "py", "pycon")):
            where = f"{_page_id(page)}:{line}"
            if skip:
                skipped.append(f"{where} ({skip})")
                continue
            if source.lstrip().startswith(">>>"):
                test = doctest.DocTestParser().get_doctest(source, namespace, where, str(page), line)
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
                runner.run(test, clear_globs=False)
                assert runner.failures == 0, f"doctest at {where} failed (output above)"
            else:
                exec(compile(source, where, "exec"), namespace)
    finally:
        plt.close("all")
        for name in set(activations.available()) - registered:  # pages may register activations
            activations.unregister(name)
    if skipped:
        print("not run:", "; ".join(skipped))


# ------------------------------------------------------------- command lines
def _rmtfp_commands(source: str) -> list[list[str]]:
    """The argument lists of the ``rmtfp`` invocations in a shell block."""
    commands = []
    text = re.sub(r"\\\n", " ", source)
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("$ "):
            raw = raw[2:]
        if not raw or raw.startswith("#"):
            continue
        try:
            words = shlex.split(raw, comments=True)
        except ValueError:
            continue
        part: list[str] = []
        for w in words + ["&&"]:
            if w in ("&&", "||", ";", "|"):
                if part and part[0] == "rmtfp":
                    commands.append(part[1:])
                part = []
            else:
                part.append(w)
    return commands


SHELL_CASES = [(p, line, args) for p in _pages()
               for line, body, skip in code_blocks(p.read_text(encoding="utf-8"), ("bash", "sh", "shell", "console"))
               if not skip for args in _rmtfp_commands(body)]


@pytest.mark.parametrize("page,line,args", SHELL_CASES,
                         ids=[f"{_page_id(p)}:{line}:{' '.join(a)[:40]}" for p, line, a in SHELL_CASES])
def test_command_lines_parse(page, line, args):
    from rmtfp import cli

    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 (argparse has no public accessor)
    if args and not args[0].startswith("-") and args[0] not in commands:
        module = args[0].replace("-", "_")
        if module in cli.SUBCOMMANDS and importlib.util.find_spec(f"rmtfp.commands.{module}") is None:
            pytest.skip(f"`rmtfp {args[0]}` is listed in rmtfp.cli.SUBCOMMANDS but not installed yet")
    try:
        parser.parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"{_page_id(page)}:{line}: `rmtfp {' '.join(args)}` does not parse (exit {exc.code})")


def test_bash_command_extraction():
    block = "pip install -e . && rmtfp validate --quick   # comment\n$ rmtfp esd --depth 3 \\\n  --json\nls\n"
    assert _rmtfp_commands(block) == [["validate", "--quick"], ["esd", "--depth", "3", "--json"]]


# ------------------------------------------------------------- CLI page
def _gen_cli():
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_page_matches_the_parser():
    gen = _gen_cli()
    expected = gen.render()
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == expected, "docs/cli.md is out of date: run `python3 docs/gen_cli.py`"


def test_cli_page_lists_every_command_and_option():
    from rmtfp import cli

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = cli.build_parser()
    for name, sub in parser._subparsers._group_actions[0].choices.items():  # noqa: SLF001
        assert f"## `rmtfp {name}`" in text
        for action in sub._actions:  # noqa: SLF001
            for flag in action.option_strings:
                assert f"`{flag}" in text, f"{flag} of rmtfp {name} missing from docs/cli.md"


# ------------------------------------------------------------- site structure
def test_nav_lists_every_page():
    """Every page in docs/ is reachable from the navigation of mkdocs.yml."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"(?<![\w/.-])([\w/.-]+\.md)\b", nav))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - listed == set(), f"pages missing from the nav of mkdocs.yml: {sorted(pages - listed)}"


def test_figures_exist():
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
            if "://" in target:
                continue
            path = (page.parent / target).resolve()
            assert path.exists(), f"{_page_id(page)}: figure {target} not found"
