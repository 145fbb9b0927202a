"""``lesion-tool synth OUT_DIR``: write synthetic multiphase HCC CT studies with exact truth.

Each patient goes to ``OUT_DIR/<patient_id>/<timepoint>/<phase>/NNNN.dcm`` with ``truth.json``
and ``assessment_truth.json`` beside the timepoints (see :mod:`lesion_tool.synth`). Sizes are
written the way images are usually described: ``--size 512x512x300`` is columns x rows x slices,
``--spacing 0.8x0.8x2.5`` is column x row x slice spacing in mm.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lesion_tool.errors import LesionToolError
from lesion_tool.synth.names import (
    BROKEN_CASES,
    PHASES,
    SAMPLE_ID,
    TRAJECTORIES,
    TRANSFER_SYNTAX_NAMES,
)

__all__ = ["register", "run"]


def _triple(kind: type, text: str, what: str) -> tuple[Any, Any, Any]:
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = tuple(kind(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if len(values) != 3 or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return values  # type: ignore[return-value]


def size_arg(text: str) -> tuple[int, int, int]:
    """``COLSxROWSxSLICES`` -> ``(slices, rows, cols)``."""
    x, y, z = _triple(int, text, "COLSxROWSxSLICES, e.g. 512x512x300")
    return (z, y, x)


def spacing_arg(text: str) -> tuple[float, float, float]:
    """``COLxROWxSLICE`` mm -> ``(slice, row, col)`` spacing."""
    x, y, z = _triple(float, text, "COLxROWxSLICE spacing in mm, e.g. 0.8x0.8x2.5")
    return (z, y, x)


def _names(allowed: tuple[str, ...], what: str) -> Callable[[str], tuple[str, ...]]:
    """An argparse type for a comma list of names from ``allowed``."""

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(p.strip() for p in text.split(",") if p.strip())
        bad = [n for n in names if n not in allowed]
        if not names or bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad) or repr(text)}; choose from {', '.join(allowed)}"
            )
        return names

    return parse


def _oblique(text: str) -> tuple[float, float]:
    try:
        yaw, tilt = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YAW,TILT in degrees") from None
    return (yaw, tilt)


def _broken_series(text: str) -> tuple[int, str]:
    try:
        tp, phase = text.split(":")
        index = int(tp)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not TIMEPOINT_INDEX:PHASE, e.g. 0:arterial"
        ) from None
    if phase not in PHASES:
        raise argparse.ArgumentTypeError(
            f"unknown phase {phase!r}; choose from {', '.join(PHASES)}"
        )
    return (index, phase)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` subcommand."""
    p = subparsers.add_parser(
        "synth",
        help="write synthetic multiphase HCC CT studies with exact ground truth",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
    )
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    p.add_argument("--patients", type=int, default=1, help="number of patients (default 1)")
    p.add_argument("--seed", type=int, default=0, help="base seed; patient i uses SEED*100000+i")
    p.add_argument(
        "--prefix",
        type=patient_prefix,
        default="SYN",
        help="patient id prefix (ids PREFIX-001, ...): letters, digits, - and _",
    )
    p.add_argument(
        "--size", type=size_arg, default=(32, 160, 160), help="COLSxROWSxSLICES (160x160x32)"
    )
    p.add_argument(
        "--spacing",
        type=spacing_arg,
        default=(2.5, 1.6, 1.6),
        help="mm, COLxROWxSLICE (1.6x1.6x2.5)",
    )
    p.add_argument(
        "--thickness", type=float, default=None, help="slice thickness mm (default: spacing)"
    )
    p.add_argument(
        "--oblique", type=_oblique, default=(0.0, 0.0), metavar="YAW,TILT", help="degrees"
    )
    p.add_argument("--timepoints", type=int, default=3, help="baseline + follow-ups (default 3)")
    p.add_argument(
        "--phases",
        type=_names(PHASES, "phase"),
        default=PHASES,
        help=f"comma list of {', '.join(PHASES)}",
    )
    p.add_argument("--noise", type=float, default=10.0, help="noise SD in HU (default 10)")
    p.add_argument(
        "--trajectory",
        choices=TRAJECTORIES,
        default=None,
        help="course under treatment (default: drawn from each patient's seed)",
    )
    p.add_argument("--lesions", type=int, choices=(1, 2, 3), default=None, help="baseline lesions")
    p.add_argument(
        "--contrast-tags",
        choices=("scanner", "empty", "absent"),
        default="scanner",
        help="Contrast/Bolus module as a scanner writes it (default), ContrastBolusAgent "
        "present but empty, or absent",
    )
    p.add_argument("--no-acquisition-times", action="store_true", help="leave out AcquisitionTime")
    p.add_argument(
        "--neutral-descriptions", action="store_true", help="same SeriesDescription for every phase"
    )
    p.add_argument(
        "--arterial-timing",
        choices=("late", "early"),
        default="late",
        help="arterial phase at ~35 s (late, default) or ~20 s (early)",
    )
    p.add_argument("--transfer-syntax", choices=TRANSFER_SYNTAX_NAMES, default="explicit")
    p.add_argument(
        "--broken",
        type=_names(BROKEN_CASES, "broken case"),
        default=(),
        help=f"defects to plant: comma list of {', '.join(BROKEN_CASES)}",
    )
    p.add_argument(
        "--broken-series",
        type=_broken_series,
        default=(0, "arterial"),
        metavar="TP:PHASE",
        help="series receiving the defects (default 0:arterial)",
    )
    p.add_argument(
        "--sample", action="store_true", help=f"write the committed sample {SAMPLE_ID} only"
    )
    p.add_argument(
        "--masks", action="store_true", help="also write truth label masks (NIfTI) per timepoint"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=run)


def patient_prefix(text: str) -> str:
    """A ``--prefix`` that makes a safe folder name and a valid PatientID: 1-16 of A-Z a-z 0-9 - _.

    ``../x`` used to write the patients outside OUT_DIR.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: use 1-16 letters, digits, '-' or '_' (it names folders and PatientID)"
        )
    return text


def run(args: argparse.Namespace) -> int:
    """Generate the patients; prints one line per patient (or JSON)."""
    from lesion_tool.synth.generator import generate_patient
    from lesion_tool.synth.sample import generate_sample

    if args.patients < 1:
        raise LesionToolError(f"--patients must be >= 1, got {args.patients}.")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    written: list[dict[str, Any]] = []
    jobs: list[tuple[str, int]] = (
        [(SAMPLE_ID, -1)]
        if args.sample
        else [
            (f"{args.prefix}-{i:03d}", args.seed * 100000 + i) for i in range(1, args.patients + 1)
        ]
    )
    for patient_id, seed in jobs:
        start = time.perf_counter()
        try:
            if args.sample:
                folder = generate_sample(args.out_dir)
            else:
                folder = generate_patient(
                    args.out_dir,
                    patient_id=patient_id,
                    seed=seed,
                    shape=args.size,
                    spacing_mm=args.spacing,
                    slice_thickness_mm=args.thickness,
                    oblique_deg=args.oblique,
                    n_timepoints=args.timepoints,
                    phases=args.phases,
                    noise_hu=args.noise,
                    trajectory=args.trajectory,
                    n_lesions=args.lesions,
                    contrast_tags={"scanner": True, "empty": "empty", "absent": False}[
                        args.contrast_tags
                    ],
                    acquisition_times=not args.no_acquisition_times,
                    named_descriptions=not args.neutral_descriptions,
                    arterial_timing=args.arterial_timing,
                    write_masks=args.masks,
                    transfer_syntax=args.transfer_syntax,
                    broken=args.broken,
                    broken_series=args.broken_series,
                )
        except ValueError as err:
            raise LesionToolError(f"patient {patient_id}: {err}") from err
        seconds = time.perf_counter() - start
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        written.append(
            {
                "patient_id": patient_id,
                "folder": str(folder),
                "trajectory": truth["trajectory"],
                "timepoints": [tp["label"] for tp in truth["timepoints"]],
                "seconds": round(seconds, 2),
            }
        )
    if args.json:
        json.dump(written, sys.stdout, indent=2)
        print()
    else:
        for w in written:
            print(
                f"{w['patient_id']}: {len(w['timepoints'])} timepoints, {w['trajectory']}, "
                f"{w['seconds']:.1f} s -> {w['folder']}"
            )
    return 0
