"""Issue 12: a corrupted compressed slice is named, not loaded silently.

A damaged JPEG 2000 codestream decodes without a word from any decoder and gives values wrong by
hundreds of HU. ``load_series`` names such a slice (a :class:`PixelDataWarning`: it disagrees
grossly with both neighbours), turns a decoder's logged complaint about a file another decoder
then read into a warning naming the file, and never lets a decoder's panic through as a
traceback. The real series must load without any such warning.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import write_series
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import JPEG2000Lossless, RLELossless

from lesion_tool.cli import main
from lesion_tool.errors import PixelDataWarning, SeriesError
from lesion_tool.io import load_series
from lesion_tool.io.plausibility import find_inconsistent_slices

N, SIZE, BAD = 9, 64, 4


def _phantom() -> np.ndarray:
    """Stored values ``(z, y, x)`` of a smooth CT-like phantom (intercept -1024): air around a
    40 HU body with a 100 HU 'liver' whose radius changes from slice to slice, plus noise."""
    z, y, x = np.indices((N, SIZE, SIZE), dtype=float)
    body = (y - 32) ** 2 + (x - 32) ** 2 < 28**2
    liver = (y - 30) ** 2 + (x - 26) ** 2 < (10 + z) ** 2
    hu = np.where(body, 40.0, -1000.0) + np.where(body & liver, 60.0, 0.0)
    hu += np.random.default_rng(0).normal(0, 8, hu.shape)
    return np.clip(hu + 1024, 0, None).round().astype(np.uint16)


def _corrupt_j2k(path: Path, n_bytes: int = 40) -> None:
    """Re-encode ``path`` as JPEG 2000 lossless and overwrite ``n_bytes`` of its codestream
    (after the main header) with random bytes, as a damaged transfer or disk would."""
    ds = pydicom.dcmread(path)
    ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    stream = bytearray(b"".join(next(generate_fragmented_frames(ds.PixelData))))
    rng = np.random.default_rng(3)
    for i in rng.integers(150, len(stream), n_bytes):
        stream[i] = int(rng.integers(0, 256))
    ds.PixelData = encapsulate([bytes(stream)])
    ds.save_as(path)


@pytest.fixture
def corrupted_series(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    values = _phantom()
    paths = write_series(tmp_path / "ct", n=N, rows=SIZE, cols=SIZE, values=values)
    _corrupt_j2k(paths[BAD])
    return tmp_path / "ct", paths[BAD], values


def test_the_corrupted_slice_decodes_silently_and_grossly_wrong(corrupted_series) -> None:
    # the premise of the finding: no decoder complains, the values are far off
    _folder, bad, values = corrupted_series
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoded = pydicom.dcmread(bad).pixel_array.astype(int)
    wrong = np.abs(decoded - values[BAD].astype(int))
    assert (wrong > 100).mean() > 0.2
    assert wrong.max() > 300


def test_load_series_names_the_corrupted_slice(corrupted_series) -> None:
    folder, bad, _values = corrupted_series
    with pytest.warns(PixelDataWarning, match="disagree grossly") as record:
        vol = load_series(folder)
    [w] = [w for w in record if issubclass(w.category, PixelDataWarning)]
    assert bad.name in str(w.message)
    assert f"slice {BAD + 1}:" in str(w.message)
    assert vol.metadata["suspect_slices"] == [bad.name]
    assert any("disagree grossly" in text for text in vol.warnings)


def test_the_cli_names_it_as_a_warning(corrupted_series, capsys) -> None:
    folder, bad, _values = corrupted_series
    assert main(["measure", "--image", str(folder), "--seed", "4,30,26"]) in (0, 1)
    err = capsys.readouterr().err
    [line] = [x for x in err.splitlines() if "disagree grossly" in x]
    assert line.startswith("lesion-tool: warning: Series ")
    assert bad.name in line


def test_the_intact_series_and_its_neighbours_are_not_named(tmp_path: Path) -> None:
    values = _phantom()
    write_series(tmp_path / "ct", n=N, rows=SIZE, cols=SIZE, values=values)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PixelDataWarning)
        vol = load_series(tmp_path / "ct")
    assert vol.metadata["suspect_slices"] == []
    # a gross error on the first slice is found too, and only that slice
    hu = vol.array.astype(np.float32)
    hu[0, 10:50, 10:50] += 600
    assert [s.index for s in find_inconsistent_slices(hu)] == [0]


def test_independent_noise_slices_are_not_named() -> None:
    # slices of pure noise disagree with their neighbours only ~1.7 times as much as the
    # neighbours with each other: no slice stands out
    noise = np.random.default_rng(1).integers(-1000, 2000, (8, 64, 64)).astype(np.int16)
    assert find_inconsistent_slices(noise) == []


def test_a_decoder_complaint_about_a_file_another_decoder_read_is_a_warning(
    tmp_path: Path,
) -> None:
    # An RLE header with a stray segment offset: pylibjpeg-rle refuses it ("Invalid segment
    # offset"), pydicom's own RLE decoder reads it; pydicom only logs the first failure.
    paths = write_series(tmp_path / "ct", n=N, rows=SIZE, cols=SIZE, values=_phantom())
    ds = pydicom.dcmread(paths[2])
    ds.compress(RLELossless, encoding_plugin="pydicom")
    stream = bytearray(b"".join(next(generate_fragmented_frames(ds.PixelData))))
    stream[12] = 7  # the third segment offset of a 2-segment frame must be 0
    ds.PixelData = encapsulate([bytes(stream)])
    ds.save_as(paths[2])
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        with pytest.warns(PixelDataWarning, match="a decoder failed") as record:
            vol = load_series(tmp_path / "ct")
    finally:
        logging.getLogger().removeHandler(handler)
    [w] = [w for w in record if issubclass(w.category, PixelDataWarning)]
    assert str(paths[2]) in str(w.message)
    assert "Invalid segment offset" in str(w.message)
    # the values are right (pydicom's decoder read the frame) and the complaint is not
    # printed a second time as a bare log line without the file's name
    np.testing.assert_array_equal(vol.array[2], _phantom()[2].astype(np.int32) - 1024)
    assert not [r for r in seen if "segment offset" in r.getMessage()]


def test_a_decoder_panic_is_a_series_error(tmp_path: Path) -> None:
    # pylibjpeg-rle (Rust) panics on some damaged RLE segments: pyo3's PanicException is a
    # BaseException, which used to escape as a traceback
    paths = write_series(tmp_path / "ct", n=N, rows=SIZE, cols=SIZE, values=_phantom())
    ds = pydicom.dcmread(paths[1])
    ds.compress(RLELossless, encoding_plugin="pydicom")
    stream = bytearray(b"".join(next(generate_fragmented_frames(ds.PixelData))))
    rng = np.random.default_rng(0)
    outcomes = set()
    for trial in range(60):
        damaged = bytearray(stream)
        for i in rng.integers(64, len(damaged), 20):
            damaged[i] = int(rng.integers(0, 256))
        ds.PixelData = encapsulate([bytes(damaged)])
        ds.save_as(paths[1])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PixelDataWarning)
                load_series(tmp_path / "ct")
            outcomes.add("loaded")
        except SeriesError as err:
            assert paths[1].name in str(err), trial
            outcomes.add(type(err).__name__)
    assert "SeriesError" in outcomes


REAL_SERIES = [
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033",
    "hcc-tace-seg/HCC_048_PV",
    "ircadb/3Dircadb1.1/PATIENT_DICOM",
]


@pytest.mark.parametrize("rel", REAL_SERIES)
def test_real_series_have_no_suspect_slice(shared_data: Path, rel: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PixelDataWarning)
        vol = load_series(shared_data / rel)
    assert vol.shape[0] in (109, 89, 129)
    assert vol.metadata["suspect_slices"] == []
