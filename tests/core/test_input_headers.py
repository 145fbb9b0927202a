"""Issue 12: the DICOM header / pixel-data boundary refuses impossible values, naming the file.

Every case here loaded, crashed or was chosen by ``scan`` before: zero, negative or NaN
PixelSpacing, NaN or infinite ImagePositionPatient, a NaN RescaleSlope, Rows = Columns = 65535
over a few bytes of pixels, BitsAllocated 8 over 16-bit data, and a FIFO among the slices.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import write_series

from lesion_tool.cli import main
from lesion_tool.errors import SeriesError
from lesion_tool.io import load_series, scan_folders
from lesion_tool.io.headers import InvalidHeaderError, read_header

BAD_HEADERS = {
    "spacing zero": ({"PixelSpacing": [0, 0]}, "PixelSpacing"),
    "spacing negative": ({"PixelSpacing": [-0.7, -0.8]}, "PixelSpacing"),
    "spacing NaN": ({"PixelSpacing": ["NaN", "0.8"]}, "PixelSpacing"),
    "position NaN": ({"ImagePositionPatient": ["0", "NaN", "0"]}, "ImagePositionPatient"),
    "position inf": ({"ImagePositionPatient": ["inf", "0", "0"]}, "ImagePositionPatient"),
    "position huge": ({"ImagePositionPatient": ["1e300", "0", "0"]}, "ImagePositionPatient"),
    "orientation NaN": (
        {"ImageOrientationPatient": ["NaN", "0", "0", "0", "1", "0"]},
        "ImageOrientationPatient",
    ),
    "slope NaN": ({"RescaleSlope": "NaN"}, "RescaleSlope"),
    "slope zero": ({"RescaleSlope": "0"}, "RescaleSlope"),
    "slope -1e308 (found by the fuzzer)": ({"RescaleSlope": "-1e308"}, "RescaleSlope"),
    "intercept inf": ({"RescaleIntercept": "-inf"}, "RescaleIntercept"),
    "bits stored > allocated": ({"BitsStored": 17}, "BitsStored"),
}


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_impossible_header_values_are_refused_naming_file_and_tag(
    tmp_path: Path, case: str
) -> None:
    extra, tag = BAD_HEADERS[case]
    folder = tmp_path / "series"
    paths = write_series(folder, n=4, extra=extra)
    with pytest.raises(InvalidHeaderError, match=tag):
        read_header(paths[0])
    with pytest.raises(SeriesError, match=tag) as err:
        load_series(folder)
    assert str(paths[0]) in str(err.value) or str(paths[0].name) in str(err.value)
    # scan lists every such file as a problem and offers no series to measure on
    result = scan_folders(folder, use_pixels=True)
    assert not result.stacks
    assert {p.path.name for p in result.problems} == {p.name for p in paths}
    assert all(tag in p.reason for p in result.problems)


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
def test_one_bad_slice_refuses_the_series_instead_of_reporting_a_missing_slice(
    tmp_path: Path,
) -> None:
    paths = write_series(tmp_path / "s", n=5)
    write_series(tmp_path / "s", n=5, extra={"PixelSpacing": [-0.7, -0.8]}, name="BAD{:04d}")
    for p in sorted((tmp_path / "s").glob("BAD*"))[1:]:
        p.unlink()
    for p in paths[2:3]:
        p.unlink()
    with pytest.raises(SeriesError, match=r"BAD0001.*PixelSpacing"):
        load_series(tmp_path / "s")


def test_zero_spacing_in_scan_no_longer_divides_by_zero(tmp_path: Path) -> None:
    """io/phase.py divided by the pixel area: scan with pixels used to raise ZeroDivisionError."""
    write_series(tmp_path / "s", n=6, rows=40, cols=40, extra={"PixelSpacing": [0, 0]})
    result = scan_folders(tmp_path, use_pixels=True)
    assert len(result.problems) == 6


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
def test_scan_json_never_prints_nan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_series(tmp_path / "s", n=6, extra={"ImagePositionPatient": ["0", "0", "NaN"]})
    write_series(tmp_path / "t", n=6, series_number=3, description="OTHER")
    assert main(["scan", "--json", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"scan --json printed {c}"))
    assert len(doc["problems"]) == 6


def test_scan_json_writes_null_for_any_non_finite_number() -> None:
    from lesion_tool.commands.scan import _finite

    doc = _finite({"a": [1.0, float("nan")], "b": {"c": float("-inf")}, "d": "NaN"})
    assert json.dumps(doc, allow_nan=False) == '{"a": [1.0, null], "b": {"c": null}, "d": "NaN"}'


def test_rows_columns_65535_over_small_data_is_refused_before_allocating(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    write_series(folder, n=32, extra={"Rows": 65535, "Columns": 65535})
    with pytest.raises(SeriesError, match=r"65535 x 65535.*bytes"):
        load_series(folder)  # used to try to allocate 256 GiB (MemoryError)
    result = scan_folders(folder, use_pixels=True)
    assert not result.stacks and len(result.problems) == 32


def test_bits_allocated_8_on_16_bit_data_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "b8"
    write_series(folder, n=3, extra={"BitsAllocated": 8, "BitsStored": 8, "HighBit": 7})
    with pytest.raises(SeriesError, match=r"holds 240 bytes.*120 bytes"):
        load_series(folder)  # loaded before, every value wrong


def test_truncated_pixel_data_is_refused_with_its_length(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "s", n=3, rows=20, cols=20)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[:-300])
    with pytest.raises(SeriesError, match="IM0002"):
        load_series(tmp_path / "s")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_among_the_slices_is_skipped_with_a_note_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    write_series(folder, n=4)
    os.mkfifo(folder / "pipe")
    outcome: dict[str, object] = {}

    def work() -> None:
        outcome["scan"] = scan_folders(folder, use_pixels=False)
        outcome["volume"] = load_series(folder)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():  # unblock the reader so the test process can end, then fail
        with open(folder / "pipe", "wb"):
            pass
        pytest.fail("reading a folder with a FIFO hangs")
    result = outcome["scan"]
    assert [p.reason for p in result.problems if p.path.name == "pipe"] == [  # type: ignore[attr-defined]
        "a FIFO (named pipe), not read"
    ]
    volume = outcome["volume"]
    assert volume.array.shape == (4, 12, 10)  # type: ignore[attr-defined]
    assert any("pipe" in s for s in volume.metadata["skipped_files"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "abc"])
def test_measure_threshold_hu_must_be_finite_and_not_negative(
    tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path / "s", n=4)
    with pytest.raises(SystemExit) as exit_:
        main(
            ["measure", "--image", str(tmp_path / "s"), "--seed", "1,2,2", "--threshold-hu", value]
        )
    assert exit_.value.code == 2
    assert "--threshold-hu" in capsys.readouterr().err


def test_valid_series_still_loads_exactly(tmp_path: Path) -> None:
    values = np.arange(4 * 12 * 10, dtype=np.uint16).reshape(4, 12, 10)
    write_series(tmp_path / "s", n=4, values=values, slope=1.0, intercept=-1024.0)
    vol = load_series(tmp_path / "s")
    np.testing.assert_array_equal(vol.array, values.astype(np.int32) - 1024)
