"""``load_series(..., lazy=True)``: whole-series checks, pixels decoded only where read (issue 17).

One click as a whole command reads the slices around the lesion, not the whole series. The lazy
volume must be the eager one where it is read: the same values slice for slice, the same
corruption verdicts on what it decodes, and the same measurement (diameters, masks, flags) on
synthetic and real clicks.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import write_series
from _hcc006 import HCC_006_AP, INTERIOR_CLICKS, NODULE_CENTRE

from lesion_tool.cli import main
from lesion_tool.commands.measure import _lesion_rows, _slice_namer
from lesion_tool.errors import PixelDataWarning
from lesion_tool.io import load_series
from lesion_tool.io.lazy import LazySlices
from lesion_tool.io.plausibility import find_inconsistent_slices
from lesion_tool.measurement import LesionPrompt, measure_lesion

ROOT = Path(__file__).resolve().parents[2]
SYNTH = ROOT / "test_images" / "synthetic" / "SYN-001"
HCC_006_CLICKS = [NODULE_CENTRE, *(INTERIOR_CLICKS[i] for i in (0, 2, 6, 7))]
"""The nodule's centre and interior clicks of test_measure_tcia (by value, texture and rim)."""


def _load_both(source: Path) -> tuple:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # header notes of real series: the same either way
        return load_series(source), load_series(source, lazy=True)


def _untimed(rows: list[str]) -> list[str]:
    """The CLI's lines without the measurement's own time (``..., 0.13 s``)."""
    return [re.sub(r", \d+\.\d\d s$", "", r) for r in rows]


def _same_measurement(eager, lazy, prompt: LesionPrompt, phase: str) -> None:
    a = measure_lesion(eager, prompt, phase=phase)
    b = measure_lesion(lazy, prompt, phase=phase)
    da, db = a.to_dict(), b.to_dict()
    da.pop("time_s", None)
    db.pop("time_s", None)
    assert da == db
    assert a.offset == b.offset
    assert np.array_equal(a.mask, b.mask)
    assert (a.viable_mask is None) == (b.viable_mask is None)
    if a.viable_mask is not None:
        assert np.array_equal(a.viable_mask, b.viable_mask)
    # and the CLI's lines, slice names included (time aside)
    rows_a = _lesion_rows(a, _slice_namer(eager))
    rows_b = _lesion_rows(b, _slice_namer(lazy))
    assert _untimed(rows_a) == _untimed(rows_b)


def _stored(n: int, size: int, bad: dict[int, float] | None = None) -> np.ndarray:
    """Smooth CT-like stored values (intercept -1024) with slices ``bad`` shifted by HU values
    over most of the body, as a corrupted decode gives."""
    z, y, x = np.indices((n, size, size), dtype=float)
    body = (y - size / 2) ** 2 + (x - size / 2) ** 2 < (0.45 * size) ** 2
    organ = (y - 0.45 * size) ** 2 + (x - 0.4 * size) ** 2 < (0.15 * size + 0.3 * z) ** 2
    hu = np.where(body, 40.0, -1000.0) + np.where(body & organ, 60.0, 0.0)
    hu += np.random.default_rng(1).normal(0, 8, hu.shape)
    for k, shift in (bad or {}).items():
        hu[k, : int(0.7 * size)] += np.where(body[k, : int(0.7 * size)], shift, 0.0)
    return np.clip(hu + 1024, 0, 4000).round().astype(np.uint16)


def test_lazy_values_equal_the_eager_load_under_every_index(tmp_path: Path) -> None:
    write_series(tmp_path / "ct", n=12, rows=40, cols=36, values=_stored(12, 40)[:, :, :36])
    eager, lazy = _load_both(tmp_path / "ct")
    assert isinstance(lazy.array, LazySlices)
    assert lazy.shape == eager.shape and lazy.array.dtype == eager.array.dtype
    assert lazy.array.decoded == frozenset()  # nothing decoded by opening
    assert np.array_equal(lazy.array[5, 3:20, 4:9], eager.array[5, 3:20, 4:9])
    assert lazy.array.decoded < frozenset(range(12))  # only around slice 5
    assert np.array_equal(lazy.array[-1], eager.array[-1])
    assert np.array_equal(lazy.array[2:9:3, 1], eager.array[2:9:3, 1])
    assert np.array_equal(lazy.array[[7, 0]], eager.array[[7, 0]])
    assert np.array_equal(lazy.array[..., 2], eager.array[..., 2])
    assert np.array_equal(np.asarray(lazy.array), eager.array)
    with pytest.raises(IndexError):
        lazy.array[12]
    # geometry, identity and header metadata are the eager load's
    assert lazy.spacing_mm == eager.spacing_mm and lazy.origin_mm == eager.origin_mm
    assert np.array_equal(lazy.direction, eager.direction)
    assert lazy.sop_instance_uids == eager.sop_instance_uids
    assert lazy.warnings == eager.warnings
    assert lazy.metadata == eager.metadata


def test_values_beyond_int16_make_the_volume_float32_as_eagerly(tmp_path: Path) -> None:
    values = _stored(8, 32)
    values[6, 3, 3] = 40000  # 38976 HU with intercept -1024: beyond int16
    write_series(tmp_path / "ct", n=8, rows=32, cols=32, values=values)
    eager, lazy = _load_both(tmp_path / "ct")
    assert eager.array.dtype == np.float32
    assert lazy.array.dtype == np.int16  # nothing read yet: what the headers promise
    assert np.array_equal(lazy.array[0], eager.array[0])
    with pytest.warns(PixelDataWarning, match="IM0007"):  # one hot pixel in a 32 x 32 slice
        assert np.array_equal(lazy.array[6], eager.array[6])
    assert lazy.array.dtype == np.float32
    assert np.array_equal(np.asarray(lazy.array), eager.array)


def test_corrupted_slices_get_the_eager_verdict_where_read(tmp_path: Path) -> None:
    """Screened in pieces, in any order, each slice gets the whole volume's verdict."""
    n = 40
    bad = {0: 600.0, 9: 500.0, 10: -700.0, 25: 800.0, 39: 650.0}
    paths = write_series(tmp_path / "ct", n=n, rows=64, cols=64, values=_stored(n, 64, bad))
    with pytest.warns(PixelDataWarning):
        eager = load_series(tmp_path / "ct")
    expected = find_inconsistent_slices(eager.array)
    assert {s.index for s in expected} >= {0, 25, 39}  # the phantom is caught eagerly
    assert {s.index for s in expected} & {9, 10}  # (one of a pair hides the other)
    lazy = load_series(tmp_path / "ct", lazy=True)
    assert lazy.metadata["suspect_slices"] == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.array_equal(lazy.array[20], eager.array[20])  # 16-24: nothing suspect
        assert not caught
        lazy.array[25]
    assert [w.category for w in caught] == [PixelDataWarning]
    assert paths[25].name in str(caught[0].message)
    for k in (3, 38, 12, 0, 30, 7):  # the rest, out of order
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelDataWarning)
            lazy.array[k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PixelDataWarning)
        np.asarray(lazy.array)
    assert list(lazy.array.suspects) == expected  # same slices, same ratios
    assert lazy.metadata["suspect_slices"] == eager.metadata["suspect_slices"]


def _synthetic_seeds() -> list[tuple[int, int, int]]:
    truth = json.loads((SYNTH / "truth.json").read_text())
    seeds = []
    for lesion in truth["timepoints"][0]["lesions"]:
        seeds.append(tuple(round(v) for v in lesion["seed_voxel"]))
    return seeds


def test_synthetic_clicks_measure_identically() -> None:
    eager, lazy = _load_both(SYNTH / "baseline" / "arterial")
    seeds = _synthetic_seeds()
    assert seeds
    for seed in seeds:
        _same_measurement(eager, lazy, LesionPrompt(seed=seed), "arterial")
    assert len(lazy.array.decoded) < eager.shape[0]


def test_ircadb_deepest_point_clicks_measure_identically(shared_data: Path) -> None:
    case = shared_data / "ircadb" / "3Dircadb1.1"
    eager, lazy = _load_both(case / "PATIENT_DICOM")
    truth = json.loads((case / "truth.json").read_text())["tumours"]
    for tumour in truth.values():
        seed = tuple(int(v) for v in tumour["deepest_point_zyx"])
        _same_measurement(eager, lazy, LesionPrompt(seed=seed), "portal-venous")
    assert eager.metadata["suspect_slices"] == [] and lazy.metadata["suspect_slices"] == []


def test_hcc006_clicks_measure_identically(shared_data: Path) -> None:
    eager, lazy = _load_both(shared_data / HCC_006_AP)
    for seed in HCC_006_CLICKS:
        _same_measurement(eager, lazy, LesionPrompt(seed=seed), "arterial")
    line = ((72, 342, 156), (72, 315, 188))
    _same_measurement(eager, lazy, LesionPrompt(line=line), "arterial")
    assert len(lazy.array.decoded) < eager.shape[0] // 2


def test_cli_click_prints_what_the_eager_volume_measures(shared_data: Path, capsys) -> None:
    series = shared_data / HCC_006_AP
    assert (
        main(["measure", "--image", str(series), "--seed", "72,330,172", "--phase", "arterial"])
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    eager, _ = _load_both(series)
    rows = _lesion_rows(
        measure_lesion(eager, LesionPrompt(seed=(72, 330, 172)), phase="arterial"),
        _slice_namer(eager),
    )
    assert _untimed(printed) == _untimed(rows)
    assert any(" s" in r for r in printed) and _untimed(printed) != printed


def test_one_command_imports_only_its_own_module() -> None:
    """``lesion-tool measure ...`` registers the measure command alone; ``--help`` lists all."""
    code = (
        "import sys, contextlib, io\n"
        "from lesion_tool.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['-v', 'measure', '--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('lesion_tool.commands.'))\n"
        "assert loaded == ['lesion_tool.commands.measure'], loaded\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['--help', 'measure'])\n"
        "assert 'rescore' in out.getvalue() and 'export-sr' in out.getvalue()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_multiframe_object_is_read_frame_by_frame(shared_data: Path) -> None:
    enhanced = shared_data / "sr-seg" / "pydicom-data" / "eCT_Supplemental.dcm"
    eager, lazy = _load_both(enhanced)
    assert eager.shape[0] == 2 and lazy.shape == eager.shape
    assert np.array_equal(lazy.array[1], eager.array[1])
    assert np.array_equal(np.asarray(lazy.array), eager.array)
    assert lazy.metadata == eager.metadata
