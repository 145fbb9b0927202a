"""``lesion-tool evaluate``: accuracy of the semi-automatic measurement against expert masks.

``lesion-tool evaluate --image SERIES --mask MASK [--mask MASK ...] [--liver MASK] [--clicks N]
[--line] [--phase arterial|portal-venous|unknown] [--method lesion|legacy] [--seed S]
[--negatives N [--vessel MASK ...]] [--json]``

Every connected component of every mask (a NIfTI/SEG label, or a folder of per-slice DICOM
masks such as IRCADb's) is a tumour; clicks are placed in it (see
:mod:`lesion_tool.measurement.evaluation`) and the results are printed per tumour and overall.
With ``--negatives N`` (and ``--liver``), N seeded clicks are also placed in plain liver and N/4
in the ``--vessel`` masks, where there is no tumour, and counted as refused, flagged or
unflagged (a lesion reported where there is none), as ``benchmarks/bench_stress.py`` does.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine (numpy, scipy) is imported in run(): --help stays light
    from lesion_tool.measurement.evaluation import ClickResult, NegativeResult, Summary

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy of the click/line measurement against expert masks",
        description=(
            "Place clicks (the deepest point of each expert-masked tumour's largest slice and "
            "N seeded random interior points, optionally a rough line) and compare the measured "
            "longest axial diameter with the expert mask's: within max(3 mm, 10 %), more than "
            "30 % off (flagged or not), refusals, median |error|, Dice, time per click."
        ),
    )
    p.add_argument("--image", required=True, metavar="SERIES", help="image series")
    p.add_argument(
        "--mask",
        action="append",
        required=True,
        metavar="MASK",
        help="expert mask: file or per-slice mask folder (repeatable)",
    )
    p.add_argument(
        "--segment",
        action="append",
        metavar="LABEL",
        help=(
            "the tumour segment(s) to evaluate, by label or number (repeatable); default: the "
            "segments named as tumours (Mass, Tumor, Neoplasm...), never Liver or vessels"
        ),
    )
    p.add_argument("--liver", metavar="MASK", help="liver mask: report the share inside it")
    p.add_argument("--clicks", type=int, default=3, help="random clicks per tumour (default 3)")
    p.add_argument("--line", action="store_true", help="also a rough line per tumour")
    p.add_argument(
        "--phase",
        choices=("arterial", "portal-venous", "unknown"),
        default="unknown",
        help="the image's contrast phase (viable tissue is measured on arterial only)",
    )
    p.add_argument(
        "--method",
        choices=("lesion", "legacy"),
        default="lesion",
        help="lesion: measure_lesion (default); legacy: the old one-click measure_viable",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random clicks (default 0)")
    p.add_argument(
        "--negatives",
        type=int,
        default=0,
        metavar="N",
        help=(
            "also N seeded clicks where there is no tumour: in the --liver mask at least 10 mm "
            "from every tumour and --vessel mask, and N/4 inside the --vessel masks; each is "
            "counted refused (right), flagged (tolerable) or unflagged (a lesion reported where "
            "there is none). Needs --liver. Default 0: off"
        ),
    )
    p.add_argument(
        "--vessel",
        action="append",
        metavar="MASK",
        help=(
            "vessel mask (portal vein, hepatic veins; repeatable): --negatives clicks inside "
            "it, and the plain-liver clicks kept 10 mm from it"
        ),
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def _table(rows: list[Summary]) -> list[str]:
    head = (
        f"{'tumour':<16}{'expert':>8}{'measured':>9}{'clicks':>7}{'within':>7}{'>30%':>6}"
        f"{'unflag':>7}{'refused':>8}{'flagged':>8}{'|err|':>7}{'Dice':>6}{'s/click':>8}"
    )
    lines = [head]
    for s in rows:
        lines.append(
            f"{s.name[:15]:<16}{_fmt(s.expert_mm):>8}{_fmt(s.median_measured_mm):>9}"
            f"{s.clicks:>7}{s.within:>7}{s.dangerous:>6}{s.dangerous_unflagged:>7}"
            f"{s.refused:>8}{s.flagged:>8}{_fmt(s.median_abs_error_mm):>7}"
            f"{_fmt(s.median_dice, '.2f'):>6}{s.mean_time_s:>8.2f}"
        )
    return lines


def _click_line(r: ClickResult) -> str:
    from lesion_tool.measurement.evaluation import tolerance_mm

    where = f"line {r.line}" if r.kind == "line" else f"seed {r.seed}"
    if r.refused:
        return f"  {r.tumour} {r.kind} {where}: refused: {r.refused}"
    ok = "ok" if r.within else ("DANGEROUS" if r.dangerous else "off")
    return (
        f"  {r.tumour} {r.kind} {where}: {r.measured_mm:.1f} mm vs {r.expert_mm:.1f} "
        f"(tolerance {tolerance_mm(r.expert_mm):.1f}) {ok}, Dice {_fmt(r.dice, '.2f')}"
        + (f"; flags: {' | '.join(r.flags)}" if r.flags else "")
    )


NEGATIVE_PLACES = {"liver": "plain liver", "vessel": "vessels"}


def _negative_lines(counts: dict[str, dict[str, int]]) -> list[str]:
    """One line per place where there is no tumour: clicks, refused / flagged / unflagged."""
    return [
        f"no tumour, {NEGATIVE_PLACES.get(where, where)}: {c['clicks']} clicks, refused "
        f"{c['refused']}, flagged {c['flagged']}, unflagged {c['unflagged']}"
        for where, c in counts.items()
        if where != "all"
    ]


def _negative_click_line(r: NegativeResult) -> str:
    if r.refused:
        return f"  {r.where} seed {r.seed}: refused: {r.refused}"
    got = f"{r.measured_mm:.1f} mm" if r.measured_mm is not None else "measured"
    return f"  {r.where} seed {r.seed}: {got} " + (
        f"flagged: {' | '.join(r.flags)}" if r.flags else "UNFLAGGED (no tumour here)"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``lesion-tool evaluate``; 0 when it ran (the figures are the result)."""
    import numpy as np

    from lesion_tool.errors import LesionToolError
    from lesion_tool.io import load_series
    from lesion_tool.measurement import load_mask
    from lesion_tool.measurement.evaluation import (
        evaluate_clicks,
        evaluate_negatives,
        expert_tumours,
        negative_points,
        summarise,
        summarise_negatives,
        tumour_segments,
    )

    if args.negatives and not args.liver:
        raise LesionToolError(
            "--negatives places clicks in plain liver: give the liver mask with --liver MASK."
        )
    image = load_series(args.image)
    masks = [load_mask(m, image) for m in args.mask]
    liver = None
    if args.liver:
        [seg] = load_mask(args.liver, image).segments[:1]
        liver = seg.array.astype(bool)
    vessels = [
        np.any([np.asarray(s.array) > 0 for s in load_mask(v, image).segments], axis=0)
        for v in args.vessel or []
    ]
    used: list[str] = []
    for path, m in zip(args.mask, masks, strict=True):
        if args.segment:
            wanted = {w.strip().lower() for w in args.segment}
            keep = [s for s in m.segments if s.name.lower() in wanted or str(s.label) in wanted]
            left = [s for s in m.segments if s not in keep]
        else:
            keep, left = tumour_segments(m)
        names = ", ".join(f"{s.label} {s.name!r}" for s in keep) or "none"
        out = ", ".join(f"{s.label} {s.name!r}" for s in left)
        used.append(f"{path}: tumour segments {names}" + (f"; left out {out}" if out else ""))
    tumours = expert_tumours(masks, image, segments=args.segment)
    if not tumours:
        raise LesionToolError(
            "No tumour to evaluate: " + "; ".join(used) + ". Name the tumour segment(s) with "
            "--segment LABEL."
        )
    results = evaluate_clicks(
        image,
        tumours,
        clicks=args.clicks,
        line=args.line,
        phase=args.phase,
        method=args.method,
        seed=args.seed,
        liver=liver,
    )
    per = [summarise([r for r in results if r.tumour == t.name], t.name) for t in tumours]
    overall = summarise(results)
    negatives: list[NegativeResult] = []
    if args.negatives and liver is not None:
        if not liver.any():
            raise LesionToolError(
                f"{args.liver}: the liver mask is empty: no place for --negatives."
            )
        points = negative_points(
            liver,
            [t.mask for t in tumours],
            vessels,
            image.spacing_mm,
            n_liver=args.negatives,
            n_vessel=args.negatives // 4 if vessels else 0,
            seed=args.seed,
        )
        negatives = evaluate_negatives(image, points, phase=args.phase)
    neg_counts = summarise_negatives(negatives) if negatives else {}
    if args.json:
        print(
            json.dumps(
                {
                    "image": args.image,
                    "method": args.method,
                    "phase": args.phase,
                    "segments": used,
                    "tumours": [s.to_dict() for s in per],
                    "overall": overall.to_dict(),
                    "clicks": [r.to_dict() for r in results],
                    **(
                        {
                            "negatives": {
                                "counts": neg_counts,
                                "clicks": [r.to_dict() for r in negatives],
                            }
                        }
                        if args.negatives
                        else {}
                    ),
                },
                indent=2,
            )
        )
        return 0
    print("\n".join(used))
    print("\n".join(_table([*per, overall])))
    if args.negatives:
        print("\n".join(_negative_lines(neg_counts)))
        if not vessels:
            print("no tumour, vessels: no clicks (give the vessel masks with --vessel MASK)")
    inside = [r.liver_inside for r in results if r.liver_inside is not None]
    if inside:
        share = sorted(inside)[len(inside) // 2]
        print(f"share of measured voxels inside the liver mask: median {share:.2f}")
    print("clicks:")
    print("\n".join(_click_line(r) for r in results))
    if negatives:
        print("clicks where there is no tumour:")
        print("\n".join(_negative_click_line(r) for r in negatives))
    return 0
