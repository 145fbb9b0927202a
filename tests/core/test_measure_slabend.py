"""On thick slabs a re-click past a region's widest end slab is the same lesion when it holds the
first region's outline on that widest slab (issue 11; lesion_tool.measurement.slabend).

A region widest on its last slice is clicked again one slice further on
(``reseed.follow_open_end``), and the new region was kept only when it held 80 % of the first's
widest outline on the slice clicked (sections nest towards a lesion's middle). On a 5 mm slab
the slice clicked may be the lesion's end slab, its cap averaged with the liver: a diluted
partial section that does not nest. IRCADb's tumour 03 (23.2 mm) in 5 mm slabs, clicked at
(30, 143, 276): the first region stops on its two widest slabs (19.7 mm); the re-click on the end
slab re-measures it at 21.0 mm, holding 96 % of the first outline on the widest slab but 64 % on
the end slab, and was refused.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lesion_tool.measurement import measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.segment import LesionPrompt
from lesion_tool.measurement.slabend import SAME_SLAB_AREA_RATIO, same_on_widest_slab


def _region(radius_px: float, z: int = 5) -> SimpleNamespace:
    """A disk of ``radius_px`` on slice ``z`` of a 10 x 64 x 64 box at the volume's origin."""
    yy, xx = np.ogrid[:64, :64]
    mask = np.zeros((10, 64, 64), dtype=bool)
    mask[z] = (yy - 32) ** 2 + (xx - 32) ** 2 <= radius_px**2
    return SimpleNamespace(mask=mask, offset=(0, 0, 0))


def test_the_same_lesion_on_its_widest_slab_only_on_slabs() -> None:
    first, wider = _region(10.0), _region(11.5)  # an edge moved out 1.5 px: 1.3 times the area
    assert same_on_widest_slab(first, wider, 5, 5.0, 1.0)
    assert same_on_widest_slab(first, wider, 5, 2.5, 1.0)
    # Thin slices: their sections nest, the test on the slice clicked stands alone.
    assert not same_on_widest_slab(first, wider, 5, 1.6, 1.0)
    # Not holding the first outline there: another region.
    assert not same_on_widest_slab(first, wider, 5, 5.0, 0.7)
    # A neighbour joined on that slab: far more than a partial-volume ramp adds.
    leak = _region(10.0 * np.sqrt(SAME_SLAB_AREA_RATIO) + 1.0)
    assert not same_on_widest_slab(first, leak, 5, 5.0, 1.0)
    # No outline of the first region on that slice.
    assert not same_on_widest_slab(first, wider, 4, 5.0, 1.0)


@pytest.mark.realdata
def test_ircadb_03_in_five_mm_slabs_is_measured_past_its_end_slab(ircadb_slabbed) -> None:
    # benchmarks/bench_stress.py --only "5 mm" --seed 1: a random click on 03. Before: 19.7 mm
    # for 23.2 (3.5 mm under, outside the 3 mm tolerance), the re-click's 21.0 refused.
    vol, experts, _, masks = ircadb_slabbed(5.0)
    truth = {t.name: t for t in experts}["livertumor03"]
    m = measure_lesion(vol, LesionPrompt(seed=(30, 143, 276)), phase="portal-venous")
    assert abs(m.whole.length_mm - truth.diameter_mm) <= tolerance_mm(truth.diameter_mm), (
        m.whole,
        truth.diameter_mm,
    )
    assert any(f.startswith("found from the click on") for f in m.flags), m.flags
    assert m.seed_voxel == (30, 143, 276)
    # The outline is the expert's on the two widest slabs (Dice 0.87 and 0.86 measured, 0.8
    # asserted; 0.77 on slab 30 before) and lies within it (nothing outside the expert's mask
    # there: the re-click moved the edge out along the ramp, not into the liver).
    got = m.full_mask(vol.shape)
    ref = masks[2]
    for z in (29, 30):
        dice = 2.0 * (got[z] & ref[z]).sum() / (got[z].sum() + ref[z].sum())
        assert dice >= 0.8, (z, dice)
        assert (got[z] & ~ref[z]).sum() <= 0.1 * got[z].sum(), z
