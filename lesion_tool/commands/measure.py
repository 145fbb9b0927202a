"""``lesion-tool measure``: diameters from mask files, or the one-click viable measurement.

- ``lesion-tool measure --mask FILE [--mask FILE | FOLDER ...] [--image SERIES] [--whole-label]
  [--json]``: per tumour (each 3-D connected component of each label, "label 1 component 2 of
  2"; ``--whole-label`` measures a label as one object) the longest axial diameter, its
  perpendicular, slice, end points (voxel and patient), volume and centroid. Masks
  may be DICOM SEG, NIfTI (or NRRD/MHA) or ``.npy`` (which needs ``--image`` for its geometry).
  One bad file (whatever goes wrong with it, memory included) is reported and the rest are
  measured; the exit code is 1 when any failed.
- ``lesion-tool measure --image SERIES (--seed Z,Y,X | --line Z,Y,X:Z,Y,X) [--phase PHASE]
  [--offset-hu HU] [--json]``: :func:`measure_lesion` (the method for real CT) from a click
  and/or a rough line across the lesion: the whole lesion, the viable part (only with
  ``--phase arterial``; otherwise the output says why not) and the flags (reasons to check the
  result).
- ``lesion-tool measure --image SERIES --seed Z,Y,X --method legacy [--threshold-hu HU]
  [--json]``: the earlier one-click :func:`measure_viable` (exact on the synthetic studies,
  unreliable on real CT), with its evidence, for scripts that still need it.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lesion_tool.errors import LesionToolError
from lesion_tool.executor import add_executor_arguments, executor_from_args

if TYPE_CHECKING:
    from lesion_tool.measurement import LabelMeasurement, LesionMeasurement, ViableMeasurement

__all__ = ["register", "run"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``measure`` subcommand."""
    parser = subparsers.add_parser(
        "measure",
        help="longest axial diameters from masks, or the click / line lesion measurement",
        description=(
            "With --mask: measure every label of NIfTI / DICOM SEG / .npy masks (longest axial "
            "diameter, perpendicular, slice, end points, volume, centroid). With --image and "
            "--seed and/or --line: delineate and measure the whole lesion (and on an arterial "
            "image its viable part) around a click or along a rough line, with the reasons to "
            "check the result."
        ),
    )
    parser.add_argument(
        "--mask",
        action="append",
        default=[],
        metavar="FILE_OR_FOLDER",
        help="mask file or folder of masks (repeatable)",
    )
    parser.add_argument(
        "--image",
        metavar="SERIES",
        help=(
            "image series folder or file: geometry for .npy masks, sub-pixel edges for masks on "
            "its grid, the volume for --seed"
        ),
    )
    parser.add_argument(
        "--stack",
        type=int,
        default=None,
        metavar="K",
        help=(
            "load stack K of the --image series (0 = largest, as `lesion-tool scan` numbers "
            "them) when it holds two full stacks, e.g. axial and coronal reconstructions"
        ),
    )
    parser.add_argument("--seed", metavar="Z,Y,X", help="voxel inside the lesion (0-based)")
    parser.add_argument(
        "--line",
        metavar="Z,Y,X:Z,Y,X",
        help="rough line across the lesion (voxel end points): bounds and scales the search",
    )
    parser.add_argument(
        "--phase",
        choices=("arterial", "portal-venous", "unknown"),
        default=None,
        help="the image's contrast phase; the viable part is measured on arterial only",
    )
    parser.add_argument(
        "--method",
        choices=("lesion", "legacy"),
        default=None,
        help=(
            "--seed: lesion = the method for real CT (default), legacy = the earlier one-click "
            "viable measurement (synthetic studies; takes --threshold-hu)"
        ),
    )
    parser.add_argument(
        "--offset-hu",
        type=float,
        default=0.0,
        metavar="HU",
        help="lesion method: move the lesion/liver threshold (positive tighter, negative looser)",
    )
    grouping = parser.add_mutually_exclusive_group()
    grouping.add_argument(
        "--components",
        dest="whole_label",
        action="store_false",
        help="measure each tumour (3-D connected component) of a label separately (default)",
    )
    grouping.add_argument(
        "--whole-label",
        dest="whole_label",
        action="store_true",
        help=(
            "measure each label as one object, as before per-tumour measurement (its diameter "
            "may span separate tumours)"
        ),
    )
    parser.add_argument(
        "--threshold-hu",
        type=_threshold_hu,
        default=None,
        metavar="HU",
        help=(
            "--method legacy: smallest enhancement above parenchyma counted as viable "
            "(default 20); the default method moves its threshold with --offset-hu"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    add_executor_arguments(parser)
    parser.set_defaults(func=run, parser=parser, whole_label=False)


def _threshold_hu(text: str) -> float:
    """``--threshold-hu``: a finite enhancement in HU, >= 0 (argparse reports anything else)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of HU") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a finite enhancement of 0 HU or more (default 20)"
        )
    return value


def _mask_files(paths: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to measure and problems (missing paths). Folders are searched recursively for
    NIfTI/NRRD/MHA/.npy files and DICOM Segmentations (other DICOM files are skipped)."""
    from lesion_tool.measurement.masks import ITK_SUFFIXES

    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                name = f.name.lower()
                if (
                    any(name.endswith(s) for s in ITK_SUFFIXES)
                    or name.endswith(".npy")
                    or _is_dicom_seg(f)
                ):
                    files.append(f)
        else:
            problems.append((str(p), "no such file or folder"))
    return files, problems


def _is_dicom_seg(path: Path) -> bool:
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except Exception:  # noqa: BLE001 - any unreadable file is simply not a SEG here
        return False
    return str(getattr(ds, "SOPClassUID", "")).startswith("1.2.840.10008.5.1.4.1.1.66.")


def _fmt_point(p: tuple[float, float, float] | None) -> str:
    return "-" if p is None else "(" + ", ".join(f"{v:.1f}" for v in p) + ")"


def _grouping(m: LabelMeasurement) -> str:
    """How the label was grouped, e.g. ``component 2 of 2`` or ``(whole label: 2 components)``."""
    count = m.component_count
    from lesion_tool.measurement.diameter import SPECK_MM3

    specks = f"{m.specks} speck(s) under {SPECK_MM3:g} mm3" if m.specks else ""
    if m.component is not None:
        text = f" component {m.component}" + (f" of {count}" if count is not None else "")
        return text + (f" ({specks} not measured alone)" if specks else "")
    parts = [f"{count} components"] if count is not None and count > 1 else []
    parts += [specks] if specks else []
    return f" (whole label: {', '.join(parts)})" if parts else ""


def _slice_namer(volume: Any) -> Callable[[int | None], str]:
    """How the output names a slice of ``volume``: ``"Se 103 · Im 37 (z 72)"`` (the PACS name,
    then the array index that ``--seed Z,Y,X`` takes) where the volume came from DICOM, else
    ``"slice 72"`` (the array index alone)."""
    from lesion_tool.measurement.naming import slice_name

    def name(index: int | None) -> str:
        if index is None:
            return "no slice"
        if volume is None:
            return f"slice {index}"
        text = slice_name(volume, index)
        return text if text.startswith("slice ") else f"{text} (z {index})"

    return name


def _label_rows(
    source: str,
    results: list[LabelMeasurement],
    slice_of: Callable[[int | None], str] | None = None,
) -> list[str]:
    slice_of = slice_of or _slice_namer(None)
    lines = [source]
    if not results:
        lines.append("  (no labelled voxels)")
    for m in results:
        name = f" {m.name}" if m.name else ""
        comp = _grouping(m)
        lines.append(
            f"  label {m.label}{name}{comp}: longest {m.longest_diameter_mm:.1f} mm, "
            f"perpendicular {m.perpendicular_diameter_mm:.1f} mm, {slice_of(m.slice_index)}, "
            f"volume {m.volume_ml:.2f} mL"
        )
        lines.append(
            f"    ends voxel {_fmt_point(m.longest.start_voxel)} - "
            f"{_fmt_point(m.longest.end_voxel)}; patient {_fmt_point(m.longest.start_patient)} - "
            f"{_fmt_point(m.longest.end_patient)} mm"
        )
        lines.append(
            f"    centroid voxel {_fmt_point(m.centroid_voxel)}; patient "
            f"{_fmt_point(m.centroid_patient)} mm"
        )
    return lines


def _viable_rows(result: ViableMeasurement, name: Callable[[int | None], str]) -> list[str]:
    e = result.evidence
    lines = [
        f"seed voxel {result.seed_voxel}",
        (
            f"  viable diameter {result.viable_diameter_mm:.1f} mm (perpendicular "
            f"{result.viable_perpendicular.length_mm:.1f} mm, {name(result.viable.slice_index)}), "
            f"viable volume {result.viable_volume_ml:.2f} mL"
        ),
        (
            f"    ends voxel {_fmt_point(result.viable.start_voxel)} - "
            f"{_fmt_point(result.viable.end_voxel)}; patient "
            f"{_fmt_point(result.viable.start_patient)} - "
            f"{_fmt_point(result.viable.end_patient)} mm"
        ),
        (
            f"  whole lesion {result.longest_diameter_mm:.1f} mm (perpendicular "
            f"{result.whole_perpendicular.length_mm:.1f} mm, {name(result.whole.slice_index)}), "
            f"volume {result.whole_volume_ml:.2f} mL"
        ),
        (
            f"    ends voxel {_fmt_point(result.whole.start_voxel)} - "
            f"{_fmt_point(result.whole.end_voxel)}; patient "
            f"{_fmt_point(result.whole.start_patient)} - {_fmt_point(result.whole.end_patient)} mm"
        ),
        (
            f"  evidence: parenchyma {e.parenchyma_hu:.0f} HU, noise SD {e.noise_sd_hu:.1f} HU, "
            f"viable above {e.threshold_hu:.0f} HU, "
            f"necrosis below {e.necrosis_threshold_hu:.0f} HU, "
            f"lesion {e.lesion_hu:.0f} HU, viable "
            f"{'-' if e.viable_hu is None else f'{e.viable_hu:.0f}'} HU, necrotic "
            f"{'-' if e.necrotic_hu is None else f'{e.necrotic_hu:.0f}'} HU"
        ),
    ]
    lines += [f"  note: {n}" for n in e.notes]
    return lines


def _parse_seed(text: str, option: str = "--seed") -> tuple[float, float, float]:
    try:
        z, y, x = (float(v) for v in text.replace(" ", "").split(","))
    except ValueError as err:
        raise LesionToolError(f'{option} "{text}" is not three numbers Z,Y,X.') from err
    return z, y, x


def _parse_line(text: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    parts = text.split(":")
    if len(parts) != 2:
        raise LesionToolError(f'--line "{text}" is not two points Z,Y,X:Z,Y,X.')
    return _parse_seed(parts[0], "--line"), _parse_seed(parts[1], "--line")


def _lesion_rows(result: LesionMeasurement, name: Callable[[int | None], str]) -> list[str]:
    e = result.evidence
    w, p = result.whole, result.whole_perpendicular
    lines = [
        f"click voxel {result.seed_voxel}, phase {result.phase.value}",
        (
            f"  whole lesion {w.length_mm:.1f} mm (perpendicular {p.length_mm:.1f} mm, "
            f"{name(w.slice_index)}), volume {result.volume_ml:.2f} mL"
        ),
        (
            f"    ends voxel {_fmt_point(w.start_voxel)} - {_fmt_point(w.end_voxel)}; patient "
            f"{_fmt_point(w.start_patient)} - {_fmt_point(w.end_patient)} mm"
        ),
    ]
    if result.viable is None:
        lines.append(f"  viable: not measured ({result.viable_reason})")
    else:
        lines.append(
            f"  viable {result.viable.length_mm:.1f} mm ({name(result.viable.slice_index)})"
        )
    lines.append(
        f"  evidence: liver {e.liver_hu:.0f} HU, lesion {e.lesion_hu:.0f} HU ({e.attenuation}), "
        f"threshold {e.threshold_hu:.0f} HU, noise SD {e.noise_sd_hu:.1f} HU, liver around "
        f"{100 * e.liver_share:.0f}%, {result.time_s:.2f} s"
    )
    lines += [f"  FLAG: {f}" for f in result.flags]
    if not result.flags:
        lines.append("  no flags")
    return lines


def _load_image(path: str, stack: int | None, *, lazy: bool = False) -> Any:
    """The ``--image`` series; ``lazy`` decodes only the slices a measurement reads (a click's
    measurement works in a box around the lesion), with every header check of the full load."""
    from lesion_tool.io import load_series

    return load_series(path, stack=stack, lazy=lazy)


@functools.lru_cache(maxsize=1)
def _batch_image(path: str | None, stack: int | None) -> Any:
    """The ``--image`` of a mask batch, read once per process (in the parent and each worker)."""
    return None if path is None else _load_image(path, stack)


def measure_mask_file(
    path: Path, *, image_path: str | None, stack: int | None, separate_components: bool
) -> tuple[list[LabelMeasurement], bool]:
    """Measure every label of one mask file: (measurements, whether it lies on the image's grid).

    Runs where the executor puts it. Whatever fails on the file (our errors, and also memory,
    I/O or a SimpleITK RuntimeError) is raised as a ``LesionToolError`` naming the cause, so
    that one bad file never stops a batch.
    """
    from lesion_tool.measurement import load_mask, measure_mask
    from lesion_tool.measurement.masks import on_image_grid

    image = _batch_image(image_path, stack)
    try:
        mask = load_mask(path, image)
        results = measure_mask(mask, separate_components=separate_components, image=image)
    except LesionToolError:
        raise
    except MemoryError:
        raise LesionToolError("not enough memory to load or measure this mask") from None
    except Exception as err:  # reported per file, the batch goes on
        log.debug("%s: measuring failed", path, exc_info=True)
        reason = " ".join(str(err).split()) or "no message"
        raise LesionToolError(f"cannot be measured ({type(err).__name__}: {reason})") from err
    return results, on_image_grid(mask, image)


def run(args: argparse.Namespace) -> int:
    """Run ``lesion-tool measure``; 0 when everything was measured, 1 when anything failed."""
    legacy = args.method == "legacy"
    if (args.seed is not None or args.line is not None) and not legacy:
        if args.mask:
            args.parser.error("--seed/--line measure an image; do not combine them with --mask")
        if not args.image:
            args.parser.error("--seed/--line need --image SERIES")
        if args.threshold_hu is not None:
            args.parser.error(
                "--threshold-hu belongs to --method legacy; the default method moves its "
                "lesion/liver threshold with --offset-hu HU"
            )
        from lesion_tool.measurement import LesionPrompt, measure_lesion

        prompt = LesionPrompt(
            seed=None if args.seed is None else _parse_seed(args.seed),
            line=None if args.line is None else _parse_line(args.line),
            threshold_offset_hu=args.offset_hu,
        )
        volume = _load_image(args.image, args.stack, lazy=True)
        lesion = measure_lesion(volume, prompt, phase=args.phase or "unknown")
        if args.json:
            print(json.dumps({"image": args.image, **lesion.to_dict()}, indent=2))
        else:
            print("\n".join(_lesion_rows(lesion, _slice_namer(volume))))
        return 0
    if args.seed is not None or args.line is not None:
        if args.line is not None or args.phase is not None:
            args.parser.error("--line and --phase use the default method, not --method legacy")
        if args.mask:
            args.parser.error("--seed measures an image; do not combine it with --mask")
        if not args.image:
            args.parser.error("--seed needs --image SERIES")
        from lesion_tool.measurement import ViableSettings, measure_viable

        seed = _parse_seed(args.seed)
        volume = _load_image(args.image, args.stack)
        settings = ViableSettings()
        if args.threshold_hu is not None:
            settings = ViableSettings(min_enhancement_hu=args.threshold_hu)
        result = measure_viable(volume, seed, settings)
        if args.json:
            print(json.dumps({"image": args.image, **result.to_dict()}, indent=2))
        else:
            print("\n".join(_viable_rows(result, _slice_namer(volume))))
        return 0
    if not args.mask:
        args.parser.error("give --mask FILE (repeatable) or --image SERIES --seed Z,Y,X")
    files, problems = _mask_files(args.mask)
    try:
        image = _batch_image(args.image, args.stack)
        work = functools.partial(
            measure_mask_file,
            image_path=args.image,
            stack=args.stack,
            separate_components=not args.whole_label,
        )
        outcomes = executor_from_args(args).map(work, files, label="measure")
    finally:
        _batch_image.cache_clear()
    measured: list[dict[str, Any]] = []
    for f, outcome in zip(files, outcomes, strict=True):
        if outcome.error is not None or outcome.value is None:
            problems.append((str(f), str(outcome.error)))
            continue
        results, on_grid = outcome.value
        measured.append({"file": str(f), "results": results, "image": image if on_grid else None})
    if args.json:
        out = {
            "measured": [
                {"file": m["file"], "labels": [r.to_dict() for r in m["results"]]} for m in measured
            ],
            "problems": [{"file": f, "reason": r} for f, r in problems],
        }
        print(json.dumps(out, indent=2))
    else:
        for m in measured:
            print("\n".join(_label_rows(m["file"], m["results"], _slice_namer(m["image"]))))
    for f, reason in problems:
        message = reason if f in reason else f"{f}: {reason}"
        print(f"lesion-tool: error: {message}", file=sys.stderr)
    if not files and not problems:
        print("lesion-tool: error: no mask files found", file=sys.stderr)
        return 1
    return 1 if problems else 0
