"""Every code example of the documentation runs.

* Each ```python block of every page in ``docs/`` (and of ``README.md``) is
  executed.  The blocks of one page run in order in one namespace, as a reader
  would run them, in a temporary working directory (examples may write
  files) with matplotlib's Agg backend.  A block whose first line starts with
  ``>>>`` is run as a doctest, so its printed output is checked as well.
* In the other python blocks, a line that is an expression followed by a
  comment starting with a value (``res.Q  # 2``, ``r.zero_fraction  # 0.522:
  ...``, ``e.q  # (3.0, 1.235): ...``) is compared with what the code gives:
  numbers to the digits shown (half a unit in the last place; a whole unit
  after "about"), strings, booleans and shapes exactly, sympy expressions by
  their printed form.  A comment that does not start with a value (prose) is
  not compared.
* A block preceded by ``<!-- skip-test: reason -->`` is not run (for examples
  that need hours, a cluster, or data the reader supplies); the reason is
  required and appears in the test report.
* Each ``rmtfp ...`` command line of a ```bash block is parsed by the real
  parser (``rmtfp.cli.build_parser``), so a renamed or removed option fails
  here; the commands are not run.
* ``docs/cli.md`` is the output of ``docs/gen_cli.py`` for the current parser.
"""

from __future__ import annotations

import argparse
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
    checked = 0
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
                checked += run_checking_values(source, where, namespace)
    finally:
        plt.close("all")
        for name in set(activations.available()) - registered:  # pages may register activations
            activations.unregister(name)
    if skipped:
        print("not run:", "; ".join(skipped))
    print(f"{checked} commented values compared")


# ------------------------------------------------------------- commented values
def _comments(source: str) -> dict:
    """line number -> text of the comment ending that line."""
    import io
    import tokenize

    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string[1:].strip()
    return out


def _decimals(literal: str) -> int:
    """Decimal places shown by a number literal (``2.2e9`` -> -8, ``0.6098`` -> 4, ``1.`` -> 0, ``42`` -> 0)."""
    mantissa, _, exponent = literal.lower().partition("e")
    places = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return places - (int(exponent) if exponent else 0)


def expected_value(comment: str):
    """(expected, approximate) from a comment that starts with a value, or None for prose.

    Numbers become ``("num", value, tolerance)`` with half a unit in the last place shown; the longest
    prefix of the comment (cut at ``:``, ``  ``, `` (`` or `` ±``) that is a Python literal is taken.
    """
    import ast

    approximate = comment.startswith("about ")
    text = comment[6:] if approximate else comment
    cuts = sorted({len(text)} | {m.start() for m in re.finditer(r":|  | \(| ±", text)}, reverse=True)
    for cut in cuts:
        prefix = text[:cut].strip()
        if not prefix:
            continue
        try:
            tree = ast.parse(prefix, mode="eval").body
            return _literal(tree, prefix, 1.0 if approximate else 0.5), approximate
        except (SyntaxError, ValueError):
            continue
    return None


def _literal(node, source: str, ulp: float):
    import ast

    segment = ast.get_source_segment(source, node) or ""
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return ("exact", node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return ("num", float(node.value), ulp * 10.0 ** -_decimals(segment))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ("exact", node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        kind, value, tol = _literal(node.operand, segment.lstrip("- "), ulp)
        if kind != "num":
            raise ValueError(segment)
        return ("num", -value, tol)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)) and all(
            isinstance(n, ast.Constant) and type(n.value) is int for n in (node.left, node.right)):
        value = eval(compile(ast.Expression(node), "<comment>", "eval"), {"__builtins__": {}})  # 5/3: exact
        return ("num", float(value), 1e-12 * abs(value))
    if isinstance(node, (ast.Tuple, ast.List)):
        return ("seq", [_literal(e, source, ulp) for e in node.elts])
    raise ValueError(segment)


def matches(expected, actual) -> bool:
    """Whether ``actual`` (numbers, numpy arrays, sequences, strings) is ``expected`` to the digits shown."""
    import numpy as np

    kind = expected[0]
    if isinstance(actual, np.ndarray):
        actual = actual.tolist()
    if kind == "seq":
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected[1]) and all(
            matches(e, a) for e, a in zip(expected[1], actual))
    if kind == "exact":
        return type(actual) is type(expected[1]) and actual == expected[1] or (
            isinstance(expected[1], bool) and isinstance(actual, np.bool_) and bool(actual) == expected[1])
    if isinstance(actual, (bool, np.bool_, str)) or not np.isscalar(actual) and not hasattr(actual, "__float__"):
        return False
    try:
        value = float(actual)
    except (TypeError, ValueError):
        return False
    return abs(value - expected[1]) <= expected[2] * (1 + 1e-9)


def run_checking_values(source: str, where: str, namespace: dict) -> int:
    """Run a block statement by statement; compare every ``expression  # value`` line.  Returns the count."""
    import ast

    comments = _comments(source)
    checked = 0
    for stmt in ast.parse(source).body:
        comment = comments.get(stmt.end_lineno) if isinstance(stmt, ast.Expr) else None
        parsed = expected_value(comment) if comment else None
        if parsed is None:
            exec(compile(ast.Module([stmt], type_ignores=[]), where, "exec"), namespace)
            continue
        actual = eval(compile(ast.Expression(stmt.value), where, "eval"), namespace)
        expected, _ = parsed
        line = f"{where.rsplit(':', 1)[0]}:{int(where.rsplit(':', 1)[1]) + stmt.lineno}"
        if type(actual).__module__.startswith("sympy"):
            assert str(actual) == comment.split("  ")[0], f"{line}: {actual} is printed as # {comment}"
        else:
            assert matches(expected, actual), f"{line}: the code gives {actual!r}, the page says # {comment}"
        checked += 1
    return checked


def test_commented_values_are_parsed_to_the_digits_shown():
    assert expected_value("2") == (("num", 2.0, 0.5), False)
    assert expected_value("0.522: exact zeros (the atom is 1/2)") == (("num", 0.522, 0.0005), False)
    assert expected_value("(40, 200): one row per network")[0][0] == "seq"
    assert expected_value("'gaussian': phi'^2 = exp(-pi x^2 / 2)") == (("exact", "gaussian"), False)
    assert expected_value("close to the Fuss-Catalan moments 1, 3") is None  # prose
    exp, approx = expected_value("about [42, 34, 26, 20]")
    assert approx and matches(exp, [41.6, 34.9, 25.2, 20.4]) and not matches(exp, [43.5, 34, 26, 20])
    assert matches(expected_value("2.2e9")[0], 2.24e9) and not matches(expected_value("2.2e9")[0], 2.3e9)
    assert matches(expected_value("[[-0.5547,  1.], [0.2671, -1.]]")[0], [[-0.55474, 1.0], [0.26714, -1.0]])
    assert not matches(expected_value("[[-0.5547,  1.], [0.2671, -1.]]")[0], [[-0.5547, 1.0]])
    assert matches(expected_value("5/3: Var")[0], 5 / 3) and not matches(expected_value("5/3")[0], 1.667)
    assert matches(expected_value("True: every ratio")[0], True) and not matches(expected_value("True")[0], 1)
    assert not matches(expected_value("0.522")[0], 0.523)


def test_a_wrong_commented_value_fails():
    ns: dict = {}
    assert run_checking_values("x = 0.1 + 0.2\nx  # 0.3\n", "page.md:1", ns) == 1
    with pytest.raises(AssertionError, match="the code gives 0.30000000000000004, the page says # 0.4"):
        run_checking_values("x  # 0.4\n", "page.md:1", ns)


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
            if action.help == argparse.SUPPRESS:  # a hidden synonym (--quiet for --no-progress)
                continue
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
