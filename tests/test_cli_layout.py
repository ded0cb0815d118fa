"""Every subcommand is built by one helper (rmtfp.commands._options.add_command): the shared options in one
group and one order, the description and the examples from the module's docstring, and one output path
(write_output) for --plot, --json and --csv."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

import pytest

from rmtfp.cli import SUBCOMMANDS, build_parser
from rmtfp.commands import _options, int_list

#: the shared options in the order add_command adds them (a command takes a subset)
SHARED = ("--activation", "--weights", "--seed", "--workers", "--scheduler", "--no-progress", "--json", "--csv",
          "--plot")


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_shared_options_come_first_in_one_order(name):
    sub = _subparsers()[name.replace("_", "-")]
    own = [s for a in sub._optionals._group_actions for s in a.option_strings if s in SHARED]
    assert own == [s for s in SHARED if s in own]  # the common order
    everywhere = [s for a in sub._actions for s in a.option_strings if s in SHARED]
    assert sorted(own) == sorted(everywhere)  # no shared option outside the first group
    assert "--no-progress" in own  # every command has it


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help_is_the_module_docstring(name):
    module = importlib.import_module(f"rmtfp.commands.{name}")
    sub = _subparsers()[name.replace("_", "-")]
    description, examples = _options.command_doc(module.__doc__)
    assert sub.description == description and description  # prose, no examples in it
    assert not any(line.startswith(" ") for line in description.splitlines())
    lines = [line.strip() for line in examples.splitlines() if line.strip()]
    assert lines and all(line.startswith(f"rmtfp {name.replace('_', '-')}") for line in lines)
    text = sub.format_help()
    for line in lines:  # the examples are printed as written, below the options
        assert line in text and text.index(line) > text.index("--no-progress")


def test_command_doc_splits_prose_from_examples():
    doc = "``rmtfp x``: title.\n\nFirst  paragraph\nwraps.\n\n    rmtfp x --a\n    rmtfp x --b\n\nMore prose.\n"
    description, examples = _options.command_doc(doc)
    assert description == "First  paragraph\nwraps.\n\nMore prose."
    assert examples == "    rmtfp x --a\n    rmtfp x --b"
    formatter = _options.HelpFormatter("rmtfp x", width=30)
    filled = formatter._fill_text(description + "\n\n" + examples, 30, "")
    assert filled.splitlines()[0] == "First paragraph wraps."  # prose re-flowed
    assert "    rmtfp x --a\n    rmtfp x --b" in filled  # examples kept


def test_write_output_plots_only_with_plot_and_prints_one_format(capsys):
    calls = []
    args = argparse.Namespace(command="x", plot=None, json=True, csv=False)
    assert _options.write_output(args, figure=lambda plotting: calls.append(1), json=lambda: {"a": float("nan")},
                                 csv=(["a"], [[1]]))
    assert calls == []  # no --plot: the figure is not built
    assert json.loads(capsys.readouterr().out) == {"a": None}
    args = argparse.Namespace(command="x", plot=None, json=False, csv=True)
    assert _options.write_output(args, json={"a": 1}, csv=(["a", "b"], [[1, 2.5]]))
    assert capsys.readouterr().out == "a,b\n1,2.5\n"
    args = argparse.Namespace(command="x", plot=None, json=False, csv=False)
    assert not _options.write_output(args, json={"a": 1}, csv=(["a"], [[1]]))
    assert capsys.readouterr().out == ""


def test_write_output_writes_the_figure_and_says_so(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "f.svg"
    args = argparse.Namespace(command="x", plot=str(path), json=False, csv=False)

    def figure(plotting):
        from rmtfp.plotting._common import pyplot

        fig = pyplot().figure()
        fig.add_subplot().plot([0, 1], [1, 0])
        return fig

    assert not _options.write_output(args, figure=figure, figure_name="the test figure")
    assert path.read_text().lstrip().startswith("<?xml")
    assert capsys.readouterr().err == f"rmtfp x: wrote the test figure to {path}\n"


def test_json_output_does_not_load_matplotlib():
    import os
    import subprocess

    # a fresh interpreter: in this one another test may have loaded matplotlib already
    code = ("import sys; from rmtfp.cli import main; "
            "rc = main(['phase', '--activation', 'relu', '--sigma-b2', '0', '--json']); "
            "print(rc, 'matplotlib' in sys.modules)")
    import rmtfp

    root = os.path.dirname(os.path.dirname(os.path.abspath(rmtfp.__file__)))  # this checkout's rmtfp, first
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [root, os.environ.get("PYTHONPATH")] if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         env=env)
    *payload, last = out.stdout.strip().splitlines()
    assert json.loads("\n".join(payload))["critical_line"] and last == "0 False"


@pytest.mark.parametrize("text, message", [("2", "needs at least two"), ("2,0,2", "needs at least two"),
                                           ("2,,2", "must be a comma list of positive integers"),
                                           ("2,x", "must be a comma list of positive integers")])
def test_int_list_refuses_naming_the_option(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=f"--widths {message}.*{text!r}"):
        int_list("--widths")(text)
    assert int_list("--widths")("2,10,2") == [2, 10, 2]


@pytest.mark.parametrize("text", ["", "1,,2", "1,", "a"])
def test_float_list_refuses_what_parse_floats_refuses(text):
    for parse in (_options.float_list("--beta"), _options.parse_floats("--beta")):
        with pytest.raises(argparse.ArgumentTypeError, match="--beta must be a number or a comma list"):
            parse(text)
    assert _options.float_list("--beta")("0.4") == [0.4] and _options.parse_floats("--q")("0.4") == 0.4


def test_scale_given_at_its_default_still_conflicts_with_a_weights_file(tmp_path, capsys):
    from rmtfp.cli import main

    # --scale fan_in equals the default: it is refused beside --weights-file because it was given, not by its value
    rc = main(["basins", "--scale", "fan_in", "--weights-file", str(tmp_path / "w.npz")])
    assert rc == 2 and "(--scale) cannot be combined with --weights-file" in capsys.readouterr().err
