"""The ``lesion-tool`` command line.

Each subcommand lives in its own module under :mod:`lesion_tool.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int`` as the default.
``main`` discovers them, so adding a command never touches this file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from lesion_tool import commands
from lesion_tool.errors import LesionToolError

if TYPE_CHECKING:
    from lesion_tool.deid import LogScrubber

__all__ = ["build_parser", "main", "show_warning"]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand of :mod:`lesion_tool.commands`.

    With ``command`` (a subcommand's name, e.g. ``"export-sr"``) only that subcommand's module
    is imported and registered, when it is one (else every one is), so that one click does not
    pay for the other commands' imports.
    """
    parser = argparse.ArgumentParser(
        prog="lesion-tool",
        description="Measure HCC on CT/MR and score tumour response by mRECIST and RECIST 1.1.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log debugging detail (values of identifying URL query parameters, such as "
        "PatientID and PatientName in PACS searches, are redacted)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    )
    wanted = None if command is None else command.replace("-", "_")
    chosen = [wanted] if wanted in names else names
    for name in chosen:
        importlib.import_module(f"{commands.__name__}.{name}").register(subparsers)
    if chosen is not names and command not in subparsers.choices:
        return build_parser()  # the module registers another name: every command, as usual
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, or None when it asks for the top-level help (which lists
    every command) or names none before its first positional argument."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


class _LineFormatter(logging.Formatter):
    """Log records as ``lesion-tool: warning: ...`` lines, like :func:`show_warning`."""

    def format(self, record: logging.LogRecord) -> str:
        return f"lesion-tool: {record.levelname.lower()}: {record.getMessage()}"


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a warning as one line, ``lesion-tool: warning: ...``, on stderr.

    Replaces :func:`warnings.showwarning` while a command runs: a reader needs the message, not
    the Python source line that raised it. ``category``, ``filename`` and ``lineno`` are unused.
    """
    text = " ".join(str(message).split())
    print(f"lesion-tool: warning: {text}", file=file if file is not None else sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 a file or check failed, 2 usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_named(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    # Every line on stderr (errors, warnings, logs) passes the scrubber: identifying URL query
    # values always, paths and patient ids too with --deidentify (lesion_tool.deid).
    from lesion_tool.deid import LogScrubber, ScrubbedStream

    scrubber = LogScrubber()
    stderr = sys.stderr
    sys.stderr = ScrubbedStream(stderr, scrubber)  # type: ignore[assignment]
    try:
        handler = logging.StreamHandler()  # bound to the scrubbed stream
        handler.setFormatter(_LineFormatter())
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            handlers=[handler],
        )
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            return _run(args, scrubber)
    finally:
        sys.stderr = stderr


def _path_arguments(args: argparse.Namespace) -> list[str]:
    """The command line's values that name files or folders (for the scrubber)."""
    found: list[str] = []
    for name, value in vars(args).items():
        if name.startswith("_") or name in ("func", "parser"):
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, os.PathLike):
                found.append(os.fspath(item))
            elif isinstance(item, str) and (os.sep in item or os.path.lexists(item)):
                found.append(item)
    return found


def _run(args: argparse.Namespace, scrubber: LogScrubber) -> int:
    try:
        if getattr(args, "deidentify", False):
            from lesion_tool.commands._deid import deidentifier_from_args

            scrubber.deidentifier = deidentifier_from_args(args)
            for path in _path_arguments(args):
                scrubber.add_path(path)
        return int(args.func(args))
    except LesionToolError as err:
        print(f"lesion-tool: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly, as cat and grep do.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:  # a file or folder the command could not read or write
        print(f"lesion-tool: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lesion-tool: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
