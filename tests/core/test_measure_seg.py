"""Real DICOM SEG files from ../shared/data/sr-seg: every one loads or fails with a clear
message, and diameters agree with an independent brute-force computation."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from lesion_tool.cli import main
from lesion_tool.errors import LesionToolError, SeriesError
from lesion_tool.measurement import load_mask, measure_mask

pytestmark = pytest.mark.realdata

LOADABLE = [
    "dcmqi/liver.dcm",
    "dcmqi/partial_overlaps.dcm",
    "dcmqi/sr-example/seg.dcm",
    "highdicom/seg_image_ct_binary.dcm",
    "highdicom/seg_image_ct_binary_fractional.dcm",
    "highdicom/seg_image_ct_binary_overlap.dcm",
    "highdicom/seg_image_ct_binary_single_frame.dcm",
    "highdicom/seg_image_ct_true_fractional.dcm",
    "pydicom-data/liver.dcm",
    "pydicom-data/liver_deflate.dcm",
    "pydicom-data/liver_expb.dcm",
    "pydicom-data/liver_j2k.dcm",
    "pydicom-data/liver_rle.dcm",
    "pydicom-data/liver_nonbyte_aligned.dcm",
    "pydicom-data/liver_nonbyte_aligned_deflate.dcm",
    "pydicom-data/liver_nonbyte_aligned_j2k.dcm",
    "pydicom-data/liver_nonbyte_aligned_rle.dcm",
]


def brute_force_longest_mm(mask2d: np.ndarray, spacing_yx: tuple[float, float]) -> float:
    """Independent reference: the midpoints of every pixel edge between an inside and an
    outside pixel (the 0.5 iso-contour's vertices), all pairwise distances in millimetres."""
    m = np.pad(mask2d.astype(bool), 1)
    pts = []
    ys, xs = np.nonzero(m)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        out = ~m[ys + dy, xs + dx]
        pts.append(np.column_stack([ys[out] + dy / 2, xs[out] + dx / 2]))
    p = np.concatenate(pts) * np.asarray(spacing_yx)
    if len(p) > 6000:  # keep it brute force but bounded: boundary points only, in chunks
        best = 0.0
        for i in range(0, len(p), 2000):
            d = ((p[i : i + 2000, None, :] - p[None, :, :]) ** 2).sum(-1)
            best = max(best, float(d.max()))
        return float(np.sqrt(best))
    d = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    return float(np.sqrt(d.max()))


@pytest.mark.parametrize("name", LOADABLE)
def test_seg_diameters_match_brute_force(shared_data, name: str) -> None:
    mask = load_mask(shared_data / "sr-seg" / name)
    # Each label as one object, as the brute-force reference measures it (per-tumour is the
    # default since issue 11; it is tested in test_measure_components).
    results = measure_mask(mask, separate_components=False)
    assert results, name
    spacing = mask.geometry.spacing_mm[1:]
    by_label = {r.label: r for r in results}
    for seg in mask.segments:
        binary = seg.array >= 0.5 if seg.fractional else seg.array
        if not binary.any():
            continue
        r = by_label[seg.label]
        expected = max(brute_force_longest_mm(s, spacing) for s in binary if s.any())
        if seg.fractional:
            # Fractional segments are measured on their sub-pixel 0.5 contour: the binary
            # reference at 0.5 differs by less than a pixel.
            assert abs(r.longest_diameter_mm - expected) <= float(np.hypot(*spacing))
        else:
            assert abs(r.longest_diameter_mm - expected) <= 0.5, (seg.label, name)
            assert r.longest_diameter_mm == pytest.approx(expected, abs=1e-6)
        # End points are consistent in both spaces.
        a, b = np.asarray(r.longest.start_patient), np.asarray(r.longest.end_patient)
        assert np.linalg.norm(a - b) == pytest.approx(r.longest_diameter_mm)


def test_reencoded_liver_variants_decode_identically(shared_data) -> None:
    folder = shared_data / "sr-seg" / "pydicom-data"
    reference = load_mask(folder / "liver.dcm").segments[0].array
    for name in ("liver_deflate.dcm", "liver_expb.dcm", "liver_rle.dcm", "liver_j2k.dcm"):
        assert np.array_equal(load_mask(folder / name).segments[0].array, reference), name


def test_vendor_seg_without_property_codes_fails_clearly(shared_data) -> None:
    path = shared_data / "sr-seg" / "quantitativereporting" / "syngo.seg.dcm"
    with pytest.raises(SeriesError) as info:
        load_mask(path)
    message = str(info.value)
    assert str(path) in message
    assert "SegmentedPropertyCategoryCodeSequence" in message


@pytest.mark.parametrize(
    "name", ["highdicom/CT_small.dcm", "dcmjs/sample-sr.dcm", "pydicom-data/eCT_Supplemental.dcm"]
)
def test_non_seg_dicom_fails_clearly(shared_data, name: str) -> None:
    path = shared_data / "sr-seg" / name
    with pytest.raises(LesionToolError, match="not a DICOM Segmentation") as info:
        load_mask(path)
    assert str(path) in str(info.value)


def test_every_dicom_in_sr_seg_loads_or_fails_clearly(shared_data) -> None:
    for path in sorted((shared_data / "sr-seg").rglob("*.dcm")):
        try:
            mask = load_mask(path)
        except LesionToolError as err:
            assert str(path) in str(err)
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            assert ds.SOPClassUID != "1.2.840.10008.5.1.4.1.1.66.4" or "syngo" in path.name
        else:
            assert mask.segments, path


def test_cli_folder_of_segs_measures_the_rest_when_one_fails(shared_data, capsys) -> None:
    folder = shared_data / "sr-seg"
    code = main(
        [
            "measure",
            "--mask",
            str(folder / "highdicom"),
            "--mask",
            str(folder / "quantitativereporting"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "seg_image_ct_binary.dcm" in captured.out
    assert "syngo.seg.dcm" in captured.err
    # Non-SEG DICOM files in a folder (CT images, SR documents) are skipped, not failures.
    assert "CT_small.dcm" not in captured.err
