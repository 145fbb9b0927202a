"""``lesion-tool adjudicate READINGS... --out DIR``: the adjudication worklist and decisions.

Pairs the readers of every patient read more than once, compares them under the adjudication
preset and writes ``DIR/worklist.csv`` (every pair, whether it needs adjudication and why, and
any decision taken) and ``DIR/patients/<patient>.html`` (the readers side by side) for each
patient to adjudicate. With ``--decide PATIENT --choose READER --reason TEXT --adjudicator ID``
it records the decision in ``DIR/decisions/<patient>.adjudication.json`` (schema-checked),
which ``rescore`` and ``report`` then use (``--adjudications DIR/decisions``). Every decision
recorded or replaced appends a hash-chained audit event to its file (``lesion-tool audit``).
"""

from __future__ import annotations

import argparse
import sys

from lesion_tool.commands._corelab import (
    add_adjudication_arguments,
    adjudication_settings_from_args,
    load_cohort_files,
)
from lesion_tool.errors import LesionToolError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``adjudicate`` subcommand."""
    parser = subparsers.add_parser(
        "adjudicate",
        help="list patients whose readers disagree; record the adjudicator's decision",
        description=(
            "Pair the readers of each patient, list the patients needing adjudication with the "
            "reason (DIR/worklist.csv, DIR/patients/<patient>.html) and, with --decide, record "
            "which reader's reading stands (DIR/decisions/<patient>.adjudication.json)."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="READINGS", help="assessment files or folders")
    parser.add_argument("--out", required=True, metavar="DIR", help="adjudication folder")
    add_adjudication_arguments(parser, decisions=False)
    parser.add_argument("--decide", metavar="PATIENT", help="record a decision for this patient")
    parser.add_argument("--choose", metavar="READER", help="the reader whose reading stands")
    parser.add_argument("--reason", metavar="TEXT", help="the adjudicator's reason (free text)")
    parser.add_argument("--adjudicator", metavar="ID", help="who decides")
    parser.add_argument(
        "--replace", action="store_true", help="replace an earlier decision for the patient"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the worklist and pages, or record one decision; 1 when an input was skipped."""
    import csv
    from pathlib import Path

    from lesion_tool.corelab.adjudication import (
        DecisionExistsError,
        decision_file_name,
        load_decisions,
        make_decision,
        save_decision,
        score_cohort_readings,
        worklist,
    )
    from lesion_tool.response import PRESETS, settings_for
    from lesion_tool.storage.atomic import atomic_write

    settings = adjudication_settings_from_args(args)
    out = Path(args.out)
    cohort, problems = load_cohort_files(args.paths)
    presets = [settings.preset, *(p for p in PRESETS if p != settings.preset)]
    scored, score_problems = score_cohort_readings(cohort, [settings_for(p) for p in presets])
    problems += score_problems
    for where, why in problems:
        print(
            f"lesion-tool: skipped: {why if where in why else f'{where}: {why}'}", file=sys.stderr
        )
    items = worklist(cohort, scored, settings)
    decisions_dir = out / "decisions"
    decisions, decision_problems = load_decisions([decisions_dir] if decisions_dir.is_dir() else [])
    for where, why in decision_problems:
        print(f"lesion-tool: {where}: {why}", file=sys.stderr)

    if args.decide is not None:
        missing = [o for o in ("choose", "reason", "adjudicator") if not getattr(args, o)]
        if missing:
            raise LesionToolError(
                "--decide needs " + ", ".join(f"--{m}" for m in missing) + " as well"
            )
        decision = make_decision(
            items,
            args.decide,
            preset=settings.preset,
            chosen_reader=args.choose,
            reason=args.reason,
            adjudicator=args.adjudicator,
        )
        path = decisions_dir / decision_file_name(args.decide)
        try:
            save_decision(decision, path, replace=args.replace)
        except DecisionExistsError as err:
            raise LesionToolError(f"{err}; use --replace to replace it") from None
        print(f"Decision for {args.decide}: {args.choose}'s reading stands; saved {path}")
        return 1 if problems else 0

    from lesion_tool.report.readers import adjudication_page

    needing = [i for i in items if i.reasons]
    try:
        (out / "patients").mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "worklist.csv") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(
                [
                    "patient_id",
                    "reader_a",
                    "reader_b",
                    "needs_adjudication",
                    "reasons",
                    "decision",
                    "decided_by",
                    "decided_at",
                ]
            )
            for item in items:
                d = decisions.get(item.patient_id)
                writer.writerow(
                    [
                        item.patient_id,
                        *item.readers,
                        "yes" if item.reasons else "no",
                        "; ".join(item.reasons),
                        d.chosen_reader if d else "",
                        d.adjudicator if d else "",
                        d.decided_at.isoformat() if d else "",
                    ]
                )
        for patient_id in dict.fromkeys(i.patient_id for i in needing):
            patient = cohort.patient(patient_id)
            assert patient is not None
            reasons = [r for i in needing if i.patient_id == patient_id for r in i.reasons]
            page = adjudication_page(patient, scored, presets, reasons, decisions.get(patient_id))
            name = decision_file_name(patient_id).removesuffix(".adjudication.json") + ".html"
            with atomic_write(out / "patients" / name) as handle:
                handle.write(page)
    except OSError as err:
        raise LesionToolError(f"{out}: cannot write: {err}") from err
    read_twice = sum(1 for p in cohort.patients if len(p.readings) > 1)
    pending = [p for p in dict.fromkeys(i.patient_id for i in needing) if p not in decisions]
    print(
        f"{len(cohort.patients)} patients, {read_twice} read by two or more readers; "
        f"{len({i.patient_id for i in needing})} need adjudication "
        f"({settings.describe()}), {len(pending)} without a decision"
    )
    for item in needing:
        print(f"  {item.patient_id} ({' vs '.join(item.readers)}): {'; '.join(item.reasons)}")
    print(f"Worklist: {out / 'worklist.csv'}; pages: {out / 'patients'}")
    return 1 if problems or decision_problems else 0
