"""Carry baseline targets to a follow-up through a registration, with how sure the mapping is.

Each target's seed and line end points are mapped baseline -> follow-up; the semi-automatic
measurement is run at the mapped seed as a *proposal* the reader accepts or corrects. Checks of
the mapping at the target (all reported):

- ``in_field_of_view``: the mapped seed lies inside the follow-up volume;
- ``jacobian``: determinant of the transform's Jacobian at the seed (local volume ratio):
  folding (<= 0) or an implausible change (outside :data:`JACOBIAN_RANGE`) means the deformation
  is not to be trusted there;
- ``similarity``: normalised cross-correlation of a :data:`PATCH_MM` cube of the baseline around
  the seed, the lesion itself left out, and the follow-up mapped back onto it (both block-averaged
  to 2 mm against noise; points outside either scan left out): a correct mapping aligns the
  lesion's surroundings (vessels, liver edge), a wrong one does not;
- ``measured``: the measurement (:func:`measure_proposal`: the real-CT delineation
  ``measure_lesion`` prompted with the mapped seed and the mapped baseline line) found a lesion
  at (or within :data:`MAX_SNAP_MM` of) the point. Its own doubts (a contour to check, a
  diameter far from the baseline line's) travel in ``measurement["flags"]``: they ask the reader
  to check the contour, not whether the lesion was found, so they do not flag the target.

A target failing any check is ``"flagged"`` with the reasons, never silently guessed; the
mapped point is still given so the reader can start looking there. Voxel indices ``(z, y, x)``;
points LPS mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk

from lesion_tool.errors import MeasurementError
from lesion_tool.io.phase import Phase
from lesion_tool.io.volume import CTVolume
from lesion_tool.registration.register import Registration, _downsampled

__all__ = [
    "JACOBIAN_RANGE",
    "MAX_SNAP_MM",
    "MIN_SIMILARITY",
    "PATCH_MM",
    "PROMPT_LINES",
    "Proposal",
    "Target",
    "measure_proposal",
    "prompt_line",
    "propagate_targets",
    "targets_of",
]

PATCH_MM = 60.0
"""Edge of the cube compared around each target (mm); the lesion itself is left out (it may
change under treatment), its surroundings are compared."""
MIN_STRUCTURE_HU = 12.0
"""Below this standard deviation (HU) the baseline surroundings are featureless (homogeneous
parenchyma): similarity then says nothing and is not used to flag."""
MIN_SIMILARITY = 0.5
"""Smallest local normalised cross-correlation accepted (calibrated on the benchmark)."""
JACOBIAN_RANGE = (0.5, 2.0)
"""Accepted local volume ratio follow-up / baseline (a liver rarely halves or doubles)."""
MAX_SNAP_MM = 10.0
"""Largest distance from the mapped seed to the voxel the measurement grew the lesion from."""


@dataclass(frozen=True)
class Target:
    """A baseline target: its id, seed voxel and measured lines (voxel ``(z, y, x)``, baseline)."""

    lesion_id: str
    seed_zyx: tuple[float, float, float]
    lines: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = field(
        default_factory=dict
    )
    """``{"line": (start, end), "longest_line": (start, end)}`` as present."""


@dataclass
class Proposal:
    """Where a target is expected on the follow-up, how sure that is, and the measurement there."""

    lesion_id: str
    status: str
    """``"proposed"`` (every check passed) or ``"flagged"`` (see ``reasons``)."""
    reasons: list[str]
    confidence: float
    """0..1: the local similarity when every check passed, else 0."""
    checks: dict[str, Any]
    baseline_seed_zyx: list[float]
    baseline_seed_lps: list[float]
    seed_lps: list[float]
    seed_zyx: list[float]
    """The mapped seed on the follow-up (fractional voxel and LPS mm)."""
    lines: dict[str, dict[str, list[float]]]
    """Mapped line end points on the follow-up: ``{"line": {"start": [z, y, x], "end": ...}}``."""
    measurement: dict[str, Any] | None
    """The proposal measured at the mapped seed (None when nothing was found)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.lesion_id,
            "status": self.status,
            "reasons": self.reasons,
            "confidence": round(self.confidence, 3),
            "checks": self.checks,
            "baseline_seed_voxel": self.baseline_seed_zyx,
            "baseline_seed_lps": self.baseline_seed_lps,
            "seed_voxel": self.seed_zyx,
            "seed_lps": self.seed_lps,
            "lines": self.lines,
            "measurement": self.measurement,
        }


PROMPT_LINES = ("longest_line", "line")
"""Which mapped baseline line prompts the measurement, first found first: the whole lesion's
(its rough extent sets the search region), else the primary (viable) one."""


def _line_dict(d: Any) -> dict[str, Any] | None:
    if d is None or d.length_mm <= 0 or d.start_voxel is None:
        return None
    return {
        "start": [round(float(v), 2) for v in d.start_voxel],
        "end": [round(float(v), 2) for v in d.end_voxel],
        "space": "voxel",
        "slice": d.slice_index,
    }


def prompt_line(
    lines: dict[str, Any], seed_zyx: Sequence[float], shape: Sequence[int]
) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """The mapped baseline line that prompts the measurement, laid on the seed's slice.

    ``lines`` are :attr:`Proposal.lines` (``{"longest_line": {"start": [z, y, x], "end": ...}}``).
    The deformation may tilt a mapped line across slices; the measurement reads a line in the
    seed's axial slice, so its ends are put on that slice. None when no line was mapped or an
    end falls outside the volume's ``(z, y, x)`` ``shape`` (the seed alone is used then).
    """
    z = float(round(float(seed_zyx[0])))
    for name in PROMPT_LINES:
        line = lines.get(name)
        if not line:
            continue
        ends = [(z, float(p[1]), float(p[2])) for p in (line["start"], line["end"])]
        if all(-0.5 <= v < n - 0.5 for p in ends for v, n in zip(p, shape, strict=True)):
            return ends[0], ends[1]
        return None
    return None


def measure_proposal(
    volume: CTVolume,
    seed_zyx: Sequence[float],
    line_zyx: Sequence[Sequence[float]] | None = None,
    *,
    phase: Phase | str | None = Phase.ARTERIAL,
) -> dict[str, Any]:
    """Measure the lesion at ``seed_zyx`` of ``volume`` for a proposal (JSON-able result).

    The one place the semi-automatic measurement is called: the real-CT delineation
    :func:`lesion_tool.measurement.segment.measure_lesion`, prompted with the mapped seed and,
    when given, the mapped baseline line (its length sets the search region and is checked
    against the result: a lesion that shrank or grew a lot is flagged for the reader).

    Parameters
    ----------
    volume
        The follow-up, ``(z, y, x)`` HU.
    seed_zyx
        Mapped seed, voxel ``(z, y, x)`` (fractional is rounded).
    line_zyx
        Mapped baseline line ``(start, end)``, voxel ``(z, y, x)`` (see :func:`prompt_line`).
    phase
        The follow-up's contrast phase; the viable (mRECIST) diameter is measured on an arterial
        image only (else ``viable_diameter_mm`` is None and ``viable_reason`` says why).

    Returns
    -------
    dict
        ``method``, ``seed_voxel``, ``viable_diameter_mm``, ``longest_diameter_mm``, ``line``
        (viable), ``longest_line`` (whole lesion), ``viable_volume_ml``, ``volume_ml``, ``flags``
        (the measurement's doubts, in words), ``viable_reason``, ``mask_bbox`` (first and last
        voxel of the lesion mask, ``(z, y, x)``) and ``distance_to_seed_mm`` (0 when the seed
        lies in the lesion found).

    Raises
    ------
    MeasurementError
        Nothing measurable at the point.
    """
    from lesion_tool.measurement.diameter import Geometry
    from lesion_tool.measurement.segment import LesionPrompt, measure_lesion

    seed = tuple(float(v) for v in seed_zyx)
    line = None if line_zyx is None else (tuple(line_zyx[0]), tuple(line_zyx[1]))
    m = measure_lesion(volume, LesionPrompt(seed=seed, line=line), phase=phase)  # type: ignore[arg-type]
    voxel_ml = Geometry.of(volume).voxel_volume_ml
    viable_ml = None if m.viable_mask is None else float(m.viable_mask.sum()) * voxel_ml
    inside = np.argwhere(m.mask) + np.asarray(m.offset)
    # distance (mm) from the seed to the nearest voxel of the lesion found
    gap = (inside - np.round(seed)) * np.asarray(volume.spacing_mm)
    distance = float(np.sqrt((gap**2).sum(axis=1)).min()) if len(inside) else float("inf")
    return {
        "method": "measure_lesion",
        "seed_voxel": [int(v) for v in m.seed_voxel],
        "viable_diameter_mm": (
            None if m.viable_diameter_mm is None else round(m.viable_diameter_mm, 1)
        ),
        "longest_diameter_mm": round(m.longest_diameter_mm, 1),
        "line": _line_dict(m.viable),
        "longest_line": _line_dict(m.whole),
        "viable_volume_ml": None if viable_ml is None else round(viable_ml, 2),
        "volume_ml": round(m.volume_ml, 2),
        "flags": list(m.flags),
        "viable_reason": m.viable_reason,
        "mask_bbox": [inside.min(axis=0).tolist(), inside.max(axis=0).tolist()]
        if len(inside)
        else None,
        "distance_to_seed_mm": round(distance, 1),
    }


def _phase_of(volume: CTVolume) -> Phase:
    """The phase the scan called for ``volume`` (``metadata["phase"]``), else arterial."""
    call = volume.metadata.get("phase")
    value = call.get("phase") if isinstance(call, dict) else None
    try:
        phase = Phase(value) if value else Phase.ARTERIAL
    except ValueError:
        return Phase.ARTERIAL
    return Phase.ARTERIAL if phase is Phase.UNKNOWN else phase


def _jacobian(transform: sitk.Transform, p: np.ndarray, h: float = 4.0) -> float:
    """Determinant of the transform's Jacobian at ``p`` (central differences, ``h`` mm)."""
    cols = []
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        a = np.asarray(transform.TransformPoint(tuple(p + e)))
        b = np.asarray(transform.TransformPoint(tuple(p - e)))
        cols.append((a - b) / (2 * h))
    return float(np.linalg.det(np.stack(cols, axis=1)))


def _patch(centre_lps: np.ndarray, direction: np.ndarray, step_mm: float = 2.0) -> sitk.Image:
    """A small reference grid (:data:`PATCH_MM` cube, ``step_mm`` voxels) centred on a point,
    axes along the baseline's (SimpleITK direction, row-major)."""
    n = int(PATCH_MM / step_mm) + 1
    ref = sitk.Image([n, n, n], sitk.sitkFloat32)
    ref.SetSpacing([step_mm] * 3)
    ref.SetDirection(tuple(float(v) for v in direction))
    half = (n - 1) / 2.0 * step_mm
    d = np.asarray(direction, dtype=float).reshape(3, 3)
    ref.SetOrigin(tuple(centre_lps - d @ np.full(3, half)))
    return ref


OUTSIDE = -1.0e6
"""Value given to patch points outside a scan (then left out of the similarity)."""


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def _radius_mm(volume: CTVolume, target: Target) -> float:
    """Half the target's longest line (mm), 10 mm when it has none."""
    lengths = [
        float(np.linalg.norm(volume.index_to_patient(s) - volume.index_to_patient(e)))
        for s, e in target.lines.values()
    ]
    return max(lengths) / 2.0 if lengths else 10.0


def propagate_targets(
    registration: Registration,
    baseline: CTVolume,
    follow_up: CTVolume,
    targets: Sequence[Target],
    *,
    measure: bool = True,
    phase: Phase | str | None = None,
) -> list[Proposal]:
    """Map each target to ``follow_up``, check the mapping there and measure a proposal.

    Parameters
    ----------
    registration
        Baseline -> follow-up mapping (:func:`~lesion_tool.registration.register_series`).
    baseline, follow_up
        The registered series (the targets' voxels are on ``baseline``).
    targets
        Baseline targets.
    measure
        Run :func:`measure_proposal` at each mapped seed (False: mapping and checks only).
    phase
        The follow-up's contrast phase for the measurement; None: the phase call in
        ``follow_up.metadata["phase"]`` when the scan made one, else arterial (the series
        mRECIST is read on, which the ``propagate`` command picks).

    Returns
    -------
    list of Proposal
        One per target, in order.
    """
    if phase is None:
        phase = _phase_of(follow_up)
    base_img = _downsampled(baseline, 2.0)
    fu_img = _downsampled(follow_up, 2.0)
    transform = registration.transform
    out = []
    for target in targets:
        p = baseline.index_to_patient(np.asarray(target.seed_zyx, dtype=float))
        q = np.asarray(transform.TransformPoint(tuple(float(v) for v in p)))
        q_idx = follow_up.patient_to_index(q)
        reasons: list[str] = []
        checks: dict[str, Any] = {}

        inside = bool(all(-0.5 <= q_idx[i] <= follow_up.shape[i] - 0.5 for i in range(3)))
        checks["in_field_of_view"] = inside
        if not inside:
            reasons.append("the mapped point lies outside the follow-up scan")

        det = _jacobian(transform, p)
        checks["jacobian"] = round(det, 3)
        if not JACOBIAN_RANGE[0] <= det <= JACOBIAN_RANGE[1]:
            reasons.append(
                f"the deformation is implausible at the target (local volume ratio {det:.2f})"
            )

        ref = _patch(p, np.asarray(base_img.GetDirection()))
        a = sitk.GetArrayFromImage(
            sitk.Resample(base_img, ref, sitk.Transform(), sitk.sitkLinear, OUTSIDE)
        )
        b = sitk.GetArrayFromImage(sitk.Resample(fu_img, ref, transform, sitk.sitkLinear, OUTSIDE))
        radius = _radius_mm(baseline, target) + 4.0
        n = a.shape[0]
        r = (np.arange(n) - (n - 1) / 2.0) * 2.0
        zz, yy, xx = np.meshgrid(r, r, r, indexing="ij")
        # compared only where both scans have voxels: near a slab's end the patch reaches
        # beyond it, and a fill value there would be compared with real anatomy
        keep = (zz**2 + yy**2 + xx**2 > radius**2) & (a > OUTSIDE / 2) & (b > OUTSIDE / 2)
        ncc = _ncc(a[keep], b[keep]) if keep.any() else 0.0
        structure = float(a[keep].std()) if keep.any() else 0.0
        checks["similarity"] = round(ncc, 3)
        checks["structure_hu"] = round(structure, 1)
        if ncc < MIN_SIMILARITY and structure >= MIN_STRUCTURE_HU:
            reasons.append(
                f"the follow-up does not look like the baseline around the target "
                f"(local correlation {ncc:.2f} < {MIN_SIMILARITY})"
            )

        lines = {}
        for name, (start, end) in target.lines.items():
            ends = []
            for v in (start, end):
                pl = baseline.index_to_patient(np.asarray(v, dtype=float))
                ql = np.asarray(transform.TransformPoint(tuple(float(x) for x in pl)))
                ends.append([round(float(x), 2) for x in follow_up.patient_to_index(ql)])
            lines[name] = {"start": ends[0], "end": ends[1]}

        measurement = None
        if measure and inside:
            try:
                measurement = measure_proposal(
                    follow_up,
                    q_idx,
                    prompt_line(lines, q_idx, follow_up.shape),
                    phase=phase,
                )
            except MeasurementError as err:
                checks["measured"] = False
                reasons.append(f"no lesion measured at the mapped point: {err}")
            else:
                snap = float(measurement["distance_to_seed_mm"])
                checks["measured"] = snap <= MAX_SNAP_MM
                checks["snap_mm"] = round(snap, 1)
                if snap > MAX_SNAP_MM:
                    reasons.append(
                        f"the nearest lesion found is {snap:.0f} mm from the mapped point"
                    )

        ok = not reasons
        out.append(
            Proposal(
                lesion_id=target.lesion_id,
                status="proposed" if ok else "flagged",
                reasons=reasons,
                confidence=max(0.0, min(1.0, ncc)) if ok else 0.0,
                checks=checks,
                baseline_seed_zyx=[round(float(v), 2) for v in target.seed_zyx],
                baseline_seed_lps=[round(float(v), 2) for v in p],
                seed_lps=[round(float(v), 2) for v in q],
                seed_zyx=[round(float(v), 2) for v in q_idx],
                lines=lines,
                measurement=measurement,
            )
        )
    return out


def targets_of(timepoint: Any, volume: CTVolume) -> list[Target]:
    """The targets of an assessment timepoint (usually the baseline) as :class:`Target`.

    Each target with a seed, or a line whose midpoint then serves as seed; lines stored in
    patient space are turned into voxels of ``volume`` (the series they were measured on). The
    ``propagate`` command and the plugin build targets here, so both focus the registration on
    the same points and share its cached result.
    """
    out = []
    for lesion in timepoint.lesions:
        if str(lesion.category) != "target":
            continue
        lines = {}
        for name in ("line", "longest_line"):
            line = getattr(lesion, name)
            if line is None:
                continue
            ends = [np.asarray(line.start, float), np.asarray(line.end, float)]
            if line.space == "patient":
                ends = [volume.patient_to_index(e) for e in ends]
            lines[name] = (
                tuple(float(v) for v in ends[0]),
                tuple(float(v) for v in ends[1]),
            )
        if lesion.seed is not None:
            seed = tuple(float(v) for v in lesion.seed)
        elif lines:
            start, end = next(iter(lines.values()))
            seed = tuple((np.asarray(start) + np.asarray(end)) / 2.0)
        else:
            continue
        out.append(Target(lesion.id, seed, lines))  # type: ignore[arg-type]
    return out
