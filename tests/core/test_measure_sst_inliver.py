"""A refusal as "not in the liver" that ``shell_settle`` would turn into a result stands (issue
11, w33-settle, ``sst_inliver.py``).

On IRCADb in 2.5 mm slabs two plain-liver clicks of the benchmark's no-tumour set (noise seeds
7 and 8) settle the liver's level 6-9 HU up; judged against it the region lies mostly outside
the liver outlined on its slice (16-20 % inside) and is let through because its ends read as
capped by liver (25.2 / 26.7 mm, flagged). On the window's own level the region is not refused
either (23.2 / 24.4 mm), so with the rule as it is (``FIRST_REFUSED``) nothing changes; refusing
on the settled region alone refuses them (and lost a census click on 05, see the module).
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import shell_settle as ss
from lesion_tool.measurement import sst_inliver as sst
from lesion_tool.measurement.offliver import NotInLiver

NO_TUMOUR = [(75, 162, 204), (72, 147, 199)]
"""Plain-liver clicks on the 2.5 mm slabs (no-tumour clicks of noise seeds 8 and 7)."""


@pytest.fixture(scope="module")
def slabs(ircadb):
    """IRCADb in 2.5 mm slabs (no noise: the same image whatever the seed)."""
    return variant(ircadb, thickness_mm=2.5)


def _length(v, click) -> float | None:
    try:
        m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    except MeasurementError:
        return None
    return m.whole.length_mm


@pytest.mark.parametrize("click", NO_TUMOUR, ids=["seed8", "seed7"])
def test_a_settled_region_outside_the_liver(slabs, click, monkeypatch) -> None:
    v = slabs
    assert v.liver[click]
    tumours = np.any(np.stack(v.masks), axis=0)
    far = ndimage.distance_transform_edt(~tumours, sampling=v.volume.spacing_mm)[click]
    assert far >= 10.0  # no tumour within 10 mm: nothing to measure there
    # Its region on the window's own level is not refused: the result stands, as before.
    now = _length(v, click)
    assert now is not None and now > 20.0
    monkeypatch.setattr(sst, "ENABLED", False)
    assert _length(v, click) == pytest.approx(now, abs=0.05)
    # Refused on the settled region alone (the stricter form of the rule) ...
    monkeypatch.setattr(sst, "ENABLED", True)
    monkeypatch.setattr(sst, "FIRST_REFUSED", False)
    assert _length(v, click) is None
    # ... which needs shell_settle to have settled the level.
    monkeypatch.setattr(ss, "ENABLED", False)
    assert _length(v, click) is not None


def test_the_refusal_stands_only_when_the_first_region_is_refused(monkeypatch) -> None:
    assert sst.outside_settled(True, 0.16, True, 0.3)
    assert not sst.outside_settled(False, 0.16, True, 0.3)  # the window's own level: as before
    assert not sst.outside_settled(True, 0.45, True, 0.3)  # mostly in the liver
    assert not sst.outside_settled(True, 0.16, False, 0.3)  # a line: the reader's own extent
    held: list[bool] = []

    def refused() -> None:
        held.append(ss._held.get())
        raise NotInLiver("not in the liver")

    def other() -> None:
        raise MeasurementError("no contrast")

    assert sst.refusal_stands(refused) and held == [True]  # delineated with shell_settle held
    assert not sst.refusal_stands(other)  # another refusal is not that one
    assert not sst.refusal_stands(lambda: None)  # a region: the settled result stands
    monkeypatch.setattr(sst, "FIRST_REFUSED", False)
    assert sst.refusal_stands(lambda: None)


SEED21_LIVER = (117, 170, 179)
"""The plain-liver click that ``shell_settle`` turned from a refusal into a 30.5 mm result (5 %
inside the liver outlined) on "noise 25 HU", noise seed 21. Found on a held-out seed by the
integrator; kept here as the regression the rule exists for, so seed 21's no-tumour clicks on
this variant are no longer held out."""


def test_the_refusal_shell_settle_lost_stands_again(ircadb, monkeypatch) -> None:
    v = variant(ircadb, noise_sd_hu=25.0, seed=21)
    click = SEED21_LIVER
    assert v.liver[click]
    tumours = np.any(np.stack(v.masks), axis=0)
    far = ndimage.distance_transform_edt(~tumours, sampling=v.volume.spacing_mm)[click]
    assert far >= 10.0  # plain liver: no tumour within 10 mm
    with pytest.raises(NotInLiver):
        measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    # Without the rule the settled region comes back as a long result; without shell_settle
    # the click is refused as it was before that rule.
    monkeypatch.setattr(sst, "ENABLED", False)
    length = _length(v, click)
    assert length is not None and length > 25.0
    monkeypatch.setattr(ss, "ENABLED", False)
    assert _length(v, click) is None
