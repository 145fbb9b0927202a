"""``lesion-tool audit FILE...``: print the change history of assessments and adjudication
decisions and verify their chains.

Every event (who, when, action, tool version, what changed; for a decision which reading stands,
why, and the decision it replaced) is listed; the hash chain and the file's current content are
checked against it. A file edited outside lesion-tool, or whose history was altered, is named
with what broke; exit 1 then (or when a file cannot be read). A folder stands for every
``*.json`` file under it (readings and ``*.adjudication.json`` decisions).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``audit`` subcommand."""
    parser = subparsers.add_parser(
        "audit",
        help="print the audit trail of assessments and decisions and verify it (tamper-evident)",
        description=(
            "Print the change history of assessment and adjudication decision files and verify "
            "the hash chain."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="FILE",
        help="assessment or decision (*.adjudication.json) file, or a folder of them",
    )
    parser.add_argument("--quiet", action="store_true", help="only the verification lines")
    parser.set_defaults(func=run)


def _value(value: object) -> str:
    return "(none)" if value is None else str(value)


def _decision_line(decision: dict) -> str:
    """A decision event's what: the reading that stands, why, and what it replaced."""
    line = (
        f"      decision: {decision.get('chosen_reader')}'s reading stands: "
        f"{decision.get('reason')}"
    )
    old = decision.get("replaces")
    if isinstance(old, dict):
        line += (
            f"\n      replaces: {old.get('chosen_reader')}'s reading (by {old.get('adjudicator')} "
            f"at {old.get('decided_at')}: {old.get('reason')})"
        )
    return line


def _files(paths: list[str]) -> list[str]:
    from pathlib import Path

    files: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(str(p) for p in sorted(path.rglob("*.json")))
        else:
            files.append(raw)
    return files


def run(args: argparse.Namespace) -> int:
    """Print and verify each file; 0 when every chain is intact."""
    from lesion_tool.errors import LesionToolError
    from lesion_tool.storage.audit import verify_audit

    bad = 0
    paths = _files(args.paths)
    if not paths:
        print(f"lesion-tool: error: no *.json files in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    for path in paths:
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
                if isinstance(e.get("decision"), dict):
                    print(_decision_line(e["decision"]))
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
