"""Structured DICOM tag fuzzer (issue 12): broken headers give a result or a LesionToolError.

Each example takes a small valid CT series, sets, deletes or corrupts header attributes of some
of its slices (geometry, pixel format, rescale, transfer syntax, Pixel Data length, UIDs, dates)
and drives :func:`scan_folders`, :func:`load_series` and the CLI ``scan --json`` / ``measure``
in process. The property: each returns a sound result (finite, positive spacing, finite origin
and HU; strict JSON without NaN) or raises a :class:`~lesion_tool.errors.LesionToolError`
subclass (warnings allowed); any other exception is a traceback a user would see, and an
example running longer than :data:`HANG_SECONDS` is a hang. All fail the test.

The budget is fixed for CI (derandomised, ``LESION_TOOL_FUZZ_EXAMPLES`` examples per test, 100 by
default, about 25 s in all). A long run::

    LESION_TOOL_FUZZ_EXAMPLES=100000 LESION_TOOL_FUZZ_SEED=1 \\
    LESION_TOOL_FUZZ_LOG=/tmp/fuzz.jsonl timeout -s INT 600 \\
    python -m pytest tests/core/test_fuzz_dicom_tags.py -k load

``LESION_TOOL_FUZZ_SEED`` makes the run random (from that seed) instead of derandomised;
``LESION_TOOL_FUZZ_LOG`` appends one JSON line per example (``outcome``: ok, error, unsound,
traceback or hang) for the report.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import signal
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from _dicom_factory import write_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.tag import Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

from lesion_tool.cli import main
from lesion_tool.errors import LesionToolError
from lesion_tool.io import load_series, scan_folders

N_SLICES, ROWS, COLS = 4, 8, 6
HANG_SECONDS = int(os.environ.get("LESION_TOOL_FUZZ_HANG_SECONDS", "20"))
"""An example (all four drivers on one broken series) taking longer than this is a hang."""
EXAMPLES = int(os.environ.get("LESION_TOOL_FUZZ_EXAMPLES", "100"))
SEED = os.environ.get("LESION_TOOL_FUZZ_SEED")
LOG = os.environ.get("LESION_TOOL_FUZZ_LOG")

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=SEED is None,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies -------------------------------------------------------------------------------

_SPECIAL_DS = ["0", "-0", "-1", "NaN", "inf", "-inf", "1e308", "-1e308", "1e-300", ""]
_ds_text = st.one_of(
    st.sampled_from(_SPECIAL_DS),  # the values that broke readers, drawn most often
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda v: f"{v:.6g}"[:16]),
    st.text(alphabet="0123456789.-+eE \\", max_size=16),
)


def _ds_multi(n: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(_SPECIAL_DS).map(lambda v: [v] * n),
        st.lists(_ds_text, min_size=n, max_size=n),
        st.lists(_ds_text, min_size=0, max_size=n + 2),  # wrong multiplicity
    )


_us = st.one_of(st.sampled_from([0, 1, 2, 7, 8, 12, 16, 17, 32, 64, 65535]), st.integers(0, 65535))
_uid = st.one_of(
    st.sampled_from(["", "1.2.3", "1.2.3.4.5.6", "not a uid"]),
    st.text(alphabet="0123456789.", min_size=1, max_size=64),
)
_date = st.one_of(
    st.sampled_from(["", "20240230", "99999999", "2024", "20240105", "19000101", "abcdefgh"]),
    st.text(alphabet="0123456789-. ", max_size=10),
)

ATTRIBUTES: dict[str, st.SearchStrategy[Any]] = {
    "PixelSpacing": _ds_multi(2),
    "ImagePositionPatient": _ds_multi(3),
    "ImageOrientationPatient": st.one_of(
        _ds_multi(6),
        st.sampled_from([["1", "0", "0", "0", "0", "-1"], ["0", "0", "0", "0", "0", "0"]]),
    ),
    "SliceThickness": _ds_text,
    "SpacingBetweenSlices": _ds_text,
    "RescaleSlope": _ds_text,
    "RescaleIntercept": _ds_text,
    "Rows": _us,
    "Columns": _us,
    "BitsAllocated": _us,
    "BitsStored": _us,
    "HighBit": _us,
    "PixelRepresentation": st.sampled_from([0, 1, 2, 65535]),
    "SamplesPerPixel": st.sampled_from([0, 1, 3, 4, 65535]),
    "NumberOfFrames": st.sampled_from(["0", "1", "2", "4", "-1", "99999999", "x"]),
    "SOPInstanceUID": _uid,
    "SeriesInstanceUID": _uid,
    "StudyInstanceUID": _uid,
    "FrameOfReferenceUID": _uid,
    "StudyDate": _date,
    "SeriesTime": st.sampled_from(["", "256199", "120000.123456", "xx"]),
    "InstanceNumber": st.sampled_from(["", "0", "-5", "99999999999", "abc"]),
    "GantryDetectorTilt": _ds_text,
}
TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    ExplicitVRBigEndian,
    DeflatedExplicitVRLittleEndian,
    JPEG2000Lossless,  # re-labelled, not re-encoded: the pixels do not match the syntax
    RLELossless,
    "1.2.3.4",
]

_action = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(sorted(ATTRIBUTES))).flatmap(
        lambda t: st.tuples(st.just(t[0]), st.just(t[1]), ATTRIBUTES[t[1]])
    ),
    st.tuples(st.just("delete"), st.sampled_from(sorted(ATTRIBUTES)), st.none()),
    st.tuples(st.just("syntax"), st.just("TransferSyntaxUID"), st.sampled_from(TRANSFER_SYNTAXES)),
    st.tuples(
        st.just("pixels"),
        st.just("PixelData"),
        st.sampled_from(["empty", "half", "minus1", "double", "plus2", "garbage"]),
    ),
    st.tuples(st.just("truncate"), st.just("file"), st.integers(0, 2000)),
)
# (which slices: None = all, else indices), action
_mutation = st.tuples(
    st.one_of(st.none(), st.none(), st.sets(st.integers(0, N_SLICES - 1), min_size=1)), _action
)
mutations = st.lists(_mutation, min_size=1, max_size=4)


# --- the series and its mutation -----------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> list[pydicom.Dataset]:
    """The valid series the mutations start from, as datasets."""
    folder = tmp_path_factory.mktemp("fuzz-source")
    paths = write_series(folder, n=N_SLICES, rows=ROWS, cols=COLS)
    return [pydicom.dcmread(p) for p in paths]


def _pixels(ds: pydicom.Dataset, how: str) -> None:
    data = bytes(ds.PixelData)
    ds.PixelData = {
        "empty": b"",
        "half": data[: len(data) // 2],
        "minus1": data[:-2],
        "double": data + data,
        "plus2": data + b"\0\0",
        "garbage": bytes(range(256)) * 3,
    }[how]


def _set(ds: pydicom.Dataset, keyword: str, value: Any) -> None:
    """Set an attribute; a value pydicom refuses (``IS`` "abc") is stored as raw bytes."""
    try:
        setattr(ds, keyword, value)
        return
    except Exception:  # noqa: BLE001 - pydicom validates some VRs on assignment
        pass
    tag = tag_for_keyword(keyword)
    text = "\\".join(value) if isinstance(value, list) else str(value)
    raw = text.encode("latin-1", "replace")
    raw += b" " * (len(raw) % 2)
    ds[tag] = RawDataElement(Tag(tag), dictionary_VR(tag), len(raw), raw, 0, False, True)


def _apply(datasets: list[pydicom.Dataset], muts: list[Any]) -> dict[int, int]:
    """Mutate ``datasets`` in place; returns the byte truncations per slice index."""
    cut: dict[int, int] = {}
    for which, (kind, name, value) in muts:
        for k in range(N_SLICES) if which is None else sorted(which):
            ds = datasets[k]
            if kind == "set":
                _set(ds, name, value)
            elif kind == "delete":
                if name in ds:
                    delattr(ds, name)
            elif kind == "syntax":
                ds.file_meta.TransferSyntaxUID = value
            elif kind == "pixels":
                _pixels(ds, value)
            else:
                cut[k] = value
    return cut


def _encode(ds: pydicom.Dataset, implicit: bool, little: bool) -> bytes:
    """Preamble, file meta (as is, whatever its syntax says) and the data set, unchecked."""
    fp = DicomBytesIO()
    fp.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(fp, ds.file_meta, enforce_standard=False)
    fp.is_implicit_VR, fp.is_little_endian = implicit, little
    body = copy.copy(ds)
    del body.file_meta
    write_dataset(fp, body)
    return fp.getvalue()


def _write(datasets: list[pydicom.Dataset], folder: Path, cut: dict[int, int]) -> None:
    """Write the (possibly invalid) datasets byte for byte as told, whatever pydicom thinks.

    A compressed transfer syntax only relabels the native pixels (a mismatch to detect)."""
    for k, ds in enumerate(datasets):
        syntax = str(ds.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian))
        try:
            data = _encode(ds, syntax == ImplicitVRLittleEndian, syntax != ExplicitVRBigEndian)
        except Exception:  # noqa: BLE001 - an element pydicom cannot encode so: plain encoding
            data = _encode(ds, False, True)
        if k in cut:
            data = data[: max(0, len(data) - cut[k])]
        (folder / f"IM{k + 1:04d}").write_bytes(data)


def _not_json(token: str) -> None:
    raise AssertionError(f"the JSON output holds {token}")


def _finite_positive(values: Any, what: str) -> None:
    arr = np.asarray(values, dtype=float)
    assert np.all(np.isfinite(arr)) and np.all(arr > 0), f"{what} {values} accepted"


def _sound_volume(volume: Any) -> None:
    """A loaded volume is never silently wrong: finite geometry, the header's pixel grid."""
    _finite_positive(volume.spacing_mm, "spacing")
    assert np.all(np.isfinite(volume.origin_mm)), f"origin {volume.origin_mm} accepted"
    assert np.all(np.isfinite(volume.direction)), "non-finite direction accepted"
    assert np.all(np.isfinite(np.asarray(volume.array, dtype=np.float64))), "non-finite HU"


def _sound_scan(result: Any) -> None:
    """Every stack scan offers to measure on has finite, positive spacing."""
    for stack in result.stacks:
        if stack.not_measurable is None and stack.spacing_mm is not None:
            _finite_positive(stack.spacing_mm, f"stack {stack.stack_id} spacing")


class Hang(Exception):
    """An example ran longer than HANG_SECONDS."""


@contextlib.contextmanager
def _watchdog() -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise Hang(f"no result after {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _log(test: str, muts: list[Any], outcome: str, detail: str, seconds: float) -> None:
    if not LOG:
        return
    record = {
        "test": test,
        "outcome": outcome,
        "detail": detail[:500],
        "seconds": round(seconds, 3),
        "mutations": repr(muts)[:1000],
    }
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _check(test: str, muts: list[Any], drivers: list[tuple[str, Any]]) -> None:
    """Run each driver; a LesionToolError or a result is fine, anything else fails."""
    start = time.monotonic()
    outcome, detail = "ok", ""
    try:
        with _watchdog():
            for name, driver in drivers:
                try:
                    driver()
                except LesionToolError as err:
                    outcome, detail = "error", f"{name}: {type(err).__name__}: {err}"
    except Hang as err:
        _log(test, muts, "hang", str(err), time.monotonic() - start)
        raise AssertionError(f"hang: {err}") from None
    except AssertionError as err:  # a result, but an impossible one (NaN spacing, NaN JSON)
        _log(test, muts, "unsound", str(err), time.monotonic() - start)
        raise
    except BaseException as err:
        _log(test, muts, "traceback", f"{type(err).__name__}: {err}", time.monotonic() - start)
        raise
    _log(test, muts, outcome, detail, time.monotonic() - start)


@pytest.mark.slow
@FUZZ
@given(muts=mutations)
def test_fuzzed_headers_scan_and_load_give_a_result_or_a_lesion_tool_error(
    source: list[pydicom.Dataset], muts: list[Any]
) -> None:
    datasets = [copy.deepcopy(ds) for ds in source]
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about every invalid value it is given
        cut = _apply(datasets, muts)
        folder = Path(tmp)
        _write(datasets, folder, cut)
        _check(
            "scan+load",
            muts,
            [
                ("scan_folders", lambda: _sound_scan(scan_folders(folder, use_pixels=True))),
                ("load_series", lambda: _sound_volume(load_series(folder))),
            ],
        )


@pytest.mark.slow
@FUZZ
@given(muts=mutations)
def test_fuzzed_headers_cli_scan_and_measure_never_show_a_traceback(
    source: list[pydicom.Dataset], muts: list[Any]
) -> None:
    datasets = [copy.deepcopy(ds) for ds in source]
    with (
        tempfile.TemporaryDirectory(prefix="fuzz-") as tmp,
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        cut = _apply(datasets, muts)
        root = Path(tmp)
        folder = root / "series"
        folder.mkdir()
        _write(datasets, folder, cut)
        labels = np.zeros((N_SLICES, ROWS, COLS), dtype=np.uint8)
        labels[1:3, 2:6, 1:5] = 1
        np.save(root / "mask.npy", labels)

        def cli(*argv: str) -> None:
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                code = main(list(argv))
            if code == 0 and "--json" in argv:  # strict JSON: NaN / Infinity are not JSON
                json.loads(stdout.getvalue(), parse_constant=_not_json)
            assert code in (0, 1)
            if code == 1:  # the command reported a LesionToolError (or OSError) and stopped
                raise LesionToolError(f"exit {code}")

        _check(
            "cli",
            muts,
            [
                ("scan --json", lambda: cli("scan", "--json", str(folder))),
                (
                    "measure",
                    lambda: cli(
                        "measure",
                        "--json",
                        "--image",
                        str(folder),
                        "--mask",
                        str(root / "mask.npy"),
                    ),
                ),
            ],
        )


def test_the_unmutated_series_is_measured(source: list[pydicom.Dataset], tmp_path: Path) -> None:
    """The fuzzer's starting point is valid, so refusals come from the mutations."""
    _write([copy.deepcopy(ds) for ds in source], tmp_path, {})
    volume = load_series(tmp_path)
    assert volume.shape == (N_SLICES, ROWS, COLS)
    [study] = scan_folders(tmp_path, use_pixels=True).studies
    [stack] = study.series
    assert stack.slice_count == N_SLICES and stack.geometry_problem is None
