"""DICOM SEG frames are placed on the image grid by their plane positions, not their references.

Real exporters often write every frame's source-image reference to one slice. The real dcmqi
liver SEG (and one written here with highdicom on the real 3-slice CT, with a gap between its
frames) is copied with every ReferencedSOPInstanceUID rewritten to one slice: the mask must land
on the image slices whose positions its frames state, exactly where the correct file lands.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from lesion_tool.errors import HeaderWarning, SeriesError
from lesion_tool.io import load_series
from lesion_tool.measurement import load_mask, measure_mask

pytestmark = pytest.mark.realdata

DCMQI = "sr-seg/dcmqi"


@pytest.fixture(scope="module")
def ct(shared_data: Path):
    with pytest.warns(HeaderWarning, match="SliceThickness"):
        return load_series(shared_data / DCMQI / "ct-3slice")


def _point_all_frames_at_one_slice(source: Path, out: Path) -> pydicom.Dataset:
    """A copy of ``source`` whose every frame references the first frame's source image."""
    ds = pydicom.dcmread(source)
    frames = ds.PerFrameFunctionalGroupsSequence
    one = frames[0].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
    for frame in frames:
        for derivation in frame.DerivationImageSequence:
            for item in derivation.SourceImageSequence:
                item.ReferencedSOPInstanceUID = one
    ds.save_as(out, enforce_file_format=True)
    return ds


def _frame_slices(ds: pydicom.Dataset, ct) -> list[int]:
    """The image slice of each SEG frame, from its ImagePositionPatient (the truth here)."""
    normal = np.asarray(ct.direction)[:, 0]
    along = [
        float(np.asarray(f.PlanePositionSequence[0].ImagePositionPatient, float) @ normal)
        for f in ds.PerFrameFunctionalGroupsSequence
    ]
    first = float(np.asarray(ct.origin_mm) @ normal)
    return [round((a - first) / ct.spacing_mm[0]) for a in along]


def test_wrong_references_land_where_the_positions_say(
    shared_data: Path, tmp_path: Path, ct
) -> None:
    good_path = shared_data / DCMQI / "liver.dcm"
    bad = _point_all_frames_at_one_slice(good_path, tmp_path / "liver-one-ref.dcm")
    good = load_mask(good_path, ct)
    placed = load_mask(tmp_path / "liver-one-ref.dcm", ct)
    # on the image's grid: same geometry as the CT, so slice k of the mask is slice k of the CT
    assert placed.shape == ct.shape
    assert placed.geometry.origin_mm == pytest.approx(ct.origin_mm)
    np.testing.assert_allclose(placed.geometry.direction, ct.direction, atol=1e-6)
    [segment] = placed.segments
    np.testing.assert_array_equal(segment.array, good.segments[0].array)
    # each frame's pixels are on the CT slice at that frame's position
    frames = bad.pixel_array
    for k, z in enumerate(_frame_slices(bad, ct)):
        np.testing.assert_array_equal(segment.array[z], frames[k] > 0)
    # measured on the image's slices (sub-pixel edges from the CT)
    [m] = measure_mask(placed, image=ct)
    assert m.slice_index in range(3)


def test_a_seg_with_a_gap_and_one_reference_is_placed_by_positions(
    shared_data: Path, tmp_path: Path, ct
) -> None:
    """Frames only on slices 0 and 2 (exporters omit empty frames), all naming slice 0."""
    sources = [pydicom.dcmread(p) for p in ct.metadata["files"]]
    for source in sources:
        if not source.get("SpecificCharacterSet"):
            del source.SpecificCharacterSet  # empty in these files; highdicom refuses ''
    truth = np.zeros(ct.shape, dtype=bool)
    truth[0, 100:140, 200:260] = True
    truth[2, 300:330, 100:120] = True
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=truth.astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[
            hd.seg.SegmentDescription(
                segment_number=1,
                segment_label="tumour",
                segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
                segmented_property_type=codes.SCT.Neoplasm,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            )
        ],
        series_instance_uid=hd.UID(),
        series_number=99,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="1",
        device_serial_number="1",
    )
    assert int(seg.NumberOfFrames) == 2
    seg.save_as(tmp_path / "gap.dcm")
    _point_all_frames_at_one_slice(tmp_path / "gap.dcm", tmp_path / "gap-one-ref.dcm")
    placed = load_mask(tmp_path / "gap-one-ref.dcm", ct)
    assert placed.shape == ct.shape
    np.testing.assert_array_equal(placed.segments[0].array, truth)


def test_a_seg_reaching_beyond_the_image_is_refused(shared_data: Path, ct) -> None:
    two_slices = load_series(ct.metadata["files"][:2])
    with pytest.raises(SeriesError, match="segmented voxels lie outside the image"):
        load_mask(shared_data / DCMQI / "liver.dcm", two_slices)
