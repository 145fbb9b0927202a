"""The ``--deidentify`` / ``--deid-key`` options that every exporting command shares."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesion_tool.deid import Deidentifier


def add_deid_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--deidentify`` and ``--deid-key FILE`` to an exporting command."""
    parser.add_argument(
        "--deidentify",
        action="store_true",
        help="pseudonymous patient ids and shifted dates in every output (DICOM PS3.15 basic "
        "profile for SR); the same key gives the same pseudonyms in every export. Messages on "
        "stderr name files by keyed aliases (path-XXXXXXXXXX.json) and patients by pseudonym",
    )
    parser.add_argument(
        "--deid-key",
        type=Path,
        metavar="FILE",
        help="the project's secret de-identification key (default: $LESION_TOOL_DEID_KEY, else "
        "~/.config/lesion-tool/deid.key, made on first use)",
    )


def deidentifier_from_args(args: argparse.Namespace) -> Deidentifier | None:
    """The :class:`~lesion_tool.deid.Deidentifier` the options ask for, or None.

    One per command run (kept on ``args``): the log scrubber of :func:`lesion_tool.cli.main`
    replaces the patient ids this same object pseudonymised.
    """
    cached = getattr(args, "_deidentifier", None)
    if cached is not None:
        return cached
    if not args.deidentify:
        if args.deid_key is not None:
            print(
                "lesion-tool: warning: --deid-key has no effect without --deidentify",
                file=sys.stderr,
            )
        return None
    from lesion_tool.deid import Deidentifier, load_or_create_key

    key, file, created = load_or_create_key(args.deid_key)
    if created:
        print(
            f"lesion-tool: created the de-identification key {file}; keep it (and share it with "
            "whoever exports this trial): another key gives other pseudonyms",
            file=sys.stderr,
        )
    args._deidentifier = Deidentifier(key)
    return args._deidentifier
