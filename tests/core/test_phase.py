"""Phase evidence one source at a time, and C's synthetic multiphase studies end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lesion_tool.io import Enhancement, Phase, estimate_enhancement, load_series, scan_folders
from lesion_tool.io.phase import phase_from_enhancement, phase_from_text, phase_from_timing

A, NC, PV, DEL = Phase.ARTERIAL, Phase.NON_CONTRAST, Phase.PORTAL_VENOUS, Phase.DELAYED


@pytest.mark.parametrize(
    ("text", "phase", "sub"),
    [
        ("LIVER 3 PHASE (AP)", A, None),
        ("ART 1.25mm", A, None),
        ("Arterial phase", A, None),
        ("LATE ARTERIAL", A, "late"),
        ("late art", A, "late"),
        ("HAP", A, "late"),
        ("Early arterial", A, "early"),
        ("artériel tardif", A, "late"),
        ("Arterielle Phase", A, None),
        ("PV", PV, None),
        ("PVP 5mm", PV, None),
        ("Portal venous", PV, None),
        ("VENOUS", PV, None),
        ("portalvenös", PV, None),
        ("fase portal", PV, None),
        ("DELAYED 3MIN", DEL, None),
        ("delay", DEL, None),
        ("Equilibrium", DEL, None),
        ("EQP", DEL, None),
        ("Spätphase", DEL, None),
        ("tardía", DEL, None),
        ("180 s", DEL, None),
        ("70 sec", PV, None),
        ("PRE LIVER", NC, None),
        ("LIVER PRE CONTRAST", NC, None),
        ("plain", NC, None),
        ("NON-CON", NC, None),
        ("non contrast abdomen", NC, None),
        ("NC", NC, None),
        ("ABD C-", NC, None),
        ("ABD W/O", NC, None),
        ("nativ", NC, None),
        ("sin contraste", NC, None),
        ("sans injection", None, None),
    ],
)
def test_description_words(text: str, phase: Phase | None, sub: str | None) -> None:
    call = phase_from_text(text)
    if phase is None:
        assert call is None
    else:
        assert call is not None and (call.phase, call.subphase) == (phase, sub), call


@pytest.mark.parametrize(
    "text",
    [
        "Recon 3: LIVER 2 PHASE (C/A/P)",
        "CT C/A/P",
        "CT A/P",
        "ABD/PEL",
        "CAP 5mm",
        "Routine Brain",
        "LIVER 2.5mm",
        "C-SPINE",
    ],
)
def test_region_lists_and_neutral_text_name_no_phase(text: str) -> None:
    assert phase_from_text(text) is None


def test_contrast_without_phase() -> None:
    call = phase_from_text("ABD C+")
    assert call is not None and call.phase is Phase.UNKNOWN and call.contrast is True


def test_protocol_name_is_a_fallback() -> None:
    call = phase_from_text("Recon 2", "LIVER ART")
    assert call is not None and call.phase is A


@pytest.mark.parametrize(
    ("delay_s", "phase", "sub"),
    [(20, A, "early"), (35, A, "late"), (70, PV, None), (180, DEL, None)],
)
def test_timing(delay_s: float, phase: Phase, sub: str | None) -> None:
    start = 10 * 3600.0
    assert phase_from_timing(start + delay_s, start)[:2] == (phase, sub)  # type: ignore[index]


def test_timing_missing_or_implausible() -> None:
    assert phase_from_timing(None, 100.0) is None
    assert phase_from_timing(100.0, None) is None
    assert phase_from_timing(100.0, 200.0) is None  # acquired before contrast started


@pytest.mark.parametrize(
    ("aorta", "vein", "liver", "phase"),
    [
        (45, 50, 55, NC),
        (300, 130, 75, A),
        (160, 170, 110, PV),
        (150, 160, 104, PV),  # the real HCC_006 "arterial" series
        (115, 118, 97, DEL),
    ],
)
def test_enhancement_alone(aorta: float, vein: float, liver: float, phase: Phase) -> None:
    call = phase_from_enhancement(Enhancement(aorta, vein, liver, 4))
    assert call is not None and call[0] is phase


def test_enhancement_without_aorta_says_nothing() -> None:
    assert phase_from_enhancement(Enhancement(None, 150, 100, 4)) is None


def test_non_axial_stack_gives_no_image_evidence() -> None:
    sagittal = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])
    e = estimate_enhancement(np.zeros((2, 8, 8)), (1.0, 1.0), sagittal)
    assert e.aorta_hu is None and "not an axial stack" in e.notes[0]


# --- C's synthetic generator -------------------------------------------------------------------

synth = pytest.importorskip("lesion_tool.synth")
PHASES = ("non_contrast", "arterial", "portal_venous", "delayed")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One timepoint, four phases: headers silent (no names, tags or times), and fully named."""
    root = tmp_path_factory.mktemp("synth")
    synth.generate_patient(
        root,
        patient_id="SILENT",
        seed=11,
        n_timepoints=1,
        contrast_tags=False,
        acquisition_times=False,
        named_descriptions=False,
    )
    synth.generate_patient(root, patient_id="NAMED", seed=12, n_timepoints=1)
    synth.generate_patient(
        root, patient_id="TAGS", seed=13, n_timepoints=1, named_descriptions=False
    )
    return root


@pytest.mark.parametrize("phase", PHASES)
def test_synthetic_enhancement_estimates(synthetic: Path, phase: str) -> None:
    vol = load_series(next((synthetic / "SILENT").glob(f"*/{phase}")))
    idx = np.linspace(0, vol.shape[0] - 1, 12).round().astype(int)
    e = estimate_enhancement(vol.array[idx], vol.spacing_mm[1:], vol.direction)
    expected_aorta = synth.HU["aorta"][PHASES.index(phase)]
    expected_liver = synth.HU["liver"][PHASES.index(phase)]
    assert e.aorta_hu == pytest.approx(expected_aorta, abs=20)
    assert e.liver_hu == pytest.approx(expected_liver, abs=10)
    call = phase_from_enhancement(e)
    assert call is not None and call[0].value == phase


@pytest.mark.parametrize(
    ("patient", "use_pixels", "source"),
    [
        ("SILENT", True, "image"),
        ("NAMED", False, "description"),
        ("NAMED", True, "description"),
        ("TAGS", False, "contrast timing"),
    ],
)
def test_synthetic_study_gets_every_phase_right(
    synthetic: Path, patient: str, use_pixels: bool, source: str
) -> None:
    [study] = scan_folders(synthetic / patient, use_pixels=use_pixels).studies
    stacks = {s.files[0].parent.name: s for s in study.image_stacks}
    assert sorted(stacks) == sorted(PHASES)
    for folder, stack in stacks.items():
        assert stack.phase is not None
        assert stack.phase.phase.value == folder, stack.phase
        assert not stack.phase.warnings
    chosen = study.arterial_series
    assert chosen is stacks["arterial"]
    assert chosen.phase is not None and chosen.phase.source == source
    assert study.warnings == ()


def test_swapped_labels_are_caught_by_the_pixels(synthetic: Path, tmp_path: Path) -> None:
    """The portal venous series labelled arterial is flagged; the true arterial one is chosen."""
    import shutil

    import pydicom

    patient = tmp_path / "SWAPPED"
    shutil.copytree(synthetic / "NAMED", patient)
    relabel = {"portal_venous": "LIVER ARTERIAL", "arterial": "LIVER 2.5mm"}
    for phase, text in relabel.items():
        for path in next(patient.glob(f"*/{phase}")).iterdir():
            ds = pydicom.dcmread(path)
            ds.SeriesDescription = text
            ds.save_as(path)
    [study] = scan_folders(patient).studies
    stacks = {s.files[0].parent.name: s for s in study.image_stacks}
    assert study.arterial_series is stacks["arterial"]
    assert study.arterial_series.phase is not None
    assert study.arterial_series.phase.source == "contrast timing"  # NAMED has contrast tags
    labelled = stacks["portal_venous"].phase
    assert labelled is not None and labelled.phase is Phase.ARTERIAL  # the label still says so
    assert labelled.confidence < study.arterial_series.phase.confidence
    assert any(
        "'LIVER ARTERIAL' is labelled arterial but its pixels look portal venous" in w
        for w in study.warnings
    )


def test_enhancement_does_not_depend_on_array_orientation(synthetic: Path) -> None:
    """Rows or columns stored the other way round (direction says so) give the same estimate."""
    vol = load_series(next((synthetic / "SILENT").glob("*/arterial")))
    idx = np.linspace(0, vol.shape[0] - 1, 12).round().astype(int)
    slices = vol.array[idx]
    ref = estimate_enhancement(slices, vol.spacing_mm[1:], vol.direction)
    flipped_dir = vol.direction * np.array([1.0, -1.0, -1.0])  # y and x axes reversed
    flipped = estimate_enhancement(slices[:, ::-1, ::-1], vol.spacing_mm[1:], flipped_dir)
    assert flipped.aorta_hu == pytest.approx(ref.aorta_hu, abs=1)
    assert flipped.liver_hu == pytest.approx(ref.liver_hu, abs=1)


@pytest.mark.realdata
@pytest.mark.parametrize(
    "series",
    [
        "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033",
        "hcc-tace-seg/HCC_048_PV",
        "ircadb/3Dircadb1.1/PATIENT_DICOM",
    ],
)
def test_glance_keeps_the_slices_the_full_evidence_keeps(
    shared_data: Path, series: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The numpy liver proxy ranks the 12 sampled slices of real series so that the full
    evidence on its top slices gives the very numbers of the full evidence on all 12."""
    import lesion_tool.io.phase as phase

    vol = load_series(shared_data / series)
    idx = np.linspace(0, vol.shape[0] - 1, 12).round().astype(int)
    slices = vol.array[idx]
    glance = estimate_enhancement(slices, vol.spacing_mm[1:], vol.direction)
    monkeypatch.setattr(phase, "FULL_EVIDENCE_SLICES", 12)
    full = estimate_enhancement(slices, vol.spacing_mm[1:], vol.direction)
    assert glance == full
    assert glance.slices_used == 4 and glance.aorta_hu is not None
