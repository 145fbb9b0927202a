"""One prompt's delineations share their work, with the same results (issue 11: time per click;
w14-speed, :mod:`lesion_tool.measurement.speedmemo`), and capclick matches the refusals it
looks under by type.

On real CT (IRCADb patient 1 in 2.5 mm slabs, tumour 05 clicked on its top slab, the click
capclick re-clicks under): measured with the memo and without it, the result is the same bit
for bit (diameter, mask, flags, evidence), within tolerance of the expert mask, and the memo
runs fewer delineations. The memo's contract (own copies, refusals kept with their type,
read-only shared planes) and the typed refusals are checked on small arrays.
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


def _counted(monkeypatch) -> list[int]:
    calls = [0]
    once = sg._measure_prompt_once

    def counting(*a, **k):
        calls[0] += 1
        return once(*a, **k)

    monkeypatch.setattr(sg, "_measure_prompt", speedmemo.memoised(counting))
    return calls


def test_cap_click_same_result_fewer_delineations(ircadb_slabbed, monkeypatch):
    v = ircadb_slabbed(2.5)
    vol, expert = v.volume, v.masks[4]
    truth = expert_tumours(
        [mask_from_array(expert.astype(np.uint8), vol, names={1: "livertumor05"})], vol
    )[0].diameter_mm
    prompt = LesionPrompt(seed=CLICK)
    calls = _counted(monkeypatch)
    fast = measure_lesion(vol, prompt, phase="portal-venous")
    n_fast = calls[0]
    calls[0] = 0
    with monkeypatch.context() as m:
        m.setattr(sg, "one_prompt", lambda volume: nullcontext())  # no memo: as before
        slow = measure_lesion(vol, prompt, phase="portal-venous")
    n_slow = calls[0]
    assert n_fast < n_slow
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


def test_memo_gives_own_copies_and_keeps_refusals_typed():
    vol = _phantom()
    prompt = LesionPrompt(seed=(20, 32, 32))
    with speedmemo.one_prompt(vol):
        a = sg._measure_prompt(vol, prompt, "arterial")
        b = sg._measure_prompt(vol, prompt, "arterial")
        assert a is not b and a.mask is not b.mask and np.array_equal(a.mask, b.mask)
        assert a.whole == b.whole and a.whole.length_mm == pytest.approx(21.0, abs=tolerance_mm(21.0))
        a.mask[:] = False  # a caller's change does not reach the next caller
        assert sg._measure_prompt(vol, prompt, "arterial").mask.any()
        outside = LesionPrompt(seed=(20, 5, 5))
        errs = []
        for _ in range(2):
            with pytest.raises(MeasurementError) as info:
                sg._measure_prompt(vol, outside, "arterial")
            errs.append(info.value)
        assert type(errs[0]) is type(errs[1]) and str(errs[0]) == str(errs[1])
        win = sg._Window(vol, 32, 32, 10.0)
        plane = win.hu_plane(20)
        assert not plane.flags.writeable
        assert sg._Window(vol, 32, 32, 10.0).hu_plane(20) is plane  # shared, not redone


class _Found:
    flags = ()


def test_under_cap_matches_refusals_by_type(monkeypatch):
    """Looked under: the liver-valued click (LiverValue) and the region off the liver estimate
    (NotInLiver). Not: a region not surrounded by liver (plain OffLiver), nor any other refusal
    whatever its words."""
    looked = []
    monkeypatch.setattr(
        capclick, "follow_cap", lambda *a, **k: looked.append(1) or _Found()  # type: ignore[func-returns-value]
    )
    prompt = LesionPrompt(seed=(5, 5, 5))
    words = "its value (80 HU) is the commonest one; it is not in the liver"
    for err, under in (
        (capclick.LiverValue(words), True),
        (NotInLiver(words), True),
        (OffLiver("not surrounded by liver"), False),
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
