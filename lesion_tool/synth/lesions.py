"""Synthetic HCC lesions: where they sit, how big they are, and how they change under treatment.

A lesion is an ellipsoid in the liver with a viable (arterially enhancing) nodule, a smaller copy
of the lesion touching its edge, and a necrotic rest (see
:class:`lesion_tool.synth.shapes.LesionShape`). Treatment shrinks the nodule (necrosis grows) and
may shrink the lesion; progression grows it. The nodule's tip lies in the axial plane through
the lesion's centre, so on the central slice the viable diameter is ``viable_scale`` times the
whole-lesion diameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from lesion_tool.synth.anatomy import SEGMENTS, clear_of_organs, in_liver
from lesion_tool.synth.shapes import Ellipsoid, LesionShape, rotation_matrix

# (whole-lesion scale, viable longest diameter as a fraction of the baseline viable diameter on
# the central section) at follow-up 1, 2, 3, ... (the last entry is held for later follow-ups).
# Ratio 1 keeps the baseline viable scale (the viable part grows with the lesion); 0 leaves none.
_COURSES: dict[str, tuple[tuple[float, float], ...]] = {
    "complete_response": ((0.92, 0.5), (0.85, 0.0), (0.8, 0.0)),
    "partial_response": ((0.97, 0.65), (0.93, 0.6), (0.9, 0.55)),
    "stable": ((1.0, 0.95), (1.02, 0.93), (1.03, 0.93)),
    "progression": ((1.12, 1.0), (1.3, 1.0), (1.45, 1.0)),
    "new_lesion": ((0.95, 0.6), (0.93, 0.55), (0.93, 0.55)),
}


@dataclass(frozen=True)
class LesionSpec:
    """A lesion at baseline (or when it first appears).

    Parameters
    ----------
    segment
        Couinaud segment (``"S1"`` ... ``"S8"``); sets where in the liver it sits.
    diameter_mm
        Whole-lesion longest diameter of the ellipsoid (twice its largest semi-axis), mm.
    aspect
        In-plane minor / major semi-axis ratio (0 < aspect <= 1).
    depth
        Cranio-caudal semi-axis / major semi-axis.
    angle_deg
        In-plane angle of the major axis from the patient's left-right axis.
    viable_scale
        Baseline size of the viable nodule relative to the lesion (1 all viable, 0 none).
    tip_deg
        In-plane direction (degrees from patient left, towards posterior) of the side where
        the viable nodule touches the lesion's edge.
    category
        ``"target"``, ``"non_target"`` or ``"new"``.
    appears_at
        Index of the first timepoint showing the lesion (0 = baseline; > 0 for new lesions).
    offset_mm
        ``(L, P, S)`` shift from the segment's reference point, mm.
    """

    segment: str = "S8"
    diameter_mm: float = 40.0
    aspect: float = 0.8
    depth: float = 0.8
    angle_deg: float = 20.0
    viable_scale: float = 0.85
    tip_deg: float = 0.0
    category: str = "target"
    appears_at: int = 0
    offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.segment not in SEGMENTS:
            raise ValueError(
                f'Argument "segment" must be one of {sorted(SEGMENTS)}, got {self.segment!r}.'
            )
        if not 5.0 <= self.diameter_mm <= 150.0:
            raise ValueError(f'Argument "diameter_mm" must be 5-150 mm, got {self.diameter_mm!r}.')
        if not 0.0 < self.aspect <= 1.0:
            raise ValueError(f'Argument "aspect" must be in (0, 1], got {self.aspect!r}.')
        if not 0.0 <= self.viable_scale <= 1.0:
            raise ValueError(
                f'Argument "viable_scale" must be in [0, 1], got {self.viable_scale!r}.'
            )
        if self.category not in ("target", "non_target", "new"):
            raise ValueError(
                f'Argument "category" must be target, non_target or new, got {self.category!r}.'
            )


LESION_GAP_MM = 8.0
"""Liver left between two lesions at their largest (so a region grower cannot bridge them)."""

SECTORS: tuple[tuple[str, ...], ...] = (("S8", "S5"), ("S7", "S6"), ("S4",), ("S2", "S3"))
"""Liver sectors (segments stacked cranio-caudally); lesions go to distinct sectors so that
they fit side by side even in a thin slab."""


def random_lesions(
    rng: np.random.Generator, n: int, trajectory: str, n_timepoints: int
) -> list[LesionSpec]:
    """``n`` baseline lesions in distinct liver sectors (the first two targets, a third
    non-target), plus a new lesion at the last timepoint for the ``new_lesion`` course."""
    right = [0, 1]
    rng.shuffle(right)
    rest = [right[1], 2, 3]
    rng.shuffle(rest)
    order = [right[0], *rest]
    specs = []
    for i in range(n):
        sector = SECTORS[order[i]]
        seg = sector[int(rng.integers(len(sector)))]
        cap = 36.0 if order[i] >= 2 else 60.0
        specs.append(
            LesionSpec(
                segment=seg,
                diameter_mm=float(rng.uniform(22.0, cap)),
                aspect=float(rng.uniform(0.7, 0.95)),
                depth=float(rng.uniform(0.7, 0.9)),
                angle_deg=float(rng.uniform(-60.0, 60.0)),
                # all viable, or a necrotic part at least ~10% of the diameter (no slivers)
                viable_scale=1.0 if rng.random() < 0.25 else float(rng.uniform(0.65, 0.9)),
                tip_deg=float(rng.uniform(0.0, 360.0)),
                category="target" if i < 2 else "non_target",
                offset_mm=(
                    float(rng.uniform(-4, 4)),
                    float(rng.uniform(-4, 4)),
                    float(rng.uniform(-4, 4)),
                ),
            )
        )
    if trajectory == "new_lesion" and n_timepoints > 1:
        sector = SECTORS[order[n]]
        specs.append(
            LesionSpec(
                segment=sector[-1],
                diameter_mm=float(rng.uniform(13.0, 19.0)),
                aspect=float(rng.uniform(0.8, 0.95)),
                depth=0.85,
                angle_deg=float(rng.uniform(-60.0, 60.0)),
                viable_scale=1.0,
                category="new",
                appears_at=n_timepoints - 1,
            )
        )
    return specs


def place(
    spec: LesionSpec,
    slab_half_mm: float,
    rng: np.random.Generator,
    *,
    grow: float = 1.0,
    others: tuple[Ellipsoid, ...] = (),
) -> LesionSpec:
    """Move / shrink ``spec`` until its largest extent over the course (``grow`` times its
    baseline size) lies in the liver, clear of vessels, organs and the ``others`` lesions, and
    inside the scanned slab (``slab_half_mm`` either side of centre; slab-relative LPS mm).

    Deterministic given ``rng``. Raises ValueError when no position fits.
    """
    for attempt in range(200):
        trial = spec
        if attempt:
            shrink = 0.985**attempt
            jitter = rng.uniform(-15, 15, size=3) * min(attempt, 30) / 30
            trial = replace(
                spec,
                diameter_mm=max(spec.diameter_mm * shrink, 12.0),
                offset_mm=tuple(float(v) for v in np.asarray(spec.offset_mm) + jitter),  # type: ignore[arg-type]
            )
        shape = baseline_ellipsoid(trial, slab_half_mm)
        big = Ellipsoid(shape.centre, shape.semi_mm * grow, shape.rot)
        pts = _surface_points(big)
        if (
            np.all(in_liver(pts, margin_mm=2.0))
            and np.all(clear_of_organs(pts, margin_mm=4.0))
            and np.all(np.abs(pts[:, 2]) <= slab_half_mm)
            and not any(np.any(o.contains(pts, margin_mm=LESION_GAP_MM)) for o in others)
            and not any(
                np.any(big.contains(_surface_points(o), margin_mm=LESION_GAP_MM)) for o in others
            )
        ):
            return trial
    raise ValueError(f"no room for a {spec.diameter_mm:.0f} mm lesion in segment {spec.segment}")


def course_growth(spec: LesionSpec, trajectory: str, n_timepoints: int) -> float:
    """The largest whole-lesion scale ``spec`` reaches over ``n_timepoints``."""
    if spec.category == "new":
        return 1.0 + 0.1 * max(n_timepoints - 1 - spec.appears_at, 0)
    course = _COURSES[trajectory][: max(n_timepoints - 1, 0)]
    return max([1.0, *(scale for scale, _ in course)])


def baseline_ellipsoid(spec: LesionSpec, slab_half_mm: float) -> Ellipsoid:
    """The lesion's ellipsoid at its first appearance, slab-relative LPS mm."""
    x, y, level = SEGMENTS[spec.segment]
    a = spec.diameter_mm / 2.0
    semi = np.array([a, a * spec.aspect, min(a * spec.depth, 0.45 * slab_half_mm)])
    z = level * min(0.3 * slab_half_mm, 14.0)
    centre = np.array([x, y, z]) + np.asarray(spec.offset_mm)
    return Ellipsoid(centre, semi, rotation_matrix(spec.angle_deg))


def lesion_at(
    spec: LesionSpec, trajectory: str, timepoint: int, slab_half_mm: float, slab_centre: np.ndarray
) -> LesionShape | None:
    """The lesion's shape at ``timepoint`` (absolute LPS), or None before it appears."""
    if timepoint < spec.appears_at:
        return None
    base = baseline_ellipsoid(spec, slab_half_mm)
    base = Ellipsoid(base.centre + slab_centre, base.semi_mm, base.rot)
    angle = math.radians(spec.tip_deg)
    tip_dir = np.array([math.cos(angle), math.sin(angle), 0.0])
    step = timepoint - spec.appears_at
    if step == 0:
        scale, k = 1.0, spec.viable_scale
    elif spec.category == "new":  # new lesions grow slowly and stay viable
        scale, k = 1.0 + 0.1 * step, spec.viable_scale
    else:
        course = _COURSES[trajectory]
        scale, ratio = course[min(step, len(course)) - 1]
        # viable diameter = k * scale * baseline diameter = ratio * baseline viable diameter
        k = spec.viable_scale if ratio >= 1.0 else min(ratio * spec.viable_scale / scale, 1.0)
    return LesionShape(base.scaled(scale), tip_dir, k)


def _surface_points(shape: Ellipsoid, n: int = 24) -> np.ndarray:
    """Points on the surface of ``shape`` (a latitude-longitude net), ``(m, 3)`` LPS."""
    th = np.linspace(0, math.pi, n // 2 + 1)
    ph = np.linspace(0, 2 * math.pi, n, endpoint=False)
    t, p = np.meshgrid(th, ph, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1).reshape(
        -1, 3
    )
    return shape.centre + (unit * shape.semi_mm) @ shape.rot.T
