"""A faint dark band of liver along its own edge is flagged, not taken for a lesion (issue 11,
w25-ngd, ``ngd_edgeband.py``; every phase since w26-ngp).

IRCADb patient 1 made arterial (stress variants "hyper" and "necrotic core": no slabs, no noise,
the same image whatever the seed): a no-tumour click at voxel (113, 230, 322), on the liver's
posterior-lower edge two to three slices under the dome, grew an 18.7 mm region (slices
110-116, 101 HU against the liver's 121) with no flag. By the expert masks it is liver along the
edge, no tumour, no vessel: the partial-volume ramp of the oblique surface. Tumours at the
liver's edge (01 against the abdominal wall, 02, 06 at the dome) have a core at their own value
and are no such band.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import cleft_band as cb
from lesion_tool.measurement import ngd_edgeband as ngd
from lesion_tool.measurement import surface_sheet as ss
from lesion_tool.measurement.raster import deepest_pixel
from lesion_tool.measurement.segment import LIVER_BAND_MIN_HU

EDGE = (113, 230, 322)
"""The no-tumour click on the liver's edge under the dome."""
PREFIX = ngd.FLAG.split("{")[0]


@pytest.mark.parametrize("enhance", ["hyper", "necrotic"])
def test_a_band_along_the_liver_edge_is_flagged(ircadb_arterial, ircadb, enhance, monkeypatch):
    vol, masks, _ = ircadb_arterial(enhance)
    liver = ircadb.liver
    assert liver[EDGE] and not any(t[EDGE] for t in masks)
    m = measure_lesion(vol, LesionPrompt(seed=EDGE), phase="arterial")
    region = m.full_mask(vol.shape)
    # The region is liver (expert mask), no tumour: not a lesion.
    assert liver[region].mean() >= 0.9
    assert sum(int((t & region).sum()) for t in masks) == 0
    # ... and lies along the liver's edge: its voxels within 10 mm of the expert liver's border.
    from scipy import ndimage

    zs = np.nonzero(region.any(axis=(1, 2)))[0]
    for z in zs:
        d = ndimage.distance_transform_edt(liver[z], sampling=vol.spacing_mm[1:])
        assert d[region[z]].max() <= 10.0
    band = [f for f in m.flags if f.startswith(PREFIX)]
    assert band, m.flags
    r = ngd.edge_band(vol, m, LIVER_BAND_MIN_HU)
    assert r is not None and r["rho"] >= 0.6 and r["inner"] - r["outer"] >= 10.0
    # Switched off: the same region, no flag at all (surface_sheet, which reads the same band
    # as a sheet along the surface, 6.8 mm deep for 18.7 mm, and cleft_band, which reads it
    # as a band through the slices too, switched off as well).
    monkeypatch.setattr(ngd, "ENABLED", False)
    monkeypatch.setattr(ss, "ENABLED", False)
    monkeypatch.setattr(cb, "ENABLED", False)
    off = measure_lesion(vol, LesionPrompt(seed=EDGE), phase="arterial")
    assert off.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert not off.flags


def test_the_band_is_read_on_the_portal_venous_image_too(ircadb) -> None:
    """The same click on the original (portal-venous) CT: the band is read there too, and the
    result bare of its other flags gets the flag. There the low-contrast flag covers it; on the
    noisier portal variants of held-out seed 14 (noise 25 / 30 HU) the same band 12 pixels away
    (voxel (113, 218, 316)) came back with no flag at all: the arterial-only gate let it through."""
    vol = ircadb.image
    assert ircadb.liver[EDGE] and not any(t[EDGE] for t in ircadb.tumours)
    m = measure_lesion(vol, LesionPrompt(seed=EDGE), phase="portal-venous")
    region = m.full_mask(vol.shape)
    assert ircadb.liver[region].mean() >= 0.9
    assert sum(int((t & region).sum()) for t in ircadb.tumours) == 0
    r = ngd.edge_band(vol, m, LIVER_BAND_MIN_HU)
    assert r is not None and r["rho"] >= 0.6 and r["inner"] - r["outer"] >= 10.0
    bare = replace(m, flags=())
    flagged = ngd.flag_edge_band(vol, bare, 15.0, LIVER_BAND_MIN_HU)
    assert any(f.startswith(PREFIX) for f in flagged.flags), flagged.flags


@pytest.mark.parametrize("k", [0, 1, 5], ids=["01", "02", "06"])
def test_tumours_at_the_liver_edge_are_no_band(ircadb, k) -> None:
    """On the original CT (hypo-attenuating tumours), clicked at their deepest point: the ramp
    test itself (no gate on phase, flags or contrast) finds a core at the lesion's own value."""
    t = ircadb.tumours[k]
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(t))
    p = deepest_pixel(t[box], ircadb.image.spacing_mm)
    click = tuple(int(a.start + b) for a, b in zip(box, p, strict=True))
    m = measure_lesion(ircadb.image, LesionPrompt(seed=click), phase="portal-venous")
    assert m.full_mask(ircadb.image.shape)[t].sum() > 0
    assert ngd.edge_band(ircadb.image, m, LIVER_BAND_MIN_HU) is None
    # And with its flags cleared, the rule leaves it alone.
    bare = replace(m, flags=())
    assert ngd.flag_edge_band(ircadb.image, bare, 15.0, LIVER_BAND_MIN_HU) is bare
