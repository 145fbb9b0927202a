"""Proposals measured with the real-CT delineation (``measure_lesion``) at the propagated seed and
line, the inverse mapping the plugin's linked views use, and the registration's stage report.

One small synthetic patient moved between visits (``visit_motion``): registered once per module
(a few seconds); the truth (follow-up lesion masks and diameters) comes from the generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from lesion_tool.io import load_series
from lesion_tool.registration import register
from lesion_tool.registration.propagate import (
    measure_proposal,
    prompt_line,
    propagate_targets,
    targets_of,
)
from lesion_tool.storage import load_assessment


@pytest.fixture(scope="module")
def moved(tmp_path_factory) -> dict:
    from lesion_tool.synth import generate_patient

    pdir = generate_patient(
        tmp_path_factory.mktemp("moved"),
        patient_id="M2",
        seed=21,
        shape=(32, 112, 112),
        spacing_mm=(2.5, 2.0, 2.0),
        n_timepoints=2,
        phases=("arterial",),
        visit_motion=True,
        write_masks=True,
        n_lesions=2,
    )
    truth = json.loads((pdir / "truth.json").read_text())
    base = load_series(pdir / "baseline" / "arterial")
    fu = load_series(pdir / "fu1" / "arterial")
    assessment = load_assessment(pdir / "assessment_truth.json")
    targets = targets_of(assessment.timepoints[0], base)
    focus = base.index_to_patient(np.array([t.seed_zyx for t in targets]))
    stages = register.iter_register_series(base, fu, focus_lps=focus)
    seen = []
    while True:
        try:
            seen.append(next(stages))
        except StopIteration as done:
            reg = done.value
            break
    mask = sitk.GetArrayFromImage(
        sitk.ReadImage(str(pdir / truth["timepoints"][1]["masks"]["lesions"]))
    )
    return {
        "base": base,
        "fu": fu,
        "reg": reg,
        "stages": seen,
        "targets": targets,
        "truth": {les["id"]: les for les in truth["timepoints"][1]["lesions"]},
        "mask": mask,
    }


def test_registration_reports_its_stages_in_order(moved: dict) -> None:
    assert moved["stages"] == list(register.STAGES)
    assert moved["reg"].seconds > 0


def test_proposals_are_measured_by_measure_lesion_against_truth(moved: dict) -> None:
    """Every target is found (status proposed), the measurement is the real-CT delineation
    prompted at the mapped point, its seed lies in the true follow-up lesion and its diameters
    match the generator's follow-up truth (the lesions changed size between the visits)."""
    assert {
        t["viable_diameter_mm"] == t["longest_diameter_mm"] for t in moved["truth"].values()
    } == {
        True,
        False,
    }  # one fully viable target, one with necrosis
    props = propagate_targets(moved["reg"], moved["base"], moved["fu"], moved["targets"])
    assert [p.lesion_id for p in props] == [t.lesion_id for t in moved["targets"]]
    for p in props:
        truth = moved["truth"][p.lesion_id]
        assert p.status == "proposed", p.reasons
        m = p.measurement
        assert m is not None and m["method"] == "measure_lesion"
        assert m["distance_to_seed_mm"] == 0.0  # the mapped seed lies in the lesion found
        assert moved["mask"][tuple(m["seed_voxel"])] == truth["mask_label"]
        # mRECIST's quantity, the viable diameter, matches the follow-up truth
        viable = truth["viable_diameter_mm"]
        assert m["viable_diameter_mm"] == pytest.approx(viable, rel=0.15, abs=2.5), m
        assert m["longest_diameter_mm"] >= m["viable_diameter_mm"]
        if truth["longest_diameter_mm"] == truth["viable_diameter_mm"]:  # no necrosis
            whole = truth["longest_diameter_mm"]
            assert m["longest_diameter_mm"] == pytest.approx(whole, rel=0.15, abs=2.5), m
        # (with a necrotic part, measure_lesion's whole lesion is the enhancing part today:
        # T1 22 mm for 36 mm; its internals are being improved separately)
        assert isinstance(m["flags"], list)
        assert m["viable_reason"] == ""
        json.dumps(p.to_dict())  # the proposal JSON stays JSON


def test_portal_venous_phase_measures_no_viable_part(moved: dict) -> None:
    """Stated as portal-venous, the proposal has the whole lesion but no viable diameter, and
    says why (mRECIST's viable part is read on arterial images only)."""
    [p] = propagate_targets(
        moved["reg"], moved["base"], moved["fu"], moved["targets"][:1], phase="portal_venous"
    )
    m = p.measurement
    assert m is not None
    assert m["viable_diameter_mm"] is None and m["line"] is None
    assert "arterial" in m["viable_reason"]
    assert m["longest_diameter_mm"] > 10.0


def test_measure_proposal_outside_any_lesion_raises_a_clear_error(moved: dict) -> None:
    from lesion_tool.errors import MeasurementError

    fu = moved["fu"]
    with pytest.raises(MeasurementError, match="voxel"):
        measure_proposal(fu, (fu.shape[0] // 2, 2, 2))  # air at the corner


def test_prompt_line_lies_on_the_seed_slice_and_inside() -> None:
    lines = {
        "line": {"start": [4.2, 10.0, 10.0], "end": [5.1, 10.0, 20.0]},
        "longest_line": {"start": [4.4, 8.0, 9.0], "end": [5.3, 12.0, 24.0]},
    }
    assert prompt_line(lines, (4.6, 10, 15), (8, 32, 32)) == ((5.0, 8.0, 9.0), (5.0, 12.0, 24.0))
    assert prompt_line({"line": lines["line"]}, (4.6, 10, 15), (8, 32, 32)) == (
        (5.0, 10.0, 10.0),
        (5.0, 10.0, 20.0),
    )
    assert prompt_line(lines, (4.6, 10, 15), (8, 32, 20)) is None  # an end past x = 19
    assert prompt_line({}, (4.6, 10, 15), (8, 32, 32)) is None


def test_map_points_back_inverts_the_registration(moved: dict) -> None:
    """The plugin links the follow-up view back to the baseline through this inverse: mapping a
    point forth and back returns it (sub-millimetre) although the B-spline has no closed form."""
    reg = moved["reg"]
    base = moved["base"]
    rng = np.random.default_rng(0)
    voxels = rng.uniform([4, 20, 20], [28, 92, 92], size=(20, 3))
    p = base.index_to_patient(voxels)
    q = reg.map_points(p)
    assert np.linalg.norm(q - p, axis=1).max() > 3.0  # the visit moved the patient
    back = reg.map_points_back(q)
    assert np.abs(back - p).max() < 0.1


def test_propagate_targets_uses_the_assessment_lines(moved: dict, tmp_path: Path) -> None:
    """``targets_of`` carries both baseline lines of each target (seed from the reading)."""
    for t in moved["targets"]:
        assert set(t.lines) == {"line", "longest_line"}
        assert t.seed_zyx is not None
