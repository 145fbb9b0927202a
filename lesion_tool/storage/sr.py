"""Export an assessment as DICOM Comprehensive 3D SR documents (TID 1500 Measurement Report).

One SR per timepoint, built with highdicom from the typed model, in the study of the images it
measures (patient and study attributes are copied from those images by highdicom). What one SR
holds (details and codes in ``docs/sr.md``):

- The Image Library (in every SR: OHIF dereferences it) lists the slices a line was drawn on
  (else the series' first slice); the evidence lists every image of the measured series.
- One TID 1501 measurement group per lesion:

  - Tracking Unique Identifier: :func:`tracking_uid`, a UUID-derived UID of (patient id, lesion
    id), the same at every timepoint, so viewers and importers follow a lesion over time.
  - Tracking Identifier text: ``"Cornerstone3DTools@^0.1.0:Length"`` when the group's first
    measurement is a line on one image (OHIF / Cornerstone3D then re-open it as a Length
    annotation: their adapters pick the tool from this text and read the first NUM of the
    group with its SCOORD); otherwise ``"lesion-tool@1:<category>"``, which the adapters skip
    instead of failing on a group they cannot draw (dcmjs loses the whole SR then).
  - Lesion Identifier (DCM 121151) and Comment (DCM 121106, the label OHIF shows): the lesion id.
  - Finding: SCT Lesion; Finding Site: the organ, with the liver segment (Couinaud code) or the
    free-text location as topographical modifier.
  - Qualitative evaluations: category, state, kind (targets), type, typical HCC pattern, porta
    hepatis and cytology flags.
  - Measurements in mm, primary diameter first: viable longest, whole-lesion longest (SCT Long
    axis), short axis (SCT Short axis), each with its line where the assessment recorded one:
    an SCOORD POLYLINE on the slice's image when the line lies in one slice of the series (pixel
    coordinates: column, row, with (0, 0) the top-left corner of the top-left pixel), else an
    SCOORD3D POLYLINE in patient LPS millimetres. A target at CR is 0 mm, drawn where it was last
    measured, so that viewers show it at every timepoint.
  - Measurement method: the chosen response criteria (RECIST 1.1 from CID 6147; mRECIST local).

- One group per criteria preset with the timepoint response computed by
  :mod:`lesion_tool.response`: target sum, baseline and nadir sums, percent changes, target,
  non-target and overall response (NCIt codes), new lesions and the best overall response so far.
- Time Point Context: the timepoint label and baseline / post-treatment in every group; the
  response groups add the order and the offset in days from the start of treatment (kept out
  of lesion groups, whose first NUM must be the diameter for OHIF).
- Document: software version, PRELIMINARY / UNVERIFIED unless signed off (:class:`SignOff`),
  predecessor references, the reader's role, optional clinical trial attributes
  (:class:`ClinicalTrial`).

Not carried: the lesion's ``seed`` and ``note``, the patient's death and last-known-alive dates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from lesion_tool import __version__
from lesion_tool.deid import Deidentifier, without_free_text
from lesion_tool.errors import AssessmentWarning, ExportError, LesionToolError
from lesion_tool.io.volume import CTVolume
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Line, Timepoint
from lesion_tool.storage import codes
from lesion_tool.storage.atomic import atomic_write

logger = logging.getLogger(__name__)

TRACKING_IDENTIFIER_LENGTH = "Cornerstone3DTools@^0.1.0:Length"
"""Tracking identifier text under which OHIF / Cornerstone3D re-open a group as a Length."""
TRACKING_IDENTIFIER_PREFIX = "lesion-tool@1"
"""Prefix of lesion-tool's own tracking identifier texts (groups OHIF cannot draw as a Length)."""
RESPONSE_TRACKING_PREFIX = f"{TRACKING_IDENTIFIER_PREFIX}:Response:"
"""Tracking identifier text of a timepoint response group: the prefix and the preset name."""

_UID_NAMESPACE = uuid.UUID("1b0cbd0e-4c5e-4f7b-9d59-2f6a3d2c7e11")
"""Namespace of lesion-tool's name-based UUIDs (fixed: changing it breaks tracking across files)."""

SLICE_TOLERANCE = 1e-3
"""How close (voxels) a line's z must be to one slice to be written as an SCOORD on its image."""

SR_SERIES_NUMBER = 9100
"""Series number of the SR documents (high, so that they sort after the images)."""


@dataclass(frozen=True)
class ClinicalTrial:
    """Clinical Trial Subject and Study attributes (PS3.3 C.7.1.3, C.7.2.3) of a trial's SRs.

    Sponsor and protocol are required by the module; the subject defaults to the patient id and
    each SR's time point id to its timepoint label (``time_points`` maps a label to another id).
    """

    sponsor: str
    protocol_id: str
    protocol_name: str = ""
    site_id: str = ""
    site_name: str = ""
    subject_id: str = ""
    time_points: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sponsor.strip() or not self.protocol_id.strip():
            raise ExportError(
                "Clinical trial attributes need the sponsor and the protocol id (both are "
                "required by the DICOM Clinical Trial Subject module)."
            )


@dataclass(frozen=True)
class SignOff:
    """A reader's sign-off: the SR becomes FINAL, COMPLETE and VERIFIED by this observer."""

    observer_name: str
    organisation: str

    def __post_init__(self) -> None:
        if not self.observer_name.strip() or not self.organisation.strip():
            raise ExportError(
                "A sign-off needs the verifying observer's name and organisation "
                "(DICOM Verifying Observer Sequence)."
            )


def tracking_uid(patient_id: str, lesion_id: str, *, reader: str = "", scope: str = "") -> str:
    """Tracking Unique Identifier of a lesion: one per (trial or cohort, patient, reader, lesion).

    A ``2.25`` UID (PS3.5 B.2) from a name-based (SHA-1) UUID, so SRs written at different times
    for different timepoints, and re-exports, agree. ``reader`` keeps two readers' "T1" apart;
    ``scope`` (the trial's protocol id, or a cohort name) keeps patient "001" of two trials
    apart. Without either, the name is the one of earlier versions (patient and lesion only),
    so single-reader SRs exported before keep their UIDs.
    """
    if reader or scope:
        name = json.dumps(["lesion", scope, patient_id, reader, lesion_id])
    else:
        name = f"{patient_id}/{lesion_id}"
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, name).int}"


def _device_uid() -> str:
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, 'lesion-tool device').int}"


def diameter_lines(lesion: Lesion) -> list[tuple[hd.sr.CodedConcept, float, Line | None]]:
    """The diameters of a lesion as (concept, value mm, line), primary diameter first.

    The primary diameter is the one the lesion's kind sums (viable / longest / short axis; the
    longest for lesions without a kind). ``lesion.line`` belongs to it; ``lesion.longest_line``
    to the whole-lesion longest diameter of a viable target.
    """
    kind = lesion.kind
    viable = (codes.VIABLE_DIAMETER, lesion.viable_diameter_mm)
    longest = (codes.LONGEST_DIAMETER, lesion.longest_diameter_mm)
    short = (codes.SHORT_AXIS, lesion.short_axis_mm)
    if kind is Kind.VIABLE:
        order = [(*viable, lesion.line), (*longest, lesion.longest_line), (*short, None)]
    elif kind is Kind.SHORT_AXIS:
        order = [(*short, lesion.line), (*longest, lesion.longest_line), (*viable, None)]
    else:
        order = [(*longest, lesion.line), (*viable, None), (*short, None)]
    return [(name, float(value), line) for name, value, line in order if value is not None]


_REFERENCED_KEYWORDS = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
"""What an SR must quote of every image it references (image library, SCOORD references)."""


def _zyx(point: np.ndarray) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in point) + ")"


class _Geometry:
    """Where lines go: the measured series' images in volume order and the volume geometry."""

    def __init__(self, images: Sequence[Dataset], volume: CTVolume | None) -> None:
        self.images = list(images)
        self.volume = volume
        if volume is not None and volume.sop_instance_uids and self.images:
            by_uid = {str(ds.SOPInstanceUID): ds for ds in self.images}
            missing = [uid for uid in volume.sop_instance_uids if uid not in by_uid]
            if missing:
                raise ExportError(
                    f"Series {volume.series_instance_uid}: {len(missing)} slice(s) of the volume "
                    "have no image header (e.g. SOPInstanceUID "
                    f"{missing[0]}); pass the headers of the same series."
                )
            self.slices = [by_uid[uid] for uid in volume.sop_instance_uids]
        else:
            self.slices = self.images
        frames = volume.metadata.get("frame_indices") if volume is not None else None
        self.frame_numbers: list[int | None] = [None] * len(self.slices)
        if frames is not None and len(frames) == len(self.slices):
            self.frame_numbers = [
                int(f) + 1 if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1 else None
                for f, ds in zip(frames, self.slices, strict=True)
            ]
        self.used: dict[str, Dataset] = {}

    def coordinates(
        self, line: Line, lesion_id: str, *, placed: bool = False
    ) -> hd.sr.CoordinatesForMeasurement | hd.sr.CoordinatesForMeasurement3D:
        """SCOORD on the slice image when the line lies in one slice, else SCOORD3D (LPS mm).

        ``placed``: the voxel line was computed from a patient position on these very images
        (no check that they are the complete series)."""
        if line.space == "voxel":
            if line.sop_instance_uid:
                line = self.on_its_image(line, lesion_id)
                placed = True
                self._check_voxel_line(
                    np.array([line.start, line.end], dtype=float), lesion_id, numbering=False
                )
            zyx = np.array([line.start, line.end], dtype=float)
            if not placed:
                self._check_voxel_line(zyx, lesion_id)
            z = zyx[:, 0]
            k = round(float(z[0]))
            if (
                abs(z[0] - k) <= SLICE_TOLERANCE
                and abs(z[1] - k) <= SLICE_TOLERANCE
                and 0 <= k < len(self.slices)
            ):
                image = self.slices[k]
                frame = self.frame_numbers[k]
                self.used.setdefault(str(image.SOPInstanceUID), image)
                # DICOM image coordinates: (column, row), (0, 0) = top-left corner of the
                # top-left pixel, so voxel centre x maps to column x + 0.5.
                graphic = np.stack([zyx[:, 2] + 0.5, zyx[:, 1] + 0.5], axis=1)
                return hd.sr.CoordinatesForMeasurement(
                    graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
                    graphic_data=graphic,
                    source_image=hd.sr.SourceImageForRegion(
                        referenced_sop_class_uid=str(image.SOPClassUID),
                        referenced_sop_instance_uid=str(image.SOPInstanceUID),
                        referenced_frame_numbers=[frame] if frame is not None else None,
                    ),
                )
            if self.volume is None:
                raise ExportError(
                    f"Lesion {lesion_id}: its line is in voxel space across slices; the volume's "
                    "geometry is needed to write it in patient coordinates."
                )
            lps = self.volume.index_to_patient(zyx)
        else:
            lps = np.array([line.start, line.end], dtype=float)
        frame_of_reference = self._frame_of_reference()
        if not frame_of_reference:
            raise ExportError(
                f"Lesion {lesion_id}: the images have no FrameOfReferenceUID, so a line in "
                "patient coordinates cannot be written."
            )
        return hd.sr.CoordinatesForMeasurement3D(
            graphic_type=hd.sr.GraphicTypeValues3D.POLYLINE,
            graphic_data=lps,
            frame_of_reference_uid=frame_of_reference,
        )

    def on_its_image(self, line: Line, lesion_id: str) -> Line:
        """A voxel line moved onto the slice of the image it was measured on (its
        ``sop_instance_uid``) among these images: the only placement an incomplete copy of the
        series cannot shift.

        Raises
        ------
        ExportError
            That image is not among the images found for the series.
        """
        uids = [str(getattr(ds, "SOPInstanceUID", "")) for ds in self.slices]
        return relocate_line(line, uids, lesion_id)

    def _check_voxel_line(self, zyx: np.ndarray, lesion_id: str, *, numbering: bool = True) -> None:
        """Refuse a voxel-space line the loaded images cannot hold exactly.

        Voxel indices are the timepoint's complete series; an image folder holding an incomplete
        copy shifts every slice index (a line was drawn 30 mm off, or 27.5 mm outside a one-slice
        copy). A line outside the loaded images, or images whose InstanceNumbers show that the
        slices below the first one are missing, are refused: never drawn in the wrong place.
        ``numbering=False``: the line was placed by its image's SOPInstanceUID, so only its
        bounds are checked (InstanceNumbers say nothing more).
        """
        n = len(self.slices)
        rows = int(getattr(self.slices[0], "Rows", 0) or 0) if self.slices else 0
        cols = int(getattr(self.slices[0], "Columns", 0) or 0) if self.slices else 0
        if self.volume is not None:
            n, rows, cols = self.volume.shape
        tol = SLICE_TOLERANCE
        z, y, x = zyx[:, 0], zyx[:, 1], zyx[:, 2]
        inside = (
            np.all(np.isfinite(zyx))
            and z.min() >= -tol
            and z.max() <= n - 1 + tol
            and y.min() >= -0.5 - tol
            and y.max() <= rows - 0.5 + tol
            and x.min() >= -0.5 - tol
            and x.max() <= cols - 0.5 + tol
        )
        if not inside:
            raise ExportError(
                f"Lesion {lesion_id}: its line (voxel z, y, x {_zyx(zyx[0])} - {_zyx(zyx[1])}) "
                f"lies outside the {n} x {rows} x {cols} images found for its series; the image "
                "folder holds an incomplete copy of the series: export with the complete series"
            )
        if not numbering:
            return
        numbers = [getattr(ds, "InstanceNumber", None) for ds in self.slices]
        if not numbers or any(v in (None, "") for v in numbers):
            return
        try:
            numbers = [int(v) for v in numbers]
        except (TypeError, ValueError):
            return
        ascending = len(numbers) > 1 and numbers[0] < numbers[-1]
        if (ascending or len(numbers) == 1) and numbers[0] > 1:
            raise ExportError(
                f"Lesion {lesion_id}: the images found for its series start at InstanceNumber "
                f"{numbers[0]} (instances 1-{numbers[0] - 1}, the slices below, are missing), so "
                "the line's slice index would point at the wrong slice: export with the complete "
                "series"
            )

    def point_line(self, lps: np.ndarray, lesion_id: str) -> hd.sr.CoordinatesForMeasurement | None:
        """A zero-length line on the slice nearest to the LPS point ``lps``, or None.

        Where a target at CR is drawn: the place it was last measured, mapped into this series.
        """
        if self.volume is None or not self.slices:
            return None
        zyx = self.volume.patient_to_index(np.asarray(lps, dtype=float).reshape(1, 3))[0]
        z = float(np.clip(round(float(zyx[0])), 0, len(self.slices) - 1))
        # inside the image even when this series' field of view differs
        _, rows, columns = self.volume.shape
        y = float(np.clip(zyx[1], 0, rows - 1))
        x = float(np.clip(zyx[2], 0, columns - 1))
        point = Line((z, y, x), (z, y, x))
        return self.coordinates(point, lesion_id, placed=True)  # type: ignore[return-value]

    def library_images(self) -> list[Dataset]:
        """The Image Library's images: those a line is drawn on, else the series' first slice.

        OHIF dereferences the library of every SR. A multi-frame (enhanced) image keeps its
        geometry per frame, where highdicom's library entry cannot read it: its entry then gives
        the modality, frame of reference and matrix size only.
        """
        images = list(self.used.values()) or self.slices[:1]
        out = []
        for ds in images:
            if all(
                keyword in ds
                for keyword in ("PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient")
            ):
                out.append(ds)
                continue
            entry = Dataset()
            for keyword in (
                "SOPClassUID",
                "SOPInstanceUID",
                "StudyInstanceUID",
                "SeriesInstanceUID",
                "FrameOfReferenceUID",
                "Rows",
                "Columns",
            ):
                if keyword in ds:
                    setattr(entry, keyword, ds[keyword].value)
            entry.Modality = ""  # no top-level geometry: no cross-sectional descriptors
            out.append(entry)
        return out

    def _frame_of_reference(self) -> str:
        if self.volume is not None and self.volume.frame_of_reference_uid:
            return self.volume.frame_of_reference_uid
        for ds in self.slices:
            if "FrameOfReferenceUID" in ds:
                return str(ds.FrameOfReferenceUID)
        return ""


def _qualitative(
    name: hd.sr.CodedConcept, value: hd.sr.CodedConcept
) -> hd.sr.QualitativeEvaluation:
    return hd.sr.QualitativeEvaluation(name=name, value=value)


def _lesion_group(
    lesion: Lesion,
    *,
    patient_id: str,
    geometry: _Geometry,
    time_point: hd.sr.TimePointContext,
    method: hd.sr.CodedConcept,
    last_seen: np.ndarray | None = None,
    reader: str = "",
    scope: str = "",
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    measurements = []
    first_on_image = False
    diameters = diameter_lines(lesion)
    cr_line = None
    if lesion.category is Category.TARGET:
        if not diameters and lesion.state is LesionState.ABSENT:
            # a target at CR: 0 mm, so that viewers keep showing it at every timepoint
            concept = {Kind.VIABLE: codes.VIABLE_DIAMETER, Kind.SHORT_AXIS: codes.SHORT_AXIS}.get(
                lesion.kind,  # type: ignore[arg-type]
                codes.LONGEST_DIAMETER,
            )
            diameters = [(concept, 0.0, lesion.line)]
        if diameters and diameters[0][1] == 0.0 and diameters[0][2] is None:
            # a 0 mm primary diameter (CR; mRECIST: no viable tumour left) has no line of its
            # own: draw it as a zero-length line where the lesion is (its other line) or was
            # last measured
            anchor = last_seen
            if lesion.longest_line is not None and lesion.longest_line is not lesion.line:
                centre = _line_centre_lps(lesion.longest_line, geometry.volume)
                anchor = centre if centre is not None else last_seen
            if anchor is not None:
                cr_line = geometry.point_line(anchor, lesion.id)
            if cr_line is None and lesion.state is LesionState.ABSENT:
                diameters = []  # nowhere to draw it: an absent target needs no 0 mm
    carried = [line for _, _, line in diameters if line is not None]
    for attribute in ("line", "longest_line"):
        line = getattr(lesion, attribute)
        if line is not None and not any(line is other for other in carried):
            warnings.warn(
                f"Lesion {lesion.id}: its {attribute} belongs to no recorded diameter and is not "
                "exported.",
                AssessmentWarning,
                stacklevel=3,
            )
    for i, (name, value, line) in enumerate(diameters):
        coords = [geometry.coordinates(line, lesion.id)] if line is not None else None
        if i == 0 and cr_line is not None:
            coords = [cr_line]
        if i == 0:
            first_on_image = bool(coords) and isinstance(coords[0], hd.sr.CoordinatesForMeasurement)
        measurements.append(
            hd.sr.Measurement(name=name, value=value, unit=codes.MM, referenced_coordinates=coords)
        )
    evaluations = [
        _qualitative(codes.LESION_CATEGORY, codes.CATEGORY_CODES[lesion.category]),
        _qualitative(codes.LESION_STATE, codes.STATE_CODES[lesion.state]),
    ]
    if lesion.kind is not None:
        evaluations.append(_qualitative(codes.TARGET_KIND, codes.KIND_CODES[lesion.kind]))
    if lesion.type is not None:
        evaluations.append(_qualitative(codes.LESION_TYPE, codes.type_code(lesion.type)))
    if lesion.typical_hcc_pattern is not None:
        evaluations.append(
            _qualitative(
                codes.TYPICAL_HCC_PATTERN, codes.YES if lesion.typical_hcc_pattern else codes.NO
            )
        )
    if lesion.porta_hepatis:
        evaluations.append(_qualitative(codes.PORTA_HEPATIS, codes.YES))
    if lesion.cytology_confirmed:
        evaluations.append(_qualitative(codes.CYTOLOGY_CONFIRMED, codes.YES))
    site = hd.sr.FindingSite(
        anatomic_location=codes.organ_code(lesion.organ),
        topographical_modifier=codes.location_code(lesion.location) if lesion.location else None,
    )
    text = (
        TRACKING_IDENTIFIER_LENGTH
        if first_on_image
        else f"{TRACKING_IDENTIFIER_PREFIX}:{lesion.category.value}"
    )
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=tracking_uid(patient_id, lesion.id, reader=reader, scope=scope),
            identifier=text,
        ),
        time_point_context=time_point,
        finding_type=codes.FINDING_LESION,
        method=method,
        finding_sites=[site],
        measurements=measurements or None,
        qualitative_evaluations=evaluations,
    )
    group[0].ContentSequence.append(
        hd.sr.TextContentItem(
            name=codes.LESION_IDENTIFIER,
            value=lesion.id,
            relationship_type=hd.sr.RelationshipTypeValues.HAS_OBS_CONTEXT,
        )
    )
    # OHIF / Cornerstone3D label a measurement with the group's Comment (DCM 121106)
    group[0].ContentSequence.append(
        hd.sr.TextContentItem(
            name=codes.COMMENT,
            value=lesion.id,
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
        )
    )
    return group


def _response_value(value: Any) -> str | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value))
    return text or None


def _response_group(
    preset: str,
    result: Any,
    *,
    patient_id: str,
    time_point: hd.sr.TimePointContext,
    best_overall: str | None = None,
    reader: str = "",
    scope: str = "",
) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    """The group of one preset's timepoint response (a ``TimepointResult``, read by attribute)
    with the best overall response up to this timepoint (``best_overall``, a response string)."""
    measurements = []
    for name, attribute, unit in (
        (codes.TARGET_SUM, "target_sum_mm", codes.MM),
        (codes.BASELINE_SUM, "baseline_sum_mm", codes.MM),
        (codes.NADIR_SUM, "nadir_sum_mm", codes.MM),
        (codes.CHANGE_FROM_BASELINE, "change_from_baseline_pct", codes.PERCENT),
        (codes.CHANGE_FROM_NADIR, "change_from_nadir_pct", codes.PERCENT),
    ):
        value = getattr(result, attribute, None)
        if value is not None and np.isfinite(value):
            measurements.append(hd.sr.Measurement(name=name, value=float(value), unit=unit))
    evaluations = []
    for name, attribute, table in (
        (codes.TARGET_RESPONSE, "target_response", codes.TARGET_RESPONSE_CODES),
        (codes.NON_TARGET_RESPONSE, "non_target_response", codes.NON_TARGET_RESPONSE_CODES),
        (codes.NEW_LESIONS, "new_lesions", codes.NEW_LESION_CODES),
        (codes.OVERALL_RESPONSE, "overall_response", codes.OVERALL_RESPONSE_CODES),
    ):
        value = _response_value(getattr(result, attribute, None))
        if value is None:
            continue
        if value not in table:
            raise ExportError(f"Preset {preset}: no code for {attribute} {value!r}.")
        evaluations.append(_qualitative(name, table[value]))
    if best_overall:
        if best_overall not in codes.OVERALL_RESPONSE_CODES:
            raise ExportError(
                f"Preset {preset}: no code for best overall response {best_overall!r}."
            )
        evaluations.append(
            _qualitative(codes.BEST_OVERALL_RESPONSE, codes.OVERALL_RESPONSE_CODES[best_overall])
        )
    if not measurements and not evaluations:
        return None
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=tracking_uid(patient_id, f"response/{preset}", reader=reader, scope=scope),
            identifier=f"{RESPONSE_TRACKING_PREFIX}{preset}",
        ),
        time_point_context=time_point,
        finding_type=codes.FINDING_TIMEPOINT_RESPONSE,
        method=codes.CRITERIA_BY_PRESET[preset],
        measurements=measurements or None,
        qualitative_evaluations=evaluations or None,
    )


def _study_date(images: Sequence[Dataset]) -> dt.date | None:
    for ds in images:
        value = str(getattr(ds, "StudyDate", "") or "")
        if len(value) == 8 and value.isdigit():
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    return None


def build_timepoint_sr(
    assessment: Assessment,
    timepoint_index: int,
    *,
    images: Sequence[Dataset],
    volume: CTVolume | None = None,
    responses: Mapping[str, Any] | None = None,
    criteria: str = "mrecist",
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    best_overall: Mapping[str, str] | None = None,
    last_seen: Mapping[str, np.ndarray] | None = None,
    trial: ClinicalTrial | None = None,
    reader_role: str = "reader",
    sign_off: SignOff | None = None,
    predecessors: Sequence[Dataset] = (),
    tracking_patient_id: str | None = None,
) -> hd.sr.Comprehensive3DSR:
    """The Comprehensive 3D SR (TID 1500) of one timepoint of an assessment.

    Parameters
    ----------
    assessment
        The reading.
    timepoint_index
        Index into ``assessment.timepoints`` (0 = baseline).
    images
        Headers (pixel data not needed) of every image of the measured series; patient and
        study attributes are copied from them. With ``volume``, they are matched to its slices
        by SOPInstanceUID; without, they must be in the volume's slice order (z).
    volume
        The measured series' geometry; needed for voxel lines that do not lie in one slice.
    responses
        Preset name -> this timepoint's ``lesion_tool.response.TimepointResult``; each becomes
        a response group. None or empty: no response groups.
    criteria
        Preset whose criteria are the lesion groups' measurement method.
    series_instance_uid, sop_instance_uid
        UIDs of the SR (new ones by default).
    best_overall
        Preset name -> best overall response up to this timepoint (``"PR"``...), written in
        the preset's response group.
    last_seen
        Lesion id -> LPS point (mm) where the lesion was last measured: a target at CR without a
        line of its own is drawn there, as a zero-length line on the nearest slice.
    trial
        Clinical trial attributes; None: the SR carries none.
    reader_role
        The reader's role (a key of ``codes.READER_ROLES``), in the observer context.
    sign_off
        The reader's sign-off: the SR is FINAL, COMPLETE and VERIFIED by this observer. None:
        PRELIMINARY, UNVERIFIED.
    predecessors
        Earlier SRs of the same timepoint this one replaces (Predecessor Documents Sequence).
    tracking_patient_id
        The patient id the Tracking UIDs are derived from (default: the assessment's). A
        de-identified SR passes the pseudonym, so that no UID is a function of the real id.

    Returns
    -------
    highdicom.sr.Comprehensive3DSR

    Raises
    ------
    ExportError
        No images, images of another series than the timepoint's, an unknown preset, a line
        that cannot be placed, or a highdicom refusal.
    """
    if criteria not in codes.CRITERIA_BY_PRESET:
        raise ExportError(
            f"Unknown criteria {criteria!r}; choose one of {', '.join(codes.CRITERIA_BY_PRESET)}."
        )
    if reader_role not in codes.READER_ROLES:
        raise ExportError(
            f"Unknown reader role {reader_role!r}; choose one of {', '.join(codes.READER_ROLES)}."
        )
    if not images:
        raise ExportError(
            f"Patient {assessment.patient_id}: no image headers for timepoint {timepoint_index}."
        )
    timepoint: Timepoint = assessment.timepoints[timepoint_index]
    where = f"Patient {assessment.patient_id}, timepoint {timepoint.label!r}"
    image_series = {str(getattr(ds, "SeriesInstanceUID", "")) for ds in images}
    if timepoint.series_instance_uid and image_series != {timepoint.series_instance_uid}:
        raise ExportError(
            f"{where}: it was measured on series {timepoint.series_instance_uid}, but the images "
            f"given belong to {', '.join(sorted(image_series))}; its lines would point at the "
            "wrong images."
        )
    image_patient = str(getattr(images[0], "PatientID", "") or "")
    if image_patient and image_patient != assessment.patient_id:
        warnings.warn(
            f"{where}: the images belong to PatientID {image_patient!r}; the SR copies the "
            "images' patient attributes.",
            AssessmentWarning,
            stacklevel=2,
        )
    study_date = _study_date(images)
    if study_date is not None and study_date != timepoint.date:
        warnings.warn(
            f"{where}: the assessment dates it {timepoint.date}, its images' StudyDate is "
            f"{study_date}; the SR carries the images' study date.",
            AssessmentWarning,
            stacklevel=2,
        )
    geometry = _Geometry(images, volume)
    offset = (timepoint.date - assessment.treatment_start).days
    time_point_type = (
        codes.TIME_POINT_BASELINE if timepoint_index == 0 else codes.TIME_POINT_POSTTREATMENT
    )
    # Lesion groups get the time point without its NUM items: OHIF / Cornerstone take the
    # group's first NUM, whatever its relationship, as the Length to draw.
    time_point = hd.sr.TimePointContext(time_point=timepoint.label, time_point_type=time_point_type)
    full_time_point = hd.sr.TimePointContext(
        time_point=timepoint.label,
        time_point_type=time_point_type,
        time_point_order=timepoint_index + 1,
        temporal_offset_from_event=hd.sr.LongitudinalTemporalOffsetFromEvent(
            value=offset, unit=codes.DAY, event_type=codes.TREATMENT_START_EVENT
        ),
    )
    tracking_id = tracking_patient_id or assessment.patient_id
    try:
        groups: list[hd.sr.MeasurementsAndQualitativeEvaluations] = [
            _lesion_group(
                lesion,
                patient_id=tracking_id,
                geometry=geometry,
                time_point=time_point,
                method=codes.CRITERIA_BY_PRESET[criteria],
                last_seen=(last_seen or {}).get(lesion.id),
                reader=assessment.reader,
                scope=trial.protocol_id if trial is not None else "",
            )
            for lesion in timepoint.lesions
        ]
        for preset, result in (responses or {}).items():
            group = _response_group(
                preset,
                result,
                patient_id=tracking_id,
                time_point=full_time_point,
                best_overall=(best_overall or {}).get(preset),
                reader=assessment.reader,
                scope=trial.protocol_id if trial is not None else "",
            )
            if group is not None:
                groups.append(group)
        if not groups:
            raise ExportError(f"{where}: no lesion and no response to report.")
        observers = {
            "observer_device_context": hd.sr.ObserverContext(
                observer_type=codes.OBSERVER_DEVICE,
                observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                    uid=_device_uid(), name="lesion-tool", manufacturer_name="lesion-tool"
                ),
            )
        }
        if assessment.reader:
            observers["observer_person_context"] = hd.sr.ObserverContext(
                observer_type=codes.OBSERVER_PERSON,
                observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                    # a one-component name ("R1") gets its family-name delimiter, as PS3.5
                    # 6.2.1.2 asks; the importer strips trailing carets again
                    name=_person_name(assessment.reader),
                    role_in_procedure=codes.READER_ROLES[reader_role],
                ),
            )
        report = hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(**observers),
            procedure_reported=codes.PROCEDURE_CT,
            imaging_measurements=groups,
            title=codes.REPORT_TITLE,
            referenced_images=geometry.library_images(),
        )
        document = hd.sr.Comprehensive3DSR(
            evidence=geometry.slices,
            content=report,
            series_instance_uid=series_instance_uid or hd.UID(),
            series_number=SR_SERIES_NUMBER,
            sop_instance_uid=sop_instance_uid or hd.UID(),
            instance_number=1,
            manufacturer="lesion-tool",
            software_versions=__version__,
            is_complete=True,
            is_final=sign_off is not None,
            is_verified=sign_off is not None,
            verifying_observer_name=_person_name(sign_off.observer_name) if sign_off else None,
            verifying_organization=sign_off.organisation if sign_off else None,
            previous_versions=list(predecessors) or None,
            series_description=f"lesion-tool {timepoint.label}"[:64],
            coding_schemes=[codes.local_scheme_identification()],
        )
    except LesionToolError:
        raise
    except (ValueError, TypeError, AttributeError) as err:
        raise ExportError(f"{where}: the SR cannot be built: {err}") from err
    if trial is not None:
        _add_clinical_trial(document, trial, assessment.patient_id, timepoint, offset)
    return document


def _person_name(name: str) -> str:
    """A DICOM person name: a one-component name gets its family-name delimiter (PS3.5 6.2.1.2)."""
    return name if "^" in name else f"{name}^"


def _add_clinical_trial(
    document: Dataset, trial: ClinicalTrial, patient_id: str, timepoint: Timepoint, offset: int
) -> None:
    """Clinical Trial Subject (C.7.1.3) and Study (C.7.2.3) modules, type 2 attributes empty."""
    document.ClinicalTrialSponsorName = trial.sponsor[:64]
    document.ClinicalTrialProtocolID = trial.protocol_id[:64]
    document.ClinicalTrialProtocolName = trial.protocol_name[:64]
    document.ClinicalTrialSiteID = trial.site_id[:64]
    document.ClinicalTrialSiteName = trial.site_name[:64]
    document.ClinicalTrialSubjectID = (trial.subject_id or patient_id)[:64]
    document.ClinicalTrialTimePointID = trial.time_points.get(timepoint.label, timepoint.label)[:64]
    document.ClinicalTrialTimePointDescription = (
        f"{timepoint.label}, day {offset} from the start of treatment"
    )[:1024]


def sr_file_name(patient_id: str, reader: str, timepoint: Timepoint) -> str:
    """``<patient>_<reader>_<label>_SR.dcm``, one name per (patient, reader, timepoint).

    Characters unsafe in file names become ``_``; where that changed anything, a short hash of
    the exact values follows, so that "fu 1" and "fu_1" (or "fu/1") never share a file.
    """
    raw = "_".join(part for part in (patient_id, reader, timepoint.label) if part)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or "SR"
    if safe != raw:
        exact = "\0".join((patient_id, reader, timepoint.label)).encode("utf-8", "surrogatepass")
        safe = f"{safe}_{hashlib.sha256(exact).hexdigest()[:8]}"
    return f"{safe}_SR.dcm"


def _responses_by_timepoint(assessment: Assessment, presets: Sequence[str]) -> list[dict[str, Any]]:
    """Per timepoint, preset -> TimepointResult (lesion_tool.response), matched by label."""
    from lesion_tool.response import score_assessment, settings_for

    out: list[dict[str, Any]] = [{} for _ in assessment.timepoints]
    for preset in presets:
        result = score_assessment(assessment, settings_for(preset))
        by_label = {tp.label: tp for tp in result.timepoints}
        for i, timepoint in enumerate(assessment.timepoints):
            if timepoint.label in by_label:
                out[i][preset] = by_label[timepoint.label]
    return out


def best_overall_by_timepoint(
    assessment: Assessment, presets: Sequence[str]
) -> list[dict[str, str]]:
    """Per timepoint, preset -> best overall response of the timepoints up to it (none at baseline).

    Each SR then states what was known at its date; the last timepoint's is the patient's BOR.
    """
    from lesion_tool.response import score_assessment, settings_for

    out: list[dict[str, str]] = [{} for _ in assessment.timepoints]
    for i in range(1, len(assessment.timepoints)):
        upto = replace(assessment, timepoints=assessment.timepoints[: i + 1])
        for preset in presets:
            bor = score_assessment(upto, settings_for(preset)).best_overall_response
            out[i][preset] = str(getattr(bor, "value", bor))
    return out


def relocate_line(line: Line, sop_instance_uids: Sequence[str], lesion_id: str) -> Line:
    """``line`` (voxel ``(z, y, x)``) with z moved to the slice whose SOPInstanceUID is the
    line's own, among ``sop_instance_uids`` (one per slice, array order); unchanged without one.

    Raises
    ------
    ExportError
        The line's image is not among them (an incomplete copy of the series), or it is a
        multi-frame image whose frame cannot be told.
    """
    uid = line.sop_instance_uid
    if line.space != "voxel" or not uid:
        return line
    matches = [k for k, u in enumerate(sop_instance_uids) if u == uid]
    k0 = round(float(line.start[0]))
    if not matches:
        raise ExportError(
            f"Lesion {lesion_id}: it was measured on image SOPInstanceUID {uid}, which is not "
            f"among the {len(sop_instance_uids)} images found for its series; the image folder "
            "holds an incomplete copy of the series: export with the complete series"
        )
    if k0 in matches:
        return line
    if len(matches) > 1:
        raise ExportError(
            f"Lesion {lesion_id}: image SOPInstanceUID {uid} holds {len(matches)} frames here and "
            f"its slice index {k0} is not one of them; export with the complete series"
        )
    dz = float(matches[0] - k0)
    return Line(
        (line.start[0] + dz, line.start[1], line.start[2]),
        (line.end[0] + dz, line.end[1], line.end[2]),
        "voxel",
        uid,
    )


def _line_centre_lps(line: Line, volume: CTVolume | None) -> np.ndarray | None:
    """The centre of a line in patient LPS mm (voxel lines need the volume), or None (also when
    the image it was measured on is not in the volume)."""
    if line.space == "voxel" and line.sop_instance_uid and volume is not None:
        try:
            line = relocate_line(line, volume.sop_instance_uids, "")
        except ExportError:
            return None
    centre = (np.asarray(line.start, dtype=float) + np.asarray(line.end, dtype=float)) / 2
    if line.space != "voxel":
        return centre
    if volume is None:
        return None
    return np.asarray(volume.index_to_patient(centre.reshape(1, 3)), dtype=float)[0]


def _predecessor_headers(paths: Sequence[str | Path], patient_id: str) -> dict[str, list[Dataset]]:
    """Earlier SRs by the series they measure (their evidence), headers only; others refused."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    from lesion_tool.storage.sr_import import referenced_series

    out: dict[str, list[Dataset]] = {}
    for path in paths:
        try:
            header = dcmread(path, stop_before_pixels=True)
        except (OSError, ValueError, EOFError, InvalidDicomError) as err:
            raise ExportError(f"Predecessor {path}: not a readable DICOM file ({err}).") from err
        if str(header.get("Modality", "")) != "SR" or not referenced_series(header):
            raise ExportError(f"Predecessor {path}: not an SR referencing a measured series.")
        if str(header.get("PatientID", "")) not in ("", patient_id):
            raise ExportError(
                f"Predecessor {path}: it is patient {header.PatientID}'s, not {patient_id}'s."
            )
        out.setdefault(str(referenced_series(header)), []).append(header)
    return out


def _series_files(images: str | Path) -> dict[str, list[Path]]:
    """SeriesInstanceUID -> its image files (every stack), from one header scan of ``images``.

    :func:`~lesion_tool.io.load_series` then chooses the stack, as everywhere a series is
    loaded: the main stack, with a warning naming a stray reformat or scout left out.
    """
    from lesion_tool.io import scan_folders

    scan = scan_folders(images, use_pixels=False)
    found: dict[str, list[Path]] = {}
    for stack in scan.stacks:
        if stack.role != "non-image":
            found.setdefault(stack.series_instance_uid, []).extend(stack.files)
    return found


def export_sr(
    assessment: Assessment,
    images: str | Path | None,
    out_dir: str | Path,
    *,
    criteria: Sequence[str] = ("mrecist", "mrecist-1.1", "recist-1.1"),
    volumes: Mapping[str, CTVolume] | None = None,
    overwrite: bool = False,
    deidentifier: Deidentifier | None = None,
    trial: ClinicalTrial | None = None,
    reader_role: str = "reader",
    sign_off: SignOff | None = None,
    predecessors: Sequence[str | Path] = (),
) -> list[Path]:
    """Write one Comprehensive 3D SR per timepoint of ``assessment`` into ``out_dir``.

    Parameters
    ----------
    assessment
        The reading; each timepoint names its series (``series_instance_uid``).
    images
        A folder holding the timepoints' series (searched recursively, headers read once).
        May be None when ``volumes`` holds every timepoint's series.
    out_dir
        Created if needed; files are named by :func:`sr_file_name`.
    criteria
        Presets whose timepoint responses are reported; the first is the lesion groups'
        measurement method.
    volumes
        SeriesInstanceUID -> the volume already loaded by :func:`lesion_tool.io.load_series`
        (its ``metadata["files"]`` name the image files); such series are not searched for.
    overwrite
        Replace SR files already in ``out_dir``; by default such a timepoint is not written and
        is reported (a file this tool did not just write is never replaced silently).
    deidentifier
        Write de-identified SRs (pseudonymous patient, shifted dates, PS3.15 Basic Profile with
        Retain UIDs; see :mod:`lesion_tool.deid`), named by the pseudonym.
        is reported (a file this tool did not just write is never replaced silently). A
        replaced file is the new SR's predecessor.
    trial, reader_role, sign_off
        As for :func:`build_timepoint_sr`.
    predecessors
        Earlier SRs of some timepoints (matched by the series they measure): each new SR
        references its timepoint's (Predecessor Documents Sequence).

    Returns
    -------
    list of Path
        The files written, in timepoint order.

    Raises
    ------
    ExportError
        After writing the other timepoints: a timepoint whose series is not in ``images`` or
        cannot be read, or whose SR cannot be built (the message names each and the files
        written). Before writing anything: unknown criteria.
    """
    from pydicom import dcmread

    from lesion_tool.io import load_series

    if not criteria:
        raise ExportError("No criteria preset given.")
    unknown = [c for c in criteria if c not in codes.CRITERIA_BY_PRESET]
    if unknown:
        raise ExportError(
            f"Unknown criteria {', '.join(unknown)}; choose from "
            f"{', '.join(codes.CRITERIA_BY_PRESET)}."
        )
    if reader_role not in codes.READER_ROLES:
        raise ExportError(
            f"Unknown reader role {reader_role!r}; choose one of {', '.join(codes.READER_ROLES)}."
        )
    earlier = _predecessor_headers(predecessors, assessment.patient_id)
    measured = {tp.series_instance_uid for tp in assessment.timepoints}
    unmatched = sorted(uid for uid in earlier if uid not in measured)
    if unmatched:
        raise ExportError(
            f"Predecessor SR(s) of series {', '.join(unmatched)}: no timepoint of patient "
            f"{assessment.patient_id} was measured on it, so they replace nothing here."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    file_patient_id = assessment.patient_id
    if deidentifier is not None:  # built from the real dates and id, then cleaned (clean_sr)
        assessment = without_free_text(assessment)
        file_patient_id = deidentifier.patient_id(assessment.patient_id)
        if trial is not None and not trial.subject_id:  # never the real id as the subject
            trial = dataclasses.replace(trial, subject_id=file_patient_id)
    responses = _responses_by_timepoint(assessment, criteria)
    best = best_overall_by_timepoint(assessment, criteria)
    last_seen: dict[str, np.ndarray] = {}
    files_by_series: dict[str, list[Path]] | None = None
    written: list[Path] = []
    problems: list[str] = []
    for i, timepoint in enumerate(assessment.timepoints):
        where = f"timepoint {timepoint.label!r}"
        uid = timepoint.series_instance_uid
        volume: CTVolume | None = None
        try:
            if not uid:
                raise ExportError(f"{where}: no series_instance_uid, so its images cannot be found")
            volume = (volumes or {}).get(uid)
            if volume is None or not volume.metadata.get("files"):
                if images is None:
                    raise ExportError(f"{where}: series {uid} not given and no image folder")
                if files_by_series is None:
                    files_by_series = _series_files(images)
                if uid not in files_by_series:
                    raise ExportError(f"{where}: series {uid} is not in {images}")
                try:
                    volume = load_series(files_by_series[uid])
                except LesionToolError as err:
                    raise ExportError(f"{where}: series {uid}: {err}") from err
            seen: dict[str, Dataset] = {}
            for file in volume.metadata["files"]:
                if str(file) not in seen:
                    header = dcmread(file, stop_before_pixels=True)
                    for keyword in _REFERENCED_KEYWORDS:
                        if not str(header.get(keyword, "") or "").strip():
                            raise ExportError(
                                f"{where}: {file} has no {keyword}, so the SR cannot reference it"
                            )
                    seen[str(file)] = header
                    if deidentifier is not None and header.get("PatientID"):
                        # known to the de-identifier, so a message naming it is scrubbed
                        deidentifier.patient_id(str(header.PatientID))
            path = out / sr_file_name(file_patient_id, assessment.reader, timepoint)
            previous = list(earlier.get(uid, []))
            if overwrite and path.is_file():
                # a file of another kind under that name is replaced, not referenced
                with contextlib.suppress(ExportError):
                    previous.extend(
                        _predecessor_headers([path], assessment.patient_id).get(uid, [])
                    )
            document = build_timepoint_sr(
                assessment,
                i,
                images=list(seen.values()),
                volume=volume,
                responses=responses[i],
                criteria=criteria[0],
                best_overall=best[i],
                last_seen=last_seen,
                trial=trial,
                reader_role=reader_role,
                sign_off=sign_off,
                predecessors=previous,
                tracking_patient_id=file_patient_id,
            )
            if deidentifier is not None:
                deidentifier.clean_sr(document, assessment.patient_id)
        except LesionToolError as err:
            problems.append(str(err))
            continue
        finally:
            for lesion in timepoint.lesions:
                drawn = lesion.line if lesion.line is not None else lesion.longest_line
                if drawn is not None and lesion.state is not LesionState.ABSENT:
                    centre = _line_centre_lps(drawn, volume)
                    if centre is not None:
                        last_seen[lesion.id] = centre
        if path in written:
            problems.append(f"{where}: its file name {path.name} is taken by another timepoint")
            continue
        try:
            with atomic_write(path, "wb", overwrite=overwrite) as handle:
                document.save_as(handle, enforce_file_format=True)
        except FileExistsError:
            problems.append(
                f"{where}: {path} exists (not written; export to a new folder or use --force to "
                "replace it)"
            )
            continue
        except OSError as err:
            problems.append(f"{where}: cannot write {path}: {err}")
            continue
        logger.info("wrote %s", path)
        written.append(path)
    if problems:
        raise ExportError(
            f"Patient {file_patient_id}: {len(problems)} of {len(assessment.timepoints)} "
            f"timepoint(s) not exported: {'; '.join(problems)}. Written: "
            f"{', '.join(str(p) for p in written) or 'none'}."
        )
    return written
