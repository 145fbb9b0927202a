"""The raw header reader and the direct pixel read agree with pydicom, or step aside for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import ramp, write_enhanced_ct, write_series
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ImplicitVRLittleEndian

from lesion_tool.io._rawheader import read_raw
from lesion_tool.io.headers import (
    _KEYWORDS,
    SPECIFIC_TAGS,
    NotDicomError,
    header_from_dataset,
    read_header,
)
from lesion_tool.io.series import FrameRef, _read_native, _read_pixels


def via_pydicom(path: Path):
    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=SPECIFIC_TAGS, force=True)
    return header_from_dataset(ds, path)


def resave(src: Path, dst: Path, *, implicit: bool = False, **changes: object) -> Path:
    ds = pydicom.dcmread(src)
    for key, value in changes.items():
        setattr(ds, key, value)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(dst, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
    return dst


def test_raw_reader_equals_pydicom(tmp_path: Path) -> None:
    [path] = write_series(tmp_path, n=1, description="LIVER ART", extra={"ContrastBolusAgent": "X"})
    assert read_raw(str(path), _KEYWORDS) is not None
    assert read_header(path) == via_pydicom(path)


def test_implicit_vr_with_nested_undefined_length_sequence(tmp_path: Path) -> None:
    [src] = write_series(tmp_path / "a", n=1)
    inner = Dataset()
    inner.CodeValue = "123"
    inner.CodeMeaning = "thing"
    nested = Dataset()
    nested.ConceptNameCodeSequence = DicomSequence([inner])
    dst = resave(
        src,
        tmp_path / "b",
        implicit=True,
        ReferencedImageSequence=DicomSequence([nested, nested]),
    )
    raw = read_raw(str(dst), _KEYWORDS)
    assert raw is not None and raw.get("Rows") == 12
    assert read_header(dst) == via_pydicom(dst)


def test_utf8_and_latin1_descriptions(tmp_path: Path) -> None:
    [src] = write_series(tmp_path / "a", n=1)
    utf8 = resave(
        src, tmp_path / "u", SpecificCharacterSet="ISO_IR 192", SeriesDescription="Spätphase"
    )
    latin = resave(
        src, tmp_path / "l", SpecificCharacterSet="ISO_IR 100", SeriesDescription="artériel"
    )
    assert read_header(utf8).series_description == "Spätphase"
    assert read_header(latin).series_description == "artériel"
    assert read_header(utf8) == via_pydicom(utf8)


def test_other_charsets_and_multiframe_go_to_pydicom(tmp_path: Path) -> None:
    [src] = write_series(tmp_path / "a", n=1)
    greek = resave(src, tmp_path / "g", SpecificCharacterSet="ISO_IR 126")
    assert read_raw(str(greek), _KEYWORDS) is None
    assert read_header(greek) == via_pydicom(greek)
    write_enhanced_ct(tmp_path / "mf.dcm")
    assert read_raw(str(tmp_path / "mf.dcm"), _KEYWORDS) is None
    assert len(read_header(tmp_path / "mf.dcm").frames) == 5


def test_header_longer_than_the_first_read(tmp_path: Path) -> None:
    # ImageComments (0020,4000) of 6,000 bytes pushes group 0028 past the first 4,096 bytes:
    # the raw reader reads the rest of the head once and still reads every value.
    [src] = write_series(tmp_path / "a", n=1)
    long = resave(src, tmp_path / "long", ImageComments="x" * 6000)
    raw = read_raw(str(long), _KEYWORDS)
    assert raw is not None and raw.get("Rows") == 12 and raw.get("RescaleSlope") is not None
    assert read_header(long) == via_pydicom(long)


def test_unreadable_path_keeps_the_message_of_open(tmp_path: Path) -> None:
    # The reader opens with os.open (a folder opens; only its read fails): the error is the
    # one a buffered open gives, naming the file.
    with pytest.raises(OSError) as expected:
        open(tmp_path, "rb").read(1)  # noqa: SIM115 - the reference message
    with pytest.raises(NotDicomError) as err:
        read_header(tmp_path)
    assert str(err.value) == f"unreadable ({type(expected.value).__name__}: {expected.value})"
    assert str(tmp_path) in str(err.value)
    with pytest.raises(NotDicomError, match=r"unreadable \(FileNotFoundError: .*missing"):
        read_header(tmp_path / "missing")


@pytest.mark.realdata
def test_every_real_file_reads_the_same_both_ways(shared_data: Path) -> None:
    compared = 0
    for path in sorted(shared_data.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".csv", ".xlsx", ".txt", ".json"):
            continue
        if path.name in ("LICENSE", "SOURCE"):
            continue
        assert read_header(path) == via_pydicom(path), path
        compared += 1
    assert compared > 200


def test_native_pixels_equal_pydicom_or_step_aside(tmp_path: Path) -> None:
    # 12 stored bits with values above 4095: pydicom masks them, so the direct read declines.
    values = ramp(2, 12, 10)
    values[0, 0, 0] = 5000
    paths = write_series(tmp_path, n=2, values=values, extra={"BitsStored": 12, "HighBit": 11})
    for p in paths:
        h = read_header(p)
        ref = pydicom.dcmread(p).pixel_array
        fast = _read_native(h)
        if p == paths[0]:
            assert fast is None
        else:
            assert fast is not None
            np.testing.assert_array_equal(fast, ref)
        np.testing.assert_array_equal(_read_pixels(FrameRef(h, None, h.frames[0]), "S"), ref)


def test_native_read_implicit_vr(tmp_path: Path) -> None:
    [src] = write_series(tmp_path / "a", n=1)
    dst = resave(src, tmp_path / "b", implicit=True)
    h = read_header(dst)
    fast = _read_native(h)
    assert fast is not None
    np.testing.assert_array_equal(fast, pydicom.dcmread(dst).pixel_array)
