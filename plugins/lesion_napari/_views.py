"""The layers of one timepoint (image, proposal, lines) and how lesions are drawn into them.

No state of the reading lives here: lines are drawn from the core's assessment and the open
proposal, and the controller turns what the user does to them back into core calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lesion_tool.io.slices import SeriesDisplayInfo
from lesion_tool.io.volume import CTVolume
from lesion_tool.model import Kind, Lesion, Line
from lesion_tool.reading.rules import PRIMARY, WHOLE, is_fully_viable, summed_value

from ._layers import META_KEY, DisplayGeometry, line_to_shape

PROPOSED_VIABLE = "proposed_viable"
PROPOSED_WHOLE = "proposed_whole"
CONTOUR = "contour"
"""A recorded lesion's saved contour (a polygon on its measured slice), drawn with its lines."""
LINE_COLOURS = {
    PRIMARY: "#00e5ff",
    WHOLE: "#ff4fd8",
    PROPOSED_VIABLE: "#ffa000",
    PROPOSED_WHOLE: "#ffee58",
    CONTOUR: "#00e676",
}
"""Viable (cyan) and whole-lesion (magenta) lines are told apart by colour and text."""
LINE_WIDTHS = {PRIMARY: 1.5, WHOLE: 1.0, PROPOSED_VIABLE: 1.5, PROPOSED_WHOLE: 1.0, CONTOUR: 0.5}
"""Line widths in display voxels: the whole-lesion lines are thinner."""
EDGE_WIDTH = LINE_WIDTHS[PRIMARY]
LINES_OPACITY = 1.0
"""Lines and their texts are drawn opaque: at napari's default for shapes (0.7) the yellow
texts came out olive and unreadable over enhanced liver (seen on IRCADb, window W 400 L 40)."""
FEATURES = ("lesion_id", "role", "label")
LABEL_OFFSET = (0.0, -10.0, 0.0)
"""A line's label sits this far (display voxels, towards the top of the screen) from the
line's top-left corner: drawn on it, the text hid the line it names (seen on HCC_006)."""


@dataclass
class TimepointView:
    """The layers of one timepoint: its measured image, its lines and proposal layers."""

    label: str
    date: dt.date
    volume: CTVolume
    geometry: DisplayGeometry
    image: Any
    lines: Any = None
    proposal: Any = None
    others: list[Any] = field(default_factory=list)
    """The study's other series (hidden layers), any of which can be measured on instead."""
    info: SeriesDisplayInfo | None = None
    """PACS numbers of the measured series' slices (set when its image is shown)."""

    def slice_name(self, z: float) -> str:
        """What PACS calls slice ``z`` (array index) of the measured series: ``Se 103 · Im 75``
        (``slice k / n`` when the headers have no numbers); ``""`` off the series."""
        index = int(np.round(z))
        if not 0 <= index < self.volume.shape[0]:
            return ""
        if self.info is None or self.info.n_slices != self.volume.shape[0]:
            return f"slice {index + 1} / {self.volume.shape[0]}"
        return self.info.label(index)

    def layers(self) -> list[Any]:
        """The timepoint's group of layers, bottom to top (one grid cell)."""
        return [layer for layer in (self.image, self.proposal, self.lines) if layer is not None]


def fmt(value: Any) -> str:
    """A table / label text: floats to 0.1, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def lines_of(lesion: Lesion) -> list[tuple[str, Line]]:
    """The recorded lines of a lesion with their roles."""
    out = []
    if lesion.line is not None:
        out.append((PRIMARY, lesion.line))
    if lesion.longest_line is not None:
        out.append((WHOLE, lesion.longest_line))
    return out


def line_text(lesion: Lesion, role: str = PRIMARY) -> str:
    """The canvas label of a lesion's line: one label per lesion, on its primary line (id, the
    diameter it sums and, for a viable target, the whole-lesion one), so texts never overlap."""
    if role == CONTOUR or (role == WHOLE and lesion.line is not None):
        return ""
    text = f"{lesion.id} {fmt(summed_value(lesion))} mm"
    if lesion.kind is Kind.VIABLE:
        if is_fully_viable(lesion):
            text += " viable = whole"
        else:
            text += f" viable · whole {fmt(lesion.longest_diameter_mm)}"
    return text


def same(a: Any, b: Any) -> bool:
    """The same layer, also when napari hands the plugin public-only proxies of it."""
    if a is None or b is None:
        return a is b
    return a is b or a.unique_id == b.unique_id


def add_overlay_layers(viewer: Any, view: TimepointView) -> None:
    """Give a timepoint its proposal (labels) and lines (shapes) layers, right above its image."""
    kwargs = view.geometry.layer_kwargs()
    view.proposal = viewer.add_labels(
        np.zeros((1, 1, 1), dtype=np.uint8),
        name=f"Proposal {view.label}",
        opacity=0.8,
        metadata={META_KEY: {"role": "proposal", "timepoint": view.label}},
        **kwargs,
    )
    view.proposal.contour = 1
    view.lines = viewer.add_shapes(
        name=f"Lines {view.label}",
        ndim=3,
        edge_width=EDGE_WIDTH,
        edge_color=LINE_COLOURS[PRIMARY],
        face_color="transparent",
        opacity=LINES_OPACITY,
        features={key: np.array([], dtype=object) for key in FEATURES},
        feature_defaults=dict.fromkeys(FEATURES, ""),
        text={
            "string": "{label}",
            "color": "yellow",
            "size": 11,
            "anchor": "upper_left",
            "translation": LABEL_OFFSET,
        },
        metadata={META_KEY: {"role": "lines", "timepoint": view.label}},
        **kwargs,
    )
    view.lines.current_edge_color = LINE_COLOURS[PRIMARY]
    view.lines.current_edge_width = EDGE_WIDTH
    for layer in (view.proposal, view.lines):
        src = viewer.layers.index(layer)
        dest = viewer.layers.index(view.image) + 1 + same(layer, view.lines)
        if src != dest:
            viewer.layers.move(src, dest)


def draw_lines(view: TimepointView, lesions: tuple[Lesion, ...], proposal: list[tuple]) -> None:
    """Redraw a timepoint's lines layer: its recorded lines, then ``proposal``'s
    ``(voxel ends, lesion id, role, text)`` lines. The caller guards its own data events."""
    layer = view.lines
    if layer is None:
        return
    shapes: list[np.ndarray] = []
    types: list[str] = []
    colours: list[str] = []
    widths: list[float] = []
    rows: dict[str, list[str]] = {key: [] for key in FEATURES}

    def add(vertices: np.ndarray, lesion_id: str, role: str, text: str) -> None:
        shapes.append(np.asarray(vertices, dtype=float))
        types.append("polygon" if role == CONTOUR else "line")
        colours.append(LINE_COLOURS[role])
        widths.append(LINE_WIDTHS[role])
        rows["lesion_id"].append(lesion_id)
        rows["role"].append(role)
        rows["label"].append(text)

    for lesion in lesions:
        for role, line in lines_of(lesion):
            add(
                line_to_shape(line, view.volume, view.geometry),
                lesion.id,
                role,
                line_text(lesion, role),
            )
        seg = lesion.segmentation
        if seg is not None and len(seg.contour) >= 3:
            pts = np.column_stack([np.full(len(seg.contour), float(seg.z)), seg.contour])
            add(view.geometry.voxel_to_display(pts), lesion.id, CONTOUR, "")
    for ends, lesion_id, role, text in proposal:
        add(view.geometry.voxel_to_display(np.asarray(ends)), lesion_id, role, text)
    layer.data = []
    if shapes:
        layer.add(
            shapes,
            shape_type=types,
            edge_color=colours,
            edge_width=widths,
            face_color=["transparent"] * len(shapes),
        )
    layer.features = {key: np.array(values, dtype=object) for key, values in rows.items()}
    layer.feature_defaults = dict.fromkeys(FEATURES, "")
    layer.current_edge_color = LINE_COLOURS[PRIMARY]
    layer.selected_data = set()


def relabel(
    view: TimepointView, lesions: tuple[Lesion, ...], proposal_texts: dict[str, str]
) -> None:
    """Update the canvas texts of a timepoint's lines (a moved line changes only its text)."""
    layer = view.lines
    if layer is None:
        return
    ids = [str(v) for v in layer.features["lesion_id"]]
    roles = [str(v) for v in layer.features["role"]]
    by_id = {lesion.id: lesion for lesion in lesions}
    labels = []
    for lesion_id, role in zip(ids, roles, strict=True):
        if role in proposal_texts:
            labels.append(proposal_texts[role])
        elif lesion_id in by_id:
            labels.append(line_text(by_id[lesion_id], role))
        else:
            labels.append("")
    layer.features = {
        "lesion_id": np.array(ids, dtype=object),
        "role": np.array(roles, dtype=object),
        "label": np.array(labels, dtype=object),
    }
