"""A click in a vessel comes back refused or flagged, not as a confident lesion (issue 11).

On an arterial-looking image a contrast-filled vessel is as bright as a hyper-enhancing tumour;
grown from a click in its lumen, a region stops after a few slices and looks like a nodule.
:mod:`lesion_tool.measurement.vessel` tests the shape of the bright structure in 3-D at the
region's own scale (Frangi's blob ratio): a tube is flagged "this looks like a vessel". Checked
on analytic phantoms (a tube and a ball of the same width and brightness) and on IRCADb patient
1 made arterial (stress variants "hyper" and "necrotic core"), whose portal-vein and venous
expert masks give the vessel clicks. Before this test, on the held-out seed 1, 4 of 10 such
clicks per variant came back as 10-22 mm lesions with no flag; one was left (a piece of a vessel
by a branching, round at its own scale), flagged since bright tissue connected to it runs on
beyond its border (:func:`~lesion_tool.measurement.vessel.runs_on_ratio`).
"""

from __future__ import annotations

import numpy as np
import pytest
from _tube import SPACING, tube_or_ball

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import (
    evaluate_negatives,
    summarise_negatives,
)
from lesion_tool.measurement.vessel import (
    RUNS_ON_RATIO,
    TUBE_BLOB_RATIO,
    blob_ratio,
    runs_on_ratio,
    vessel_flag,
)


def test_a_tube_is_a_vessel_and_a_ball_is_not() -> None:
    tube, seed = tube_or_ball("tube")
    ball, _ = tube_or_ball("ball")
    for vol, is_tube in ((tube, True), (ball, False)):
        res = measure_lesion(vol, LesionPrompt(seed=seed), phase="arterial")
        got = blob_ratio(vol, res.mask, res.offset)
        assert got is not None
        rb, rad = got
        assert 3.0 < rad < 9.0, rad
        assert (rb < TUBE_BLOB_RATIO) is is_tube, rb
        assert (vessel_flag(vol, res.mask, res.offset) is not None) is is_tube
        assert any("looks like a vessel" in f for f in res.flags) is is_tube, res.flags


def test_a_region_wider_than_a_vessel_is_not_tested() -> None:
    vol, _ = tube_or_ball("ball")
    big = np.ones((20, 40, 40), dtype=bool)  # 32 x 32 mm slices: beyond the liver's vessels
    assert blob_ratio(vol, big, (10, 40, 40)) is None


def test_a_piece_of_a_tube_runs_on_and_a_whole_ball_does_not() -> None:
    # The region a click in a vessel gives may be a short piece of it (the delineation stops
    # where the vessel gets brighter or thinner); the region of a lesion is the whole of it.
    tube, (cz, cy, cx) = tube_or_ball("tube")
    ball, _ = tube_or_ball("ball")
    sp = np.asarray(SPACING)
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip((60, 120, 120), sp, strict=True)), indexing="ij"
    )
    c = np.array([cz, cy, cx]) * sp
    p = np.stack([z - c[0], y - c[1], x - c[2]], axis=-1)
    axis = np.array([1.0, 0.5, 0.3]) / np.linalg.norm([1.0, 0.5, 0.3])
    along = p @ axis
    across = np.linalg.norm(p - along[..., None] * axis, axis=-1)
    piece = (across <= 5.0) & (np.abs(along) <= 5.0)  # 10 mm of the 12 mm tube
    whole = np.linalg.norm(p, axis=-1) <= 6.5  # the ball and its blurred edge
    got = runs_on_ratio(tube, piece, (0, 0, 0), 100.0, 180.0)
    assert got is not None
    assert got[0] >= RUNS_ON_RATIO, got
    assert vessel_flag(tube, piece, (0, 0, 0), (100.0, 180.0)) is not None  # (tube, too)
    got = runs_on_ratio(ball, whole, (0, 0, 0), 100.0, 180.0)
    assert got is not None
    assert got[0] < 0.5, got
    assert vessel_flag(ball, whole, (0, 0, 0), (100.0, 180.0)) is None
    # Not brighter than the liver, or wider than a liver vessel: not tested.
    assert runs_on_ratio(tube, piece, (0, 0, 0), 100.0, 90.0) is None
    assert runs_on_ratio(ball, np.ones((20, 40, 40), dtype=bool), (10, 40, 40), 100, 180) is None


# (variant, seed, most unflagged of 10). Seed 1 is the held-out seed on which 4 of 10 vessel
# clicks were unflagged lesions before the vessel test; one was left by the tube test (hyper and
# necrotic core: (104, 285, 144), a 10 mm region by a branching, blob ratio 0.30-0.55;
# docs/measurement-accuracy.md,
# "Kept (w7-vessel)"), flagged since by the runs-on test (ratio 3.4; "Kept (w8-vessel)"). On
# seed 0 none was unflagged before and none may be.
CASES = [("hyper", 0, 0), ("hyper", 1, 0), ("necrotic", 1, 0)]


@pytest.mark.parametrize(("enhance", "seed", "most"), CASES)
def test_vessel_clicks_on_arterial_looking_ircadb_are_flagged(
    ircadb, ircadb_arterial, ircadb_negative_points, enhance, seed, most
) -> None:
    # The seed picks the clicks: without noise the image is the same whatever the seed (built
    # once per session; test_measure_stress measures the necrotic one).
    vol, masks, liv = ircadb_arterial(enhance)
    # Without slabs the masks stay on the CT's grid, unchanged: the clicks are the expert masks'
    # negative points of this seed (computed once per session; test_measure_specificity's too).
    assert vol.shape == ircadb.image.shape and liv is ircadb.liver
    assert all(m is t for m, t in zip(masks, ircadb.tumours, strict=True))
    pts = ircadb_negative_points(seed)
    res = evaluate_negatives(vol, [p for p in pts if p[0] == "vessel"], phase="arterial")
    counts = summarise_negatives(res)["vessel"]
    assert counts["clicks"] == 10
    assert counts["unflagged"] <= most, [r.to_dict() for r in res if r.outcome == "unflagged"]
    # The vessel test itself says so on many of the results (the others carry other flags).
    said = [r for r in res if any("looks like a vessel" in f for f in r.flags)]
    assert len(said) >= 4, [(r.seed, r.measured_mm, r.flags) for r in res]
