"""Semi-automatic viable-tumour measurement against the synthetic generator's exact truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from lesion_tool.cli import main
from lesion_tool.errors import MeasurementError
from lesion_tool.io import load_series
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import ViableSettings, measure_viable
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.synth import generate_patient
from lesion_tool.synth.shapes import Ellipsoid, LesionShape, axial_grid, lesion_diameters

# (trajectory, seed): complete response (viable 0 at later follow-ups), partial response with
# large necrotic parts, progression.
PATIENTS = [("complete_response", 1), ("partial_response", 2), ("progression", 3)]
TOLERANCE_MM = 2.0


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("synthetic")
    return [
        generate_patient(
            out,
            patient_id=f"MEAS-{seed}",
            seed=seed,
            trajectory=trajectory,
            phases=("arterial",),
            n_timepoints=4,
        )
        for trajectory, seed in PATIENTS
    ]


def _measure_all(patient: Path) -> list[tuple[str, dict, object]]:
    truth = json.loads((patient / "truth.json").read_text())
    out = []
    for tp in truth["timepoints"]:
        volume = load_series(patient / tp["series"]["arterial"]["dir"])
        for lesion in tp["lesions"]:
            out.append((tp["label"], lesion, measure_viable(volume, lesion["seed_voxel"])))
    return out


def test_viable_and_whole_diameters_match_truth_at_every_timepoint(studies) -> None:
    errors_viable = []
    errors_whole = []
    zero_cases = 0
    necrotic_cases = 0
    for patient in studies:
        for label, lesion, result in _measure_all(patient):
            where = f"{patient.name} {label} {lesion['id']}"
            truth_viable = lesion["viable_diameter_mm"]
            if truth_viable == 0:
                zero_cases += 1
                assert result.viable_diameter_mm == 0.0, where
                assert result.viable.start_voxel is None
                assert not result.viable_mask.any()
            else:
                errors_viable.append(result.viable_diameter_mm - truth_viable)
                assert abs(errors_viable[-1]) <= TOLERANCE_MM, (where, errors_viable[-1])
            if lesion["viable_volume_ml"] < 0.6 * lesion["volume_ml"]:
                necrotic_cases += 1
            # The whole lesion contains its viable part: never a shorter longest diameter.
            assert result.longest_diameter_mm >= result.viable_diameter_mm, where
            errors_whole.append(result.longest_diameter_mm - lesion["longest_diameter_mm"])
            assert abs(errors_whole[-1]) <= TOLERANCE_MM, (where, errors_whole[-1])
    # The studies really contain what the issue asks for.
    assert zero_cases >= 2
    assert necrotic_cases >= 4
    # Typical accuracy is far better than the tolerance (seen: viable |error| <= 0.8 mm).
    assert float(np.median(np.abs(errors_viable))) <= 0.5
    assert float(np.median(np.abs(errors_whole))) <= 0.6


def test_result_geometry_and_evidence(studies) -> None:
    patient = studies[1]
    truth = json.loads((patient / "truth.json").read_text())
    tp = truth["timepoints"][0]
    volume = load_series(patient / tp["series"]["arterial"]["dir"])
    lesion = tp["lesions"][0]
    r = measure_viable(volume, lesion["seed_voxel"])
    e = r.evidence
    # Generator: liver 75 HU, viable 145 HU, necrosis 22 HU in the arterial phase, noise 10 HU.
    assert e.parenchyma_hu == pytest.approx(75, abs=5)
    assert e.viable_hu == pytest.approx(145, abs=8)
    assert e.noise_sd_hu == pytest.approx(10, abs=3)
    assert e.threshold_hu >= e.parenchyma_hu + ViableSettings().min_enhancement_hu
    assert e.necrosis_threshold_hu < e.parenchyma_hu
    # The masks sit where the lesion is: the seed is inside the whole mask, viable within whole.
    seed_local = tuple(np.subtract(r.seed_voxel, r.offset))
    assert r.whole_mask[seed_local]
    assert (r.viable_mask & ~ndimage.binary_dilation(r.whole_mask, iterations=1)).sum() == 0
    assert r.viable_volume_ml == pytest.approx(lesion["viable_volume_ml"], rel=0.15)
    assert r.whole_volume_ml == pytest.approx(lesion["volume_ml"], rel=0.15)
    # End points: voxel and patient agree, and the length is the in-plane distance.
    a = volume.index_to_patient(r.viable.start_voxel)
    assert a == pytest.approx(r.viable.start_patient)
    length = np.linalg.norm(np.subtract(r.viable.end_patient, r.viable.start_patient))
    assert length == pytest.approx(r.viable_diameter_mm)
    assert r.viable.start_voxel[0] == r.viable.end_voxel[0] == r.viable.slice_index
    assert 0 < r.viable_perpendicular.length_mm <= r.viable_diameter_mm + 1e-9


def test_click_outside_a_lesion_is_a_clear_error(studies) -> None:
    patient = studies[2]
    truth = json.loads((patient / "truth.json").read_text())
    tp = truth["timepoints"][0]
    volume = load_series(patient / tp["series"]["arterial"]["dir"])
    # A liver voxel 12 mm outside the first lesion: smoothed value nearest the parenchyma.
    lesion = tp["lesions"][0]
    cz, cy, cx = lesion["centre_voxel"]
    z = round(cz)
    radius_mm = lesion["longest_diameter_mm"] / 2 + 12.0
    smooth = ndimage.uniform_filter(volume.array[z].astype(float), 5)
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    ys = np.round(cy + radius_mm * np.sin(angles) / volume.spacing_mm[1]).astype(int)
    xs = np.round(cx + radius_mm * np.cos(angles) / volume.spacing_mm[2]).astype(int)
    ok = (ys >= 0) & (ys < volume.shape[1]) & (xs >= 0) & (xs < volume.shape[2])
    ys, xs = ys[ok], xs[ok]
    k = int(np.argmin(np.abs(smooth[ys, xs] - 75)))
    assert abs(smooth[ys[k], xs[k]] - 75) < 5
    with pytest.raises(MeasurementError, match="No lesion at voxel"):
        measure_viable(volume, (z, ys[k], xs[k]))
    with pytest.raises(MeasurementError, match="outside the volume"):
        measure_viable(volume, (0, -1, 5))
    with pytest.raises(MeasurementError):
        measure_viable(volume, (0, 0, 0))  # air outside the body


def test_oblique_anisotropic_phantom_in_memory() -> None:
    """A lesion with a large necrotic part on an oblique grid with non-square pixels."""
    grid = axial_grid(
        (36, 150, 170),
        (2.0, 0.75, 0.6),
        rotation=np.array(
            [[np.cos(0.3), -np.sin(0.3), 0], [np.sin(0.3), np.cos(0.3), 0], [0, 0, 1]]
        ),
    )
    ellipsoid = Ellipsoid.make((2.0, -3.0, 1.0), (19.0, 13.0, 11.0), yaw_deg=35.0)
    # Viable nodule at 55% of the lesion's size against its edge: the rest is necrotic.
    lesion = LesionShape(ellipsoid, ellipsoid.rot[:, 1], 0.55)
    box, whole, viable = lesion.render(grid)
    image = np.full(grid.shape, 75.0, dtype=np.float32)
    image[box] = 75 * (1 - whole) + 22 * (whole - viable) + 145 * viable
    image += np.random.default_rng(5).normal(0, 10, grid.shape).astype(np.float32)
    volume = CTVolume(image, grid.spacing_mm, grid.origin_mm, grid.direction)
    truth_viable, truth_whole = lesion_diameters(grid, lesion)
    inside = np.argwhere(viable > 0.99)
    seed = inside[len(inside) // 2] + [s.start for s in box]
    r = measure_viable(volume, seed)
    assert abs(r.viable_diameter_mm - truth_viable.length_mm) <= 1.0
    assert abs(r.longest_diameter_mm - truth_whole.length_mm) <= 1.0


def test_cli_seed_prints_measurement_and_evidence(studies, capsys) -> None:
    patient = studies[0]
    truth = json.loads((patient / "truth.json").read_text())
    tp = truth["timepoints"][0]
    lesion = tp["lesions"][0]
    seed = ",".join(str(v) for v in lesion["seed_voxel"])
    series = str(patient / tp["series"]["arterial"]["dir"])
    legacy = ["--method", "legacy"]
    assert main(["measure", "--image", series, "--seed", seed, *legacy, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert abs(out["viable_diameter_mm"] - lesion["viable_diameter_mm"]) <= TOLERANCE_MM
    assert set(out["evidence"]) >= {"parenchyma_hu", "threshold_hu", "lesion_hu", "viable_hu"}
    assert main(["measure", "--image", series, "--seed", seed, *legacy]) == 0
    assert "evidence: parenchyma" in capsys.readouterr().out
    assert main(["measure", "--image", series, "--seed", "1,2"]) == 1
    assert "not three numbers" in capsys.readouterr().err


def test_cli_bare_seed_runs_the_lesion_method(studies, capsys) -> None:
    # A bare --seed runs measure_lesion (the method for real CT): whole lesion, the viable part
    # only with --phase arterial (otherwise why not), and the flags.
    patient = studies[0]
    truth = json.loads((patient / "truth.json").read_text())
    tp = truth["timepoints"][0]
    lesion = tp["lesions"][0]
    seed = ",".join(str(v) for v in lesion["seed_voxel"])
    series = str(patient / tp["series"]["arterial"]["dir"])
    assert main(["measure", "--image", series, "--seed", seed]) == 0
    text = capsys.readouterr().out
    assert "whole lesion" in text
    assert "viable: not measured" in text
    assert "phase was not given" in text
    assert "no flags" in text or "FLAG:" in text
    assert (
        main(["measure", "--image", series, "--seed", seed, "--phase", "arterial", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    whole, viable = lesion["longest_diameter_mm"], lesion["viable_diameter_mm"]
    assert abs(out["longest_diameter_mm"] - whole) <= tolerance_mm(whole)
    assert abs(out["viable_diameter_mm"] - viable) <= tolerance_mm(viable)
    assert isinstance(out["flags"], list)
    with pytest.raises(SystemExit):
        main(["measure", "--image", series, "--seed", seed, "--threshold-hu", "20"])
    assert "--method legacy" in capsys.readouterr().err
