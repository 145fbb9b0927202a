"""Read TID 1500 Measurement Reports back into an assessment: lesion-tool's own and other tools'.

The content tree is walked with pydicom, leniently, so that the reports other tools write (OHIF /
Cornerstone via dcmjs, dcmqi, highdicom) are read even where they bend the standard: a NUM
without a value, a unit code ``"1"`` (or ``"px"``) instead of ``"mm"``, SRT instead of SCT codes.
Every such bend is reported as a warning; a file that is not an SR, or not a TID 1500 report, is
an :class:`~lesion_tool.errors.ExportError` naming it.

Two kinds of measurement group:

- **lesion-tool's own** (a "Lesion category" evaluation in the group): the lesion is rebuilt
  field by field (see :mod:`lesion_tool.storage.sr` for what the SR carries).
- **Other tools' groups**: their lengths (Length, Long Axis, Short Axis, Diameter) become an
  **uncategorised lesion**, never a target. The model requires a category for a
  :class:`~lesion_tool.model.Lesion`, and guessing one would change the response, so these are
  kept apart, in ``assessment.extra["uncategorised_lesions"]`` (saved in the assessment JSON as
  an extra top-level field), one entry per group with its timepoint, tracking UID, lengths in mm
  and lines, for the reader to categorise. Groups without a length (areas, SUV, volumes) are
  reported and skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

from lesion_tool.errors import ExportError, HeaderWarning, LesionToolError
from lesion_tool.io.volume import CTVolume
from lesion_tool.model import UNCATEGORISED_KEY, Assessment, Kind, Lesion, Line, Timepoint
from lesion_tool.storage import codes

logger = logging.getLogger(__name__)

UNKNOWN_PATIENT = "unknown"
"""Patient id of an assessment imported from SRs without a PatientID (with a warning)."""

_SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
_LENGTH_UNITS_TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001}

# Structural concepts, matched by code value (scheme-insensitive: SRT/SCT) or meaning.
_IMAGING_MEASUREMENTS = ("126010", "imaging measurements")
_MEASUREMENT_GROUP = ("125007", "measurement group")
_TRACKING_ID = ("112039", "tracking identifier")
_TRACKING_UID = ("112040", "tracking unique identifier")
_LESION_ID = ("121151", "lesion identifier")
_FINDING = ("121071", "finding")
_FINDING_SITE = ("363698007", "finding site")
_FINDING_SITE_SRT = ("G-C0E3", "finding site")
_TOPO_MODIFIER = ("106233006", "topographical modifier")
_METHOD = ("370129005", "measurement method")
_METHOD_SRT = ("G-C036", "measurement method")
_TIME_POINT = ("C2348792", "time point")
_TIME_POINT_ORDER = ("126073", "time point order")
_TEMPORAL_OFFSET = ("128740", "longitudinal temporal offset from event")
_PERSON_NAME = ("121008", "person observer name")

# Length concepts of other tools: (code values incl. SRT, meanings) -> our diameter
_LONG = ({"103339001", "G-A185"}, {"long axis"})
_SHORT = ({"103340004", "G-A186"}, {"short axis"})
_LENGTH = ({"410668003", "G-D7FE"}, {"length"})
_DIAMETER = ({"81827009", "M-02550"}, {"diameter"})


@dataclass
class SRContents:
    """What one SR file holds, as read by :func:`read_sr`."""

    path: Path
    patient_id: str
    study_instance_uid: str
    series_instance_uid: str | None
    """The measured image series (from the evidence or the first image reference)."""
    date: dt.date | None
    reader: str
    time_point: str | None = None
    time_point_order: int | None = None
    treatment_offset_days: float | None = None
    lesions: list[Lesion] = field(default_factory=list)
    uncategorised: list[dict[str, Any]] = field(default_factory=list)
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Preset -> the timepoint response read back (codes as response strings, sums in mm)."""
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Measurements not imported because their value cannot be trusted (e.g. pixel units on an
    image whose pixel spacing is unknown); :func:`import_sr` lists them as problems."""


@dataclass
class ImportResult:
    """The assessment rebuilt from several SRs, with the files that could not be read."""

    assessment: Assessment | None
    problems: list[tuple[Path, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[SRContents] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# content-tree helpers


def _concept(item: Dataset) -> tuple[str, str, str]:
    seq = item.get("ConceptNameCodeSequence")
    if not seq:
        return "", "", ""
    code = seq[0]
    return (
        str(code.get("CodeValue", "") or code.get("LongCodeValue", "") or ""),
        str(code.get("CodingSchemeDesignator", "") or ""),
        str(code.get("CodeMeaning", "") or ""),
    )


def _is(item: Dataset, *concepts: tuple[str, str]) -> bool:
    value, _scheme, meaning = _concept(item)
    meaning = meaning.strip().lower()
    return any(value == v or (meaning and meaning == m) for v, m in concepts)


def _children(item: Dataset) -> list[Dataset]:
    return list(item.get("ContentSequence") or [])


def _code_value(item: Dataset) -> Dataset | None:
    seq = item.get("ConceptCodeSequence")
    return seq[0] if seq else None


def _text(item: Dataset) -> str:
    if item.get("ValueType") == "TEXT":
        return str(item.get("TextValue", "") or "")
    if item.get("ValueType") == "UIDREF":
        return str(item.get("UID", "") or "")
    if item.get("ValueType") == "PNAME":
        return str(item.get("PersonName", "") or "").rstrip("^")
    return ""


def _find(items: Iterable[Dataset], *concepts: tuple[str, str]) -> Dataset | None:
    for item in items:
        if _is(item, *concepts):
            return item
    return None


def _num(item: Dataset) -> tuple[float | None, Dataset | None]:
    seq = item.get("MeasuredValueSequence")
    if not seq:
        return None, None
    mv = seq[0]
    units = mv.get("MeasurementUnitsCodeSequence")
    try:
        value = float(mv.NumericValue)
    except (AttributeError, TypeError, ValueError):
        return None, None
    return value, units[0] if units else None


class _Defect(str):
    """A note that is a tolerated defect of the file: :func:`read_sr` also warns about it."""

    __slots__ = ()


def _defect(notes: list[str], message: str) -> None:
    """Record a tolerated defect of the file (emitted as a HeaderWarning by :func:`read_sr`)."""
    notes.append(_Defect(message))


def _first_int(value: object) -> int | None:
    """The first value of an integer attribute that may be multi-valued (IS, VM 1-n), or None."""
    if isinstance(value, (list, tuple, MultiValue)):
        value = value[0] if len(value) else None
    if value is None or value == "":
        return None
    return int(value)  # type: ignore[call-overload]


def _date(value: object) -> dt.date | None:
    text = str(value or "").strip()
    if len(text) >= 8 and text[:8].isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# geometry of lines


class _ImageGeometry:
    """Converts image (column, row) points to voxel or patient coordinates where it can."""

    def __init__(self, dataset: Dataset, volume: CTVolume | None) -> None:
        self.volume = volume
        # (SOPInstanceUID, frame number or None) -> slice index; frames matter for multi-frame
        self.index: dict[tuple[str, int | None], int] = {}
        if volume is not None:
            uids = volume.sop_instance_uids
            frames = volume.metadata.get("frame_indices")
            multi = len(set(uids)) < len(uids) and frames is not None and len(frames) == len(uids)
            for k, uid in enumerate(uids):
                self.index[(uid, int(frames[k]) + 1 if multi else None)] = k
        self.descriptors: dict[str, dict[str, float]] = {}
        for item in _iter_tree(dataset.get("ContentSequence") or []):
            if item.get("ValueType") != "IMAGE" or "ContentSequence" not in item:
                continue
            refs = item.get("ReferencedSOPSequence")
            if not refs:
                continue
            values = {}
            for child in _children(item):
                if child.get("ValueType") == "NUM":
                    value, _ = _num(child)
                    if value is not None:
                        values[_concept(child)[2].strip().lower()] = value
            self.descriptors[str(refs[0].ReferencedSOPInstanceUID)] = values

    def image_line(
        self, points: np.ndarray, sop_uid: str, frame: int | None = None
    ) -> tuple[Line | None, str | None]:
        """A Line from two (column, row) points on image ``sop_uid`` (frame number ``frame``
        of a multi-frame image); or None and the reason it cannot be placed."""
        x = points[:, 0] - 0.5
        y = points[:, 1] - 0.5
        k = self.index.get((sop_uid, frame), self.index.get((sop_uid, None)))
        if k is not None:
            z = float(k)
            return Line((z, y[0], x[0]), (z, y[1], x[1]), "voxel"), None
        d = self.descriptors.get(sop_uid)
        keys = [
            "image position (patient) x",
            "image position (patient) y",
            "image position (patient) z",
            "image orientation (patient) row x",
            "image orientation (patient) row y",
            "image orientation (patient) row z",
            "image orientation (patient) column x",
            "image orientation (patient) column y",
            "image orientation (patient) column z",
            "horizontal pixel spacing",
            "vertical pixel spacing",
        ]
        if not d or any(k not in d for k in keys):
            return None, (
                f"image {sop_uid} is neither in the given series nor described in the image "
                "library, so its line cannot be placed"
            )
        ipp = np.array([d[k] for k in keys[:3]])
        row_dir = np.array([d[k] for k in keys[3:6]])
        col_dir = np.array([d[k] for k in keys[6:9]])
        lps = (
            ipp
            + np.outer(x, row_dir) * d["horizontal pixel spacing"]
            + np.outer(y, col_dir) * d["vertical pixel spacing"]
        )
        return self.patient_line(lps), None

    def pixel_spacing(self, sop_uid: str, frame: int | None = None) -> tuple[float, float] | None:
        """(row spacing, column spacing) in mm of image ``sop_uid``, or None when unknown.

        From the measured series when the image is one of its slices, else from the SR's image
        library.
        """
        if (sop_uid, frame) in self.index or (sop_uid, None) in self.index:
            _, dy, dx = self.volume.spacing_mm  # type: ignore[union-attr]
            return float(dy), float(dx)
        d = self.descriptors.get(sop_uid) or {}
        if "vertical pixel spacing" in d and "horizontal pixel spacing" in d:
            return d["vertical pixel spacing"], d["horizontal pixel spacing"]
        return None

    def patient_line(self, lps: np.ndarray) -> Line:
        """A Line from two LPS points: voxel space when the series' volume is known."""
        if self.volume is not None:
            zyx = self.volume.patient_to_index(lps)
            return Line(tuple(zyx[0]), tuple(zyx[1]), "voxel")
        return Line(tuple(lps[0]), tuple(lps[1]), "patient")


def _iter_tree(items: Iterable[Dataset]) -> Iterable[Dataset]:
    for item in items:
        yield item
        if "ContentSequence" in item:
            yield from _iter_tree(item.ContentSequence)


def _line_of(num: Dataset, geometry: _ImageGeometry, notes: list[str], what: str) -> Line | None:
    for child in _children(num):
        value_type = child.get("ValueType")
        if value_type not in ("SCOORD", "SCOORD3D"):
            continue
        graphic = np.asarray(child.get("GraphicData") or [], dtype=float)
        graphic_type = str(child.get("GraphicType", ""))
        dims = 2 if value_type == "SCOORD" else 3
        if graphic_type != "POLYLINE" or graphic.size != 2 * dims:
            notes.append(
                f"{what}: a {value_type} {graphic_type} with {graphic.size // dims} points "
                "is not a line; skipped"
            )
            return None
        points = graphic.reshape(2, dims)
        if value_type == "SCOORD3D":
            return geometry.patient_line(points)
        image = next((c for c in _children(child) if c.get("ValueType") == "IMAGE"), None)
        refs = image.get("ReferencedSOPSequence") if image is not None else None
        if not refs:
            notes.append(f"{what}: its SCOORD names no image; line skipped")
            return None
        frame = _first_int(refs[0].get("ReferencedFrameNumber"))
        line, reason = geometry.image_line(points, str(refs[0].ReferencedSOPInstanceUID), frame)
        if line is None:
            notes.append(f"{what}: {reason}")
        return line
    return None


# ---------------------------------------------------------------------------------------------
# groups


_NON_LENGTH_UNITS = {"mm2", "cm2", "m2", "um2", "mm3", "cm3", "ml", "l", "[hnsf'U]", "g/ml", "%"}


def _length_kind(item: Dataset) -> str | None:
    """Which diameter a NUM item is (viable, long_axis, short_axis, length, diameter), or None.

    dcmjs writes its ellipse AREA under SRT G-D7FE, the code of Length: an area or volume unit,
    or a name saying "area", wins over the code.
    """
    value, _scheme, meaning = _concept(item)
    meaning = meaning.strip().lower()
    _value, unit = _num(item)
    unit_value = str(unit.get("CodeValue", "")) if unit is not None else ""
    if unit_value in _NON_LENGTH_UNITS or "area" in meaning or "volume" in meaning:
        return None
    if codes.same_code(_code_like(item), codes.VIABLE_DIAMETER):
        return "viable"
    for kind, (values, meanings) in (
        ("long_axis", _LONG),
        ("short_axis", _SHORT),
        ("length", _LENGTH),
        ("diameter", _DIAMETER),
    ):
        if value in values or meaning in meanings:
            return kind
    return None


def _code_like(item: Dataset) -> Dataset:
    return item.ConceptNameCodeSequence[0] if item.get("ConceptNameCodeSequence") else Dataset()


_PIXEL_UNITS = {"px", "{px}", "pixel", "pixels", "{pixels}"}


def _is_pixel_unit(value: str, meaning: str) -> bool:
    """Whether a unit code means image pixels (dcmjs writes code "1" with meaning "px")."""
    return value.lower() in _PIXEL_UNITS or (
        value == "1" and meaning.strip().lower() in _PIXEL_UNITS
    )


def _pixels_to_mm(item: Dataset, geometry: _ImageGeometry) -> tuple[float | None, str]:
    """mm per pixel along the NUM's SCOORD line on its image, or None and why not."""
    for child in _children(item):
        if child.get("ValueType") != "SCOORD":
            continue
        image = next((c for c in _children(child) if c.get("ValueType") == "IMAGE"), None)
        refs = image.get("ReferencedSOPSequence") if image is not None else None
        if not refs:
            return None, "its line names no image"
        sop_uid = str(refs[0].ReferencedSOPInstanceUID)
        spacing = geometry.pixel_spacing(sop_uid, _first_int(refs[0].get("ReferencedFrameNumber")))
        if spacing is None:
            return None, (
                f"the pixel spacing of image {sop_uid} is unknown (give the measured series, "
                "--images, to convert it)"
            )
        points = np.asarray(child.get("GraphicData") or [], dtype=float).reshape(-1, 2)
        d = np.diff(points, axis=0)
        px = float(np.sum(np.hypot(d[:, 0], d[:, 1])))
        mm = float(np.sum(np.hypot(d[:, 0] * spacing[1], d[:, 1] * spacing[0])))
        if px > 0:
            return mm / px, ""
        if abs(spacing[0] - spacing[1]) < 1e-6:
            return spacing[0], ""
        return None, "its line has no length and the pixels are not square"
    return None, "it has no line on an image, so its pixel spacing is unknown"


def _length_mm(
    item: Dataset,
    notes: list[str],
    what: str,
    geometry: _ImageGeometry | None = None,
    refused: list[str] | None = None,
) -> float | None:
    value, unit = _num(item)
    if value is None:
        _defect(notes, f"{what}: no numeric value; skipped")
        return None
    unit_value = str(unit.get("CodeValue", "")) if unit is not None else ""
    unit_meaning = str(unit.get("CodeMeaning", "")) if unit is not None else ""
    if geometry is not None and _is_pixel_unit(unit_value, unit_meaning):
        per_pixel, reason = _pixels_to_mm(item, geometry)
        if per_pixel is None:
            message = (
                f"{what}: {value:g} is in pixels (unit code {unit_value!r}, {unit_meaning}) and "
                f"cannot be converted to mm: {reason}; not imported"
            )
            if refused is not None:
                refused.append(message)
            return None
        _defect(
            notes,
            f"{what}: {value:g} pixels (unit code {unit_value!r}, {unit_meaning}) converted to "
            f"{value * per_pixel:.2f} mm with the image's pixel spacing",
        )
        return value * per_pixel
    factor = _LENGTH_UNITS_TO_MM.get(unit_value)
    if factor is None:
        _defect(
            notes,
            f"{what}: unit code {unit_value!r} ({unit_meaning}) is not a length unit (expected "
            "UCUM 'mm'); the value is taken as millimetres",
        )
        factor = 1.0
    return value * factor


def _site(items: list[Dataset]) -> tuple[str | None, str | None]:
    """(organ, location) from a Finding Site item and its topographical modifier."""
    site = _find(items, _FINDING_SITE, _FINDING_SITE_SRT)
    if site is None or _code_value(site) is None:
        return None, None
    code = _code_value(site)
    organ = codes.lookup(code, codes.ORGAN_CODES)
    if organ is None:
        organ = (
            str(code.get("CodeMeaning", ""))
            if code.get("CodeValue") == codes.OTHER_ORGAN_VALUE
            else None
        )
    location = None
    modifier = _find(_children(site), _TOPO_MODIFIER)
    if modifier is not None and _code_value(modifier) is not None:
        mod = _code_value(modifier)
        location = codes.lookup(mod, codes.COUINAUD_CODES)
        if location is None:
            location = str(mod.get("CodeMeaning", "")) or None
    if organ is None and location is not None and location in codes.COUINAUD_CODES:
        organ = "liver"
    if organ is None:
        organ = str(code.get("CodeMeaning", "")) or None
    return organ, location


def _evaluation(items: list[Dataset], name: object) -> Dataset | None:
    for item in items:
        if item.get("ValueType") == "CODE" and codes.same_code(_code_like(item), name):  # type: ignore[arg-type]
            return _code_value(item)
    return None


def _own_lesion(
    group: list[Dataset],
    geometry: _ImageGeometry,
    notes: list[str],
    where: str,
    refused: list[str] | None = None,
) -> Lesion:
    lesion_id = _text(_find(group, _LESION_ID) or Dataset()) or _text(
        _find(group, _TRACKING_ID) or Dataset()
    )
    what = f"{where}, lesion {lesion_id}"
    category = codes.lookup(_evaluation(group, codes.LESION_CATEGORY), codes.CATEGORY_CODES)
    state = codes.lookup(_evaluation(group, codes.LESION_STATE), codes.STATE_CODES)
    if category is None or state is None:
        raise ExportError(f"{what}: lesion category or state has an unknown code.")
    kind = codes.lookup(_evaluation(group, codes.TARGET_KIND), codes.KIND_CODES)
    type_code = _evaluation(group, codes.LESION_TYPE)
    lesion_type = None
    if type_code is not None:
        lesion_type = codes.lookup(type_code, codes.TYPE_CODES) or str(
            type_code.get("CodeMeaning", "")
        )
    flags = {}
    for attribute, name in (
        ("typical_hcc_pattern", codes.TYPICAL_HCC_PATTERN),
        ("porta_hepatis", codes.PORTA_HEPATIS),
        ("cytology_confirmed", codes.CYTOLOGY_CONFIRMED),
    ):
        value = _evaluation(group, name)
        if value is not None:
            flags[attribute] = codes.same_code(value, codes.YES)
    organ, location = _site(group)
    diameters: dict[str, float] = {}
    lines: dict[str, Line | None] = {}
    for item in group:
        if item.get("ValueType") != "NUM":
            continue
        kind_of = _length_kind(item)
        if kind_of is None:
            continue
        key = {"viable": "viable", "long_axis": "longest", "short_axis": "short"}.get(kind_of)
        if key is None:
            continue
        label = f"{what} {_concept(item)[2]}"
        value = _length_mm(item, notes, label, geometry, refused)
        if value is None:
            continue
        diameters[key] = value
        lines[key] = _line_of(item, geometry, notes, label)
    primary = {Kind.VIABLE: "viable", Kind.SHORT_AXIS: "short"}.get(kind, "longest")  # type: ignore[arg-type]
    drawn = lines.get(primary)
    if diameters.get(primary) == 0.0 and drawn is not None and np.allclose(drawn.start, drawn.end):
        # a 0 mm diameter drawn as a point where the lesion is or was (lesion_tool.storage.sr):
        # the point is for viewers, not part of the reading
        lines[primary] = None
    if category == "target" and state == "absent" and diameters.get(primary) == 0.0:
        del diameters[primary]  # written for viewers: an absent target's value is 0 anyway
    line = lines.get(primary)
    longest_line = lines.get("longest") if primary != "longest" else None
    return Lesion(
        id=lesion_id,
        category=category,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        organ=organ or "liver",
        location=location,
        kind=kind,  # type: ignore[arg-type]
        type=lesion_type,
        viable_diameter_mm=diameters.get("viable"),
        longest_diameter_mm=diameters.get("longest"),
        short_axis_mm=diameters.get("short"),
        line=line,
        longest_line=longest_line,
        **flags,
    )


def _foreign_lesion(
    group: list[Dataset],
    geometry: _ImageGeometry,
    notes: list[str],
    where: str,
    refused: list[str] | None = None,
) -> dict[str, Any] | None:
    tracking = _text(_find(group, _TRACKING_ID) or Dataset())
    what = f"{where}, group {tracking or '(no tracking identifier)'}"
    refused_before = len(refused) if refused is not None else 0
    measurements = []
    others = []
    for item in group:
        if item.get("ValueType") != "NUM":
            continue
        kind = _length_kind(item)
        name = _concept(item)[2]
        if kind is None or kind == "viable":
            others.append(name)
            continue
        value = _length_mm(item, notes, f"{what} {name}", geometry, refused)
        if value is None:
            continue
        line = _line_of(item, geometry, notes, f"{what} {name}")
        image_uid = None
        for child in _iter_tree(_children(item)):
            refs = child.get("ReferencedSOPSequence") if child.get("ValueType") == "IMAGE" else None
            if refs:
                image_uid = str(refs[0].ReferencedSOPInstanceUID)
                break
        measurements.append(
            {
                "name": name,
                "kind": kind,
                "value_mm": round(value, 4),
                "line": None
                if line is None
                else {"start": list(line.start), "end": list(line.end), "space": line.space},
                "image_sop_instance_uid": image_uid,
            }
        )
    if not measurements and refused is not None and len(refused) > refused_before:
        return None  # its lengths were refused, each with its reason
    if not measurements:
        notes.append(
            f"{what}: no length measurement"
            + (f" ({', '.join(sorted(set(others)))})" if others else "")
            + "; not imported"
        )
        return None
    finding = _find(group, _FINDING)
    organ, location = _site(group)
    entry: dict[str, Any] = {
        "tracking_identifier": tracking,
        "tracking_uid": _text(_find(group, _TRACKING_UID) or Dataset()) or None,
        "finding": str(_code_value(finding).get("CodeMeaning", ""))
        if finding is not None and _code_value(finding) is not None
        else None,
        "finding_site": organ,
        "location": location,
        "measurements": measurements,
    }
    longs = [
        m["value_mm"] for m in measurements if m["kind"] in ("long_axis", "length", "diameter")
    ]
    shorts = [m["value_mm"] for m in measurements if m["kind"] == "short_axis"]
    entry["longest_diameter_mm"] = max(longs) if longs else None
    entry["short_axis_mm"] = max(shorts) if shorts else None
    return entry


def _response(group: list[Dataset]) -> tuple[str, dict[str, Any]] | None:
    method = _find(group, _METHOD, _METHOD_SRT)
    preset = (
        codes.lookup(_code_value(method), codes.CRITERIA_BY_PRESET) if method is not None else None
    )
    if preset is None:
        return None
    out: dict[str, Any] = {}
    for name, key in (
        (codes.TARGET_SUM, "target_sum_mm"),
        (codes.BASELINE_SUM, "baseline_sum_mm"),
        (codes.NADIR_SUM, "nadir_sum_mm"),
        (codes.CHANGE_FROM_BASELINE, "change_from_baseline_pct"),
        (codes.CHANGE_FROM_NADIR, "change_from_nadir_pct"),
    ):
        for item in group:
            if item.get("ValueType") == "NUM" and codes.same_code(_code_like(item), name):
                out[key] = _num(item)[0]
    for name, key, table in (
        (codes.TARGET_RESPONSE, "target_response", codes.TARGET_RESPONSE_CODES),
        (codes.NON_TARGET_RESPONSE, "non_target_response", codes.NON_TARGET_RESPONSE_CODES),
        (codes.NEW_LESIONS, "new_lesions", codes.NEW_LESION_CODES),
        (codes.OVERALL_RESPONSE, "overall_response", codes.OVERALL_RESPONSE_CODES),
    ):
        value = _evaluation(group, name)
        if value is not None:
            out[key] = codes.lookup(value, table) or codes.lookup(
                value, codes.LEGACY_OVERALL_RESPONSE_CODES
            )
    value = _evaluation(group, codes.BEST_OVERALL_RESPONSE)
    if value is not None:
        out["best_overall_response"] = codes.lookup(
            value, codes.OVERALL_RESPONSE_CODES
        ) or codes.lookup(value, codes.LEGACY_OVERALL_RESPONSE_CODES)
    return preset, out


# ---------------------------------------------------------------------------------------------
# files


def referenced_series(ds: Dataset) -> str | None:
    """SeriesInstanceUID of the first series an SR's evidence references (the measured series)."""
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(keyword) or []:
            for series in study.get("ReferencedSeriesSequence") or []:
                if series.get("SeriesInstanceUID"):
                    return str(series.SeriesInstanceUID)
    return None


def read_sr(path: str | Path, *, volume: CTVolume | None = None) -> SRContents:
    """Read one TID 1500 Measurement Report.

    Parameters
    ----------
    path
        The SR file.
    volume
        The measured series, if at hand: lines on its images (SCOORD) and in its frame of
        reference (SCOORD3D) come back in its voxel indices ``(z, y, x)``. Without it, lines
        come back in patient LPS millimetres where the SR says where the image lies (its image
        library), else they are dropped with a warning.

    Returns
    -------
    SRContents

    Raises
    ------
    ExportError
        The file is not DICOM, not an SR, not a TID 1500 report, or its content tree is broken.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's VR value remarks are not our findings
            ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError) as err:
        raise ExportError(f"{path}: not a readable DICOM file ({err}).") from err
    sop_class = str(ds.get("SOPClassUID", ""))
    if not sop_class.startswith(_SR_CLASS_PREFIX) and ds.get("Modality") != "SR":
        raise ExportError(
            f"{path}: not a DICOM Structured Report (SOPClassUID {sop_class or 'missing'}, "
            f"Modality {ds.get('Modality', 'missing')})."
        )
    try:
        with warnings.catch_warnings():
            # pydicom decodes values lazily, while the tree is walked: its VR remarks are not
            # our findings
            warnings.simplefilter("ignore")
            contents = _read_dataset(ds, path, volume)
    except LesionToolError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as err:
        raise ExportError(f"{path}: the SR content tree cannot be read ({err}).") from err
    for note in contents.warnings:
        if isinstance(note, _Defect):
            warnings.warn(str(note), HeaderWarning, stacklevel=2)
    contents.warnings = [str(note) for note in contents.warnings]
    return contents


def _read_dataset(ds: Dataset, path: Path, volume: CTVolume | None) -> SRContents:
    root = list(ds.get("ContentSequence") or [])
    measurements = _find(root, _IMAGING_MEASUREMENTS)
    if measurements is None:
        raise ExportError(
            f"{path}: no 'Imaging Measurements' container; not a TID 1500 Measurement Report."
        )
    if volume is not None and volume.series_instance_uid:
        referenced = referenced_series(ds)
        if referenced and referenced != volume.series_instance_uid:
            volume = None
    geometry = _ImageGeometry(ds, volume)
    person = _find(root, _PERSON_NAME)
    contents = SRContents(
        path=path,
        patient_id=str(ds.get("PatientID", "") or ""),
        study_instance_uid=str(ds.get("StudyInstanceUID", "") or ""),
        series_instance_uid=referenced_series(ds),
        date=_date(ds.get("StudyDate")) or _date(ds.get("ContentDate")),
        reader=_text(person) if person is not None else "",
    )
    notes = contents.warnings
    where = str(path)
    for group_item in _children(measurements):
        if not _is(group_item, _MEASUREMENT_GROUP):
            continue
        group = _children(group_item)
        time_point = _find(group, _TIME_POINT)
        if time_point is not None and contents.time_point is None:
            contents.time_point = _text(time_point) or None
        order = _find(group, _TIME_POINT_ORDER)
        if order is not None and contents.time_point_order is None:
            value = _num(order)[0]
            contents.time_point_order = int(value) if value is not None else None
        offset = _find(group, _TEMPORAL_OFFSET)
        if offset is not None and contents.treatment_offset_days is None:
            contents.treatment_offset_days = _num(offset)[0]
        if _evaluation(group, codes.LESION_CATEGORY) is not None:
            contents.lesions.append(_own_lesion(group, geometry, notes, where, contents.refused))
            continue
        finding = _find(group, _FINDING)
        if (
            finding is not None
            and _code_value(finding) is not None
            and codes.same_code(_code_value(finding), codes.FINDING_TIMEPOINT_RESPONSE)
        ):
            response = _response(group)
            if response is not None:
                contents.responses[response[0]] = response[1]
            continue
        entry = _foreign_lesion(group, geometry, notes, where, contents.refused)
        if entry is not None:
            contents.uncategorised.append(entry)
    return contents


def import_sr(
    paths: Sequence[str | Path],
    *,
    volumes: Mapping[str, CTVolume] | None = None,
    treatment_start: dt.date | None = None,
) -> ImportResult:
    """Rebuild one patient's assessment from TID 1500 reports (one per timepoint).

    Parameters
    ----------
    paths
        SR files of one patient. A file that cannot be read, or belongs to another patient than
        the first readable one, is listed in ``problems`` and the others are imported.
    volumes
        SeriesInstanceUID -> volume of the measured series, to bring lines back in voxel
        indices (see :func:`read_sr`).
    treatment_start
        Overrides the start of treatment; otherwise it comes from lesion-tool's SRs (their
        offset from the start of treatment), else it is the first timepoint's date (warned).

    Returns
    -------
    ImportResult
        ``assessment`` is None when no file could be read. Timepoints are ordered by date (then
        by their recorded order); files of the same study and time point are merged.
    """
    result = ImportResult(assessment=None)
    contents: list[SRContents] = []
    for path in paths:
        try:
            volume = None
            if volumes:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
                volume = volumes.get(referenced_series(header) or "")
            item = read_sr(path, volume=volume)
        except LesionToolError as err:
            result.problems.append((Path(path), str(err)))
            continue
        except (OSError, InvalidDicomError) as err:
            result.problems.append((Path(path), f"{path}: {err}"))
            continue
        if contents and item.patient_id != contents[0].patient_id:
            reason = (
                f"{path}: PatientID {item.patient_id!r} differs from "
                f"{contents[0].patient_id!r} of {contents[0].path}; not imported."
            )
            result.problems.append((Path(path), reason))
            continue
        if item.date is None:
            result.problems.append(
                (Path(path), f"{path}: no StudyDate or ContentDate; not imported.")
            )
            continue
        contents.append(item)
        result.warnings.extend(item.warnings)
        result.problems.extend((Path(path), reason) for reason in item.refused)
    result.files = contents
    if not contents:
        return result
    patient_id = contents[0].patient_id
    if not patient_id.strip():
        patient_id = UNKNOWN_PATIENT
        result.warnings.append(
            f"{contents[0].path}: the SR has no PatientID; the assessment's patient id is set to "
            f"{UNKNOWN_PATIENT!r}. Set the real id before scoring or exporting it."
        )

    groups: dict[tuple[str, str], list[SRContents]] = {}
    for item in contents:
        label = item.time_point or item.date.isoformat()  # type: ignore[union-attr]
        groups.setdefault((item.study_instance_uid, label), []).append(item)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (kv[1][0].date, kv[1][0].time_point_order or 0, kv[0][1]),
    )
    timepoints = []
    uncategorised: list[dict[str, Any]] = []
    ids_by_tracking: dict[str, str] = {}
    for (study_uid, label), items in ordered:
        lesions: list[Lesion] = []
        seen_ids: set[str] = set()
        for item in items:
            for lesion in item.lesions:
                if lesion.id in seen_ids:
                    result.warnings.append(
                        f"{item.path}: lesion {lesion.id} already read for timepoint {label!r}; "
                        "the first reading is kept."
                    )
                    continue
                seen_ids.add(lesion.id)
                lesions.append(lesion)
            for entry in item.uncategorised:
                key = entry.get("tracking_uid") or f"{item.path}#{len(ids_by_tracking)}"
                if key not in ids_by_tracking:
                    ids_by_tracking[key] = f"U{len(ids_by_tracking) + 1}"
                uncategorised.append(
                    {
                        "id": ids_by_tracking[key],
                        "timepoint": label,
                        "source": str(item.path),
                        **entry,
                    }
                )
        timepoints.append(
            Timepoint(
                label=label,
                date=items[0].date,  # type: ignore[arg-type]
                lesions=tuple(lesions),
                study_instance_uid=study_uid or None,
                series_instance_uid=items[0].series_instance_uid,
            )
        )
    labels = [tp.label for tp in timepoints]
    if len(set(labels)) != len(labels):
        # the same label in two studies (e.g. foreign SRs without a time point): make them unique
        timepoints = [
            replace(tp, label=f"{tp.label}-{i + 1}") if labels.count(tp.label) > 1 else tp
            for i, tp in enumerate(timepoints)
        ]
    start = treatment_start
    if start is None:
        for item in contents:
            if item.treatment_offset_days is not None and item.date is not None:
                start = item.date - dt.timedelta(days=round(item.treatment_offset_days))
                break
    if start is None:
        start = timepoints[0].date
        result.warnings.append(
            f"No start of treatment in the reports; it is set to the first timepoint's date "
            f"{start}. Set the real date before scoring."
        )
    reader = next((item.reader for item in contents if item.reader), "")
    extra: dict[str, object] = {}
    if uncategorised:
        extra[UNCATEGORISED_KEY] = uncategorised
        result.warnings.append(
            f"{len(uncategorised)} measurement(s) from other tools were imported as uncategorised "
            f"lesions (assessment field {UNCATEGORISED_KEY!r}); categorise them before scoring."
        )
    result.assessment = Assessment(
        patient_id=patient_id,
        treatment_start=start,
        timepoints=tuple(timepoints),
        reader=reader,
        extra=extra,
    )
    result.warnings.extend(_recorded_vs_recomputed(result.assessment, contents, ordered))
    return result


_COMPARED = (
    ("overall_response", "overall response"),
    ("target_response", "target response"),
    ("non_target_response", "non-target response"),
    ("new_lesions", "new lesions"),
    ("best_overall_response", "best overall response"),
)


def _recorded_vs_recomputed(
    assessment: Assessment,
    contents: Sequence[SRContents],
    ordered: Sequence[tuple[tuple[str, str], list[SRContents]]],
) -> list[str]:
    """A warning for each response an SR records that the imported lesions do not give.

    Responses are always recomputed from the lesions (the SR's are not imported); one that
    differs means the file was edited, or written under other rules: the reader should know.
    """
    from lesion_tool.response import PRESETS, score_assessment, settings_for

    out: list[str] = []
    presets = sorted({p for item in contents for p in item.responses if p in PRESETS})
    for preset in presets:
        try:
            scored = score_assessment(assessment, settings_for(preset))
            by_index = list(scored.timepoints)
        except LesionToolError as err:
            out.append(f"The responses recorded under {preset} cannot be recomputed: {err}")
            continue
        for index, ((_study, label), items) in enumerate(ordered):
            if index >= len(by_index):
                break
            computed = by_index[index]
            upto = replace(assessment, timepoints=assessment.timepoints[: index + 1])
            for item in items:
                recorded = item.responses.get(preset)
                if not recorded:
                    continue
                for key, words in _COMPARED:
                    if key not in recorded or recorded[key] is None:
                        continue
                    if key == "best_overall_response":
                        now = score_assessment(upto, settings_for(preset)).best_overall_response
                    else:
                        now = getattr(computed, key)
                    now_text = str(getattr(now, "value", now))
                    if str(recorded[key]) != now_text:
                        out.append(
                            f"{item.path}: the SR records {words} {recorded[key]} under {preset} "
                            f"at timepoint {label!r}, but its lesions give {now_text}; the "
                            "recomputed response is the one used."
                        )
    return out


__all__ = [
    "UNCATEGORISED_KEY",
    "UNKNOWN_PATIENT",
    "ImportResult",
    "SRContents",
    "import_sr",
    "read_sr",
    "referenced_series",
]
