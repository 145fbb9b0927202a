"""The measurement on real anatomy under real variation (issue 11, held-back arterial HCC).

IRCADb patient 1 (../shared/data) degraded the way arterial-phase HCC studies differ
(:mod:`lesion_tool.measurement.stress`): the transforms are checked against analytic truths,
and the realistic arterial HCC variant (hyper-enhancing tumours, 5 mm slabs, 25 HU noise) is
measured against the expert masks transformed the same way; the figures asserted are the ones
measured when the stress benchmark (benchmarks/bench_stress.py) was written, minus a margin.
Also ``lesion-tool evaluate`` on a real series folder holding a stray reformat, with a
multi-segment SEG (Liver, Mass, Portal vein) whose frames all reference one slice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from _hcc006 import HCC_006_AP, NODULE_CENTRE
from _ircadb import variant
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid
from scipy import ndimage

from lesion_tool.cli import main
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, load_mask, measure_lesion
from lesion_tool.measurement.evaluation import (
    evaluate_clicks,
    summarise,
    tolerance_mm,
    tumour_segments,
)
from lesion_tool.measurement.necrosis import longest_chord_within
from lesion_tool.measurement.stress import (
    NECROTIC_CORE_FRACTION,
    add_noise,
    enhance_tumours,
    liver_noise_sd,
    thick_slices,
)

# ---------------------------------------------------------------------------------------------
# The transforms, against analytic truths (no real data needed)


def _phantom() -> tuple[CTVolume, np.ndarray, np.ndarray]:
    """A 100 HU 'liver' block with a 60 HU sphere of radius 8 mm (1 mm voxels, 1.6 mm slices)."""
    shape = (40, 60, 60)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    r = np.sqrt(((z - 20) * 1.6) ** 2 + (y - 30.0) ** 2 + (x - 30.0) ** 2)
    tumour = r <= 8.0
    liver = np.ones(shape, dtype=bool)
    arr = np.where(tumour, 60.0, 100.0).astype(np.float32)
    vol = CTVolume(arr, (1.6, 1.0, 1.0), (0.0, 0.0, 0.0))
    return vol, tumour, liver


def test_slabs_average_the_slices_they_cover_and_keep_the_geometry() -> None:
    vol, tumour, _ = _phantom()
    ramp = CTVolume(
        np.broadcast_to(np.arange(40, dtype=np.float32)[:, None, None], (40, 4, 4)).copy(),
        (1.6, 1.0, 1.0),
        (0.0, 0.0, 0.0),
    )
    thick, _ = thick_slices(ramp, [], 4.8)  # three whole slices per slab
    assert thick.shape[0] == 13 and thick.spacing_mm == (4.8, 1.0, 1.0)
    # Each slab is the mean of three slice indices; its centre index lies at that mean.
    means = thick.array[:, 0, 0]
    np.testing.assert_allclose(np.diff(means), 3.0, atol=1e-5)
    centre_z = np.asarray(thick.index_to_patient([[k, 0, 0] for k in range(13)]))[:, 2]
    np.testing.assert_allclose(np.abs(centre_z), np.abs(means * 1.6), atol=1e-4)
    thick, [m] = thick_slices(vol, [tumour], 5.0)
    # The sphere's slab mask keeps its in-plane extent (16 mm at its middle slab) and its values
    # mix with the liver's at its poles (partial volume).
    mid = int(np.argmax(m.sum(axis=(1, 2))))
    assert 14 <= m[mid].any(axis=0).sum() <= 17
    assert 60.0 < float(thick.array[mid + 1, 30, 30]) < 100.0


def test_noise_reaches_the_target_sd() -> None:
    vol, tumour, liver = _phantom()
    noisy = add_noise(vol, 25.0, 0.0, seed=1)
    assert liver_noise_sd(noisy, liver & ~tumour) == pytest.approx(25.0, rel=0.05)
    again = add_noise(noisy, 30.0, liver_noise_sd(noisy, liver & ~tumour), seed=2)
    assert liver_noise_sd(again, liver & ~tumour) == pytest.approx(30.0, rel=0.05)


def test_enhancement_reflects_the_tumour_around_its_liver_and_keeps_a_necrotic_core() -> None:
    vol, tumour, liver = _phantom()
    hyper = enhance_tumours(vol, [tumour], liver & ~tumour)
    np.testing.assert_allclose(hyper.array[tumour], 140.0)
    np.testing.assert_allclose(hyper.array[~tumour], 100.0)
    necrotic = enhance_tumours(vol, [tumour], liver & ~tumour, core_fraction=0.5)
    assert float(necrotic.array[20, 30, 30]) == 60.0  # the core keeps its value
    assert float(necrotic.array[20, 30, 37]) == 140.0  # 1 mm inside the edge: the rim
    assert float(enhance_tumours(hyper, [tumour], liver & ~tumour).array[20, 30, 30]) == 140.0


# ---------------------------------------------------------------------------------------------
# Stress accuracy on real anatomy

# Measured when benchmarks/bench_stress.py was written (seed 0, deepest + 2 random + a line per
# tumour, 28 prompts): see the README's stress table. Asserted minus a margin of about one
# tumour's prompts.
# hyper 5 mm 25 HU: 6/28 within, 2/7 deepest, median Dice 0.55, 0 dangerous unflagged since a
# region seen on fewer than 3 slices is flagged (3 before: the 10 mm tumour at 14-15 mm).
# Since the bright blobs of an enhancing tumour are lesion and its value is re-measured upwards
# (issue 11, w6-arterial): 7/28, 3/7 deepest, Dice 0.56, 0 dangerous unflagged.
COMBO_MIN_WITHIN = 6
COMBO_MIN_DEEPEST = 2
COMBO_MIN_DICE = 0.52


@pytest.mark.realdata
def test_arterial_hcc_like_variant_holds_its_accuracy(ircadb) -> None:
    vol, experts, liv, _ = variant(ircadb, enhance="hyper", thickness_mm=5.0, noise_sd_hu=25.0)
    res = evaluate_clicks(vol, experts, clicks=2, line=True, phase="arterial", liver=liv)
    s = summarise(res)
    deepest = [r for r in res if r.kind == "deepest"]
    assert s.within >= COMBO_MIN_WITHIN, [(r.tumour, r.kind, r.measured_mm) for r in res]
    assert sum(r.within for r in deepest) >= COMBO_MIN_DEEPEST
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    assert s.median_dice is not None and s.median_dice >= COMBO_MIN_DICE
    # Hyper-enhancing tumours on an arterial image: their viable part is measured.
    measured = [r for r in deepest if r.measured_mm]
    assert sum(bool(r.viable_mm) for r in measured) >= len(measured) - 1


# Necrotic core (issue 11, w7-necrotic; seed 0): 10/28 within, 1/7 deepest, 2 unflagged
# dangerous (a click in the core delineated the core alone, 05: 21.8 mm for 32.5) before the
# enhancing rim around a dark region was looked for; 15/28, 4/7 deepest, 0 after.
NECROTIC_MIN_WITHIN = 12
NECROTIC_MIN_DEEPEST = 3


@pytest.mark.realdata
def test_a_click_in_a_necrotic_core_measures_the_whole_lesion(ircadb, ircadb_arterial) -> None:
    # The "necrotic core" variant (no noise: any seed), built once per session.
    vol, experts, liv, _ = variant(ircadb, ircadb_arterial("necrotic"))
    res = evaluate_clicks(vol, experts, clicks=2, line=True, phase="arterial", liver=liv)
    s = summarise(res)
    deepest = {r.tumour: r for r in res if r.kind == "deepest"}
    assert s.within >= NECROTIC_MIN_WITHIN, [(r.tumour, r.kind, r.measured_mm) for r in res]
    assert sum(r.within for r in deepest.values()) >= NECROTIC_MIN_DEEPEST
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    # 05's deepest point lies in its necrotic core (the transformed mask's deep half keeps its
    # hypo-attenuating values): the whole lesion, core and rim, against the expert's 32.5 mm,
    # said so; its viable part is the rim, shorter than the whole.
    r05 = deepest["livertumor05"]
    assert r05.within, r05.to_dict()
    assert any("core" in f and "enhancing rim" in f for f in r05.flags), r05.flags
    assert r05.viable_mm is not None and 0.0 < r05.viable_mm < r05.measured_mm


# Necrotic core + 5 mm slabs + 25 HU noise (issue 11, w8-combo; seed 0): 9/28 within, 2/7 deepest,
# 9 refused (6 "value is the liver's") before a click whose value is the liver's was looked at as
# a core inside an enhancing rim; 10/28, 3/7 deepest after (03's deepest point, 112 HU against
# the liver's 117, inside a rim of 143 HU in 97 % of the directions: 25.4 mm for 23.2).
# 11/28, 4/7 deepest before the core's seam was counted as lesion in the whole on slabs (w9-
# necrotic); 12/28, 5/7 after (01's deepest point 63.1 -> 76.2 mm for 78.2).
NECROTIC_COMBO_MIN_WITHIN = 10
NECROTIC_COMBO_MIN_DEEPEST = 4


@pytest.mark.realdata
def test_a_click_in_a_core_averaged_to_the_liver_measures_the_whole_lesion(ircadb) -> None:
    vol, experts, liv, _ = variant(ircadb, enhance="necrotic", thickness_mm=5.0, noise_sd_hu=25.0)
    res = evaluate_clicks(vol, experts, clicks=2, line=True, phase="arterial", liver=liv)
    s = summarise(res)
    deepest = {r.tumour: r for r in res if r.kind == "deepest"}
    assert s.within >= NECROTIC_COMBO_MIN_WITHIN, [(r.tumour, r.kind, r.measured_mm) for r in res]
    assert sum(r.within for r in deepest.values()) >= NECROTIC_COMBO_MIN_DEEPEST
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    # 03's deepest point reads the liver's value on its 5 mm slab (core and rim averaged): the
    # whole lesion is outlined by its enhancing rim, within tolerance, and said so.
    r03 = deepest["livertumor03"]
    assert r03.within, r03.to_dict()
    assert any("closes around it" in f for f in r03.flags), r03.flags
    # Its outline is the expert's (Dice 0.83 when written).
    assert r03.dice is not None and r03.dice >= 0.7, r03.to_dict()
    # 01 (78 mm, bulging from the liver's surface, its deeper half necrotic): from its deepest
    # point, in the core, the whole is followed through the slab where core and rim average to
    # the liver's value (the whole stopped there, 63.1 mm, before its seam was lesion).
    r01 = deepest["livertumor01"]
    assert r01.within, r01.to_dict()
    assert any("core" in f and "enhancing rim" in f for f in r01.flags), r01.flags


# Necrotic core + 5 mm slabs + 25 HU noise, seed 1 (issue 11, w10-necrotic): a dark core found by
# value that an enhancing rim closes around, but whose whole by the rim's value failed (leaked
# past the line, or was not taken), came out alone: 07's deepest point (its 10 mm core, rim
# 153 HU against the liver's 125 HU in 64 % of the directions) 9.8 mm for 20.9, Dice 0.18; a line
# along 02's long axis, whose middle lies in its 16 mm core, 15.6 mm for 27.8, Dice 0.33. The
# whole is now outlined by the rim's outer edge from the core: 26.8 mm (Dice 0.89) and 32.2 mm
# (Dice 0.85) when written; the viable part of 07, not across the core, 16.6 mm for the 18.3 mm
# of its transformed enhancing (viable) mask. Since w11-necro5 (the rim's edge placed on profiles
# aligned along it) 02's line gives 25.0 mm for 27.8 (within; 32.2 before), Dice 0.78: its outline
# now falls a little inside the expert's on some slabs (RIM_EDGE_LINE_MIN_DICE).
RIM_EDGE_MIN_DICE = 0.8
RIM_EDGE_LINE_MIN_DICE = 0.75


def _dice(m, truth: np.ndarray) -> float:
    """Dice of a result's boxed mask against a full-grid truth mask."""
    pred = np.zeros(truth.shape, dtype=bool)
    box = tuple(slice(o, o + n) for o, n in zip(m.offset, m.mask.shape, strict=True))
    pred[box] = m.mask
    return float(2.0 * (pred & truth).sum() / (pred.sum() + truth.sum()))


def _viable_truth_mm(ircadb, index: int, thickness_mm: float) -> float:
    """The longest axial chord, not across the core, of tumour ``index``'s enhancing part as
    :func:`enhance_tumours` makes it (depth at most NECROTIC_CORE_FRACTION of the greatest), in
    slabs of ``thickness_mm`` as :func:`thick_slices` resamples it."""
    tumour = ircadb.tumours[index]
    sp = ircadb.image.spacing_mm
    box = ndimage.find_objects(tumour.view(np.uint8))[0]
    depth = ndimage.distance_transform_edt(np.pad(tumour[box], 1), sampling=sp)[1:-1, 1:-1, 1:-1]
    viable = np.zeros_like(tumour)
    viable[box] = tumour[box] & (depth <= NECROTIC_CORE_FRACTION * float(depth.max()))
    vol, (slabbed,) = thick_slices(ircadb.image, [viable], thickness_mm)
    sub = ndimage.find_objects(slabbed.view(np.uint8))[0]
    chord = longest_chord_within(slabbed[sub], vol.spacing_mm)
    assert chord is not None
    return chord[0]


@pytest.mark.realdata
def test_a_core_whose_whole_by_value_fails_is_outlined_by_its_rim(ircadb) -> None:
    vol, experts, _, _ = variant(
        ircadb, enhance="necrotic", thickness_mm=5.0, noise_sd_hu=25.0, seed=1
    )
    by_name = {t.name: t for t in experts}
    t07, t02 = by_name["livertumor07"], by_name["livertumor02"]
    for t, prompt in (
        (t07, LesionPrompt(seed=t07.deepest)),
        (t02, LesionPrompt(line=t02.long_axis)),
    ):
        r = measure_lesion(vol, prompt, phase="arterial")
        # The whole lesion, core and rim: the expert's outline, not the core's ...
        least = RIM_EDGE_MIN_DICE if prompt.line is None else RIM_EDGE_LINE_MIN_DICE
        assert _dice(r, t.mask) >= least, (t.name, r.whole.length_mm, r.flags)
        # ... its diameter within 30 % of the expert's, and said how it was found.
        assert abs(r.whole.length_mm - t.diameter_mm) <= 0.3 * t.diameter_mm, t.name
        assert any("core" in f and "rim" in f for f in r.flags), r.flags
        if t is t07:
            # The viable rim's own diameter, not across the core, against the transformed mask.
            truth = _viable_truth_mm(ircadb, 6, 5.0)
            assert abs(r.viable_diameter_mm - truth) <= max(3.0, 0.2 * truth), (
                r.viable_diameter_mm,
                truth,
            )


# 02's line (seed 2) went through the core-and-rim-edge path when w11-necro5 wrote this test;
# since w11-hyper's dark-tail rule stops its rays at the bowel beside it, the rim's value gives
# the whole lesion at once (27.0 mm for 27.8): it must stay within tolerance by either route.
@pytest.mark.parametrize(
    ("seed", "name", "kind", "route"),
    [
        (3, "livertumor07", "deepest", "core whose whole"),
        (2, "livertumor02", "line", "inside an enhancing rim"),
    ],
)
def test_a_core_outlined_by_its_rim_is_not_measured_beyond_the_rim(
    ircadb, seed: int, name: str, kind: str, route: str
) -> None:
    """The rim's outer edge from a dark core is placed on profiles aligned along the rim
    (:mod:`lesion_tool.measurement.rimedge`): on the plane smoothed to find it, a thin rim is
    spread 1.5-4 mm outwards and these two came out 24.9 mm for 20.9 and 33.3 for 27.8."""
    vol, experts, _, _ = variant(
        ircadb, enhance="necrotic", thickness_mm=5.0, noise_sd_hu=25.0, seed=seed
    )
    t = {e.name: e for e in experts}[name]
    prompt = LesionPrompt(seed=t.deepest) if kind == "deepest" else LesionPrompt(line=t.long_axis)
    r = measure_lesion(vol, prompt, phase="arterial")
    assert any(route in f for f in r.flags), r.flags
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        r.whole.length_mm,
        t.diameter_mm,
    )


# ---------------------------------------------------------------------------------------------
# lesion-tool evaluate on a real folder with a stray reformat and a multi-segment SEG


def _seg(ct: CTVolume, files: list[str], out: Path) -> dict[str, np.ndarray]:
    """A SEG on the real HCC_006 slices: Liver, Mass (a 30 mm disk over 9 slices at the
    nodule) and Portal vein, every frame's source reference rewritten to the first slice."""
    z, y, x = np.ogrid[: ct.shape[0], : ct.shape[1], : ct.shape[2]]
    sy = ct.spacing_mm[1]
    cz, cy, cx = NODULE_CENTRE
    mass = (np.abs(z - cz) <= 4) & (((y - cy) * sy) ** 2 + ((x - cx) * sy) ** 2 <= 15.0**2)
    liver = (np.abs(z - cz) <= 12) & (np.abs(y - cy) * sy <= 60) & (np.abs(x - cx) * sy <= 60)
    vein = (np.abs(z - cz) <= 6) & (((y - cy + 40) * sy) ** 2 + ((x - cx - 50) * sy) ** 2 <= 16)
    segs = {"Liver": liver, "Mass": mass, "Portal vein": vein}
    props = {
        "Liver": (codes.SCT.AnatomicalStructure, codes.SCT.Liver),
        "Mass": (codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Mass),
        "Portal vein": (codes.SCT.AnatomicalStructure, codes.SCT.PortalVein),
    }
    sources = [pydicom.dcmread(f) for f in files]
    for s in sources:
        if not s.get("SpecificCharacterSet"):
            del s.SpecificCharacterSet
    labels = np.zeros(ct.shape, dtype=np.uint8)
    for i, m in enumerate(segs.values(), start=1):
        labels[m] = i
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=labels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[
            hd.seg.SegmentDescription(
                segment_number=i,
                segment_label=name,
                segmented_property_category=props[name][0],
                segmented_property_type=props[name][1],
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            )
            for i, name in enumerate(segs, start=1)
        ],
        series_instance_uid=hd.UID(),
        series_number=300,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="1",
        device_serial_number="1",
    )
    one = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
    ref = one.SourceImageSequence[0].ReferencedSOPInstanceUID
    for frame in seg.PerFrameFunctionalGroupsSequence:
        for d in frame.DerivationImageSequence:
            for item in d.SourceImageSequence:
                item.ReferencedSOPInstanceUID = ref
    seg.save_as(out)
    return segs


@pytest.mark.realdata
def test_evaluate_picks_the_tumour_segment_on_a_folder_with_a_stray_reformat(
    shared_data: Path, hcc006_ap: CTVolume, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shared_data / HCC_006_AP
    folder = tmp_path / "103 LIVER 3 PHASE AP"
    shutil.copytree(src, folder)
    ds = pydicom.dcmread(src / "1-055.dcm")
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.ImageType = ["DERIVED", "SECONDARY", "REFORMATTED"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.save_as(folder / "1-110.dcm", enforce_file_format=True)
    ct = hcc006_ap  # load_series(src), read once per session
    segs = _seg(ct, list(ct.metadata["files"]), tmp_path / "seg.dcm")
    mask = load_mask(tmp_path / "seg.dcm", ct)
    chosen, left = tumour_segments(mask)
    assert [s.name for s in chosen] == ["Mass"]
    assert sorted(s.name for s in left) == ["Liver", "Portal vein"]
    np.testing.assert_array_equal(chosen[0].array, segs["Mass"])

    args = ["evaluate", "--image", str(folder), "--mask", str(tmp_path / "seg.dcm")]
    assert main([*args, "--clicks", "0", "--phase", "arterial", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "1-110.dcm" in captured.err  # the stray reformat is named, the stack is loaded
    [used] = out["segments"]
    assert "tumour segments 2 'Mass'" in used and "left out 1 'Liver', 3 'Portal vein'" in used
    [tumour] = out["tumours"]
    assert tumour["name"] == "Mass"
    assert tumour["expert_mm"] == pytest.approx(30.0, abs=1.5)
    assert out["overall"]["clicks"] == 1
    # Asked by name, the liver is evaluated instead (and said so).
    assert main([*args, "--clicks", "0", "--segment", "Liver"]) == 0
    text = capsys.readouterr().out
    assert "tumour segments 1 'Liver'" in text and "Liver" in text.splitlines()[2]
