"""A faint dark result that is the partial-volume ramp of the liver round a cleft of fat inside
it, read through the slices: flagged (issue 11, w36-fissure).

What the image shows. IRCADb patient 1 (fresh seed 30's no-tumour click (96, 206, 250) on
"original", "noise 15 HU", "hyper" and "necrotic core"): a click in plain liver, 95-98 % inside
the expert's liver and 27.6 mm from the nearest tumour, grew a region on Im 91-98 (1,479-1,858
voxels, 101 / 99 HU against a liver of 112-115, contrast -19 / -21 HU, just past the
low-contrast limit) and came back 20.0 / 19.2 mm with no flag. A fat-filled fissure lies inside
the liver's outline beside a portal branch on Im 88-92 (fat under 40 HU, 5 % of it in the
expert's liver) and runs on as a thin dark cleft towards the liver's lower surface on Im 93-99.
The region wraps the fissure's tip on Im 91-93 (1.8-3 mm from the fat) and is the faint patch
along the cleft beyond it on Im 94-98: partial volume of the cleft's fat in heterogeneous
parenchyma, not a lesion.

Why :mod:`.ngd_edgeband` and :mod:`.surface_sheet` missed it. Both read the region against the
tissue darker than it beyond, on each slice and in plane: on the widest slices (95-97) the
fissure's fat lies above, not beside, and the only dark tissue in plane is the liver's outer
surface 10 mm off (21 % of the region within 3 mm of it, Spearman 0.22: no band). Read through
the slices (3-D distances in mm from the same darker tissue, looked for within the same 12 mm
in every direction) the region is the band round the cleft: 36-44 % of it within 3 mm of the
darker tissue, its value rising with the distance from it (Spearman 0.41-0.43), and no core at
its own value: its farthest quarter reads 107.8 / 106.7 HU, 0.68-0.70 of the way from its own
value to the threshold (ngd_edgeband asks 0.5).

What tells it from a lesion touching a fissure: the core. A lesion beside fat has a plateau at
its own value away from the fat; its farthest quarter reads near its value, not near the
threshold. So a result by value (not texture) darker than the liver by less than
ngd_edgeband's faint limit (30 HU), that no other flag warns of, is flagged (:data:`FLAG`) when,
read through the slices, at least :data:`~.ngd_edgeband.NEAR_SHARE` of it lies within 3 mm of
the darker tissue, its value rises with the distance (Spearman >= :data:`MIN_RHO_3D`) and its
farthest quarter reads at least :data:`CORE_SHARE_3D` of the way from its value to the
threshold. Only a flag, on the final result: the outline, the diameter and every other rule's
path are kept. The gate does the protecting as much as the tests: without it, 19 census results
pass the three tests, six of them right (05 and 07 beside fat, contrast -43 to -50 HU), the
others misses, texture results or results flagged already; within it, the only tumour result
that reached the rule (03 on "noise 30 HU", contrast -29.6 HU, a miss 19.5 mm for 23.2) read
near 0.34, rho 0.57 and a farthest quarter 0.596 of the way, 0.004 under
:data:`CORE_SHARE_3D`: a faint lesion beside fat can read as a band, and this is only a flag
for that reason.

Evidence (w36-fissure). Seed 30 in full, and the tumour results seeds 29, 27, 28 and 9 returned
unflagged (the only ones a flag on the final unflagged result can change: 87, 75, 91, 98
re-measured, identical): the target's four results are the only ones that reach the rule. Census
of every tumour (10 random clicks, all 11 variants, noise seeds 3 and 6, 1,507 measured): one
result reaches it (above), none is flagged. About 10 ms for a result it reads (a faint dark
unflagged one); nothing for the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.measurement.ngd_edgeband import NEAR_SHARE, edge_ramp_3d, flag_faint_band

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

__all__ = ["CORE_SHARE_3D", "ENABLED", "FLAG", "MIN_RHO_3D", "cleft_ramp", "flag_cleft"]

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
MIN_RHO_3D = 0.35
"""The region's value rises with its 3-D distance from the darker tissue at least this
consistently (Spearman; the case 0.41-0.43)."""
CORE_SHARE_3D = 0.6
"""Its farthest quarter (by 3-D distance) reads at least this share of the way from its value to
the threshold (the case 0.68-0.70): no core at the lesion's own value."""
FLAG = (
    "a faint dark band round darker tissue inside or beside the liver (a fissure or fold of "
    "fat?): read through the slices its value rises from {outer:.0f} HU next to that tissue to "
    "{inner:.0f} HU (threshold {thr:.0f} HU) with no core at its own {lesion:.0f} HU; partial "
    "volume rather than a lesion? check it on the slices above and below"
)


def cleft_ramp(
    volume: CTVolume, m: LesionMeasurement, band_min_hu: float
) -> dict[str, float] | None:
    """:func:`.ngd_edgeband.edge_ramp_3d`'s numbers, with ``core`` (the farthest quarter's share
    of the way from the region's value to the threshold), when ``m``'s region is a band round the
    darker tissue through the slices with no core at its own value (the tests of the module
    docstring, without its gates); else None. ``band_min_hu``: segment's LIVER_BAND_MIN_HU."""
    e = m.evidence
    r = edge_ramp_3d(volume, m, max(band_min_hu, abs(float(e.contrast_hu)) / 2.0))
    if r is None:
        return None
    lesion, thr = float(e.lesion_hu), float(e.threshold_hu)
    core = (r["inner"] - lesion) / (thr - lesion) if thr != lesion else 0.0
    r = {**r, "core": core}
    if r["near"] < NEAR_SHARE or not r["rho"] >= MIN_RHO_3D or core < CORE_SHARE_3D:
        return None
    return r


def flag_cleft(
    volume: CTVolume,
    m: LesionMeasurement,
    low_contrast_hu: float,
    band_min_hu: float,
) -> LesionMeasurement:
    """``m`` with :data:`FLAG` added when it is an otherwise unflagged faint dark result by value
    that is the band round darker tissue read through the slices (module docstring;
    ``low_contrast_hu`` and ``band_min_hu`` are segment's LOW_CONTRAST_HU and
    LIVER_BAND_MIN_HU); else ``m``."""
    e = m.evidence
    return flag_faint_band(
        volume,
        m,
        enabled=ENABLED,
        low_contrast_hu=low_contrast_hu,
        band_min_hu=band_min_hu,
        read=cleft_ramp,
        note=lambda r: FLAG.format(
            outer=r["outer"],
            inner=r["inner"],
            thr=float(e.threshold_hu),
            lesion=float(e.lesion_hu),
        ),
    )
