"""The typed model of a stored assessment (format v1, ``shared/spec/assessment-format.md``).

One :class:`Assessment` is one reader's reading of one patient over all timepoints. The objects
are frozen: edits make new objects (``dataclasses.replace``), so a response computed from an
assessment can never be invalidated behind its back. Validation of untrusted input (JSON) lives
in :mod:`lesion_tool.storage`; the constructors here only check invariants of the types.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from typing import Literal

FORMAT_NAME = "lesion-tool.assessment"
FORMAT_VERSION = 1
UNCATEGORISED_KEY = "uncategorised_lesions"
"""Key in ``Assessment.extra`` of the measurements imported from other tools' reports."""


class Category(enum.StrEnum):
    """Lesion category: targets and non-targets are fixed at baseline; new lesions come later."""

    TARGET = "target"
    NON_TARGET = "non_target"
    NEW = "new"


class Kind(enum.StrEnum):
    """How a target lesion is measured (spec section 1)."""

    VIABLE = "viable"
    """Typical HCC: longest diameter of the arterially enhancing (viable) part."""
    LONGEST = "longest"
    """Conventional longest diameter (atypical HCC, extrahepatic lesions)."""
    SHORT_AXIS = "short_axis"
    """Lymph nodes: short axis."""


class LesionState(enum.StrEnum):
    """A lesion's state at one timepoint; which states are allowed depends on the category."""

    # targets
    MEASURED = "measured"
    TOO_SMALL = "too_small"
    # targets and non-targets
    ABSENT = "absent"
    NOT_EVALUATED = "not_evaluated"
    # non-targets
    PRESENT = "present"
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    # new lesions
    EQUIVOCAL = "equivocal"
    UNEQUIVOCAL = "unequivocal"


STATES_BY_CATEGORY: dict[Category, frozenset[LesionState]] = {
    Category.TARGET: frozenset(
        {LesionState.MEASURED, LesionState.ABSENT, LesionState.TOO_SMALL, LesionState.NOT_EVALUATED}
    ),
    Category.NON_TARGET: frozenset(
        {
            LesionState.PRESENT,
            LesionState.ABSENT,
            LesionState.UNEQUIVOCAL_PROGRESSION,
            LesionState.NOT_EVALUATED,
        }
    ),
    Category.NEW: frozenset({LesionState.EQUIVOCAL, LesionState.UNEQUIVOCAL}),
}

SUMMED_DIAMETER = {
    Kind.VIABLE: "viable_diameter_mm",
    Kind.LONGEST: "longest_diameter_mm",
    Kind.SHORT_AXIS: "short_axis_mm",
}
"""Spec section 1: the diameter field a target of each kind contributes to the mRECIST sum."""


def summed_diameter_field(kind: Kind | None, *, use_viable_diameter: bool = True) -> str:
    """The one rule for which diameter a lesion sums: the field name for a kind.

    ``viable`` targets sum their viable diameter under the mRECIST presets and their whole-lesion
    longest diameter under RECIST 1.1 (``use_viable_diameter=False``); ``short_axis`` targets sum
    the short axis; everything else (``longest``, non-targets, new lesions) the longest diameter.
    """
    if kind is _VIABLE and not use_viable_diameter:
        return "longest_diameter_mm"
    return SUMMED_DIAMETER.get(kind, "longest_diameter_mm")  # type: ignore[arg-type]


# Module constants for the hot paths: ``Kind.VIABLE`` costs ~0.25 us on Python 3.11 (EnumType's
# __getattr__ hook), and re-scoring a trial asks millions of times.
_VIABLE = Kind.VIABLE
_SHORT_AXIS = Kind.SHORT_AXIS


LIVER = "liver"
"""The organ name that mRECIST's liver-specific rules (new-lesion HCC criteria) look for."""


_DICOM_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


def image_uid(value: object) -> str | None:
    """``value`` as a line's ``sop_instance_uid`` when it is a conformant DICOM UID (digits and
    dots, at most 64 characters, as the stored format requires), else None: a non-conformant
    UID in an image is not recorded rather than making the assessment unsavable."""
    text = str(value) if value is not None else ""
    return text if len(text) <= 64 and _DICOM_UID.fullmatch(text) else None


@dataclass(frozen=True, slots=True)
class Line:
    """Where a diameter was measured: two end points.

    ``space == "voxel"``: fractional voxel indices ``(z, y, x)`` of the timepoint's series.
    ``space == "patient"``: LPS millimetres ``(L, P, S)``.
    ``sop_instance_uid`` (optional, format v1 addition): the image the line was measured on, so
    that an export places it on that image even where a copy of the series lacks slices (a slice
    index alone would then point at another slice).
    """

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    space: Literal["voxel", "patient"] = "voxel"
    sop_instance_uid: str | None = None

    def __post_init__(self) -> None:
        if self.space not in ("voxel", "patient"):
            raise ValueError(f'Argument "space" must be "voxel" or "patient", got {self.space!r}.')
        if self.sop_instance_uid is not None and not isinstance(self.sop_instance_uid, str):
            raise TypeError('Argument "sop_instance_uid" must have type str or None.')
        object.__setattr__(self, "start", tuple(float(v) for v in self.start))
        object.__setattr__(self, "end", tuple(float(v) for v in self.end))


@dataclass(frozen=True, slots=True)
class SegmentationPrompt:
    """What a semi-automatic measurement was given: a click and/or a rough line (voxel indices
    ``(z, y, x)`` of the timepoint's series) and the reader's threshold offset (HU, positive is
    tighter)."""

    seed: tuple[float, float, float] | None = None
    line: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    threshold_offset_hu: float = 0.0

    def __post_init__(self) -> None:
        if self.seed is not None:
            object.__setattr__(self, "seed", tuple(float(v) for v in self.seed))
        if self.line is not None:
            a, b = self.line
            object.__setattr__(
                self, "line", (tuple(float(v) for v in a), tuple(float(v) for v in b))
            )
        object.__setattr__(self, "threshold_offset_hu", float(self.threshold_offset_hu))


@dataclass(frozen=True, slots=True)
class Segmentation:
    """Optional (format v1 addition): the lesion's contour from a semi-automatic measurement.

    ``contour`` is the outline polygon ``(y, x)`` (fractional voxel indices of the timepoint's
    series) on slice ``z``, the slice of the measured diameter; ``edited`` says the reader
    corrected the automatic contour (then it, not the algorithm, gave the diameters);
    ``flags`` are the automatic checks' reasons to doubt the result, kept with it.
    """

    z: int
    contour: tuple[tuple[float, float], ...]
    space: Literal["voxel"] = "voxel"
    prompt: SegmentationPrompt | None = None
    edited: bool = False
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.space != "voxel":
            raise ValueError(f'Argument "space" must be "voxel", got {self.space!r}.')
        object.__setattr__(self, "z", int(self.z))
        object.__setattr__(self, "contour", tuple((float(y), float(x)) for y, x in self.contour))
        object.__setattr__(self, "flags", tuple(str(f) for f in self.flags))


@dataclass(frozen=True, slots=True)
class Lesion:
    """One lesion at one timepoint.

    Diameters are millimetres (>= 0). For a ``viable`` target, ``viable_diameter_mm`` is summed
    by the mRECIST presets and ``longest_diameter_mm`` (whole lesion) by RECIST 1.1; ``longest``
    targets use ``longest_diameter_mm``; ``short_axis`` targets ``short_axis_mm``.
    """

    id: str
    category: Category
    state: LesionState
    organ: str = LIVER
    location: str | None = None
    """Free text, e.g. a Couinaud segment ``"S8"``."""
    kind: Kind | None = None
    """Targets only."""
    type: str | None = None
    """E.g. ``portal_vein_thrombosis``, ``ascites``, ``pleural_effusion``, ``lymph_node``."""
    viable_diameter_mm: float | None = None
    longest_diameter_mm: float | None = None
    short_axis_mm: float | None = None
    typical_hcc_pattern: bool | None = None
    """New lesions: arterial hyper-enhancement with washout."""
    porta_hepatis: bool = False
    """Lymph nodes at the porta hepatis (malignant only from 20 mm short axis)."""
    cytology_confirmed: bool = False
    """Ascites / effusion: malignancy confirmed by cytology."""
    line: Line | None = None
    """Where the lesion's primary diameter (the one its kind sums) was measured."""
    longest_line: Line | None = None
    """Optional: where the whole-lesion longest diameter of a ``viable`` target was measured."""
    seed: tuple[float, float, float] | None = None
    """Optional: the voxel ``(z, y, x)`` clicked for a semi-automatic measurement."""
    note: str | None = None
    segmentation: Segmentation | None = None
    """Optional: the contour of a semi-automatic measurement (see :class:`Segmentation`)."""

    def __post_init__(self) -> None:
        # The type checks skip enum look-ups for values that already are members (the loader
        # passes members): Enum(...) calls were a tenth of re-scoring a stored trial.
        if type(self.category) is not Category:
            object.__setattr__(self, "category", Category(self.category))
        if type(self.state) is not LesionState:
            object.__setattr__(self, "state", LesionState(self.state))
        if self.kind is not None and type(self.kind) is not Kind:
            object.__setattr__(self, "kind", Kind(self.kind))
        if self.seed is not None:
            object.__setattr__(self, "seed", tuple(float(v) for v in self.seed))

    @property
    def is_nodal(self) -> bool:
        """A lymph node (measured by its short axis)."""
        return self.kind is _SHORT_AXIS or self.type == "lymph_node"


@dataclass(frozen=True, slots=True)
class Timepoint:
    """One imaging timepoint (baseline first) and the lesions read on it."""

    label: str
    date: dt.date
    lesions: tuple[Lesion, ...] = ()
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lesions", tuple(self.lesions))

    def lesion(self, lesion_id: str) -> Lesion | None:
        """The lesion with this id at this timepoint, or None."""
        for lesion in self.lesions:
            if lesion.id == lesion_id:
                return lesion
        return None


@dataclass(frozen=True, slots=True)
class Assessment:
    """One reader's assessment of one patient; ``timepoints[0]`` is the baseline."""

    patient_id: str
    treatment_start: dt.date
    timepoints: tuple[Timepoint, ...] = ()
    reader: str = ""
    death_date: dt.date | None = None
    last_known_alive: dt.date | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)
    """Optional top-level fields the format allows and lesion-tool keeps but does not interpret."""
    saved_by: str | None = field(default=None, compare=False)
    """Optional (format v1 addition): the reader id that wrote this version of the file.

    Set by each save of a reading session; absent in older files. With :attr:`saved_at` it is the
    minimal "who saved it and when" that a fuller audit trail can build on. Not compared: two
    assessments with the same readings are equal whoever saved them.
    """
    saved_at: dt.datetime | None = field(default=None, compare=False)
    """Optional (format v1 addition): when this version was saved (timezone-aware, UTC)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "timepoints", tuple(self.timepoints))

    @property
    def baseline(self) -> Timepoint | None:
        """The first timepoint, or None for an empty assessment."""
        return self.timepoints[0] if self.timepoints else None
