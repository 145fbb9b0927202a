"""Export an assessment as DICOM Comprehensive 3D SR documents (TID 1500 Measurement Report).

One SR per timepoint, built with highdicom from the typed model, in the study of the images it
measures (patient and study attributes are copied from those images by highdicom). What one SR
holds (details and codes in ``docs/sr.md``):

- The Image Library lists the slices a line was drawn on; the evidence lists every image of the
  measured series.
- One TID 1501 measurement group per lesion:

  - Tracking Unique Identifier: :func:`tracking_uid`, a UUID-derived UID of (patient id, lesion
    id), the same at every timepoint, so viewers and importers follow a lesion over time.
  - Tracking Identifier text: ``"Cornerstone3DTools@^0.1.0:Length"`` when the group's first
    measurement is a line on one image (OHIF / Cornerstone3D then re-open it as a Length
    annotation: their adapters pick the tool from this text, ``<tool tag>:<ToolType>``, and
    read the first NUM of the group with its SCOORD); otherwise ``"lesion-tool@1:<category>"``,
    which OHIF skips instead of failing on a group it cannot draw.
  - Lesion Identifier (DCM 121151, TEXT): the lesion id (``T1``), as the tracking text above is
    fixed by OHIF's convention.
  - Finding: SCT Lesion; Finding Site: the organ, with the liver segment (Couinaud code) or the
    free-text location as topographical modifier.
  - Qualitative evaluations: category, state, kind (targets), type, typical HCC pattern, porta
    hepatis and cytology flags.
  - Measurements in mm, primary diameter first: viable longest, whole-lesion longest (SCT Long
    axis), short axis (SCT Short axis), each with its line where the assessment recorded one:
    an SCOORD POLYLINE on the slice's image when the line lies in one slice of the series (pixel
    coordinates: column, row, with (0, 0) the top-left corner of the top-left pixel), else an
    SCOORD3D POLYLINE in patient LPS millimetres.
  - Measurement method: the chosen response criteria (RECIST 1.1 from CID 6147; mRECIST local).

- One group per criteria preset with the timepoint's response computed by
  :mod:`lesion_tool.response`: target sum, baseline and nadir sums, percent changes, target,
  non-target and overall response and new lesions.
- Time Point Context: the timepoint label and baseline / post-treatment in every group; the
  response groups add the order and the offset in days from the start of treatment (kept out
  of lesion groups, whose first NUM must be the diameter for OHIF).

Not carried: the lesion's ``seed`` and ``note``, the patient's death and last-known-alive dates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import uuid
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from lesion_tool.deid import Deidentifier, without_free_text
from lesion_tool.errors import AssessmentWarning, ExportError, LesionToolError
from lesion_tool.io.volume import CTVolume
from lesion_tool.model import Assessment, Kind, Lesion, Line, Timepoint
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


def tracking_uid(patient_id: str, lesion_id: str) -> str:
    """Tracking Unique Identifier of a lesion: the same for the same patient and lesion id.

    A ``2.25`` UID (PS3.5 B.2) from a name-based (SHA-1) UUID of ``patient_id`` and
    ``lesion_id``, so SRs written at different times for different timepoints agree.
    """
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, f'{patient_id}/{lesion_id}').int}"


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
        self, line: Line, lesion_id: str
    ) -> hd.sr.CoordinatesForMeasurement | hd.sr.CoordinatesForMeasurement3D:
        """SCOORD on the slice image when the line lies in one slice, else SCOORD3D (LPS mm)."""
        if line.space == "voxel":
            zyx = np.array([line.start, line.end], dtype=float)
            z = zyx[:, 0]
            k = round(float(z[0]))
            if (
                abs(z[0] - k) <= SLICE_TOLERANCE
                and abs(z[1] - k) <= SLICE_TOLERANCE
                and 0 <= k < len(self.slices)
            ):
                image = self.slices[k]
                frame = self.frame_numbers[k]
                if all(
                    keyword in image
                    for keyword in (
                        "PixelSpacing",
                        "ImagePositionPatient",
                        "ImageOrientationPatient",
                    )
                ):
                    # highdicom describes library entries from these top-level attributes;
                    # enhanced multi-frame images keep them per frame and stay out of the library
                    self.used[str(image.SOPInstanceUID)] = image
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
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    measurements = []
    first_on_image = False
    diameters = diameter_lines(lesion)
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
            uid=tracking_uid(patient_id, lesion.id), identifier=text
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
) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    """The group of one preset's timepoint response (a ``TimepointResult``, read by attribute)."""
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
    if not measurements and not evaluations:
        return None
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=tracking_uid(patient_id, f"response/{preset}"),
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
    try:
        groups: list[hd.sr.MeasurementsAndQualitativeEvaluations] = [
            _lesion_group(
                lesion,
                patient_id=assessment.patient_id,
                geometry=geometry,
                time_point=time_point,
                method=codes.CRITERIA_BY_PRESET[criteria],
            )
            for lesion in timepoint.lesions
        ]
        for preset, result in (responses or {}).items():
            group = _response_group(
                preset, result, patient_id=assessment.patient_id, time_point=full_time_point
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
                    name=assessment.reader if "^" in assessment.reader else f"{assessment.reader}^"
                ),
            )
        report = hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(**observers),
            procedure_reported=codes.PROCEDURE_CT,
            imaging_measurements=groups,
            title=codes.REPORT_TITLE,
            referenced_images=list(geometry.used.values()) or None,
        )
        return hd.sr.Comprehensive3DSR(
            evidence=geometry.slices,
            content=report,
            series_instance_uid=series_instance_uid or hd.UID(),
            series_number=SR_SERIES_NUMBER,
            sop_instance_uid=sop_instance_uid or hd.UID(),
            instance_number=1,
            manufacturer="lesion-tool",
            is_complete=True,
            series_description=f"lesion-tool {timepoint.label}"[:64],
            coding_schemes=[codes.local_scheme_identification()],
        )
    except LesionToolError:
        raise
    except (ValueError, TypeError, AttributeError) as err:
        raise ExportError(f"{where}: the SR cannot be built: {err}") from err


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


def _series_files(images: str | Path) -> dict[str, list[Path]]:
    """SeriesInstanceUID -> files of its largest image stack, from one header scan of ``images``."""
    from lesion_tool.io import scan_folders

    scan = scan_folders(images, use_pixels=False)
    best: dict[str, list[Path]] = {}
    for stack in scan.stacks:
        if stack.role != "image":
            continue
        if len(stack.files) > len(best.get(stack.series_instance_uid, [])):
            best[stack.series_instance_uid] = list(stack.files)
    return best


def export_sr(
    assessment: Assessment,
    images: str | Path | None,
    out_dir: str | Path,
    *,
    criteria: Sequence[str] = ("mrecist", "mrecist-1.1", "recist-1.1"),
    volumes: Mapping[str, CTVolume] | None = None,
    overwrite: bool = False,
    deidentifier: Deidentifier | None = None,
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
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    file_patient_id = assessment.patient_id
    if deidentifier is not None:  # built from the real dates and id, then cleaned (clean_sr)
        assessment = without_free_text(assessment)
        file_patient_id = deidentifier.patient_id(assessment.patient_id)
    responses = _responses_by_timepoint(assessment, criteria)
    files_by_series: dict[str, list[Path]] | None = None
    written: list[Path] = []
    problems: list[str] = []
    for i, timepoint in enumerate(assessment.timepoints):
        where = f"timepoint {timepoint.label!r}"
        uid = timepoint.series_instance_uid
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
            document = build_timepoint_sr(
                assessment,
                i,
                images=list(seen.values()),
                volume=volume,
                responses=responses[i],
                criteria=criteria[0],
            )
            if deidentifier is not None:
                deidentifier.clean_sr(document, assessment.patient_id)
        except LesionToolError as err:
            problems.append(str(err))
            continue
        path = out / sr_file_name(file_patient_id, assessment.reader, timepoint)
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
