"""Split one series into stacks and decide which stack a series load uses.

Real series folders hold more than one stack under one SeriesInstanceUID: a coronal or sagittal
reformat, a scout / localizer, a lone slice of another size. :func:`split_stacks` groups a
series' files by everything a volume needs to be equal (role, orientation, image size, pixel
spacing, frame type, frame of reference) and :func:`lesion_tool.io.series.series_stacks` keeps
them one stack when they lie on one regular grid anyway; :func:`choose_stack` picks the stack to
load, leaving out the strays, or refuses when two full stacks compete. Both
:func:`lesion_tool.io.scan_folders` (which lists every stack) and :func:`lesion_tool.io.load_series`
(which loads one) use these, so the stack a folder scan reports as ``#0`` is the one a load of
the folder gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lesion_tool.errors import GeometryError
from lesion_tool.io.headers import FileHeader

__all__ = [
    "FULL_STACK_FRACTION",
    "MIN_FULL_STACK_SLICES",
    "StackChoice",
    "StackGroup",
    "choose_stack",
    "header_role",
    "orientation_label",
    "split_stacks",
]

MIN_FULL_STACK_SLICES = 10
"""A stack with fewer slices is never a full stack: a stray beside a larger one."""
FULL_STACK_FRACTION = 0.5
"""A second stack with at least this fraction of the largest one's slices (and at least
:data:`MIN_FULL_STACK_SLICES`) competes with it: the series is ambiguous."""
MAX_FILES_NAMED = 5
"""Files named one by one in a message; the rest are counted."""

_NON_IMAGE_MODALITIES = {"SR", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "PR", "KO", "REG", "RWV"}
_NON_IMAGE_SOP_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.88.",  # structured reports (incl. radiation dose SR)
    "1.2.840.10008.5.1.4.1.1.66",  # segmentation, registration, surface
    "1.2.840.10008.5.1.4.1.1.11.",  # presentation states
    "1.2.840.10008.5.1.4.1.1.481.",  # RT objects
    "1.2.840.10008.5.1.4.1.1.67",  # real world value mapping
    "1.2.840.10008.5.1.4.1.1.104.",  # encapsulated PDF / CDA
)
_SCOUT_WORDS = ("LOCALIZER", "SCOUT", "TOPOGRAM", "SURVIEW", "SCANOGRAM", "PILOT", "SCOUTVIEW")

_ROLES: dict[tuple[object, ...], str] = {}
_ROUNDED: dict[tuple[float, ...], tuple[float, ...]] = {}


def header_role(h: FileHeader) -> str:
    """``image``, ``localizer`` or ``non-image`` (cached: files of a series share the inputs)."""
    key = (
        h.modality,
        h.sop_class_uid,
        h.image_type,
        h.series_description,
        h.samples_per_pixel,
        h.is_image,
    )
    role = _ROLES.get(key)
    if role is None:
        if len(_ROLES) > 10000:
            _ROLES.clear()
        role = _ROLES[key] = _role_of(h)
    return role


def _role_of(h: FileHeader) -> str:
    if (
        h.modality in _NON_IMAGE_MODALITIES
        or h.sop_class_uid.startswith(_NON_IMAGE_SOP_PREFIXES)
        or not h.is_image
    ):
        return "non-image"
    text = " ".join((*h.image_type, h.series_description.upper()))
    if any(w in text for w in _SCOUT_WORDS):
        return "localizer"
    if h.sop_class_uid.startswith("1.2.840.10008.5.1.4.1.1.7") and "DOSE" in text:
        return "non-image"  # a dose report saved as a secondary capture
    if (h.samples_per_pixel or 1) > 1:
        return "non-image"  # colour screenshots
    return "image"


def orientation_label(orientation: Sequence[float] | None) -> str:
    """``axial``, ``coronal``, ``sagittal`` (normal within 25 deg of that axis) or ``oblique``."""
    if orientation is None:
        return "unknown"
    r, c = orientation[:3], orientation[3:]
    normal = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    axis = max(range(3), key=lambda i: abs(normal[i]))
    if abs(normal[axis]) < 0.9:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _rounded(values: tuple[float, ...] | None, digits: int) -> tuple[float, ...] | None:
    if values is None:
        return None
    key = (*values, digits)
    out = _ROUNDED.get(key)
    if out is None:
        if len(_ROUNDED) > 10000:
            _ROUNDED.clear()
        out = _ROUNDED[key] = tuple(round(v, digits) for v in values)
    return out


def stack_key(h: FileHeader) -> tuple[object, ...]:
    """Files of one series with equal keys can form one volume.

    Role first (image / localizer / non-image), then for images: orientation, image size, frame
    type, pixel spacing and frame of reference. Localizers and non-image objects form one group
    per role (a series' scouts are listed together, never loaded beside its images).
    """
    role = header_role(h)
    if role != "image":
        return (role,)
    frame = h.frames[0] if h.frames else None
    return (
        role,
        _rounded(frame.orientation if frame else None, 2),
        h.rows,
        h.columns,
        h.image_type[:3],
        _rounded(frame.pixel_spacing_mm if frame else None, 4),
        h.frame_of_reference_uid,
    )


@dataclass(frozen=True)
class StackGroup:
    """Files of one series that share a :func:`stack_key`, in the order they were given."""

    role: str
    headers: tuple[FileHeader, ...]

    @property
    def slice_count(self) -> int:
        """2-D frames in the group (a multi-frame file counts each frame)."""
        return sum(max(len(h.frames), 1) for h in self.headers)

    @property
    def orientation_label(self) -> str:
        """``axial``, ``coronal``, ``sagittal``, ``oblique`` or ``unknown``."""
        first = self.headers[0]
        return orientation_label(first.frames[0].orientation if first.frames else None)

    def describe(self) -> str:
        """E.g. ``109 axial 512x512 image(s)`` or ``1 localizer image(s)``."""
        first = self.headers[0]
        kind = self.orientation_label if self.role == "image" else self.role
        return f"{self.slice_count} {kind} {first.rows}x{first.columns} image(s)"

    def file_list(self) -> str:
        """The group's file names (the first :data:`MAX_FILES_NAMED`, then a count) and folder."""
        paths = [h.path for h in self.headers]
        shown = ", ".join(p.name for p in paths[:MAX_FILES_NAMED])
        more = len(paths) - MAX_FILES_NAMED
        folders = sorted({str(p.parent) for p in paths})
        where = folders[0] if len(folders) == 1 else f"{len(folders)} folders"
        return shown + (f" and {more} more" if more > 0 else "") + f" (in {where})"


@dataclass(frozen=True)
class StackChoice:
    """The stack a series load uses (index into the series' stacks) and the stacks left out."""

    index: int
    chosen: StackGroup
    left_out: tuple[StackGroup, ...]

    def message(self, name: str) -> str | None:
        """The warning that names the files left out, or None when nothing was left out."""
        if not self.left_out:
            return None
        parts = "; ".join(f"{g.describe()}: {g.file_list()}" for g in self.left_out)
        return (
            f"{name}: loaded its {self.chosen.describe()} and left out {parts} (a stray "
            "reformat, scout or lone slice of another geometry in the same series)."
        )


def split_stacks(headers: Iterable[FileHeader]) -> list[StackGroup]:
    """Group one series' files by :func:`stack_key`: image stacks first, largest (then axial) first.

    The order is the stack index that ``lesion-tool scan`` shows (``series.k``, ``UID#k``) and
    that :func:`choose_stack` takes.
    """
    groups: dict[tuple[object, ...], list[FileHeader]] = {}
    for h in headers:
        groups.setdefault(stack_key(h), []).append(h)
    out = [StackGroup(str(key[0]), tuple(hs)) for key, hs in groups.items()]
    # equal sizes: the axial stack first (what lesion-tool measures on), then file order
    return sorted(
        out, key=lambda g: (g.role != "image", -g.slice_count, g.orientation_label != "axial")
    )


def main_stack(groups: Sequence[StackGroup]) -> int | None:
    """Index of the stack a load of the whole series uses, or None when two full stacks compete.

    Only image stacks compete (a localizer is used only when the series has nothing else). The
    largest wins unless the runner-up has at least :data:`MIN_FULL_STACK_SLICES` slices and
    :data:`FULL_STACK_FRACTION` of the largest one's.
    """
    if not groups:
        return None
    images = [g for g in groups if g.role == "image"]
    if len(images) < 2:
        return 0
    largest, second = images[0].slice_count, images[1].slice_count
    if second >= MIN_FULL_STACK_SLICES and second >= FULL_STACK_FRACTION * largest:
        return None
    return 0


def choose_stack(
    groups: Sequence[StackGroup], *, name: str, stack: int | None = None
) -> StackChoice:
    """The stack to load from one series' groups, and the strays left out.

    Parameters
    ----------
    groups
        The stacks of one series (:func:`lesion_tool.io.series.series_stacks`).
    name
        How messages name the series.
    stack
        Load this stack index (as ``lesion-tool scan`` numbers them) instead of choosing.

    Raises
    ------
    GeometryError
        Two full stacks of comparable size (e.g. axial and coronal reconstructions), or ``stack``
        out of range; the message lists the stacks and how to choose one.
    """
    listing = "; ".join(
        f"stack {k}: {g.describe()} ({g.headers[0].path.name}...)" for k, g in enumerate(groups)
    )
    if stack is not None:
        if not 0 <= stack < len(groups):
            raise GeometryError(
                f"{name}: no stack {stack}; it holds {len(groups)} stack(s) ({listing})."
            )
        index = stack
    else:
        found = main_stack(groups)
        if found is None:
            raise GeometryError(
                f"{name}: holds {len(groups)} full stacks of comparable size ({listing}); "
                "choose one: `lesion-tool measure --image ... --stack K`, stack=K in load_series, "
                "or only that stack's files (`lesion-tool scan` lists them as series.K)."
            )
        index = found
    left_out = tuple(g for k, g in enumerate(groups) if k != index)
    return StackChoice(index, groups[index], left_out)
