"""The committed sample patient is exactly what its recipe regenerates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom

from lesion_tool.storage import load_assessment
from lesion_tool.synth.sample import SAMPLE_ID, generate_sample

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "test_images" / "synthetic" / SAMPLE_ID


def test_regenerating_the_sample_reproduces_pixels_and_truth(tmp_path: Path) -> None:
    # Regenerated uncompressed: the committed JPEG-LS files must decode to the same pixels.
    fresh = generate_sample(tmp_path, transfer_syntax="explicit")
    committed = sorted(p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*") if p.is_file())
    regenerated = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    assert committed == regenerated
    for name in ("truth.json", "assessment_truth.json"):
        assert json.loads((SAMPLE / name).read_text()) == json.loads((fresh / name).read_text())
    for rel in committed:
        if not rel.endswith(".dcm"):
            continue
        old = pydicom.dcmread(SAMPLE / rel)
        new = pydicom.dcmread(fresh / rel)
        assert old.SOPInstanceUID == new.SOPInstanceUID
        assert old.file_meta.TransferSyntaxUID == pydicom.uid.JPEGLSLossless
        np.testing.assert_array_equal(old.pixel_array, new.pixel_array, err_msg=rel)


def test_sample_is_small_and_tells_a_response_story() -> None:
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 6_000_000
    truth = json.loads((SAMPLE / "truth.json").read_text())
    sums = [
        sum(les["viable_diameter_mm"] for les in tp["lesions"] if les["category"] == "target")
        for tp in truth["timepoints"]
    ]
    assert sums[1] <= 0.7 * sums[0]  # mRECIST partial response at fu1
    assert [les["id"] for les in truth["timepoints"][2]["lesions"]] == ["T1", "T2", "N1"]
    assert set(truth["timepoints"][0]["series"]) == {
        "non_contrast",
        "arterial",
        "portal_venous",
        "delayed",
    }


def test_sample_assessment_loads_with_the_storage_module() -> None:
    assessment = load_assessment(SAMPLE / "assessment_truth.json")
    assert [tp.label for tp in assessment.timepoints] == ["baseline", "fu1", "fu2"]
