"""The open proposal in a box at the canvas's top right, readable over any tissue: its
numbers, and for a flagged one ``⚠ CHECK`` with each doubt in a few words, in red.

The line labels napari draws beside the proposal's diameter have no background; over a bright
arterial liver (HCC_006) they could not be read. This box is napari's public canvas text
overlay (``viewer.canvas.overlays``), as the patient / series box at the top left is. The words
are the core's flags (their head, before the details); no rule lives here.
"""

from __future__ import annotations

from typing import Any

from napari.components.overlays import TextOverlay

PROPOSAL_OVERLAY = "lesion_tool_proposal"
"""Key of the proposal's box in ``viewer.canvas.overlays``."""
SOUND_COLOUR = "#ffee58"
"""Text colour of a proposal without a flag (the proposal's yellow)."""
FLAGGED_COLOUR = "#ff5252"
"""Text colour of a flagged proposal (red, as its contour)."""
CHECK_HEAD = "⚠ CHECK"


def short_flag(flag: str) -> str:
    """A flag's head: its words before the first ``:`` or ``(`` ("low contrast", "irregular
    outline", "the phase check doubts this series is arterial")."""
    head = flag.split(":")[0].split("(")[0].strip()
    return head or flag[:40]


def overlay_text(numbers: str, flags: tuple[str, ...]) -> str:
    """The box's text: the proposal's numbers, then ``⚠ CHECK`` and a line per flag."""
    if not numbers:
        return ""
    if not flags:
        return numbers
    return "\n".join(
        [numbers, f"{CHECK_HEAD} ({len(flags)}):", *(f"· {short_flag(f)}" for f in flags)]
    )


def show_proposal_overlay(viewer: Any, numbers: str, flags: tuple[str, ...]) -> None:
    """Show (or hide, for empty ``numbers``) the proposal's box on ``viewer``'s canvas."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    if overlays is None:
        return
    if PROPOSAL_OVERLAY not in overlays:
        overlays[PROPOSAL_OVERLAY] = TextOverlay(
            text="", position="top_right", font_size=11, box=True, visible=False
        )
    overlay = overlays[PROPOSAL_OVERLAY]
    text = overlay_text(numbers, flags)
    # napari 0.9 sizes the box about a tenth of a line short per line, which left the last
    # flag outside it (red on the liver): a blank last line makes the box reach below it
    overlay.text = f"{text}\n " if text else ""
    overlay.color = FLAGGED_COLOUR if flags else SOUND_COLOUR
    overlay.visible = bool(text)
