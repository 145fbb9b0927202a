"""A click off the lesion's widest slice, near its end (issue 11, w9-ends).

A click near a lesion's end reads a value diluted towards the liver's, so the region grown from
it stopped a few slices on, short of the lesion's widest slice, flagged "widest on its last
slice". :func:`lesion_tool.measurement.reseed.follow_open_end` clicks again beyond that slice
and keeps the larger region when it is the same lesion. Checked on an analytic sphere whose
border is graded (its value reaches the lesion's over 5 mm, like a tumour's halo: a click 2-3 mm
under its surface reads half the contrast) and on IRCADb patient 1's tumours clicked 2 slices
(3.2 mm) in from each of their ends, against the expert masks.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from lesion_tool.errors import LesionToolError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, end_flatsliver, measure_lesion, reseed, segment
from lesion_tool.measurement.evaluation import expert_tumours, tolerance_mm
from lesion_tool.measurement.masks import mask_from_array

RADIUS_MM = 12.0
GRADE_MM = 5.0
CENTRE = (35, 55, 55)


def _graded_sphere(hu: float) -> CTVolume:
    """A sphere of radius 12 mm whose value goes from the liver's (110 HU) at its surface to
    ``hu`` 5 mm inside, in a liver disk (1 mm slices, 0.7 mm pixels, noise 12 HU)."""
    shape = (70, 110, 110)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    zz, yy, xx = (z - CENTRE[0]) * 1.0, (y - CENTRE[1]) * 0.7, (x - CENTRE[2]) * 0.7
    rr = np.sqrt(zz**2 + yy**2 + xx**2)
    frac = np.clip((RADIUS_MM + 0.5 - rr) / GRADE_MM, 0.0, 1.0)
    liver = np.sqrt(yy**2 + xx**2) <= 36.0
    arr = np.where(liver, 110.0 + frac * (hu - 110.0), -100.0).astype(np.float32)
    arr += np.random.default_rng(0).normal(0.0, 12.0, shape).astype(np.float32)
    return CTVolume(arr, (1.0, 0.7, 0.7), (0.0, 0.0, 0.0))


@pytest.mark.parametrize(("hu", "phase"), [(60.0, "portal-venous"), (170.0, "arterial")])
def test_a_click_near_the_cap_of_a_sphere_is_followed_to_its_equator(
    hu: float, phase: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vol = _graded_sphere(hu)
    middle = measure_lesion(vol, LesionPrompt(seed=CENTRE), phase=phase)
    assert not any("found from the click" in f for f in middle.flags)
    ref = middle.whole.length_mm
    assert ref == pytest.approx(2 * RADIUS_MM, abs=3.0)
    for dz in (-11, -10, 10, 11):  # 1-2 mm under the cap: a section of 9-13 mm
        prompt = LesionPrompt(seed=(CENTRE[0] + dz, CENTRE[1], CENTRE[2]))
        # With every re-click step on, the cap click gives the sphere (on an arterial image a
        # bright cap may instead be re-clicked as a thin piece of a thicker lesion: vesselclick).
        whole = measure_lesion(vol, prompt, phase=phase)
        assert whole.whole.length_mm == pytest.approx(ref, abs=max(3.0, 0.1 * ref))
        # The open-end re-click on its own (vesselclick's piece rule set aside):
        monkeypatch.setattr(segment, "follow_vessel", lambda v, p, ph, first, m: first)
        with monkeypatch.context() as m:
            m.setattr(reseed, "MAX_RESEEDS", 0)
            # ...and the flat-sliver re-click (end_flatsliver.py), which on 1 mm slices
            # re-measures the cap's two-slice region from the next slice.
            m.setattr(end_flatsliver, "ENABLED", False)
            before = measure_lesion(vol, prompt, phase=phase)
        # Without the new click the region stops short of the equator (15-19 mm), flagged.
        assert before.whole.length_mm < 0.85 * ref
        assert any(f.startswith(reseed.OPEN_END_FLAG) for f in before.flags)
        after = measure_lesion(vol, prompt, phase=phase)
        monkeypatch.undo()
        assert after.whole.length_mm == pytest.approx(ref, abs=max(3.0, 0.1 * ref))
        assert after.seed_voxel == prompt.seed
        assert after.flags[0].startswith(f"found from the click on slice {CENTRE[0] + dz}")
        assert after.whole.slice_index is not None
        assert abs(after.whole.slice_index - CENTRE[0]) <= 6


def test_a_line_is_measured_where_it_was_drawn() -> None:
    vol = _graded_sphere(60.0)
    z = CENTRE[0] + 10
    line = ((z, CENTRE[1], CENTRE[2] - 9), (z, CENTRE[1], CENTRE[2] + 9))
    r = measure_lesion(vol, LesionPrompt(line=line), phase="portal-venous")
    assert not any("found from the click" in f for f in r.flags)


def test_ircadb_clicks_near_the_tumours_ends(ircadb) -> None:
    """Each tumour clicked at the deepest point of its expert section 2 slices (3.2 mm) in from
    either end: 13 of 14 within max(3 mm, 10 %) of the expert diameter (7 without the new click:
    tumour 01 from both ends, 47.7 and 58.1 mm for 79.8, now 72.5 and 73.0; 9 before the lesion
    under a cap click was measured, w13-dome05: 04 from its lower end 11.1 -> 16.9 mm for 18.5, 05
    from its upper end 17.4 -> 31.3 for 32.5), and every result more than 30 % off flagged (05
    from its lower end)."""
    image, tumours, _, _ = ircadb
    names = [f"livertumor0{i}" for i in range(1, 8)]
    mvs = [
        mask_from_array(m.astype(np.uint8), image, names={1: n})
        for m, n in zip(tumours, names, strict=True)
    ]
    within = followed = 0
    for t in expert_tumours(mvs, image):
        zs = np.nonzero(t.mask.any(axis=(1, 2)))[0]
        for z in (zs[0] + 2, zs[-1] - 2):
            depth = ndimage.distance_transform_edt(t.mask[z])
            y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
            try:
                r = measure_lesion(
                    image, LesionPrompt(seed=(int(z), int(y), int(x))), phase="portal-venous"
                )
            except LesionToolError:
                continue
            err = abs(r.whole.length_mm - t.diameter_mm)
            within += err <= tolerance_mm(t.diameter_mm)
            followed += any(
                "found from the click" in f or "measured from the same point on" in f
                for f in r.flags
            )
            if err > 0.3 * t.diameter_mm:
                assert r.flags, (t.name, z, r.whole.length_mm)
    assert within >= 12
    # 04 from its upper end (11.1 mm for 18.5, flagged, found from the click) is refused since
    # w16-off30: a region 1.5 times longer lies under its end slice (notwhole.py). 01 from its
    # lower end and 05 from its upper end are still found from the click.
    assert followed >= 2
