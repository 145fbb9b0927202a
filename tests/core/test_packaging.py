"""Project-level checks: the core stays GUI-free and the CLI discovers its commands."""

from __future__ import annotations

import subprocess
import sys

from lesion_tool.cli import build_parser, main

GUI_MODULES = {"napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "vispy"}


def test_core_is_gui_free() -> None:
    # A fresh interpreter, so transitive imports of every core command count.
    code = (
        "import sys, lesion_tool, lesion_tool.cli as c; c.build_parser();"
        f"bad = {{m.split('.')[0] for m in sys.modules}} & {GUI_MODULES!r};"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_without_command_is_a_usage_error(capsys) -> None:
    assert main([]) == 2
    assert "usage: lesion-tool" in capsys.readouterr().err


def test_every_command_module_registers_a_runnable_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sub.choices, "no subcommands were discovered"
    for name, subparser in sub.choices.items():
        assert callable(subparser.get_default("func")), name
