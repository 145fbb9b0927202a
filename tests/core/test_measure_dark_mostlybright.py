"""A dark result no flag warns of, most of which reads as bright as the liver, is flagged
(:mod:`lesion_tool.measurement.dark_mostlybright`; issue 11, thirtieth pass).

IRCADb 07 (21.4 mm) on the stress bench's "necrotic core" (no noise: the same image whatever the
seed), census click (115, 151, 241) in its dark core beside the enhancing shell: a 14.8 mm
crescent along the core's edge reaching into the shell, Dice 0.31, and before this rule no flag;
80 % of it reads at or above the liver's value. Dark results of the original image read well
under that and are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import dark_mostlybright as mb
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION

CLICK = (115, 151, 241)
"""In 07's dark core on Im 115, 2 mm from the enhancing shell (census click, noise seed 6)."""


def test_07s_crescent_by_the_necrotic_core_is_flagged(ircadb, ircadb_arterial, monkeypatch) -> None:
    necrotic = variant(ircadb, ircadb_arterial("necrotic"))
    t07 = necrotic.experts[6]
    assert t07.name.endswith("07") and necrotic.masks[6][CLICK]
    m = measure_lesion(necrotic.volume, LesionPrompt(seed=CLICK), phase="arterial")
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * t07.diameter_mm
    assert len(m.flags) == 1 and m.flags[0].startswith(mb.BRIGHT_NOTE)
    assert mb.bright_share(necrotic.volume, m) >= mb.MOSTLY + 0.15  # 80 %
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(mb, "ENABLED", False)
    before = measure_lesion(necrotic.volume, LesionPrompt(seed=CLICK), phase="arterial")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


def test_dark_results_on_the_original_read_darker_than_the_liver(ircadb) -> None:
    """The deepest point of each dark tumour (02-06) on the original image: its result, when by
    value and darker than the liver, reads at or above the liver's value in under a tenth of
    it, and carries no flag of this rule."""
    judged = 0
    for t in ircadb.tumours[1:6]:
        depth = ndimage.distance_transform_edt(t, sampling=ircadb.image.spacing_mm)
        click = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), t.shape))
        m = measure_lesion(ircadb.image, LesionPrompt(seed=click), phase="portal-venous")
        assert not any(f.startswith(mb.BRIGHT_NOTE) for f in m.flags)
        share = mb.bright_share(ircadb.image, m)
        if share is not None:
            judged += 1
            assert share < 0.2 * mb.MOSTLY
    assert judged >= 3


@dataclass
class _Result:
    """The fields of a measurement the rule reads."""

    mask: np.ndarray
    offset: tuple[int, int, int]
    evidence: SimpleNamespace
    flags: tuple[str, ...] = ()
    whole: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(length_mm=10.0))


def _case(image: np.ndarray, region: np.ndarray) -> tuple:
    """A (z, y, x) 0.5 mm grid ``image`` and ``region`` (a mask of it) as an unflagged result by
    value of a dark lesion at 60 HU against liver at 110 HU."""
    volume = SimpleNamespace(array=image.astype(np.float32), spacing_mm=(1.6, 0.5, 0.5),
                             shape=image.shape, metadata={})  # fmt: skip
    evidence = SimpleNamespace(
        liver_hu=110.0, lesion_hu=60.0, contrast_hu=-50.0, noise_sd_hu=4.0, texture_sd_hu=None
    )
    return volume, _Result(region, (0, 0, 0), evidence)


def test_a_dark_disc_is_not_flagged_and_a_region_over_bright_tissue_is() -> None:
    yy, xx = np.mgrid[:80, :80]
    disc = np.stack([(yy - 40) ** 2 + (xx - 40) ** 2 <= 100] * 3)
    # The region is the dark disc: nothing of it reads as bright as the liver.
    volume, m = _case(np.where(disc, 60.0, 110.0), disc)
    assert mb.bright_share(volume, m) == 0.0
    assert mb.flag_mostly_bright(volume, m) is m
    # The same region over a dark patch a sixth its size in enhancing tissue (160 HU): flagged.
    patch = np.stack([(yy - 40) ** 2 + (xx - 40) ** 2 <= 16] * 3)
    volume, m = _case(np.where(patch, 60.0, np.where(disc, 160.0, 110.0)), disc)
    assert mb.bright_share(volume, m) >= mb.MOSTLY
    assert mb.flag_mostly_bright(volume, m).flags[0].startswith(mb.BRIGHT_NOTE)
    # Flagged already, or bright: left as it is.
    m.flags = ("x",)
    assert mb.flag_mostly_bright(volume, m) is m
    m.flags, m.evidence.contrast_hu = (), 50.0
    assert mb.bright_share(volume, m) is None
