"""Accuracy of the click / line measurement on real CT and on a synthetic cohort (issue 11).

1. IRCADb patient 1 (``../shared/data/ircadb/3Dircadb1.1``, read in place): every expert tumour
   mask, the deepest point of its largest slice plus ``--clicks`` seeded random interior points
   and a rough line, measured with the old one-click ``measure_viable`` ("legacy", clicks only)
   and with ``measure_lesion`` (phase portal-venous), against the expert's longest axial
   diameter. Also the share of each result inside the expert liver mask.
2. A synthetic cohort (``lesion-tool synth --masks``, arterial baseline, truth masks): the same.

Prints Markdown tables (the ones in the README). Run:
``.venv/bin/python benchmarks/bench_realdata.py [--clicks 3] [--patients 4]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lesion_tool.io import CTVolume, load_series
from lesion_tool.measurement import load_mask
from lesion_tool.measurement.evaluation import (
    ClickResult,
    ExpertTumour,
    Summary,
    evaluate_clicks,
    expert_tumours,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]
IRCADB = ROOT.parent / "shared" / "data" / "ircadb" / "3Dircadb1.1"


def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def table(rows: list[Summary]) -> str:
    """Markdown table of summaries."""
    head = (
        "| tumour | expert mm | median measured mm | prompts | within max(3 mm, 10 %) | "
        "> 30 % off (unflagged) | refused | flagged | median abs err mm | median Dice | s/prompt |"
    )
    out = [head, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in rows:
        out.append(
            f"| {s.name} | {_fmt(s.expert_mm)} | {_fmt(s.median_measured_mm)} | {s.clicks} | "
            f"{s.within} | {s.dangerous} ({s.dangerous_unflagged}) | {s.refused} | {s.flagged} | "
            f"{_fmt(s.median_abs_error_mm)} | {_fmt(s.median_dice, '.2f')} | {s.mean_time_s:.2f} |"
        )
    return "\n".join(out)


def by_kind(results: list[ClickResult]) -> list[Summary]:
    kinds = sorted({r.kind for r in results})
    return [summarise([r for r in results if r.kind == k], f"all {k}") for k in kinds]


def ircadb(clicks: int) -> None:
    image = load_series(IRCADB / "PATIENT_DICOM")
    names = [f"livertumor0{i}" for i in range(1, 8)]
    tumours = expert_tumours([load_mask(IRCADB / "MASKS_DICOM" / n, image) for n in names], image)
    liver = load_mask(IRCADB / "MASKS_DICOM" / "liver", image).segments[0].array
    for method in ("legacy", "lesion"):
        res = evaluate_clicks(
            image,
            tumours,
            clicks=clicks,
            line=method == "lesion",
            phase="portal-venous",
            method=method,  # type: ignore[arg-type]
            liver=liver,
        )
        rows = [summarise([r for r in res if r.tumour == t.name], t.name) for t in tumours]
        print(f"\n### IRCADb 3Dircadb1.1, method {method}\n")
        print(table([*rows, *by_kind(res), summarise(res)]))
        inside = sorted(r.liver_inside for r in res if r.liver_inside is not None)
        if inside:
            print(
                f"\nShare of measured voxels inside the expert liver mask: median "
                f"{inside[len(inside) // 2]:.2f}, min {inside[0]:.2f}."
            )
        print("\nDeepest-point clicks:\n")
        for r in res:
            if r.kind == "deepest":
                got = f"{r.measured_mm:.1f} mm" if r.measured_mm is not None else "refused"
                flags = "; ".join(f[:70] for f in r.flags) or "-"
                print(
                    f"- {r.tumour}: expert {r.expert_mm:.1f} mm, measured {got}, Dice "
                    f"{_fmt(r.dice, '.2f')}, flags: {flags}"
                )


def synthetic_cohort(
    tmp: Path, patients: int
) -> Iterator[tuple[int, CTVolume, list[ExpertTumour]]]:
    """The synthetic evaluation cohort (arterial, truth masks): patient index, image, tumours.

    One definition, so that this benchmark and ``bench_flags.py`` score the same patients.
    """
    from lesion_tool.synth.generator import generate_patient

    for i in range(patients):
        p = generate_patient(
            tmp,
            patient_id=f"EVAL-{i}",
            seed=100 + i,
            phases=("arterial",),
            n_timepoints=1,
            write_masks=True,
        )
        image = load_series(p / "baseline" / "arterial")
        mask = load_mask(p / "masks" / "baseline_lesions.nii.gz", image)
        yield i, image, expert_tumours([mask], image)


def synthetic(patients: int, clicks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        all_res: dict[str, list[ClickResult]] = {"legacy": [], "lesion": []}
        for i, image, tumours in synthetic_cohort(Path(tmp), patients):
            for method in all_res:
                all_res[method] += evaluate_clicks(
                    image,
                    tumours,
                    clicks=clicks,
                    line=method == "lesion",
                    phase="arterial",
                    method=method,
                    seed=i,  # type: ignore[arg-type]
                )
        for method, res in all_res.items():
            print(f"\n### Synthetic cohort ({patients} patients, arterial), method {method}\n")
            print(table([*by_kind(res), summarise(res)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=2)
    ap.add_argument("--patients", type=int, default=4)
    ap.add_argument("--skip-synthetic", action="store_true")
    args = ap.parse_args()
    if IRCADB.is_dir():
        ircadb(args.clicks)
    else:
        print(f"{IRCADB} is absent: IRCADb part skipped")
    if not args.skip_synthetic:
        synthetic(args.patients, args.clicks)


if __name__ == "__main__":
    main()
