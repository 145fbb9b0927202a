"""Accuracy of the semi-automatic measurement against expert masks, the way a reader uses it.

For every expert-masked tumour (each connected component of each mask segment) clicks are placed
inside it: the deepest point of its largest axial slice, ``n`` seeded random interior points,
and optionally a rough line (the expert's longest axial diameter with its ends moved by up to
3 mm and its length changed by 10-20 %). Each prompt is measured and compared with the expert's
longest axial diameter: within ``max(3 mm, 10 %)``, more than 30 % off (dangerous) and whether
it was flagged, refused, |error|, Dice against the mask and time. Voxel indices are ``(z, y, x)``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import ndimage

from lesion_tool.errors import LesionToolError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.diameter import Geometry
from lesion_tool.measurement.masks import MaskSegment, MaskVolume, mask_from_array, measure_mask
from lesion_tool.measurement.raster import deepest_pixel, padded_box
from lesion_tool.measurement.segment import LesionPrompt, measure_lesion

__all__ = [
    "ClickResult",
    "ExpertTumour",
    "NegativeResult",
    "Summary",
    "evaluate_clicks",
    "evaluate_negatives",
    "expert_tumours",
    "negative_points",
    "summarise",
    "summarise_negatives",
    "tolerance_mm",
    "tumour_segments",
    "within_interval",
]

TOLERANCE_MM = 3.0
TOLERANCE_FRACTION = 0.10
DANGEROUS_FRACTION = 0.30
LINE_JITTER_MM = 3.0
LINE_SCALE = (0.10, 0.20)
RANDOM_MIN_DEPTH_MM = 2.0
"""Random clicks lie at least this deep inside the tumour (or half its depth when thinner)."""

Method = Literal["lesion", "legacy"]

TUMOUR_WORDS = (
    "tumor",
    "tumour",
    "mass",
    "lesion",
    "neoplasm",
    "carcinoma",
    "hcc",
    "nodule",
    "metasta",
    "cancer",
    "malignan",
    "cyst",
)
"""A segment whose label or segmented property names one of these is a tumour ..."""
OTHER_WORDS = (
    "liver",
    "vein",
    "venous",
    "aorta",
    "arter",
    "vessel",
    "spleen",
    "kidney",
    "portal",
    "cava",
    "bone",
    "organ",
    "tissue",
    "edema",
    "oedema",
    "capillary",
    "spine",
    "body",
    "lung",
)
"""... and one naming only one of these (and no tumour word) is anatomy, never measured."""


def _segment_words(mask: MaskVolume, label: int, name: str) -> str:
    """Label and segmented property (type and category meanings of a DICOM SEG) in lower case."""
    words = [name]
    src = Path(mask.source)
    if src.is_file() and src.suffix.lower() not in (".gz", ".nii", ".nrrd", ".mha", ".npy"):
        try:
            import pydicom

            ds = pydicom.dcmread(src, stop_before_pixels=True)
            for item in ds.get("SegmentSequence", []):
                if int(item.get("SegmentNumber", -1)) == label:
                    for key in ("SegmentedPropertyTypeCodeSequence", "SegmentDescription"):
                        v = item.get(key)
                        words.append(
                            str(v[0].CodeMeaning)
                            if key.endswith("Sequence") and v
                            else str(v or "")
                        )
        except Exception:  # noqa: BLE001 - the name alone decides when the header cannot be read
            pass
    return " ".join(words).lower()


def tumour_segments(mask: MaskVolume) -> tuple[list[MaskSegment], list[MaskSegment]]:
    """The segments of ``mask`` that are tumours, and those left out (anatomy).

    A segment is a tumour when its label or segmented property names a tumour (TUMOUR_WORDS:
    "Mass", "Tumor", "Neoplasm", "livertumor01" ...) and anatomy when it names only anatomy
    (OTHER_WORDS: "Liver", "Portal vein", "Abdominal aorta" ...). Segments naming neither are
    tumours when no segment names one (an unnamed label of a tumour mask), else left out.
    """
    kinds = []
    for seg in mask.segments:
        text = _segment_words(mask, seg.label, seg.name)
        if any(w in text for w in TUMOUR_WORDS):
            kinds.append("tumour")
        elif any(w in text for w in OTHER_WORDS):
            kinds.append("anatomy")
        else:
            kinds.append("unknown")
    named = "tumour" in kinds
    keep = [k == "tumour" or (k == "unknown" and not named) for k in kinds]
    return (
        [s for s, k in zip(mask.segments, keep, strict=True) if k],
        [s for s, k in zip(mask.segments, keep, strict=True) if not k],
    )


def tolerance_mm(expert_mm: float) -> float:
    """Allowed |error| for a diameter: max(3 mm, 10 % of the expert's)."""
    return max(TOLERANCE_MM, TOLERANCE_FRACTION * expert_mm)


@dataclass(frozen=True, eq=False)
class ExpertTumour:
    """One expert-masked tumour: its mask (volume grid), diameter and long-axis end points."""

    name: str
    mask: np.ndarray
    diameter_mm: float
    long_axis: tuple[tuple[float, float, float], tuple[float, float, float]]
    deepest: tuple[int, int, int]


@dataclass(frozen=True)
class ClickResult:
    """One prompt on one tumour and what the method made of it."""

    tumour: str
    kind: str
    seed: tuple[int, int, int] | None
    line: tuple[tuple[float, float, float], tuple[float, float, float]] | None
    expert_mm: float
    measured_mm: float | None
    refused: str
    flags: tuple[str, ...]
    dice: float | None
    liver_inside: float | None
    time_s: float
    viable_mm: float | None = None
    cpu_s: float = 0.0
    """CPU time of the prompt (``time.process_time``; wall ``time_s`` depends on the load)."""

    @property
    def error_mm(self) -> float | None:
        """Measured minus expert diameter (None when refused)."""
        return None if self.measured_mm is None else self.measured_mm - self.expert_mm

    @property
    def within(self) -> bool:
        """Within max(3 mm, 10 %) of the expert's diameter."""
        err = self.error_mm
        return err is not None and abs(err) <= tolerance_mm(self.expert_mm)

    @property
    def dangerous(self) -> bool:
        """More than 30 % off the expert's diameter."""
        err = self.error_mm
        return err is not None and abs(err) > DANGEROUS_FRACTION * self.expert_mm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "tumour": self.tumour,
            "kind": self.kind,
            "seed": None if self.seed is None else list(self.seed),
            "line": None if self.line is None else [list(p) for p in self.line],
            "expert_mm": self.expert_mm,
            "measured_mm": self.measured_mm,
            "error_mm": self.error_mm,
            "within_tolerance": self.within,
            "dangerous": self.dangerous,
            "refused": self.refused,
            "flags": list(self.flags),
            "dice": self.dice,
            "liver_inside": self.liver_inside,
            "viable_mm": self.viable_mm,
            "time_s": self.time_s,
        }


def expert_tumours(
    masks: Sequence[MaskVolume], image: CTVolume, *, segments: Sequence[str] | None = None
) -> list[ExpertTumour]:
    """Every connected component (3-D, 26-connected) of every tumour segment of the masks, on
    the image's grid, with its longest axial diameter (edge convention of
    :func:`~lesion_tool.measurement.measure_mask`) and the deepest point of its largest slice.

    The tumour segments are those :func:`tumour_segments` picks (a SEG's "Liver" or "Portal
    vein" is not a tumour), or, with ``segments``, those whose label (or number) is listed.

    Raises
    ------
    LesionToolError
        A mask is not on the image's grid.
    """
    out: list[ExpertTumour] = []
    spacing = image.spacing_mm
    for mv in masks:
        if tuple(mv.shape) != tuple(image.shape):
            raise LesionToolError(
                f"{mv.source}: mask shape {mv.shape} differs from the image's {image.shape}; "
                "give the image the mask was drawn on."
            )
        if segments is not None:
            wanted = {w.strip().lower() for w in segments}
            chosen = [s for s in mv.segments if s.name.lower() in wanted or str(s.label) in wanted]
        else:
            chosen = tumour_segments(mv)[0]
        for seg in chosen:
            fg = np.asarray(seg.array) > 0.5 if seg.fractional else np.asarray(seg.array)
            lab, n = ndimage.label(fg, np.ones((3, 3, 3), dtype=bool))
            boxes = ndimage.find_objects(lab)
            base = seg.name or f"label {seg.label}"
            for i in range(1, n + 1):
                comp = lab == i
                name = base if n == 1 else f"{base} #{i}"
                box = boxes[i - 1]
                [m] = measure_mask(mask_from_array(comp[box], Geometry.of(image)))
                off = np.array([b.start for b in box], dtype=float)
                ends = (
                    tuple(np.asarray(m.longest.start_voxel) + off),
                    tuple(np.asarray(m.longest.end_voxel) + off),
                )
                areas = comp[box].sum(axis=(1, 2))
                z = int(np.argmax(areas))
                y, x = deepest_pixel(comp[box][z], spacing[1:])
                deepest = (int(z + off[0]), int(y + off[1]), int(x + off[2]))
                out.append(ExpertTumour(name, comp, m.longest_diameter_mm, ends, deepest))  # type: ignore[arg-type]
    return out


def _prompts(
    t: ExpertTumour, clicks: int, line: bool, rng: np.random.Generator, spacing: Sequence[float]
) -> list[tuple[str, LesionPrompt]]:
    """The deepest point, ``clicks`` random interior points and optionally a jittered line."""
    prompts = [("deepest", LesionPrompt(seed=t.deepest))]
    if clicks > 0:
        box = ndimage.find_objects(t.mask.view(np.uint8))[0]
        depth = ndimage.distance_transform_edt(
            np.pad(t.mask[box], ((0, 0), (1, 1), (1, 1))), sampling=(1e6, spacing[1], spacing[2])
        )[:, 1:-1, 1:-1]
        need = min(RANDOM_MIN_DEPTH_MM, 0.5 * float(depth.max()))
        pts = np.argwhere(depth >= need) + [b.start for b in box]
        for _ in range(clicks):
            p = pts[rng.integers(len(pts))]
            prompts.append(("random", LesionPrompt(seed=tuple(int(v) for v in p))))
    if line:
        a, b = (np.asarray(p, dtype=float) for p in t.long_axis)
        mid = (a + b) / 2.0
        scale = 1.0 + rng.choice([-1.0, 1.0]) * rng.uniform(*LINE_SCALE)
        ends = []
        for p in (a, b):
            q = mid + (p - mid) * scale
            ang = rng.uniform(0, 2 * math.pi)
            r = rng.uniform(0, LINE_JITTER_MM)
            q[1] += r * math.sin(ang) / spacing[1]
            q[2] += r * math.cos(ang) / spacing[2]
            ends.append(tuple(float(v) for v in q))
        prompts.append(("line", LesionPrompt(line=(ends[0], ends[1]))))
    return prompts


def _dice(pred: np.ndarray, offset: Sequence[int], truth: np.ndarray) -> float:
    """Dice of a boxed prediction (``pred`` at ``offset``) against a full-grid mask."""
    tz = ndimage.find_objects(truth.view(np.uint8))[0]
    lo = [min(o, b.start) for o, b in zip(offset, tz, strict=True)]
    hi = [max(o + n, b.stop) for o, n, b in zip(offset, pred.shape, tz, strict=True)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    p = np.zeros([b - a for a, b in zip(lo, hi, strict=True)], dtype=bool)
    p[tuple(slice(o - a, o - a + n) for o, a, n in zip(offset, lo, pred.shape, strict=True))] = pred
    t = truth[box]
    denom = p.sum() + t.sum()
    return float(2.0 * (p & t).sum() / denom) if denom else 0.0


def _inside(pred: np.ndarray, offset: Sequence[int], liver: np.ndarray) -> float:
    sl = tuple(slice(o, o + n) for o, n in zip(offset, pred.shape, strict=True))
    return float((pred & liver[sl]).sum() / max(pred.sum(), 1))


def evaluate_clicks(
    volume: CTVolume,
    tumours: Sequence[ExpertTumour],
    *,
    clicks: int = 3,
    line: bool = False,
    phase: str = "unknown",
    method: Method = "lesion",
    seed: int = 0,
    liver: np.ndarray | None = None,
    kinds: Collection[str] | None = None,
) -> list[ClickResult]:
    """Measure every prompt of every tumour with ``method`` and compare with the expert.

    Parameters
    ----------
    volume
        The image the masks were drawn on, ``(z, y, x)``.
    tumours
        From :func:`expert_tumours`.
    clicks
        Random interior clicks per tumour (besides the deepest point).
    line
        Also a rough line per tumour.
    phase
        The image's phase, passed to :func:`~lesion_tool.measurement.measure_lesion`.
    method
        ``"lesion"`` (:func:`measure_lesion`) or ``"legacy"`` (the one-click
        :func:`~lesion_tool.measurement.measure_viable` this replaces; clicks only).
    seed
        Seed of the random clicks and line jitter (the same seed gives the same prompts).
    liver
        Optional liver mask ``(z, y, x)``: the share of each result inside it is reported.
    kinds
        Measure only the prompts of these kinds (``"deepest"``, ``"random"``, ``"line"``); the
        others are still drawn, so the prompts measured are those of a full run.
    """
    from lesion_tool.measurement.enhancement import measure_viable

    rng = np.random.default_rng(seed)
    out: list[ClickResult] = []
    for t in tumours:
        for kind, prompt in _prompts(t, clicks, line, rng, volume.spacing_mm):
            if kinds is not None and kind not in kinds:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            measured = viable = None
            refused, flags = "", ()
            pred = offset = None
            if method == "legacy" and prompt.seed is None:
                continue
            try:
                if method == "legacy":
                    assert prompt.seed is not None
                    r = measure_viable(volume, prompt.seed)
                    measured, viable = r.whole.length_mm, r.viable.length_mm
                    pred, offset = r.whole_mask, r.offset
                    flags = tuple(r.evidence.notes)
                else:
                    res = measure_lesion(volume, prompt, phase=phase)
                    measured, viable = res.whole.length_mm, res.viable_diameter_mm
                    pred, offset, flags = res.mask, res.offset, res.flags
            except LesionToolError as err:
                refused = str(err)
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - c0
            dice = inside = None
            if pred is not None and offset is not None:
                dice = _dice(pred, offset, t.mask)
                inside = _inside(pred, offset, liver) if liver is not None else None
            seed_voxel = None if prompt.seed is None else tuple(round(v) for v in prompt.seed)
            out.append(
                ClickResult(
                    t.name,
                    kind,
                    seed_voxel,  # type: ignore[arg-type]
                    prompt.line,
                    t.diameter_mm,
                    measured,
                    refused,
                    tuple(flags),
                    dice,
                    inside,
                    elapsed,
                    viable,
                    cpu,
                )
            )
    return out


@dataclass(frozen=True)
class Summary:
    """Counts and medians over a set of clicks."""

    name: str
    expert_mm: float | None
    clicks: int
    within: int
    dangerous: int
    dangerous_unflagged: int
    refused: int
    flagged: int
    median_abs_error_mm: float | None
    median_dice: float | None
    median_measured_mm: float | None
    mean_time_s: float
    viable_reported: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return dict(self.__dict__)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(results: Sequence[ClickResult], name: str = "all") -> Summary:
    """Counts (within tolerance, dangerous, dangerous without a flag, refused, flagged) and
    medians (|error|, Dice, measured) of ``results``."""
    measured = [r for r in results if r.measured_mm is not None]
    experts = {r.expert_mm for r in results}
    return Summary(
        name=name,
        expert_mm=experts.pop() if len(experts) == 1 else None,
        clicks=len(results),
        within=sum(r.within for r in results),
        dangerous=sum(r.dangerous for r in results),
        dangerous_unflagged=sum(r.dangerous and not r.flags for r in results),
        refused=sum(bool(r.refused) for r in results),
        flagged=sum(bool(r.flags) for r in measured),
        median_abs_error_mm=_median([abs(r.error_mm) for r in measured]),  # type: ignore[arg-type]
        median_dice=_median([r.dice for r in measured if r.dice is not None]),
        median_measured_mm=_median([r.measured_mm for r in measured]),  # type: ignore[misc]
        mean_time_s=statistics.fmean([r.time_s for r in results]) if results else 0.0,
        viable_reported=sum(bool(r.viable_mm) for r in measured),
    )


def within_interval(
    within: Sequence[bool],
    groups: Sequence[Hashable],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The share of prompts within tolerance and its bootstrap interval, ``(share, low, high)``,
    resampling whole ``groups`` rather than prompts.

    Prompts in one group are not independent: a benchmark seed draws each tumour's random
    clicks once and measures them on every variant, so a seed of 308 prompts is 28 prompt
    positions. Resampling prompts would give an interval several times too narrow.
    """
    from scipy.stats import bootstrap

    if len(within) != len(groups) or not within:
        raise ValueError("within and groups must be non-empty and of the same length")
    keys = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    hits = np.zeros(len(keys))
    counts = np.zeros(len(keys))
    for w, g in zip(within, groups, strict=True):
        hits[keys[g]] += bool(w)
        counts[keys[g]] += 1
    share = float(hits.sum() / counts.sum())
    if len(keys) < 2 or hits.sum() in (0, counts.sum()):
        return share, share, share
    res = bootstrap(
        (hits, counts),
        lambda h, n, axis=-1: h.sum(axis=axis) / n.sum(axis=axis),
        paired=True,
        vectorized=True,
        confidence_level=confidence,
        n_resamples=resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return share, float(ci.low), float(ci.high)


NEGATIVE_MIN_MM = 10.0
"""Negative clicks in the liver lie at least this far from every tumour and vessel mask."""
VESSEL_MIN_DEPTH_MM = 1.0
"""Negative clicks in a vessel lie at least this deep in its mask (in the lumen, not its wall)."""

Outcome = Literal["refused", "flagged", "unflagged"]


@dataclass(frozen=True)
class NegativeResult:
    """One click where there is no tumour (plain liver or a vessel) and what came of it.

    The good outcome is a refusal; a flagged result is tolerable (the reader is told to check);
    an unflagged result is a confident lesion that does not exist."""

    where: str
    seed: tuple[int, int, int]
    measured_mm: float | None
    refused: str
    flags: tuple[str, ...]
    time_s: float

    @property
    def outcome(self) -> Outcome:
        """``"refused"``, ``"flagged"`` or ``"unflagged"``."""
        if self.refused:
            return "refused"
        return "flagged" if self.flags else "unflagged"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "where": self.where,
            "seed": list(self.seed),
            "measured_mm": self.measured_mm,
            "outcome": self.outcome,
            "refused": self.refused,
            "flags": list(self.flags),
            "time_s": self.time_s,
        }


def _random_voxels(ok: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    pts = np.argwhere(ok)
    if not len(pts) or n <= 0:
        return []
    pick = rng.choice(len(pts), size=min(n, len(pts)), replace=False)
    return [tuple(int(v) for v in pts[i]) for i in sorted(pick)]


def negative_points(
    liver: np.ndarray,
    tumours: Sequence[np.ndarray],
    vessels: Sequence[np.ndarray],
    spacing_mm: Sequence[float],
    *,
    n_liver: int = 40,
    n_vessel: int = 10,
    seed: int = 0,
    min_mm: float = NEGATIVE_MIN_MM,
) -> list[tuple[str, tuple[int, int, int]]]:
    """Seeded clicks where there is no tumour, ``(where, (z, y, x))``.

    ``"liver"``: random voxels of the expert ``liver`` mask at least ``min_mm`` from every
    tumour and vessel mask (plain parenchyma; near the liver's surface too, a place readers
    click). ``"vessel"``: random voxels inside a vessel mask (portal vein, hepatic veins) within
    the liver, at least VESSEL_MIN_DEPTH_MM deep in it and ``min_mm`` from every tumour. All
    masks are ``(z, y, x)`` on the image's grid; ``spacing_mm`` is its voxel spacing."""
    liver = np.asarray(liver) > 0
    box = ndimage.find_objects(liver.view(np.uint8))[0]
    pad = [max(0, math.ceil(min_mm / s) + 1) for s in spacing_mm]
    box = padded_box(box, pad, liver.shape)
    off = np.array([b.start for b in box])
    liv = liver[box]
    tum = np.zeros(liv.shape, dtype=bool)
    for t in tumours:
        tum |= np.asarray(t)[box] > 0
    ves = np.zeros(liv.shape, dtype=bool)
    for v in vessels:
        ves |= np.asarray(v)[box] > 0
    far_tumour = ndimage.distance_transform_edt(~tum, sampling=spacing_mm) >= min_mm
    far_vessel = ndimage.distance_transform_edt(~ves, sampling=spacing_mm) >= min_mm
    in_vessel = ndimage.distance_transform_edt(ves, sampling=spacing_mm) >= VESSEL_MIN_DEPTH_MM
    rng = np.random.default_rng(seed)
    out: list[tuple[str, tuple[int, int, int]]] = []
    for where, ok, n in (
        ("liver", liv & far_tumour & far_vessel, n_liver),
        ("vessel", liv & in_vessel & far_tumour, n_vessel),
    ):
        for p in _random_voxels(ok, n, rng):
            out.append((where, tuple(int(a + o) for a, o in zip(p, off, strict=True))))  # type: ignore[misc]
    return out


def evaluate_negatives(
    volume: CTVolume,
    points: Sequence[tuple[str, Sequence[int]]],
    *,
    phase: str = "unknown",
) -> list[NegativeResult]:
    """Click ``measure_lesion`` at each ``(where, (z, y, x))`` of ``points`` (from
    :func:`negative_points`, or chosen by eye where there is no tumour) and record whether it
    refused, returned a flagged result or an unflagged one."""
    out: list[NegativeResult] = []
    for where, p in points:
        voxel = tuple(int(v) for v in p)
        t0 = time.perf_counter()
        measured, refused, flags = None, "", ()
        try:
            res = measure_lesion(volume, LesionPrompt(seed=voxel), phase=phase)
            measured, flags = res.whole.length_mm, tuple(res.flags)
        except LesionToolError as err:
            refused = str(err)
        out.append(
            NegativeResult(
                where,
                voxel,
                measured,
                refused,
                flags,
                time.perf_counter() - t0,  # type: ignore[arg-type]
            )
        )
    return out


def summarise_negatives(results: Sequence[NegativeResult]) -> dict[str, dict[str, int]]:
    """Per place (``"liver"``, ``"vessel"``, and ``"all"``): clicks, refused, flagged and
    unflagged (a lesion reported where the expert has none, with no warning)."""
    out: dict[str, dict[str, int]] = {}
    for where in [*sorted({r.where for r in results}), "all"]:
        sel = [r for r in results if where in ("all", r.where)]
        counts = {"clicks": len(sel), "refused": 0, "flagged": 0, "unflagged": 0}
        for r in sel:
            counts[r.outcome] += 1
        out[where] = counts
    return out
