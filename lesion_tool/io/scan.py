"""Folder discovery: patients -> studies -> series -> image stacks, with the contrast phase of each.

:func:`scan_folders` reads headers only (never pixel data) of every file under the given folders,
reports every file it cannot use once in :attr:`ScanResult.problems` (never fatal), groups the rest
and splits each series into stacks of one orientation, image size and frame type (a coronal
reformat stored in an axial series becomes its own stack). Non-image objects (SR, SEG, dose
reports) and localizers are listed but never chosen.

Each image stack then gets a contrast phase (:mod:`lesion_tool.io.phase`) from its description,
contrast tags, timing and order in the study, and, unless ``use_pixels=False``, from the
enhancement measured on a few of its slices (the only pixel data ever read, at most
``PIXEL_SAMPLE_SLICES`` files per stack, and only for the stacks whose headers do not already
decide: see :func:`headers_decide`). Each study then names the series it would measure on
(:attr:`Study.arterial_series`) and why, and says plainly when that series' pixels disagree with
its label.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from lesion_tool.errors import SeriesError
from lesion_tool.io.headers import (
    DICOMDIR_SOP_CLASS,
    FileHeader,
    NotDicomError,
    parse_dicom_time,
    read_header,
)
from lesion_tool.io.phase import (
    Enhancement,
    Phase,
    PhaseCall,
    estimate_enhancement,
    non_axial_enhancement,
    phase_from_enhancement,
    phase_from_text,
    phase_from_timing,
)
from lesion_tool.io.series import (
    _read_native,
    check_pixel_data_size,
    frames_of,
    list_files,
    load_series,
    series_stacks,
    stack_geometry,
)
from lesion_tool.io.stacks import (
    MIN_FULL_STACK_SLICES,
    StackGroup,
    main_stack,
    orientation_label,
)
from lesion_tool.io.volume import CTVolume

if TYPE_CHECKING:
    from lesion_tool.executor import Executor

__all__ = [
    "MIN_SLICES_TO_MEASURE",
    "PIXEL_SAMPLE_SLICES",
    "Patient",
    "Problem",
    "ScanResult",
    "SeriesStack",
    "Study",
    "headers_decide",
    "scan_folders",
]

log = logging.getLogger(__name__)

MIN_SLICES_TO_MEASURE = MIN_FULL_STACK_SLICES
"""Stacks with fewer slices (e.g. a one-slice PRE series) are reported but never chosen."""
PIXEL_SAMPLE_SLICES = 12
"""Slices read per stack, spread along it, to estimate enhancement."""


class Problem(NamedTuple):
    """A file that could not be used: its path and the reason (unpacks as ``(path, reason)``)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class SeriesStack:
    """One stack of a series: images of one orientation, size and frame type.

    ``files`` are in slice order (increasing position along the slice normal) when the geometry
    could be checked, else in InstanceNumber order. ``spacing_mm`` is ``(z, y, x)``.
    ``role`` is ``image``, ``localizer`` or ``non-image``; ``not_measurable`` says why a stack
    cannot be the series measured on (None when it can).
    """

    series_instance_uid: str
    stack_index: int
    description: str
    series_number: int | None
    modality: str
    sop_class_uid: str
    role: str
    image_type: tuple[str, ...]
    files: tuple[Path, ...]
    slice_count: int
    rows: int | None
    columns: int | None
    spacing_mm: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    orientation_label: str
    study_instance_uid: str
    study_date: dt.date | None
    patient_id: str
    frame_of_reference_uid: str
    series_time: str = ""
    acquisition_time: str = ""
    contrast_agent: str = ""
    contrast_start_time: str = ""
    transfer_syntax_uid: str = ""
    geometry_problem: str | None = None
    not_measurable: str | None = None
    warnings: tuple[str, ...] = ()
    enhancement: Enhancement | None = None
    phase: PhaseCall | None = None
    stray: str | None = None
    """For a small stack (reformat, lone slice) that a load of the whole series leaves out: what
    is left out and beside what (None for other stacks)."""
    headers: tuple[FileHeader, ...] = field(default=(), repr=False, compare=False)

    def load(self) -> CTVolume:
        """Load this stack with :func:`~lesion_tool.io.series.load_series` (checks included).

        The volume's ``metadata["phase"]`` and ``metadata["enhancement"]`` carry this stack's
        phase call and enhancement estimate (dictionaries, or None).
        """
        volume = load_series(list(self.files))
        volume.metadata["phase"] = None if self.phase is None else self.phase.to_dict()
        volume.metadata["enhancement"] = (
            None if self.enhancement is None else self.enhancement.to_dict()
        )
        return volume

    @property
    def uid(self) -> str:
        """SeriesInstanceUID."""
        return self.series_instance_uid

    @property
    def stack_id(self) -> str:
        """SeriesInstanceUID, with ``#k`` when the series holds several stacks."""
        return (
            self.series_instance_uid
            if self.stack_index == 0
            else f"{self.series_instance_uid}#{self.stack_index}"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary (paths as strings)."""
        return {
            "series_instance_uid": self.series_instance_uid,
            "stack_id": self.stack_id,
            "description": self.description,
            "series_number": self.series_number,
            "modality": self.modality,
            "role": self.role,
            "image_type": list(self.image_type),
            "slice_count": self.slice_count,
            "rows": self.rows,
            "columns": self.columns,
            "spacing_mm": None
            if self.spacing_mm is None
            else [round(s, 4) for s in self.spacing_mm],
            "orientation": self.orientation_label,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "contrast_agent": self.contrast_agent,
            "transfer_syntax_uid": self.transfer_syntax_uid,
            "geometry_problem": self.geometry_problem,
            "not_measurable": self.not_measurable,
            "stray": self.stray,
            "warnings": list(self.warnings),
            "enhancement": None if self.enhancement is None else self.enhancement.to_dict(),
            "phase": None if self.phase is None else self.phase.to_dict(),
            "files": [str(p) for p in self.files],
        }


@dataclass(frozen=True)
class Study:
    """One study with its stacks and the series lesion-tool would measure on.

    ``arterial_series`` is the stack chosen for mRECIST (None when no usable arterial phase),
    ``arterial_reason`` says why it was chosen (or why none was), ``warnings`` lists disagreements
    between its label and its pixels.
    """

    study_instance_uid: str
    study_date: dt.date | None
    description: str
    patient_id: str
    series: tuple[SeriesStack, ...]
    arterial_series: SeriesStack | None
    arterial_reason: str
    warnings: tuple[str, ...] = ()

    @property
    def image_stacks(self) -> tuple[SeriesStack, ...]:
        """Stacks with role ``image``."""
        return tuple(s for s in self.series if s.role == "image")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        return {
            "study_instance_uid": self.study_instance_uid,
            "study_date": None if self.study_date is None else self.study_date.isoformat(),
            "description": self.description,
            "patient_id": self.patient_id,
            "arterial_series": None
            if self.arterial_series is None
            else self.arterial_series.stack_id,
            "arterial_reason": self.arterial_reason,
            "warnings": list(self.warnings),
            "series": [s.to_dict() for s in self.series],
        }


@dataclass(frozen=True)
class Patient:
    """One PatientID with its studies in date order."""

    patient_id: str
    patient_name: str
    studies: tuple[Study, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        return {
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "studies": [s.to_dict() for s in self.studies],
        }


@dataclass(frozen=True)
class ScanResult:
    """What :func:`scan_folders` found.

    ``problems`` lists every file that is not usable DICOM, once, with the reason; ``ignored``
    lists files skipped on purpose (DICOMDIR media indexes: their files are scanned directly).
    """

    patients: tuple[Patient, ...]
    problems: tuple[Problem, ...]
    ignored: tuple[Problem, ...]
    files_scanned: int

    @property
    def studies(self) -> tuple[Study, ...]:
        """Every study of every patient."""
        return tuple(s for p in self.patients for s in p.studies)

    @property
    def stacks(self) -> tuple[SeriesStack, ...]:
        """Every stack of every study."""
        return tuple(x for s in self.studies for x in s.series)

    def find_series(self, text: str) -> list[SeriesStack]:
        """Stacks whose UID equals ``text`` or whose description contains it (case-insensitive)."""
        low = text.lower()
        return [
            s
            for s in self.stacks
            if s.series_instance_uid == text or s.stack_id == text or low in s.description.lower()
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary (``lesion-tool scan --json``)."""
        return {
            "files_scanned": self.files_scanned,
            "patients": [p.to_dict() for p in self.patients],
            "problems": [{"path": str(p.path), "reason": p.reason} for p in self.problems],
            "ignored": [{"path": str(p.path), "reason": p.reason} for p in self.ignored],
        }


# --- grouping -------------------------------------------------------------------------------------


def _sorted_files(headers: Sequence[FileHeader]) -> list[FileHeader]:
    return sorted(headers, key=lambda h: (h.instance_number or 0, str(h.path)))


def _build_stack(
    uid: str,
    index: int,
    headers: Sequence[FileHeader],
    role: str,
    *,
    stray_beside: StackGroup | None = None,
) -> SeriesStack:
    first = headers[0]
    spacing = None
    geometry_problem = None
    stack_warnings: tuple[str, ...] = ()
    ordered = _sorted_files(headers)
    frames = frames_of(headers)
    if role == "image":
        name = f'Series {uid} "{first.series_description}"'
        try:
            geo = stack_geometry(frames, name=name)
        except SeriesError as err:
            geometry_problem = str(err)
        else:
            spacing = geo.spacing_mm
            stack_warnings = geo.warnings
            seen: dict[Path, None] = {}
            for f in geo.frames:
                seen.setdefault(f.header.path, None)
            by_path = {h.path: h for h in headers}
            ordered = [by_path[p] for p in seen]
        if spacing is None and first.frames and first.frames[0].pixel_spacing_mm:
            # Geometry unchecked: report the nominal spacing when the header states one.
            ps = first.frames[0].pixel_spacing_mm
            z = first.spacing_between_slices_mm or first.frames[0].slice_thickness_mm
            spacing = None if z is None else (z, ps[0], ps[1])
    slices = len(frames) if role == "image" else len(headers)
    not_measurable = None
    if role == "localizer":
        not_measurable = "localizer / scout"
    elif role == "non-image":
        not_measurable = f"not an image ({first.modality or first.sop_class_uid})"
    elif first.modality not in ("CT", "MR", ""):
        not_measurable = f"modality {first.modality}"
    elif geometry_problem:
        not_measurable = "geometry problem: " + geometry_problem
    elif stray_beside is not None:
        not_measurable = "stray in the series (left out when it is loaded)"
    elif slices < MIN_SLICES_TO_MEASURE:
        not_measurable = f"only {slices} slice(s)"
    stray = None
    if stray_beside is not None:
        stack_warnings = ()  # its own geometry notes (one slice...) matter to no load
        # What load_series says when it loads the whole series: this stack is left out.
        kind = orientation_label(first.frames[0].orientation)
        stray = (
            f"stray {kind} stack of {slices} image(s) beside the series' "
            f"{stray_beside.describe()}, left out when the series is loaded: "
            f"{StackGroup(role, tuple(headers)).file_list()}"
        )
    orientation = first.frames[0].orientation if first.frames and role == "image" else None
    return SeriesStack(
        series_instance_uid=uid,
        stack_index=index,
        description=first.series_description,
        series_number=first.series_number,
        modality=first.modality,
        sop_class_uid=first.sop_class_uid,
        role=role,
        image_type=first.image_type,
        files=tuple(h.path for h in ordered),
        slice_count=slices,
        rows=first.rows,
        columns=first.columns,
        spacing_mm=spacing,
        orientation=orientation,
        orientation_label=orientation_label(orientation),
        study_instance_uid=first.study_instance_uid,
        study_date=first.study_date,
        patient_id=first.patient_id,
        frame_of_reference_uid=first.frame_of_reference_uid,
        series_time=first.series_time,
        acquisition_time=min(
            (h.acquisition_time for h in headers if h.acquisition_time), default=""
        ),
        contrast_agent=first.contrast_agent,
        contrast_start_time=first.contrast_start_time,
        transfer_syntax_uid=first.transfer_syntax_uid,
        geometry_problem=geometry_problem,
        not_measurable=not_measurable,
        stray=stray,
        warnings=stack_warnings,
        headers=tuple(ordered),
    )


def _iter_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Problem]]:
    roots = []
    problems = []
    for p in paths:
        path = Path(p).absolute()
        if not path.exists():
            problems.append(Problem(path, "no such file or folder"))
            continue
        roots.append(path)
    special: list[tuple[Path, str]] = []
    if len(roots) == 1:
        found = list_files(roots[0], special)
        return found, problems + [Problem(p, reason) for p, reason in special]
    files: dict[str, Path] = {}
    for root in roots:
        for f in list_files(root, special):
            # Overlapping arguments (a folder and its subfolder) list a file once.
            files.setdefault(os.path.normpath(f), f)
    return list(files.values()), problems + [Problem(p, reason) for p, reason in special]


def _read_file(f: Path) -> tuple[str, Any]:
    """One file's header: ("header", FileHeader), or ("problem" | "ignored", reason).

    Depends on this file only, so an executor may run it in another process."""
    try:
        h = read_header(f)
    except NotDicomError as err:
        return "problem", str(err)
    except OSError as err:
        return "problem", f"unreadable ({err})"
    if h.sop_class_uid == DICOMDIR_SOP_CLASS:
        return "ignored", "DICOMDIR media index (its files are scanned directly)"
    if not h.series_instance_uid or not h.study_instance_uid:
        return "problem", "no Study / Series Instance UID"
    if h.is_image:
        try:
            check_pixel_data_size(h, "")  # a stat: a file too short for its header
        except SeriesError as err:
            return "problem", str(err).removeprefix(": ")
    return "header", h


def scan_folders(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    use_pixels: bool = True,
    executor: Executor | None = None,
) -> ScanResult:
    """Find every DICOM series under ``paths`` and the contrast phase of each image stack.

    Parameters
    ----------
    paths
        Folders or files, searched recursively; files need no extension.
    use_pixels
        Estimate aorta / portal vein / liver enhancement from at most
        :data:`PIXEL_SAMPLE_SLICES` slices per CT stack to check and complete the header evidence.
        ``False`` reads headers only.
    executor
        Where the file headers are read (:class:`lesion_tool.executor.Executor`; default: in
        process), and, with several workers or a scheduler, the pixel evidence of the stacks
        not in the phase cache (each stack depends on its own files only). Grouping and the
        phase calls run here, in file order, so the result is the same wherever the work ran.

    Returns
    -------
    ScanResult
        Patients -> studies (date order) -> stacks (series number order), the series each study
        would measure on and why, and every unusable file once in ``problems``.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files, problems = _iter_files(paths)
    ignored: list[Problem] = []
    headers: list[FileHeader] = []
    if executor is None:
        read = [_read_file(f) for f in files]
    else:
        outcomes = executor.map(_read_file, files, label="scan")
        read = [o.value if o.value is not None else ("problem", o.error) for o in outcomes]
    for f, (kind, found) in zip(files, read, strict=True):
        if kind == "header":
            headers.append(found)
        elif kind == "ignored":
            ignored.append(Problem(f, found))
        else:
            problems.append(Problem(f, found))

    # patient -> study -> series -> stack key
    tree: dict[str, dict[str, dict[str, list[FileHeader]]]] = {}
    for h in headers:
        tree.setdefault(h.patient_id, {}).setdefault(h.study_instance_uid, {}).setdefault(
            h.series_instance_uid, []
        ).append(h)
    grouped: list[tuple[str, list[tuple[str, list[SeriesStack]]]]] = []
    for pid in sorted(tree):
        patient_studies: list[tuple[str, list[SeriesStack]]] = []
        grouped.append((pid, patient_studies))
        for study_uid, series in tree[pid].items():
            stacks: list[SeriesStack] = []
            for uid, hs in series.items():
                unique: list[FileHeader] = []
                seen_sops: set[str] = set()
                for h in hs:
                    if h.sop_instance_uid in seen_sops:
                        problems.append(
                            Problem(
                                h.path, f"duplicate copy of SOPInstanceUID {h.sop_instance_uid}"
                            )
                        )
                        continue
                    seen_sops.add(h.sop_instance_uid)
                    unique.append(h)
                groups = series_stacks(unique)
                main = main_stack(groups)
                for k, group in enumerate(groups):
                    stray = main is not None and k != main and group.role == "image"
                    stacks.append(
                        _build_stack(
                            uid,
                            k,
                            group.headers,
                            group.role,
                            stray_beside=(groups[main] if stray and main is not None else None),
                        )
                    )
            stacks.sort(key=lambda s: (s.series_number or 0, s.series_instance_uid, s.stack_index))
            patient_studies.append((study_uid, stacks))
    evidence: dict[int, Enhancement | None] | None = None
    if use_pixels and executor is not None and (executor.workers > 1 or executor.scheduler):
        evidence = _measure_elsewhere(
            [s for _, studies in grouped for _, stacks in studies for s in stacks], executor
        )
    patients = []
    for pid, patient_studies in grouped:
        studies = [
            _classify_study(study_uid, stacks, use_pixels=use_pixels, evidence=evidence)
            for study_uid, stacks in patient_studies
        ]
        studies.sort(key=lambda s: (s.study_date or dt.date.min, s.study_instance_uid))
        first_series = next(iter(next(iter(tree[pid].values())).values()))
        name = first_series[0].patient_name
        patients.append(Patient(pid, name, tuple(studies)))
    return ScanResult(
        patients=tuple(patients),
        problems=tuple(problems),
        ignored=tuple(ignored),
        files_scanned=len(files),
    )


# --- phase per study ------------------------------------------------------------------------------


def _sample_slices(stack: SeriesStack) -> tuple[np.ndarray, np.ndarray] | None:
    """HU of up to PIXEL_SAMPLE_SLICES slices spread along a single-frame stack, and direction."""
    if stack.geometry_problem or stack.orientation is None or stack.spacing_mm is None:
        return None
    headers = stack.headers
    if any(h.number_of_frames > 1 for h in headers):
        idx = None
    else:
        idx = np.unique(np.linspace(0, len(headers) - 1, PIXEL_SAMPLE_SLICES).round().astype(int))
    out = []
    try:
        if idx is None:
            import pydicom.pixels  # here only: native pixels and --no-pixels never import it

            h = headers[0]
            arr = pydicom.pixels.pixel_array(h.path)
            arr = arr if arr.ndim == 3 else arr[np.newaxis]
            pick = np.unique(np.linspace(0, arr.shape[0] - 1, PIXEL_SAMPLE_SLICES).round())
            for i in pick.astype(int):
                g = h.frames[i]
                out.append(arr[i].astype(np.float32) * g.rescale_slope + g.rescale_intercept)
        else:
            for i in idx:
                h = headers[int(i)]
                g = h.frames[0]
                raw = _read_native(h)
                if raw is None:
                    import pydicom.pixels  # here only: compressed or unusual pixel data

                    raw = pydicom.pixels.pixel_array(h.path)
                out.append(raw.astype(np.float32) * g.rescale_slope + g.rescale_intercept)
    except Exception as err:  # noqa: BLE001 - pixel evidence is optional; headers still decide
        log.info("Series %s: pixels not read for phase evidence (%s)", stack.uid, err)
        return None
    return np.stack(out), _direction(stack)


def _direction(stack: SeriesStack) -> np.ndarray:
    o = np.asarray(stack.orientation, dtype=float)
    return np.column_stack([np.cross(o[:3], o[3:]), o[3:], o[:3]])


def _enhancement(stack: SeriesStack) -> Enhancement | None:
    """The stack's pixel evidence: from the phase cache when its files are unchanged, else
    from :data:`PIXEL_SAMPLE_SLICES` slices (then cached). A stack that cannot give evidence
    (not CT, not axial, no geometry) never has its pixels read."""
    known, key = _known_enhancement(stack)
    return known if key is None else _measured_enhancement((stack, key))


def _known_enhancement(stack: SeriesStack) -> tuple[Enhancement | None, str | None]:
    """``(evidence, None)`` when known without reading pixels (none possible, not axial, in
    the phase cache), else ``(None, cache key)``: the pixels must be read."""
    if stack.role != "image" or stack.modality != "CT" or stack.slice_count < 3:
        return None, None
    if headers_decide(stack) is not None:
        return None, None
    if stack.geometry_problem or stack.orientation is None or stack.spacing_mm is None:
        return None, None
    not_axial = non_axial_enhancement(_direction(stack))
    if not_axial is not None:
        return not_axial, None
    from lesion_tool.io import phase_cache  # here: a headers-only scan never pays for hashlib

    key = phase_cache.stack_key(
        stack.series_instance_uid,
        stack.files,
        (stack.stack_index, stack.spacing_mm, stack.orientation, PIXEL_SAMPLE_SLICES),
    )
    cached = phase_cache.load(key)
    return (cached, None) if cached is not None else (None, key)


def _measure_elsewhere(
    stacks: Sequence[SeriesStack], executor: Executor
) -> dict[int, Enhancement | None]:
    """Every image stack's evidence by ``id(stack)``; the ones not cached are measured on the
    executor's workers (each stack depends on its own files only, so the result is the one
    measured here)."""
    known: dict[int, Enhancement | None] = {}
    todo: list[tuple[SeriesStack, str]] = []
    for s in stacks:
        if s.role != "image":
            continue
        value, key = _known_enhancement(s)
        if key is None:
            known[id(s)] = value
        else:
            todo.append((s, key))
    outcomes = executor.map(_measured_enhancement, todo, label="scan pixels")
    for (s, _), outcome in zip(todo, outcomes, strict=True):
        known[id(s)] = outcome.value if outcome.ok else None
    return known


def _measured_enhancement(item: tuple[SeriesStack, str]) -> Enhancement | None:
    """Measure one stack's evidence on its sampled slices and cache it under the key."""
    stack, key = item
    sample = _sample_slices(stack)
    if sample is None:
        return None
    slices, direction = sample
    result = estimate_enhancement(slices, stack.spacing_mm[1:], direction)
    from lesion_tool.io import phase_cache

    phase_cache.store(key, result)
    return result


def headers_decide(stack: SeriesStack) -> Phase | None:
    """The phase the headers alone decide, so that the stack's pixels are never read, or None.

    Only when two independent header sources name the same phase: the description, and the
    scanner's delay from ContrastBolusStartTime to acquisition, on portal venous or delayed.
    An arterial label is always checked against the pixels (mRECIST needs a true arterial phase;
    a late bolus is what they catch), and so is every stack whose headers say less or disagree.
    """
    first = stack.headers[0] if stack.headers else None
    text = phase_from_text(stack.description, first.protocol_name if first else "")
    if text is None or text.phase not in (Phase.PORTAL_VENOUS, Phase.DELAYED):
        return None
    acq = parse_dicom_time(stack.acquisition_time) or parse_dicom_time(stack.series_time)
    timing = phase_from_timing(acq, parse_dicom_time(stack.contrast_start_time))
    return text.phase if timing is not None and timing[0] is text.phase else None


def _header_phase(stack: SeriesStack) -> tuple[PhaseCall, bool | None]:
    """Phase from description, contrast tags and timing; and whether contrast was given."""
    evidence: list[str] = []
    first = stack.headers[0] if stack.headers else None
    text = phase_from_text(stack.description, first.protocol_name if first else "")
    contrast: bool | None = None
    if stack.contrast_agent:
        contrast = True
        evidence.append(f"ContrastBolusAgent '{stack.contrast_agent}': contrast given")
    elif first is not None and first.contrast_administered is not None:
        contrast = first.contrast_administered
        evidence.append(
            "Enhanced CT contrast usage: "
            + ("contrast administered" if contrast else "no contrast administered")
        )
    else:
        evidence.append("ContrastBolusAgent empty or absent (no header contrast evidence)")
    acq = parse_dicom_time(stack.acquisition_time) or parse_dicom_time(stack.series_time)
    start = parse_dicom_time(stack.contrast_start_time)
    timing = phase_from_timing(acq, start)
    if text is not None and text.phase is not Phase.UNKNOWN:
        evidence.insert(0, f"description '{stack.description}' says {text.matched!r}")
        conf = 0.8
        if timing is not None:
            agrees = timing[0] is text.phase
            evidence.append(
                f"acquired {timing[2]:.0f} s after contrast start: {timing[0].value}"
                + (" (agrees)" if agrees else " (disagrees)")
            )
            conf = 0.9 if agrees else 0.6
        if contrast is True and text.phase is Phase.NON_CONTRAST:
            conf = 0.5
            evidence.append("but ContrastBolusAgent is set")
        call = PhaseCall(
            text.phase,
            text.subphase or (timing[1] if timing else None),
            conf,
            tuple(evidence),
            source="description",
        )
        return call, contrast if contrast is not None else text.phase is not Phase.NON_CONTRAST
    if text is not None and text.contrast:
        contrast = True
        evidence.insert(0, f"description '{stack.description}' says contrast-enhanced")
    if timing is not None:
        evidence.insert(0, f"acquired {timing[2]:.0f} s after ContrastBolusStartTime")
        return (
            PhaseCall(timing[0], timing[1], 0.75, tuple(evidence), source="contrast timing"),
            True,
        )
    if contrast is False:
        return (
            PhaseCall(Phase.NON_CONTRAST, None, 0.7, tuple(evidence), source="contrast tags"),
            False,
        )
    if text is None:
        evidence.insert(0, f"description '{stack.description}' names no phase")
    return PhaseCall(Phase.UNKNOWN, None, 0.0, tuple(evidence)), contrast


def _classify_study(
    study_uid: str,
    stacks: list[SeriesStack],
    *,
    use_pixels: bool,
    evidence: dict[int, Enhancement | None] | None = None,
) -> Study:
    """One study's phases and the series to measure on; ``evidence`` is each image stack's
    pixel evidence by ``id(stack)`` when already measured elsewhere (else measured here)."""
    image = [s for s in stacks if s.role == "image"]
    enh: dict[int, Enhancement | None] = {}
    if use_pixels:
        for s in image:
            enh[id(s)] = evidence[id(s)] if evidence is not None else _enhancement(s)
    # Study-level comparison: highest aorta - portal contrast, lowest aorta.
    measured = {
        k: e
        for k, e in enh.items()
        if e is not None and e.aorta_hu is not None and e.portal_vein_hu is not None
    }
    top_arterial = None
    lowest_aorta = None
    if len(measured) >= 2:
        top_arterial = max(measured, key=lambda k: measured[k].aorta_minus_portal_hu or -1e9)
        lowest_aorta = min(measured, key=lambda k: measured[k].aorta_hu or 1e9)
    # Contrast-enhanced acquisitions in time order (weak evidence when nothing else speaks).
    timed = sorted(
        (
            (t, s)
            for s in image
            if (t := parse_dicom_time(s.acquisition_time) or parse_dicom_time(s.series_time))
            is not None
        ),
        key=lambda ts: ts[0],
    )
    if len({t for t, _ in timed}) < len(timed):
        timed = []  # equal times (e.g. only StudyTime copied everywhere) say nothing about order
    # Series without a contrast agent in a study where others have one, acquired before them,
    # are the non-contrast series; the others are ranked in acquisition order.
    with_agent = [(t, s) for t, s in timed if s.contrast_agent]
    first_agent_time = min((t for t, _ in with_agent), default=None)
    pre_contrast = {
        id(s)
        for t, s in timed
        if not s.contrast_agent and first_agent_time is not None and t < first_agent_time
    }
    enhanced_order = [s for _, s in timed if id(s) not in pre_contrast]
    order_rank = {id(s): i for i, s in enumerate(enhanced_order)}

    new_stacks = []
    for s in stacks:
        if s.role != "image":
            new_stacks.append(s)
            continue
        call, _contrast = _header_phase(s)
        e = enh.get(id(s))
        evidence = list(call.evidence)
        warns = list(call.warnings)
        img_call = phase_from_enhancement(e) if e is not None else None
        if use_pixels and e is None and headers_decide(s) is not None:
            evidence.append("pixels not read: the description and the contrast timing agree")
        if e is not None:
            evidence.append(
                "pixels: " + e.describe() + (f"; {'; '.join(e.notes)}" if e.notes else "")
            )
        comparative = None
        if top_arterial == id(s):
            e2 = measured[id(s)]
            if (e2.aorta_minus_portal_hu or 0) >= 40 and (e2.aorta_hu or 0) >= 150:
                comparative = Phase.ARTERIAL
                evidence.append("highest aorta-to-portal-vein contrast of the study")
        if lowest_aorta == id(s) and comparative is None:
            e2 = measured[id(s)]
            if (e2.aorta_hu or 999) < 100:
                comparative = Phase.NON_CONTRAST
                evidence.append("lowest aortic enhancement of the study")
        if call.phase is not Phase.UNKNOWN:
            conf = call.confidence
            if img_call is not None:
                if img_call[0] is call.phase:
                    conf = min(0.97, conf + 0.15)
                    evidence.append(f"pixels agree ({img_call[2]})")
                else:
                    conf = max(0.3, conf - 0.3)
                    warns.append(
                        f"Series '{s.description}' is labelled {call.phase.value.replace('_', ' ')}"
                        f" but its pixels look {img_call[0].value.replace('_', ' ')}: "
                        f"{img_call[2]}."
                        + (
                            " mRECIST viable-tumour measurement needs a true arterial phase;"
                            " check the timing before measuring."
                            if call.phase is Phase.ARTERIAL or img_call[0] is Phase.ARTERIAL
                            else ""
                        )
                    )
            if comparative is not None and comparative is not call.phase:
                conf = max(0.3, conf - 0.1)
            call = replace(call, confidence=conf, evidence=tuple(evidence), warnings=tuple(warns))
        elif comparative is not None or img_call is not None:
            phase = comparative or img_call[0]  # type: ignore[index]
            sub = img_call[1] if img_call is not None and img_call[0] is phase else None
            conf = 0.6 if img_call is not None and img_call[0] is phase else 0.45
            if comparative is not None and img_call is not None and img_call[0] is comparative:
                conf = 0.7
            call = PhaseCall(phase, sub, conf, tuple(evidence), tuple(warns), source="image")
        elif id(s) in pre_contrast:
            evidence.append(
                f"no ContrastBolusAgent, acquired before the {len(with_agent)} series of the study "
                "that have one"
            )
            call = PhaseCall(
                Phase.NON_CONTRAST, None, 0.55, tuple(evidence), tuple(warns), source="study order"
            )
        elif id(s) in order_rank and _contrast is not False and len(enhanced_order) >= 2:
            rank = order_rank[id(s)]
            seq = (Phase.ARTERIAL, Phase.PORTAL_VENOUS, Phase.DELAYED)
            phase = seq[min(rank, 2)]
            evidence.append(
                f"contrast acquisition {rank + 1} of {len(enhanced_order)} in the study (weak)"
            )
            call = PhaseCall(phase, None, 0.3, tuple(evidence), tuple(warns), source="study order")
        else:
            call = replace(call, evidence=tuple(evidence), warnings=tuple(warns))
        call = replace(call, confidence=round(call.confidence, 2))
        new_stacks.append(replace(s, enhancement=e, phase=call))

    chosen, reason, study_warnings = _choose_arterial(new_stacks)
    # Every label / pixel disagreement in the study is said plainly, the chosen series' first.
    for s in new_stacks:
        if s is not chosen and s.phase is not None:
            study_warnings = (
                *study_warnings,
                *(w for w in s.phase.warnings if w not in study_warnings),
            )
    original = {s.stack_id: s for s in image}
    chosen_id = id(original[chosen.stack_id]) if chosen is not None else None
    if chosen is not None and top_arterial is not None and top_arterial != chosen_id:
        # Another series of the study shows clearly more arterial contrast than the chosen one.
        best = measured[top_arterial]
        mine = enh.get(chosen_id) if chosen_id is not None else None
        mine_contrast = mine.aorta_minus_portal_hu if mine is not None else None
        if (best.aorta_minus_portal_hu or 0) >= 60 and (
            mine_contrast is None or (best.aorta_minus_portal_hu or 0) - mine_contrast >= 40
        ):
            other = next(s for s in image if id(s) == top_arterial)
            message = (
                f"Series '{other.description}' (series {other.series_number}) shows more "
                f"arterial contrast ({best.describe()}) than the chosen '{chosen.description}'; "
                "check which one is the true arterial phase."
            )
            study_warnings = (*study_warnings, message)
    first = new_stacks[0]
    head = first.headers[0] if first.headers else None
    return Study(
        study_instance_uid=study_uid,
        study_date=first.study_date,
        description=head.study_description if head else "",
        patient_id=first.patient_id,
        series=tuple(new_stacks),
        arterial_series=chosen,
        arterial_reason=reason,
        warnings=study_warnings,
    )


def _choose_arterial(
    stacks: Sequence[SeriesStack],
) -> tuple[SeriesStack | None, str, tuple[str, ...]]:
    """The stack to measure mRECIST on, why, and the warnings that go with it."""
    candidates = [
        s
        for s in stacks
        if s.role == "image"
        and not s.stray  # a reformat inside a series is never what its load measures on
        and s.phase is not None
        and s.phase.phase is Phase.ARTERIAL
    ]
    usable = [s for s in candidates if s.not_measurable is None]
    skipped = [s for s in candidates if s.not_measurable is not None]
    if not usable:
        why = "no arterial-phase series found"
        if skipped:
            why = "; ".join(f"'{s.description}' not usable ({s.not_measurable})" for s in skipped)
            why = f"no usable arterial-phase series ({why})"
        phases = sorted(
            {
                s.phase.phase.value
                for s in stacks
                if s.role == "image" and s.phase is not None and s.not_measurable is None
            }
        )
        if phases:
            why += f"; usable phases: {', '.join(phases)}"
        return None, why + ". mRECIST viable-tumour measurement needs an arterial phase.", ()

    def rank(s: SeriesStack) -> tuple[float, int, float, int]:
        assert s.phase is not None
        late = 1 if s.phase.subphase == "late" else 0  # mRECIST reads the late arterial phase
        thin = -(s.spacing_mm[0] if s.spacing_mm else 99.0)
        return (round(s.phase.confidence, 1), late, thin, s.slice_count)

    best = max(usable, key=rank)
    assert best.phase is not None
    sub = f" ({best.phase.subphase})" if best.phase.subphase else ""
    reason = (
        f"'{best.description}' (series {best.series_number}, {best.slice_count} slices): "
        f"arterial{sub} by {best.phase.source}, confidence {best.phase.confidence:.2f}"
    )
    if best.phase.warnings:
        reason += " (its pixels disagree with its label: see the warning)"
    others = [s for s in usable if s is not best]
    if others:
        reason += f"; preferred over {', '.join(repr(s.description) for s in others)}"
    if skipped:
        reason += "; not chosen: " + ", ".join(
            f"'{s.description}' ({s.not_measurable})" for s in skipped
        )
    return best, reason, best.phase.warnings
