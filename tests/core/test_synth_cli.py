"""``lesion-tool synth``."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from lesion_tool.cli import main


def test_synth_writes_patients_with_the_options_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "synth",
            str(tmp_path),
            "--patients",
            "2",
            "--seed",
            "4",
            "--size",
            "96x80x16",
            "--spacing",
            "2.6x2.8x3",
            "--timepoints",
            "2",
            "--phases",
            "arterial,portal_venous",
            "--trajectory",
            "progression",
            "--lesions",
            "1",
            "--contrast-tags",
            "absent",
            "--broken",
            "non_dicom_file",
            "--masks",
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["patient_id"] for s in summary] == ["SYN-001", "SYN-002"]
    for s in summary:
        folder = Path(s["folder"])
        assert s["trajectory"] == "progression"
        assert s["timepoints"] == ["baseline", "fu1"]
        assert sorted(p.name for p in folder.iterdir()) == [
            "assessment_truth.json",
            "baseline",
            "fu1",
            "masks",
            "truth.json",
        ]
        assert (folder / "masks" / "fu1_viable.nii.gz").is_file()
        assert sorted(p.name for p in (folder / "fu1").iterdir()) == ["arterial", "portal_venous"]
        ds = pydicom.dcmread(folder / "baseline/arterial/0001.dcm", stop_before_pixels=True)
        assert (ds.Columns, ds.Rows) == (96, 80)
        assert [float(v) for v in ds.PixelSpacing] == [2.8, 2.6]
        assert float(ds.SliceThickness) == 3.0
        assert "ContrastBolusAgent" not in ds
        assert (folder / "baseline/arterial/notes.txt").is_file()
        assert len(list((folder / "baseline/arterial").glob("*.dcm"))) == 16


def test_synth_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["synth", str(tmp_path), "--broken", "upside_down"])
    assert exc.value.code == 2
    assert "unknown broken case upside_down" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["synth", str(tmp_path), "--size", "96x80"])
    assert main(["synth", str(tmp_path), "--timepoints", "0"]) == 1
    assert "n_timepoints" in capsys.readouterr().err
