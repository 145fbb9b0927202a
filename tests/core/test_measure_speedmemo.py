"""One prompt's windows share their smoothed planes, with the same results (issue 11: time per
click; w14-speed, :mod:`lesion_tool.measurement.speedmemo`), and capclick matches the refusals
it looks under by type.

On real CT (IRCADb patient 1 in 2.5 mm slabs, tumour 05 clicked on its top slab, the click
capclick re-clicks under at the same in-plane point): with the planes shared and without, the
result is the same bit for bit (diameter, mask, flags, evidence) and within tolerance of the
expert mask, and fewer planes are smoothed. The sharing's scope and the typed refusals are
checked on small arrays.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, capclick, measure_lesion, speedmemo
from lesion_tool.measurement import segment as sg
from lesion_tool.measurement.evaluation import expert_tumours, tolerance_mm
from lesion_tool.measurement.masks import mask_from_array
from lesion_tool.measurement.offliver import NotInLiver, OffLiver

CLICK = (78, 219, 207)
"""IRCADb 05's top slab in 2.5 mm slabs (test_measure_capclick): refused there, measured from
the slab below by capclick, whose chains delineate the same voxels more than once."""


def test_cap_click_same_result_with_shared_planes(ircadb_slabbed, monkeypatch):
    v = ircadb_slabbed(2.5)
    vol, expert = v.volume, v.masks[4]
    truth = expert_tumours(
        [mask_from_array(expert.astype(np.uint8), vol, names={1: "livertumor05"})], vol
    )[0].diameter_mm
    prompt = LesionPrompt(seed=CLICK)
    smoothed = [0]
    filt = sg.ndimage.gaussian_filter

    def counting(*a, **k):
        smoothed[0] += 1
        return filt(*a, **k)

    monkeypatch.setattr(sg.ndimage, "gaussian_filter", counting)
    fast = measure_lesion(vol, prompt, phase="portal-venous")
    n_fast, smoothed[0] = smoothed[0], 0
    with monkeypatch.context() as m:
        m.setattr(sg, "one_prompt", lambda volume: nullcontext())  # nothing shared: as before
        slow = measure_lesion(vol, prompt, phase="portal-venous")
    assert n_fast < smoothed[0]  # fewer planes smoothed
    assert fast.whole == slow.whole and fast.viable == slow.viable
    assert fast.offset == slow.offset and np.array_equal(fast.mask, slow.mask)
    assert fast.flags == slow.flags and fast.evidence == slow.evidence
    assert fast.whole.length_mm == pytest.approx(truth, abs=tolerance_mm(truth))


def _phantom() -> CTVolume:
    """A bright sphere of 21 voxels across in liver (1 mm voxels), noise-free."""
    z, y, x = np.mgrid[:40, :64, :64]
    img = np.full((40, 64, 64), 100.0, dtype=np.float32)
    img[(z - 20) ** 2 + (y - 32) ** 2 + (x - 32) ** 2 <= 100] = 180.0
    return CTVolume(img, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))


def test_planes_shared_within_one_prompt_only():
    vol = _phantom()
    with speedmemo.one_prompt(vol):
        plane = sg._Window(vol, 32, 32, 10.0).hu_plane(20)
        assert not plane.flags.writeable
        assert sg._Window(vol, 32, 32, 10.0).hu_plane(20) is plane  # shared, not redone
        assert sg._Window(vol, 33, 32, 10.0).hu_plane(20) is not plane  # another box
        with speedmemo.one_prompt(vol):  # nested: the same scope
            assert sg._Window(vol, 32, 32, 10.0).hu_plane(20) is plane
    assert sg._Window(vol, 32, 32, 10.0).hu_plane(20) is not plane  # the prompt is over
    r = measure_lesion(vol, LesionPrompt(seed=(20, 32, 32)), phase="arterial")
    assert r.whole.length_mm == pytest.approx(21.0, abs=tolerance_mm(21.0))


class _Found:
    flags = ()


def test_under_cap_matches_refusals_by_type(monkeypatch):
    """Looked under: the liver-valued click (LiverValue), the region off the liver estimate
    (NotInLiver) and, since w18-necwide (capsule_edge.py), the region not surrounded by liver
    (plain OffLiver). Not: any other refusal whatever its words."""
    looked = []
    monkeypatch.setattr(
        capclick,
        "follow_cap",
        lambda *a, **k: looked.append(1) or _Found(),  # type: ignore[func-returns-value]
    )
    prompt = LesionPrompt(seed=(5, 5, 5))
    words = "its value (80 HU) is the commonest one; it is not in the liver"
    for err, under in (
        (capclick.LiverValue(words), True),
        (NotInLiver(words), True),
        (OffLiver("not surrounded by liver"), True),
        (MeasurementError(words), False),
    ):
        looked.clear()

        def refuse(*a, err=err):
            raise err

        if under:
            assert isinstance(capclick.under_cap(None, prompt, "pv", refuse), _Found)  # type: ignore[arg-type]
        else:
            with pytest.raises(MeasurementError):
                capclick.under_cap(None, prompt, "pv", refuse)  # type: ignore[arg-type]
        assert bool(looked) == under


def _counting(monkeypatch, name: str) -> list[int]:
    calls = [0]
    fn = getattr(sg, name)

    def counted(*a, **k):
        calls[0] += 1
        return fn(*a, **k)

    monkeypatch.setattr(sg, name, counted)
    return calls


def test_plane_derived_rim_and_blobs_once_per_plane_same_result(monkeypatch):
    """w15-speed: every ray fan cast on a slice recomputed the vessels' and fat's rim and an
    enhancing lesion's bright blobs over the whole plane; within a prompt they are computed
    once per plane and levels, and the result is the same bit for bit (and within tolerance of
    the phantom's 21 mm)."""
    vol = _phantom()
    vol.array[18:23, 30:35, 34:39] = 260.0  # a bright blob in the sphere (arterial: blobs run)
    prompt = LesionPrompt(seed=(20, 32, 28))
    rims, blobs = _counting(monkeypatch, "_rim"), _counting(monkeypatch, "_bright_blobs")
    fast = measure_lesion(vol, prompt, phase="arterial")
    n_rim, n_blob = rims[0], blobs[0]
    rims[0] = blobs[0] = 0
    with monkeypatch.context() as m:
        m.setattr(sg, "one_prompt", lambda volume: nullcontext())  # nothing kept: as before
        slow = measure_lesion(vol, prompt, phase="arterial")
    assert n_rim < rims[0] and n_blob < blobs[0]
    assert fast.whole == slow.whole and fast.viable == slow.viable
    assert fast.offset == slow.offset and np.array_equal(fast.mask, slow.mask)
    assert fast.flags == slow.flags and fast.evidence == slow.evidence
    assert fast.whole.length_mm == pytest.approx(21.0, abs=tolerance_mm(21.0))


def test_plane_derived_scope_and_identity():
    vol = _phantom()
    made = []

    def compute():
        made.append(1)
        return np.ones((3, 3), dtype=bool)

    with speedmemo.one_prompt(vol):
        plane = sg._Window(vol, 32, 32, 10.0).hu_plane(20)
        a = speedmemo.plane_derived(plane, ("k", 1.0), compute)
        assert speedmemo.plane_derived(plane, ("k", 1.0), compute) is a and len(made) == 1
        assert not a.flags.writeable  # a caller writing into it fails loudly
        speedmemo.plane_derived(plane, ("k", 1.5), compute)  # other levels: computed again
        speedmemo.plane_derived(plane.copy(), ("k", 1.0), compute)  # another plane: again
        assert len(made) == 3
        w = sg._Window(vol, 32, 32, 10.0)
        w.texture = True
        tex = w.plane(20)
        assert sg._Window(vol, 32, 32, 10.0).texture_plane(20) is tex  # same box, liver value
        w2 = sg._Window(vol, 32, 32, 10.0)
        w2.hu_liver = 100.0
        assert w2.texture_plane(20) is not tex  # vessels left out by another liver value
    speedmemo.plane_derived(plane, ("k", 1.0), compute)  # the prompt is over
    assert len(made) == 4
