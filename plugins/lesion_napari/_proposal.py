"""A semi-automatic measurement waiting for the reader: what it was given, what the core
returned (and the reader's corrections), and how it reads in words.

No rule lives here: the numbers, flags and reasons are the core's
(:func:`lesion_tool.measurement.measure_lesion`, :mod:`lesion_tool.measurement.edit`); this
module only keeps them together and words them for the panels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from html import escape

import numpy as np

from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt
from lesion_tool.model import SegmentationPrompt

from ._layers import diameter_ends
from ._views import fmt

THRESHOLD_STEP_HU = 10.0
"""Tighter / Looser move the core's lesion/liver threshold by this much (HU)."""


@dataclass
class Proposal:
    """A semi-automatic measurement waiting to be accepted, corrected or rejected."""

    label: str
    lesion_id: str
    prompt: LesionPrompt
    """What the core was given (click and/or line, threshold offset, strokes)."""
    auto: LesionMeasurement
    """The core's result for :attr:`prompt`, before any edit of the contour."""
    result: LesionMeasurement
    """The result shown: :attr:`auto`, or the reader's edited contour measured by the core."""
    box: tuple[int, int, int]
    """``(z, y, x)`` offset in the series of the proposal layer's labels box."""
    phase_doubt: str = ""
    """The phase check's doubt about an 'arterial' series, in words ("" when none)."""
    edited: bool = False
    viable: tuple[np.ndarray, np.ndarray] | None = None
    """Voxel end points of the viable diameter (None: not measured, or 0 mm)."""
    viable_mm: float | None = None
    """Viable diameter (mm); None when the viable part was not measured."""
    whole: tuple[np.ndarray, np.ndarray] | None = None
    whole_mm: float | None = None
    change: str = ""
    """What Tighter / Looser changed, from the proposal before it (:func:`correction_text`)."""

    def __post_init__(self) -> None:
        self.take(self.result)

    def take(self, result: LesionMeasurement, *, edited: bool | None = None) -> None:
        """Show ``result`` (a new automatic one, or the edited contour's)."""
        self.result = result
        if edited is not None:
            self.edited = edited
        self.whole = diameter_ends(result.whole)
        self.whole_mm = float(result.whole.length_mm)
        self.viable = diameter_ends(result.viable)
        self.viable_mm = None if result.viable is None else float(result.viable.length_mm)

    @property
    def seed_zyx(self) -> tuple[float, float, float]:
        """The voxel the core grew the lesion from."""
        return tuple(float(v) for v in self.result.seed_voxel)  # type: ignore[return-value]

    @property
    def flags(self) -> tuple[str, ...]:
        """Every reason to doubt the proposal: the core's flags, then the phase check's."""
        return self.result.flags + ((self.phase_doubt,) if self.phase_doubt else ())

    def stored_prompt(self) -> SegmentationPrompt:
        """The prompt as stored with the lesion (click, line, threshold offset)."""
        p = self.prompt
        return SegmentationPrompt(
            seed=p.seed, line=p.line, threshold_offset_hu=p.threshold_offset_hu
        )

    def with_strokes(self, labels_zyx: np.ndarray | None, delta_hu: float) -> LesionPrompt:
        """The prompt to measure again with: the threshold moved by ``delta_hu`` (positive is
        tighter) and the reader's edits kept as strokes (painted voxels ``include``, erased
        ``exclude``), so that Tighter / Looser after an edit keep it."""
        include = set(self.prompt.include)
        exclude = set(self.prompt.exclude)
        if self.edited and labels_zyx is not None:
            now = np.asarray(labels_zyx) > 0
            before = np.zeros_like(now)
            sl = tuple(
                slice(o - b, o - b + n)
                for o, b, n in zip(self.auto.offset, self.box, self.auto.mask.shape, strict=True)
            )
            before[sl] = self.auto.mask
            box = np.asarray(self.box)
            added = {tuple(int(v) for v in p) for p in np.argwhere(now & ~before) + box}
            removed = {tuple(int(v) for v in p) for p in np.argwhere(before & ~now) + box}
            include = (include | added) - removed
            exclude = (exclude | removed) - added
        return dataclasses.replace(
            self.prompt,
            include=tuple(sorted(include)),
            exclude=tuple(sorted(exclude)),
            threshold_offset_hu=self.prompt.threshold_offset_hu + delta_hu,
        )

    def viable_text(self) -> str:
        """The viable diameter, or why it was not measured."""
        if self.viable_mm is None:
            return "viable not measured"
        return f"viable {self.viable_mm:.1f} mm"

    def describe(self) -> str:
        """The proposal in one line, for the lesions panel and the canvas."""
        warn = f" ⚠ {len(self.flags)} warning(s): check it (Selected lesion)." if self.flags else ""
        edited = " (contour edited)" if self.edited else ""
        return (
            f"Proposal for {self.lesion_id}{edited}: whole lesion {fmt(self.whole_mm)} mm, "
            f"{self.viable_text()}.{warn}"
        )

    def details(self) -> str:
        """The proposal in words for the measurement panel: numbers, why no viable part, every
        flag (a flagged result is never presented as sound), and the corrections made."""
        r = self.result
        head = (
            f"<b>Proposal for {self.lesion_id}</b>: whole lesion {fmt(self.whole_mm)} × "
            f"{r.whole_perpendicular.length_mm:.1f} mm, "
            f"{self.viable_text()}, {r.volume_ml:.1f} mL."
        )
        lines = [head]
        if r.viable is None and r.viable_reason:
            lines.append(f"No viable diameter: {r.viable_reason}.")
        ev = r.evidence
        gesture = "line" if self.prompt.line is not None else "click"
        lines.append(
            f"From a {gesture}; {ev.attenuation}-attenuating, lesion {ev.lesion_hu:.0f} HU vs "
            f"liver {ev.liver_hu:.0f} HU; threshold {ev.threshold_hu:.0f} HU"
            + _offset_text(self.prompt.threshold_offset_hu)
            + (
                f"; strokes +{len(self.prompt.include)} / -{len(self.prompt.exclude)} voxels"
                if self.prompt.include or self.prompt.exclude
                else ""
            )
            + "."
        )
        if self.change:
            lines.append(escape(self.change))
        if self.edited:
            lines.append("Contour edited by you: the diameters are measured on your contour.")
        if self.flags:
            head = "⚠ <b>Check this result</b>" + (
                " (the automatic checks, before your edit)" if self.edited else ""
            )
            lines.append(head + ":<br>" + "<br>".join(f"• {escape(f)}" for f in self.flags))
        else:
            lines.append("No warning from the automatic checks; check the contour on the image.")
        return "<br>".join(lines)


def correction_text(before: Proposal, after: Proposal) -> str:
    """What a threshold correction did, before -> after: the region's volume and the whole
    lesion's diameter, which need not move together (a smaller region's longest diameter may
    lie elsewhere, and be longer: IRCADb tumour 02, Tighter 32.2 -> 33.2 mm); "" when it is
    not a threshold correction of the same lesion."""
    delta = after.prompt.threshold_offset_hu - before.prompt.threshold_offset_hu
    if delta == 0 or (before.label, before.lesion_id) != (after.label, after.lesion_id):
        return ""
    word = "Tighter" if delta > 0 else "Looser"
    if after.result.volume_ml == before.result.volume_ml and after.whole_mm == before.whole_mm:
        return f"{word}: the core's answer is unchanged ({after.result.volume_ml:.1f} mL)."
    return (
        f"{word}: region {before.result.volume_ml:.1f} -> {after.result.volume_ml:.1f} mL, "
        f"whole lesion {fmt(before.whole_mm)} -> {fmt(after.whole_mm)} mm."
    )


def _offset_text(offset_hu: float) -> str:
    if offset_hu == 0:
        return ""
    word = "tighter" if offset_hu > 0 else "looser"
    return f" ({abs(offset_hu):.0f} HU {word})"
