"""A dark result no flag warns of, with enhancing tissue round much of it on one of its slices, is
flagged (:mod:`lesion_tool.measurement.darkpart_slices`; issue 11, twenty-ninth pass).

IRCADb 04 (18.5 mm), a mottled nodule, on the stress bench's "noise 30 HU" (noise seed 6),
clicked on its dark patch at (100, 244, 198): 9.5 mm, Dice 0.12, and before this rule no flag;
enhancing tissue closes round 39 % of the patch on the click's slice (40 % flags it there) and
75 % on Im 98.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import darkpart_slices as dp
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION
from lesion_tool.measurement.necrosis import RIM_ENCLOSE_SHARE

CLICK = (100, 244, 198)
"""On 04's dark patch on Im 100, inside the expert mask (census click, noise seed 6)."""


@pytest.fixture(scope="module")
def noisy(ircadb):
    """IRCADb's "noise 30 HU" as the bench's noise seed 6 draws it."""
    return variant(ircadb, noise_sd_hu=30.0, seed=6)


def test_04s_dark_patch_is_flagged(noisy, monkeypatch) -> None:
    t04 = noisy.experts[3]
    assert t04.name.endswith("04") and noisy.masks[3][CLICK]
    m = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * t04.diameter_mm
    assert len(m.flags) == 1 and m.flags[0].startswith(dp.DARKPART_NOTE)
    z, share = dp.rim_share(noisy.volume, m)
    assert z != CLICK[0] and share >= 1.4 * RIM_ENCLOSE_SHARE
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(dp, "ENABLED", False)
    before = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


@dataclass
class _Result:
    """The fields of a measurement the rule reads."""

    mask: np.ndarray
    offset: tuple[int, int, int]
    evidence: SimpleNamespace
    flags: tuple[str, ...]
    whole: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(length_mm=10.0))


def _case(image: np.ndarray, region: np.ndarray, flags: tuple[str, ...] = ()) -> tuple:
    """A one-slice 0.5 mm grid ``image`` and ``region`` (a mask of it) as an unflagged result by
    value of a dark lesion at 60 HU against liver at 110 HU."""
    volume = SimpleNamespace(
        array=image[None].astype(np.float32),
        spacing_mm=(1.6, 0.5, 0.5),
        shape=(1, *image.shape),
        metadata={},
    )
    evidence = SimpleNamespace(
        liver_hu=110.0, lesion_hu=60.0, contrast_hu=-50.0, noise_sd_hu=4.0, texture_sd_hu=None
    )
    return volume, _Result(region[None], (0, 0, 0), evidence, flags)


def _disc(cy: float, cx: float, r: float, shape: tuple[int, int] = (120, 120)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


def test_a_dark_disc_in_liver_is_not_flagged_and_one_in_a_bright_crescent_is() -> None:
    core = _disc(60, 60, 10)
    band = _disc(60, 60, 16) & ~core
    # Plain liver round it: no enhancing tissue, no flag.
    volume, m = _case(np.where(core, 60.0, 110.0), core)
    assert dp.flag_dark_part(volume, m) is m
    # Enhancing tissue (160 HU) round two thirds of it: flagged.
    crescent = band & (np.mgrid[:120, :120][1] < 72)
    volume, m = _case(np.where(core, 60.0, np.where(crescent, 160.0, 110.0)), core)
    assert dp.rim_share(volume, m)[1] >= RIM_ENCLOSE_SHARE
    assert dp.flag_dark_part(volume, m).flags[0].startswith(dp.DARKPART_NOTE)
    # A result flagged already, a bright one and one by texture are left as they are.
    volume, f = _case(np.where(core, 60.0, np.where(crescent, 160.0, 110.0)), core, ("x",))
    assert dp.flag_dark_part(volume, f) is f
    m.evidence.contrast_hu = 50.0
    assert dp.rim_share(volume, m) is None
    m.evidence.contrast_hu, m.evidence.texture_sd_hu = -50.0, (20.0, 8.0)
    assert dp.rim_share(volume, m) is None
