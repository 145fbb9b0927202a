"""``lesion-tool validate``: check assessment files against format v1 and baseline eligibility.

Schema problems and eligibility findings (spec section 1) are errors; scoring findings (a baseline
lesion missing at a follow-up, an ignored effusion) are warnings. Exit 1 if any error.
"""

from __future__ import annotations

import argparse
import sys

from lesion_tool.commands.rescore import add_settings_arguments, settings_from_args
from lesion_tool.errors import CriteriaError, LesionToolError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check assessment files (format v1 schema, baseline eligibility)",
        description=(
            "Check assessment files against the format v1 schema and its rules, and the targets "
            "against the baseline eligibility rules of each preset. Exit 1 if any error."
        ),
    )
    add_settings_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``validate``; prints one line per problem and a summary, returns 0 or 1."""
    from lesion_tool.response import check_baseline, score_assessment
    from lesion_tool.storage import find_assessment_files, load_assessment

    settings_list = settings_from_args(args)
    files = find_assessment_files(args.paths)
    if not files:
        raise LesionToolError(f"no assessment files (*.json) found in {', '.join(args.paths)}")
    from lesion_tool.corelab.readings import Reading, group_readings

    bad_files = 0
    readings = []
    for path in files:
        try:
            assessment = load_assessment(path)
        except LesionToolError as err:
            print(f"error: {err}".replace("\n", "\nerror: "))
            bad_files += 1
            continue
        readings.append(Reading(assessment, path))
        messages: dict[tuple[str, str], list[str]] = {}
        for settings in settings_list:
            for finding in check_baseline(assessment, settings):
                text = str(finding).split(": ", 1)[1]
                messages.setdefault(("error", text), []).append(settings.criteria)
            try:
                result = score_assessment(assessment, settings)
            except CriteriaError as err:
                messages.setdefault(("error", str(err)), []).append(settings.criteria)
                continue
            for finding in result.findings:
                text = str(finding).split(": ", 1)[1]
                messages.setdefault((finding.severity, text), []).append(settings.criteria)
        errors = 0
        for (severity, text), presets in messages.items():
            errors += severity == "error"
            print(f"{severity}: {path} [{','.join(presets)}]: {text}")
        if errors:
            bad_files += 1
        else:
            print(f"ok: {path}")
    for _files, why in group_readings(readings).problems:  # one patient read twice by one reader
        print(f"error: {why}")
        bad_files += 1
    print(f"{len(files)} file(s) checked, {bad_files} with errors", file=sys.stderr)
    return 1 if bad_files else 0
