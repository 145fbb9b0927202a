"""A faint dark result that is a band of liver along its own edge: partial volume, not a lesion
(issue 11, w25-ngd).

What the image shows. IRCADb patient 1 made arterial (stress variants "hyper" and "necrotic
core", 1.6 mm slices, held-out seed 13, probed for this click only): a no-tumour click at voxel
(113, 230, 322) on the liver's posterior-lower edge two to three slices under the dome grew a
region of 18.7 mm over slices 110-116 (mean 101 HU against the liver's 121, noise SD 6, liver
share of its surroundings 0.52) with no flag: its contrast (-20 HU) is just past the low-contrast
flag's limit (15 HU and 3 noise SDs, 18 HU), its surroundings just above the "only N % look like
liver" limit (50 %). By the expert masks it is 94-100 % liver, no tumour and no vessel. Every one
of its voxels lies within 10 mm of the liver's edge (median 3-4 mm). Across the edge the smoothed
image falls from the liver's 115-130 HU through 105-95 HU over 4-6 mm to 40-70 HU soft tissue
(slices 110-113: crus, stomach wall) or to the lung (slices 114-118: -100 to -900 HU): the liver
surface there runs obliquely through the 1.6 mm slices under the dome and each slice averages
the thin liver with what lies beyond it. Read from the dark tissue beyond (smoothed below the
region's value minus the liver band, 83 HU) inwards, the region's value rises with the distance
(Spearman 0.72): its quarter nearest the dark tissue reads 92 HU, its quarter farthest from it
107 HU, four HU under the threshold (111 HU): the region is the partial-volume ramp from the
dark neighbour up to the liver, cut at the threshold. It has no core at its own value.

Why it holds on real images. The liver's surface is oblique to axial slices wherever it curves
(the dome, the posterior and inferior edges): the band of liver along it reads between the
liver and the lung, fat or muscle beyond, by an amount that grows towards the surface. A lesion
at the surface (IRCADb 01 against the abdominal wall, 02 beside bowel, 06 at the dome) has a
plateau of its own value inside, with a step up to the liver on its deep side: its part farthest
from the dark neighbour reads at the lesion's value, not at the threshold.

So a result by value (not texture) darker than the liver by less than twice the low-contrast
limit (:data:`FAINT_FACTOR` x segment's LOW_CONTRAST_HU), that no other flag warns of, is
flagged (:data:`FLAG`) when, the dark tissue beyond it being what reads darker than the region
by the liver band (segment's LIVER_BAND_MIN_HU or half the contrast), at least
:data:`NEAR_SHARE` of it lies within :data:`NEAR_MM` of that tissue, its value rises with the
distance from it (Spearman's rho >= :data:`MIN_RHO`), and its farthest quarter reads at least
:data:`CORE_SHARE` of the way from the region's value to the threshold (no core at the lesion's
value). Only a flag: the outline and the diameter are kept.

Every phase (w26-ngp). The rule was first written for arterial images only, leaving portal-venous
images to the low-contrast flag: the same click on "original" and "noise 15 HU" is flagged low
contrast there (108 HU against 122, 13 HU). On the noisier portal-venous variants ("noise 25 HU",
"noise 30 HU", held-out seed 14, probed for this click only; no tumour prompt looked at) the
same band, at voxel (113, 218, 316), 12 pixels from seed 13's click, came back 24.0 / 23.4 mm
with no flag at all: added noise, cut at the threshold, reads the region darker and its shell
brighter (105 against 124 HU, contrast -18.5 / -19.7 HU, just past the 15 HU and 3-noise-SD
limits). The ramp is the same (near 0.31 / 0.35, rho 0.69 / 0.68, farthest quarter 111 / 110 HU
for a 115 HU threshold), so the test reads the band whatever the phase. A faint hypo-attenuating
lesion at the surface on a portal-venous image has a core at its own value (the tumours at the
edge, 01, 02 and 06, clicked at their deepest point: no band), so it is not flagged by this.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from scipy.stats import spearmanr

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

__all__ = [
    "ENABLED",
    "FLAG",
    "beyond_sections",
    "edge_band",
    "edge_ramp",
    "edge_ramp_3d",
    "faint_dark_unflagged",
    "flag_edge_band",
]

ENABLED = True
"""Module switch."""
FAINT_FACTOR = 2.0
"""Only regions darker than the liver by less than this many LOW_CONTRAST_HU (30 HU): a faint
dark region. IRCADb's hypo-attenuating tumours read 40-70 HU under the liver."""
PAD_MM = 12.0
"""The dark tissue beyond is looked for within this of the region's box, in plane."""
NEAR_MM = 3.0
NEAR_SHARE = 0.25
"""At least this share of the region within NEAR_MM of the dark tissue beyond (the band touches
its neighbour along its length; seed 13's click: 43 %)."""
MIN_RHO = 0.5
"""The region's value rises with the distance from the dark tissue at least this consistently
(Spearman; seed 13's click: 0.72)."""
CORE_SHARE = 0.5
"""Its farthest quarter reads at least this share of the way from its value up to the threshold
(seed 13's click: 0.6, 107 HU between 101 and 111): no core at the lesion's own value."""
FLAG = (
    "a faint dark band along the liver's edge: its value rises from {outer:.0f} HU next to the "
    "darker tissue beyond to {inner:.0f} HU (threshold {thr:.0f} HU) with no core at its own "
    "{lesion:.0f} HU; partial volume of the liver's surface with the tissue beyond rather than a "
    "lesion? check it on the slices above and below"
)


def beyond_sections(
    volume: CTVolume, m: LesionMeasurement, band_hu: float, slices: Iterable[int] | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """For each of ``m``'s slices (``slices``, region-relative; default every slice it is on)
    where tissue darker than the region by ``band_hu`` or more lies within :data:`PAD_MM` of its
    box: the slice index, the slice smoothed as the delineation smooths, the region and that
    darker tissue (``beyond``), on the padded in-plane box. Shared by :func:`edge_ramp` and
    :func:`.surface_sheet.across_along`, so both read the same tissue beyond."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    sp = tuple(float(s) for s in volume.spacing_mm)
    dark = float(m.evidence.lesion_hu) - band_hu
    oz, oy, ox = m.offset
    _, ny, nx = m.mask.shape
    py, px = int(np.ceil(PAD_MM / sp[1])), int(np.ceil(PAD_MM / sp[2]))
    y0, x0 = max(oy - py, 0), max(ox - px, 0)
    y1 = min(oy + ny + py, volume.shape[1])
    x1 = min(ox + nx + px, volume.shape[2])
    if slices is None:
        slices = np.nonzero(m.mask.any(axis=(1, 2)))[0]
    for k in slices:
        raw = np.asarray(volume.array[oz + k, y0:y1, x0:x1], dtype=np.float32)
        sm = ndimage.gaussian_filter(raw, (SMOOTH_SIGMA_MM / sp[1], SMOOTH_SIGMA_MM / sp[2]))
        reg = np.zeros(sm.shape, dtype=bool)
        reg[oy - y0 : oy - y0 + ny, ox - x0 : ox - x0 + nx] = m.mask[k]
        beyond = (sm < dark) & ~reg
        if beyond.any():
            yield int(k), sm, reg, beyond


def edge_ramp(volume: CTVolume, m: LesionMeasurement, band_hu: float) -> dict[str, float] | None:
    """How ``m``'s region relates to the tissue darker than it by ``band_hu`` or more around it
    (smoothed as the delineation smooths): the share within :data:`NEAR_MM` of it (``near``),
    Spearman's rho of value against distance (``rho``), the median smoothed value of the
    farthest (``inner``) and nearest (``outer``) quarters, and the 90th percentile of the
    distance in mm (``d90``: how deep the region reaches from that tissue; read by
    :mod:`.surface_sheet`). The distance is in-plane, on each slice. None without such tissue
    nearby."""
    sp = tuple(float(s) for s in volume.spacing_mm)
    dists, values = [], []
    for _, sm, reg, beyond in beyond_sections(volume, m, band_hu):
        dists.append(ndimage.distance_transform_edt(~beyond, sampling=sp[1:])[reg])
        values.append(sm[reg])
    if not dists:
        return None
    return _ramp(np.concatenate(dists), np.concatenate(values))


def edge_ramp_3d(volume: CTVolume, m: LesionMeasurement, band_hu: float) -> dict[str, float] | None:
    """:func:`edge_ramp`'s numbers with the distance from the darker tissue measured through
    the slices (3-D, in mm): the same tissue (each slice smoothed as the delineation smooths,
    darker than the region by ``band_hu``), looked for within :data:`PAD_MM` of the region's box
    in every direction, so a fold or cleft of fat above or below the region counts as it does
    beside it (read by :mod:`.cleft_band`). None without such tissue nearby."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    sp = tuple(float(s) for s in volume.spacing_mm)
    lo = [max(o - int(np.ceil(PAD_MM / s)), 0) for o, s in zip(m.offset, sp, strict=True)]
    hi = [
        min(o + n + int(np.ceil(PAD_MM / s)), size)
        for o, n, s, size in zip(m.offset, m.mask.shape, sp, volume.shape, strict=True)
    ]
    raw = np.asarray(volume.array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], dtype=np.float32)
    sm = ndimage.gaussian_filter(raw, (0.0, SMOOTH_SIGMA_MM / sp[1], SMOOTH_SIGMA_MM / sp[2]))
    reg = np.zeros(sm.shape, dtype=bool)
    o = [a - b for a, b in zip(m.offset, lo, strict=True)]
    nz, ny, nx = m.mask.shape
    reg[o[0] : o[0] + nz, o[1] : o[1] + ny, o[2] : o[2] + nx] = m.mask
    beyond = (sm < float(m.evidence.lesion_hu) - band_hu) & ~reg
    if not beyond.any():
        return None
    d = ndimage.distance_transform_edt(~beyond, sampling=sp)[reg]
    return _ramp(d, sm[reg])


def _ramp(d: np.ndarray, v: np.ndarray) -> dict[str, float] | None:
    """:func:`edge_ramp`'s numbers from the region's voxels' distances ``d`` (mm) from the
    darker tissue and their smoothed values ``v`` (HU); None for too few or equal distances."""
    if d.size < 8 or np.ptp(d) == 0.0:
        return None
    lo, hi = np.percentile(d, (25, 75))
    return {
        "near": float((d <= NEAR_MM).mean()),
        "rho": float(spearmanr(d, v).statistic),
        "inner": float(np.median(v[d >= hi])),
        "outer": float(np.median(v[d <= lo])),
        "d90": float(np.percentile(d, 90)),
    }


def faint_dark_unflagged(m: LesionMeasurement, low_contrast_hu: float) -> bool:
    """Whether ``m`` is a result no flag warns of, found by value (not texture), darker than the
    liver by less than :data:`FAINT_FACTOR` x ``low_contrast_hu``: the results this module and
    :mod:`.surface_sheet` and :mod:`.cleft_band` read (through :func:`flag_faint_band`)."""
    e = m.evidence
    return (
        not m.flags
        and e.texture_sd_hu is None
        and -FAINT_FACTOR * low_contrast_hu < float(e.contrast_hu) < 0.0
    )


def flag_edge_band(
    volume: CTVolume,
    m: LesionMeasurement,
    low_contrast_hu: float,
    band_min_hu: float,
) -> LesionMeasurement:
    """``m`` with :data:`FLAG` added when it is an unflagged faint
    dark result by value that is the partial-volume ramp of the liver along its edge (module
    docstring; ``low_contrast_hu`` and ``band_min_hu`` are segment's LOW_CONTRAST_HU and
    LIVER_BAND_MIN_HU); else ``m``."""
    e = m.evidence
    return flag_faint_band(
        volume,
        m,
        enabled=ENABLED,
        low_contrast_hu=low_contrast_hu,
        band_min_hu=band_min_hu,
        read=edge_band,
        note=lambda r: FLAG.format(
            outer=r["outer"],
            inner=r["inner"],
            thr=float(e.threshold_hu),
            lesion=float(e.lesion_hu),
        ),
    )


def flag_faint_band(
    volume: CTVolume,
    m: LesionMeasurement,
    *,
    enabled: bool,
    low_contrast_hu: float,
    band_min_hu: float,
    read: Callable[[CTVolume, LesionMeasurement, float], dict[str, float] | None],
    note: Callable[[dict[str, float]], str],
) -> LesionMeasurement:
    """``m`` with ``note(r)`` added when the rule is ``enabled``, ``m`` passes
    :func:`faint_dark_unflagged` and ``read(volume, m, band_min_hu)`` finds the band (its numbers
    ``r``); else ``m``. The one shape of this module's, :mod:`.surface_sheet`'s and
    :mod:`.cleft_band`'s flags, which differ only in how they read the band and word it."""
    if not enabled or not m.mask.any() or not faint_dark_unflagged(m, low_contrast_hu):
        return m
    r = read(volume, m, band_min_hu)
    if r is None:
        return m
    return replace(m, flags=(*m.flags, note(r)))


def edge_band(
    volume: CTVolume, m: LesionMeasurement, band_min_hu: float
) -> dict[str, float] | None:
    """:func:`edge_ramp`'s numbers when ``m``'s region is a band along the dark tissue beyond it
    whose value rises from it to near the threshold with no core at its own value (the tests of
    the module docstring, without its gates: phase, flags, contrast); else None."""
    e = m.evidence
    r = edge_ramp(volume, m, max(band_min_hu, abs(float(e.contrast_hu)) / 2.0))
    if r is None or r["near"] < NEAR_SHARE or not r["rho"] >= MIN_RHO:
        return None
    lesion, thr = float(e.lesion_hu), float(e.threshold_hu)
    if r["inner"] < lesion + CORE_SHARE * (thr - lesion):
        return None
    return r
