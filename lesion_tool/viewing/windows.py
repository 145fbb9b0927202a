"""CT display windows (level / width in HU) and the free window / level of a mouse drag.

Presets follow the usual radiology settings (e.g. Radiopaedia "Windowing (CT)"):

- ``abdomen`` W 400 / L 40, the soft-tissue window abdominal CT is read and measured in. It is the
  default: a contrast-enhanced liver (about 100-130 HU in portal-venous phase, 105 HU on HCC_006)
  sits at about 65 % grey, so neither the liver nor a hyper-enhancing nodule is washed out, and
  every timepoint opens with the same window (comparison between scans needs that).
- ``liver`` W 200 / L 100, a narrow window centred on *enhanced* parenchyma for lesion
  conspicuity (0-200 HU: hypodense tumour about 60 HU is dark grey, arterial enhancement about
  180 HU is near white). The former L 60 / W 150 (-15-135 HU) put a 105 HU liver at 80 % grey.
- ``bone`` W 1800 / L 400, ``lung`` W 1500 / L -600.
- ``series``: the series' own WindowCenter / WindowWidth from its DICOM header, when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A display window: ``level`` (centre) and ``width`` in HU."""

    level: float
    width: float

    @property
    def limits(self) -> tuple[float, float]:
        """Contrast limits ``(low, high)`` in HU (napari's ``contrast_limits``)."""
        return (self.level - self.width / 2.0, self.level + self.width / 2.0)

    @classmethod
    def from_limits(cls, low: float, high: float) -> Window:
        """The window whose contrast limits are ``(low, high)``."""
        return cls((float(low) + float(high)) / 2.0, float(high) - float(low))

    def label(self) -> str:
        """``"W 400 L 40"``, as PACS shows it."""
        return f"W {self.width:.0f} L {self.level:.0f}"


PRESETS: dict[str, Window] = {
    "abdomen": Window(40.0, 400.0),
    "liver": Window(100.0, 200.0),
    "bone": Window(400.0, 1800.0),
    "lung": Window(-600.0, 1500.0),
}
"""Named windows (see the module docstring for the choice of values)."""

DEFAULT_WINDOW = "abdomen"

MIN_WIDTH = 1.0
"""Narrowest window a drag or a typed value may set (DICOM requires width >= 1)."""
HU_PER_PIXEL = 2.0
"""Window change per screen pixel of a drag (a 200 px drag changes the width by 400 HU)."""


def drag_window(start: Window, dx: float, dy: float, gain: float = HU_PER_PIXEL) -> Window:
    """The window after a drag of ``(dx, dy)`` screen pixels from ``start``.

    Horizontal is width (rightwards widens), vertical is level (downwards raises the level,
    so the image darkens as in most PACS). The width never falls below :data:`MIN_WIDTH`.
    """
    width = max(MIN_WIDTH, start.width + gain * float(dx))
    return Window(start.level + gain * float(dy), width)


def series_window(center: float | None, width: float | None) -> Window | None:
    """The series' own window from its WindowCenter / WindowWidth, or None if unusable.

    A width of 0 or less (IRCADb stores 0 / 0) or a missing value is not a window.
    """
    if center is None or width is None or not width > 0:
        return None
    return Window(float(center), float(width))
