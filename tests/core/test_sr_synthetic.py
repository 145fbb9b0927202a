"""End to end on the synthetic study: ground-truth assessment -> SR (validated) -> assessment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from test_sr_helpers import validate_sr

from lesion_tool.io import load_series
from lesion_tool.storage import load_assessment
from lesion_tool.storage.sr import export_sr
from lesion_tool.storage.sr_import import import_sr
from lesion_tool.synth import generate_patient


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_patient(
        tmp_path_factory.mktemp("synth"),
        patient_id="SYN-SR",
        seed=22,
        phases=("arterial", "portal_venous"),
        n_timepoints=3,
        n_lesions=3,
        trajectory="new_lesion",
        noise_hu=0.0,
    )


def test_synthetic_truth_round_trips_through_validated_sr(patient: Path, tmp_path: Path) -> None:
    truth = load_assessment(patient / "assessment_truth.json")
    categories = {lesion.category.value for tp in truth.timepoints for lesion in tp.lesions}
    assert categories == {"target", "non_target", "new"}  # the case covers all three
    files = export_sr(truth, patient, tmp_path)
    assert len(files) == len(truth.timepoints) == 3
    for path in files:
        validate_sr(path)
    volumes = {}
    for timepoint in truth.timepoints:
        volume = load_series(patient, series_uid=timepoint.series_instance_uid)
        volumes[volume.series_instance_uid] = volume
    result = import_sr(files, volumes=volumes)
    assert result.problems == [] and result.warnings == []
    back = result.assessment
    assert (back.patient_id, back.reader, back.treatment_start) == (
        truth.patient_id,
        truth.reader,
        truth.treatment_start,
    )
    for got, want in zip(back.timepoints, truth.timepoints, strict=True):
        assert (got.label, got.date, got.series_instance_uid, got.study_instance_uid) == (
            want.label,
            want.date,
            want.series_instance_uid,
            want.study_instance_uid,
        )
        assert len(got.lesions) == len(want.lesions)
        for a, b in zip(got.lesions, want.lesions, strict=True):
            # everything but the seed (not carried) is equal; lines to float32 precision
            assert dataclasses.replace(a, line=None, longest_line=None) == dataclasses.replace(
                b, line=None, longest_line=None, seed=None
            )
            for line_a, line_b in ((a.line, b.line), (a.longest_line, b.longest_line)):
                assert (line_a is None) == (line_b is None)
                if line_b is not None:
                    assert line_a.space == line_b.space
                    np.testing.assert_allclose(
                        [line_a.start, line_a.end], [line_b.start, line_b.end], atol=1e-3
                    )
