"""A simple abdominal cross-section at the level of the liver hilum, and its enhancement per phase.

Coordinates are LPS millimetres relative to the centre of the scanned slab (patient left = +L,
posterior = +P, superior = +S). The patient lies supine, head first: on an axial image the
liver (patient right) is on the image's left, the spine at the bottom.

Attenuation values (HU) per contrast phase are typical published values for a late-arterial /
portal-venous / 3-minute delayed liver protocol at 120 kVp (e.g. LI-RADS CT technique and
Bae, Radiology 2010;256:32-61): aorta ~300 HU in the late arterial phase, ~160 portal venous,
~115 delayed; portal vein peaking in the portal venous phase; liver parenchyma ~55 unenhanced,
~75 arterial, ~110 portal venous, ~97 delayed; viable HCC hyper-enhancing in the arterial phase
(~145) and washing out (~85 portal venous, ~72 delayed); necrosis ~20 in every phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lesion_tool.synth.names import PHASES
from lesion_tool.synth.shapes import Ellipsoid, SliceGrid, approx_fraction

ENHANCEMENTS: tuple[str, ...] = (*PHASES, "early_arterial")
"""Columns of :data:`HU`: the phases (``arterial`` is late arterial, ~35 s) and the early
arterial phase (~20 s: aorta brightest, portal vein and liver barely enhanced)."""

# HU per tissue: (non_contrast, arterial, portal_venous, delayed, early_arterial)
HU: dict[str, tuple[float, float, float, float, float]] = {
    "air": (-1000, -1000, -1000, -1000, -1000),
    "fat": (-100, -100, -100, -100, -100),
    "visceral_fat": (-85, -85, -85, -85, -85),
    "muscle": (50, 58, 62, 60, 53),
    "liver": (55, 75, 110, 97, 62),
    "portal_vein": (40, 135, 180, 115, 65),
    "aorta": (40, 300, 160, 115, 360),
    "ivc": (40, 80, 150, 115, 42),
    "spleen": (48, 115, 120, 105, 95),
    "kidney": (32, 170, 165, 125, 190),
    "gallbladder": (8, 8, 8, 8, 8),
    "bone": (260, 262, 265, 265, 261),
    "cortical_bone": (700, 700, 700, 700, 700),
    "csf": (15, 15, 15, 15, 15),
    "viable": (45, 145, 85, 72, 115),
    "necrosis": (22, 22, 23, 23, 22),
}


def hu(tissue: str, enhancement: str) -> float:
    """Mean HU of ``tissue`` in ``enhancement`` (one of :data:`ENHANCEMENTS`)."""
    return float(HU[tissue][ENHANCEMENTS.index(enhancement)])


BODY_SCALE = 0.9
"""In-plane scale of the anatomy below (1.0 = a 280 x 212 mm abdomen); 0.9 fits a 256 mm FOV."""


def _organ(
    centre: tuple[float, float, float], semi: tuple[float, float, float], yaw_deg: float = 0.0
) -> Ellipsoid:
    """An ellipsoid whose in-plane centre and semi-axes are scaled by :data:`BODY_SCALE`."""
    k = BODY_SCALE
    return Ellipsoid.make(
        (centre[0] * k, centre[1] * k, centre[2]),
        (semi[0] * k, semi[1] * k, semi[2]),
        yaw_deg=yaw_deg,
    )


CAVITY = _organ((0, 0, 0), (121, 86, 1e4))
RIGHT_LOBE = _organ((-58, -8, 5), (57, 68, 150))
LEFT_LOBE = _organ((8, -48, 10), (50, 25, 110), yaw_deg=-8)
LIVER_PARTS = (RIGHT_LOBE, LEFT_LOBE)

# (name, tissue, ellipsoid, clip_to_cavity), painted in this order (later ones on top).
LAYERS: tuple[tuple[str, str, Ellipsoid, bool], ...] = (
    ("body", "fat", _organ((0, 0, 0), (140, 106, 1e4)), False),
    ("wall", "muscle", _organ((0, 0, 0), (129, 94, 1e4)), False),
    ("cavity", "visceral_fat", CAVITY, False),
    ("paraspinal_r", "muscle", _organ((-36, 84, 0), (24, 16, 1e4)), False),
    ("paraspinal_l", "muscle", _organ((36, 84, 0), (24, 16, 1e4)), False),
    ("psoas_r", "muscle", _organ((-34, 52, -40), (13, 12, 45)), True),
    ("psoas_l", "muscle", _organ((34, 52, -40), (13, 12, 45)), True),
    ("right_lobe", "liver", RIGHT_LOBE, True),
    ("left_lobe", "liver", LEFT_LOBE, True),
    ("gallbladder", "gallbladder", _organ((-30, -58, -30), (13, 19, 30), yaw_deg=25), True),
    ("spleen", "spleen", _organ((82, 38, 25), (22, 46, 60), yaw_deg=-35), True),
    ("kidney_r", "kidney", _organ((-64, 58, -38), (22, 30, 50), yaw_deg=25), True),
    ("kidney_l", "kidney", _organ((64, 56, -30), (22, 30, 50), yaw_deg=-25), True),
    ("ivc", "ivc", _organ((-21, 26, 0), (13, 10, 1e4)), False),
    ("aorta", "aorta", _organ((14, 28, 0), (11.5, 11.5, 1e4)), False),
    ("portal_vein", "portal_vein", _organ((-26, -4, 5), (13, 8, 45), yaw_deg=-30), False),
    ("vertebral_cortex", "cortical_bone", _organ((0, 58, 0), (20, 18, 1e4)), False),
    ("vertebral_body", "bone", _organ((0, 58, 0), (18, 16, 1e4)), False),
    ("lamina", "cortical_bone", _organ((0, 88, 0), (16, 9, 1e4)), False),
    ("spinal_canal", "csf", _organ((0, 82, 0), (8, 7, 1e4)), False),
)

AVOID = tuple(
    shape
    for name, _, shape, _ in LAYERS
    if name in {"gallbladder", "kidney_r", "kidney_l", "ivc", "aorta", "portal_vein", "spleen"}
)
"""Structures a liver lesion must keep clear of."""

# Couinaud segment -> (L, P) centre in mm and a superior (+1) / inferior (-1) / middle (0) level.
SEGMENTS: dict[str, tuple[float, float, int]] = {
    name: (x * BODY_SCALE, y * BODY_SCALE, level)
    for name, (x, y, level) in {
        "S1": (-8.0, 8.0, 0),
        "S2": (22.0, -50.0, 1),
        "S3": (22.0, -52.0, -1),
        "S4": (-14.0, -42.0, 0),
        "S5": (-52.0, -38.0, -1),
        "S6": (-82.0, 20.0, -1),
        "S7": (-80.0, 22.0, 1),
        "S8": (-50.0, -30.0, 1),
    }.items()
}


def in_liver(points: np.ndarray, margin_mm: float = 0.0) -> np.ndarray:
    """Whether LPS points ``(..., 3)`` (slab-relative) lie inside the liver, ``margin_mm`` deep."""
    inside = np.zeros(points.shape[:-1], dtype=bool)
    for part in LIVER_PARTS:
        inside |= part.contains(points, margin_mm=-margin_mm)
    inside &= CAVITY.contains(points, margin_mm=-margin_mm)
    return inside


def clear_of_organs(points: np.ndarray, margin_mm: float = 0.0) -> np.ndarray:
    """Whether LPS points ``(..., 3)`` keep ``margin_mm`` away from the vessels and other organs."""
    clear = np.ones(points.shape[:-1], dtype=bool)
    for shape in AVOID:
        clear &= ~shape.contains(points, margin_mm=margin_mm)
    return clear


@dataclass(frozen=True, eq=False)
class AnatomyLayers:
    """The anatomy's partial-volume fractions on one grid, ready to be painted in any phase."""

    shape: tuple[int, int, int]
    layers: tuple[tuple[str, tuple[slice, slice, slice], np.ndarray], ...]

    def paint(self, phase: str) -> np.ndarray:
        """Noise-free HU image ``(z, y, x)`` float32 of the anatomy in ``phase`` (one of
        :data:`ENHANCEMENTS`)."""
        image = np.full(self.shape, hu("air", phase), dtype=np.float32)
        for tissue, box, frac in self.layers:
            sub = image[box]
            sub += frac * (np.float32(hu(tissue, phase)) - sub)
        return image


def build_anatomy(grid: SliceGrid, slab_centre_lps: np.ndarray) -> AnatomyLayers:
    """Rasterise the anatomy (shifted to ``slab_centre_lps``) on ``grid``."""
    cavity = approx_fraction(grid, _shift(CAVITY, slab_centre_lps))
    layers = []
    for _, tissue, shape, clip in LAYERS:
        res = approx_fraction(grid, _shift(shape, slab_centre_lps))
        if res is None:
            continue
        box, frac = res
        if clip and cavity is not None:
            frac = frac * _crop(cavity, box)
        layers.append((tissue, box, frac))
    return AnatomyLayers(grid.shape, tuple(layers))


def _shift(shape: Ellipsoid, offset: np.ndarray) -> Ellipsoid:
    return Ellipsoid(shape.centre + offset, shape.semi_mm, shape.rot)


def _crop(
    full: tuple[tuple[slice, slice, slice], np.ndarray], box: tuple[slice, slice, slice]
) -> np.ndarray:
    """The part of a boxed fraction array covering ``box`` (zero outside its own box)."""
    fbox, frac = full
    out = np.zeros(tuple(s.stop - s.start for s in box), dtype=np.float32)
    src = []
    dst = []
    for fs, bs in zip(fbox, box, strict=True):
        lo, hi = max(fs.start, bs.start), min(fs.stop, bs.stop)
        if lo >= hi:
            return out
        src.append(slice(lo - fs.start, hi - fs.start))
        dst.append(slice(lo - bs.start, hi - bs.start))
    out[tuple(dst)] = frac[tuple(src)]
    return out
