"""Off the arterial phase, brighter liver round a dark lesion is a halo, not a rim (t5p_halorim,
issue 11, w25-05p).

Analytic planes (0.7 mm pixels, liver 110 HU, a dark 70 HU disk of 15 mm radius): ringed by a
145 HU band 5 mm thick with the liver beyond it (a necrotic lesion's rim: not a halo), or by a
145 HU zone 20 mm thick (a brighter part of the liver round it: a halo off the arterial phase,
never on it, nor with the switch off). Real: IRCADb tumour 05 (32.5 mm, portal-venous, the
unmodified case: "original"), clicked at (114, 219, 200) on its dark part (the stress bench's
seed 8 random click): within the expert's tolerance (33.4 mm); 41.6 mm with the rule switched
off (the whole by the ring's value, 142 HU, grew into the brighter liver round it).
"""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import t5p_halorim as t5p
from lesion_tool.measurement.evaluation import expert_tumours, tolerance_mm
from lesion_tool.measurement.masks import mask_from_array

SPACING = (0.7, 0.7)


def _plane(bright_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The smoothed plane and the dark disk (see the module docstring): 145 HU from the disk's
    edge out to ``bright_mm`` beyond it."""
    y, x = np.ogrid[:160, :160]
    r = np.hypot((y - 80) * SPACING[0], (x - 80) * SPACING[1])
    plane = np.where(r <= 15.0, 70.0, np.where(r <= 15.0 + bright_mm, 145.0, 110.0))
    plane = plane + np.random.default_rng(0).normal(0.0, 3.0, plane.shape)
    return plane, r <= 15.0


def test_a_band_with_liver_beyond_is_a_rim() -> None:
    plane, core = _plane(5.0)
    assert not t5p.halo_not_rim(False, plane, core, 110.0, 5.0, SPACING)


def test_brighter_liver_round_the_lesion_is_a_halo_off_the_arterial_phase(monkeypatch) -> None:
    plane, core = _plane(20.0)
    assert t5p.halo_not_rim(False, plane, core, 110.0, 5.0, SPACING)
    assert not t5p.halo_not_rim(True, plane, core, 110.0, 5.0, SPACING)  # arterial: a rim
    monkeypatch.setattr(t5p, "ENABLED", False)
    assert not t5p.halo_not_rim(False, plane, core, 110.0, 5.0, SPACING)


@pytest.mark.realdata
def test_ircadb_05_original_dark_click_is_not_grown_into_its_halo(ircadb, monkeypatch) -> None:
    image, tumours, _, _ = ircadb
    mask = mask_from_array(tumours[4].astype(np.uint8), image, names={1: "livertumor05"})
    expert = expert_tumours([mask], image)[0]
    tol = tolerance_mm(expert.diameter_mm)
    click = (114, 219, 200)
    m = measure_lesion(image, LesionPrompt(seed=click), phase="portal-venous")
    assert abs(m.whole.length_mm - expert.diameter_mm) <= tol, m.whole.length_mm
    monkeypatch.setattr(t5p, "ENABLED", False)
    off = measure_lesion(image, LesionPrompt(seed=click), phase="portal-venous")
    assert off.whole.length_mm > expert.diameter_mm + tol, off.whole.length_mm
