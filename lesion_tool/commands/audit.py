"""``lesion-tool audit FILE...``: print an assessment's change history and verify its chain.

Every event (who, when, action, tool version, what changed) is listed; the hash chain and the
file's current readings are checked against it. A file edited outside lesion-tool, or whose
history was altered, is named with what broke; exit 1 then (or when a file cannot be read).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``audit`` subcommand."""
    parser = subparsers.add_parser(
        "audit",
        help="print an assessment's audit trail and verify it (tamper-evident)",
        description="Print the change history of assessment files and verify the hash chain.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE", help="assessment file")
    parser.add_argument("--quiet", action="store_true", help="only the verification lines")
    parser.set_defaults(func=run)


def _value(value: object) -> str:
    return "(none)" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    """Print and verify each file; 0 when every chain is intact."""
    from lesion_tool.errors import LesionToolError
    from lesion_tool.storage.audit import verify_audit

    bad = 0
    for path in args.paths:
        try:
            report = verify_audit(path)
        except LesionToolError as err:
            print(f"lesion-tool: error: {err}", file=sys.stderr)
            bad += 1
            continue
        if not args.quiet:
            print(f"{path}: {len(report.events)} event(s)")
            for e in report.events:
                changes = e.get("changes") or []
                print(
                    f"  #{e.get('n')} {e.get('at')} {e.get('action')} by {e.get('by')} "
                    f"(lesion-tool {e.get('tool_version')}): {len(changes)} change(s)"
                    + (f"; {e['note']}" if e.get("note") else "")
                )
                for c in changes:
                    where = " ".join(str(x) for x in (c.get("timepoint"), c.get("lesion")) if x)
                    print(
                        f"      {where + ' ' if where else ''}{c.get('field')}: "
                        f"{_value(c.get('old'))} -> {_value(c.get('new'))}"
                    )
        if report.intact:
            print(f"ok: {path}: audit chain of {len(report.events)} event(s) verified")
        else:
            bad += 1
            for problem in report.problems:
                print(f"error: {problem}")
    return 1 if bad else 0
