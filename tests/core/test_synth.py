"""The synthetic study generator: determinism, DICOM geometry, truth against the pixels, HU
per phase, broken cases, and independent validation (dicom3tools, DCMTK)."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.errors import InvalidDicomError
from scipy import ndimage
from scipy.spatial import ConvexHull

from lesion_tool.storage import load_assessment
from lesion_tool.synth import BROKEN_CASES, LesionSpec, generate_patient
from lesion_tool.synth.anatomy import LAYERS, PHASES
from lesion_tool.synth.generator import SLAB_CENTRE_S_MM
from lesion_tool.synth.shapes import (
    Ellipsoid,
    SliceGrid,
    axial_grid,
    ellipsoid_diameter,
    rotation_matrix,
)

SMALL = {"shape": (20, 100, 100), "spacing_mm": (3.0, 2.6, 2.6)}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _series(folder: Path) -> tuple[np.ndarray, list[pydicom.Dataset]]:
    """HU array sorted along the normal, read here with plain pydicom (independent of io)."""
    dss = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    normal = np.cross(
        np.array(dss[0].ImageOrientationPatient[:3], float),
        np.array(dss[0].ImageOrientationPatient[3:], float),
    )
    dss.sort(key=lambda d: float(np.array(d.ImagePositionPatient, float) @ normal))
    arr = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss])
    return arr, dss


def _feret_px(mask2d: np.ndarray, spacing_yx: tuple[float, float], near: tuple[int, int]) -> float:
    """Brute-force longest distance (mm) between centres of the pixels of the mask's connected
    component nearest to ``near`` (y, x)."""
    labels, _ = ndimage.label(mask2d)
    ys, xs = np.nonzero(labels)
    nearest = np.argmin((ys - near[0]) ** 2 + (xs - near[1]) ** 2)
    ys, xs = np.nonzero(labels == labels[ys[nearest], xs[nearest]])
    pts = np.column_stack([ys * spacing_yx[0], xs * spacing_yx[1]])
    d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
    return float(d.max())


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    return generate_patient(
        out, patient_id="SYN-T", seed=11, n_lesions=2, trajectory="new_lesion", **SMALL
    )


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No noise, one large lesion responding (necrosis growing): masks come from thresholds."""
    out = tmp_path_factory.mktemp("quiet")
    spec = LesionSpec(
        segment="S8", diameter_mm=50.0, aspect=0.75, angle_deg=30.0, viable_scale=0.8, tip_deg=200.0
    )
    return generate_patient(
        out,
        patient_id="SYN-Q",
        seed=5,
        lesions=[spec],
        trajectory="partial_response",
        n_timepoints=3,
        phases=["non_contrast", "arterial", "portal_venous"],
        noise_hu=0.0,
        shape=(24, 128, 128),
        spacing_mm=(2.5, 2.0, 2.0),
    )


def test_layout_follows_the_contract(patient: Path) -> None:
    truth = json.loads((patient / "truth.json").read_text())
    assert truth["patient_id"] == "SYN-T"
    assert [tp["label"] for tp in truth["timepoints"]] == ["baseline", "fu1", "fu2"]
    dates = [tp["date"] for tp in truth["timepoints"]]
    gaps = np.diff([np.datetime64(d) for d in dates]).astype(int)
    assert all(42 <= g <= 63 for g in gaps)
    assert 3 <= (np.datetime64(truth["treatment_start"]) - np.datetime64(dates[0])).astype(int) <= 8
    for tp in truth["timepoints"]:
        assert set(tp["series"]) == set(PHASES)
        for phase, series in tp["series"].items():
            files = sorted((patient / series["dir"]).glob("*.dcm"))
            assert series["dir"] == f"{tp['label']}/{phase}"
            assert [f.name for f in files] == [f"{i:04d}.dcm" for i in range(1, 21)]
            ds = pydicom.dcmread(files[0], stop_before_pixels=True)
            assert ds.SeriesInstanceUID == series["series_instance_uid"]
            assert ds.StudyInstanceUID == tp["study_instance_uid"]
            assert ds.SeriesDescription == series["description"]
            assert ds.StudyDate == tp["date"].replace("-", "")
        for lesion in tp["lesions"]:
            assert {
                "id",
                "category",
                "kind",
                "organ",
                "location",
                "state",
                "centre_voxel",
                "centre_lps",
                "seed_voxel",
                "viable_diameter_mm",
                "longest_diameter_mm",
                "viable_volume_ml",
                "volume_ml",
            } <= set(lesion)
    # the new lesion appears only at the last follow-up
    ids = [[les["id"] for les in tp["lesions"]] for tp in truth["timepoints"]]
    assert ids == [["T1", "T2"], ["T1", "T2"], ["T1", "T2", "N1"]]


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    def digest(folder: Path) -> dict[str, str]:
        return {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in _files(folder)
        }

    kwargs = {"n_timepoints": 2, "phases": ["arterial", "portal_venous"], **SMALL}
    a = generate_patient(tmp_path / "a", patient_id="P", seed=3, **kwargs)
    b = generate_patient(tmp_path / "b", patient_id="P", seed=3, **kwargs)
    c = generate_patient(tmp_path / "c", patient_id="P", seed=4, **kwargs)
    assert digest(a) == digest(b)
    da, dc = digest(a), digest(c)
    assert set(da) == set(dc)
    assert all(da[k] != dc[k] for k in da)
    uids_a = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in a.rglob("*.dcm")}
    assert len(uids_a) == len(list(a.rglob("*.dcm")))  # every instance UID unique


@pytest.mark.parametrize("oblique", [(0.0, 0.0), (12.0, 9.0)])
def test_positions_lie_along_the_normal_at_the_declared_spacing(
    tmp_path: Path, oblique: tuple[float, float]
) -> None:
    p = generate_patient(
        tmp_path,
        patient_id="G",
        seed=1,
        n_timepoints=1,
        phases=["arterial"],
        oblique_deg=oblique,
        shape=(12, 90, 80),
        spacing_mm=(3.0, 2.8, 3.1),
        slice_thickness_mm=3.5,
        n_lesions=1,
    )
    dss = [
        pydicom.dcmread(f, stop_before_pixels=True)
        for f in sorted((p / "baseline/arterial").glob("*.dcm"))
    ]
    iop = np.array(dss[0].ImageOrientationPatient, float)
    row, col = iop[:3], iop[3:]
    assert (
        abs(row @ col) < 1e-6
        and abs(np.linalg.norm(row) - 1) < 1e-6
        and abs(np.linalg.norm(col) - 1) < 1e-6
    )
    normal = np.cross(row, col)
    pos = np.array([d.ImagePositionPatient for d in dss], float)
    order = np.argsort(pos @ normal)
    steps = np.diff(pos[order], axis=0)
    np.testing.assert_allclose(steps, np.tile(normal * 3.0, (len(dss) - 1, 1)), atol=1e-4)
    for d in dss:
        assert float(d.SpacingBetweenSlices) == pytest.approx(3.0)
        assert float(d.SliceThickness) == pytest.approx(3.5)
        assert [float(v) for v in d.PixelSpacing] == pytest.approx([2.8, 3.1])
        assert (d.Rows, d.Columns) == (90, 80)
    # scanners number from the top: instance 1 is the most superior slice
    assert [int(dss[i].InstanceNumber) for i in order] == list(range(12, 0, -1))
    if oblique != (0.0, 0.0):
        assert abs(normal[2]) < 0.999


def test_truth_diameters_match_the_rendered_masks(quiet: Path) -> None:
    truth = json.loads((quiet / "truth.json").read_text())
    for tp in truth["timepoints"]:
        lesion = tp["lesions"][0]
        art, dss = _series(quiet / tp["label"] / "arterial")
        pv, _ = _series(quiet / tp["label"] / "portal_venous")
        spacing = tuple(float(v) for v in dss[0].PixelSpacing)
        diag = math.hypot(*spacing)
        cz, cy, cx = (round(v) for v in lesion["centre_voxel"])
        box = (slice(None), slice(max(cy - 25, 0), cy + 25), slice(max(cx - 25, 0), cx + 25))
        # viable: more than half viable (arterial 145 HU) against liver 75 and necrosis 22
        viable = art[box] > 110.0
        # whole lesion: below the liver's 110 HU in the portal venous phase
        whole = pv[box] < 97.0
        k = lesion["viable_line"]["slice"] if lesion["viable_line"] else None
        near = (cy - box[1].start, cx - box[2].start)
        if k is not None:
            mid = np.mean([lesion["viable_line"]["start"], lesion["viable_line"]["end"]], axis=0)
            vnear = (round(mid[1]) - box[1].start, round(mid[2]) - box[2].start)
            got = _feret_px(viable[k], spacing, vnear)
            assert abs(got - lesion["viable_diameter_mm"]) <= diag
        kw = lesion["longest_line"]["slice"]
        got = _feret_px(whole[kw], spacing, near)
        assert abs(got - lesion["longest_diameter_mm"]) <= diag
        # the line's end points are as far apart as the diameter, on one slice
        for name, key in (
            ("viable_line", "viable_diameter_mm"),
            ("longest_line", "longest_diameter_mm"),
        ):
            line = lesion[name]
            if line is None:
                continue
            s, e = np.array(line["start"]), np.array(line["end"])
            assert s[0] == e[0] == line["slice"]
            assert math.hypot(
                (s[1] - e[1]) * spacing[0], (s[2] - e[2]) * spacing[1]
            ) == pytest.approx(lesion[key], abs=1e-3)
        # the seed voxel is viable tissue in the arterial phase
        z, y, x = lesion["seed_voxel"]
        assert art[z, y, x] > 110.0
        # volumes agree with the voxel count
        voxel_ml = spacing[0] * spacing[1] * float(dss[0].SpacingBetweenSlices) / 1000
        labels, _ = ndimage.label(whole)
        region = ndimage.binary_dilation(labels == labels[cz, near[0], near[1]], iterations=2)
        # unmix liver / viable / necrosis per voxel from the arterial and portal venous HU
        mix = np.array([[145.0 - 75.0, 22.0 - 75.0], [85.0 - 110.0, 23.0 - 110.0]])
        rhs = np.stack([art[box][region] - 75.0, pv[box][region] - 110.0])
        fv, fn = np.linalg.solve(mix, rhs)
        assert (fv + fn).sum() * voxel_ml == pytest.approx(lesion["volume_ml"], rel=0.02)
        assert fv.sum() * voxel_ml == pytest.approx(lesion["viable_volume_ml"], rel=0.03, abs=0.05)


def test_exact_diameter_against_a_fine_rasterisation() -> None:
    rng = np.random.default_rng(0)
    grid = axial_grid((9, 10, 10), (2.5, 1.0, 1.0), rotation=rotation_matrix(10.0, 7.0))
    for _ in range(10):
        shape = Ellipsoid.make(
            rng.uniform(-3, 3, size=3),
            rng.uniform(4, 15, size=3),
            rng.uniform(0, 180),
            rng.uniform(-40, 40),
        )
        d = ellipsoid_diameter(grid, shape)
        assert d is not None
        # the plane of the best slice, sampled every 0.02 mm; only the samples within the
        # largest semi-axis of the centre (along each of the plane's axes) can be inside, so
        # only those are tested: the same samples inside, a fifth of the work
        u = np.arange(-40, 40, 0.02)
        rel = shape.centre - grid.positions[d.slice_index]
        assert np.allclose(np.linalg.norm([grid.row_dir, grid.col_dir], axis=1), 1.0)
        r = float(shape.semi_mm.max()) + 0.05
        ur = u[np.abs(u - rel @ grid.row_dir) <= r]
        vr = u[np.abs(u - rel @ grid.col_dir) <= r]
        uu, vv = np.meshgrid(ur, vr, indexing="ij")
        pts = (
            grid.positions[d.slice_index]
            + uu[..., None] * grid.row_dir
            + vv[..., None] * grid.col_dir
        )
        inside = shape.contains(pts)
        xy = np.column_stack([uu[inside], vv[inside]])
        hull = xy[ConvexHull(xy).vertices]
        brute = np.sqrt(((hull[:, None] - hull[None]) ** 2).sum(-1)).max()
        assert d.length_mm == pytest.approx(brute, abs=0.05)
        # and no other slice has a longer section
        for k in range(grid.n_slices):
            other = ellipsoid_diameter(
                SliceGrid(
                    10, 10, (1.0, 1.0), grid.row_dir, grid.col_dir, grid.positions[k : k + 1], 2.5
                ),
                shape,
            )
            assert other is None or other.length_mm <= d.length_mm + 1e-9


def test_phases_enhance_in_the_right_order(patient: Path) -> None:
    truth = json.loads((patient / "truth.json").read_text())
    layers = {name: shape for name, _, shape, _ in LAYERS}
    means: dict[str, dict[str, float]] = {}
    for phase in PHASES:
        arr, dss = _series(patient / "baseline" / phase)
        ipp0 = np.array(dss[0].ImagePositionPatient, float)
        sy, sx = (float(v) for v in dss[0].PixelSpacing)
        means[phase] = {}
        for name in ("aorta", "portal_vein", "right_lobe"):
            centre = layers[name].centre + np.array([0, 0, SLAB_CENTRE_S_MM])
            if name == "right_lobe":
                centre = centre + np.array([-15.0, 25.0, 0.0])
            y, x = round((centre[1] - ipp0[1]) / sy), round((centre[0] - ipp0[0]) / sx)
            k = int(np.argmin(np.abs([float(d.ImagePositionPatient[2]) - centre[2] for d in dss])))
            means[phase][name] = float(arr[k, y - 1 : y + 2, x - 1 : x + 2].mean())
    aorta = {p: means[p]["aorta"] for p in PHASES}
    pv = {p: means[p]["portal_vein"] for p in PHASES}
    liver = {p: means[p]["right_lobe"] for p in PHASES}
    assert (
        aorta["arterial"] > 250 > aorta["portal_venous"] > aorta["delayed"] > aorta["non_contrast"]
    )
    assert max(pv, key=pv.get) == "portal_venous"
    assert aorta["arterial"] - pv["arterial"] > 100
    assert liver["portal_venous"] > liver["delayed"] > liver["arterial"] > liver["non_contrast"]
    # contrast tags as a scanner writes them: start before each enhanced acquisition, none pre
    for phase in PHASES:
        ds = pydicom.dcmread(
            next((patient / "baseline" / phase).glob("*.dcm")), stop_before_pixels=True
        )
        if phase == "non_contrast":
            assert "ContrastBolusAgent" not in ds
        else:
            assert ds.ContrastBolusAgent
            assert ds.ContrastBolusStartTime < ds.AcquisitionTime
    assert truth["timepoints"][0]["lesions"]


def test_contrast_tags_and_descriptions_can_be_left_out(tmp_path: Path) -> None:
    p = generate_patient(
        tmp_path,
        patient_id="N",
        seed=2,
        n_timepoints=1,
        phases=["arterial", "portal_venous"],
        contrast_tags=False,
        acquisition_times=False,
        named_descriptions=False,
        n_lesions=1,
        **SMALL,
    )
    descs = set()
    for phase in ("arterial", "portal_venous"):
        ds = pydicom.dcmread(next((p / "baseline" / phase).glob("*.dcm")), stop_before_pixels=True)
        assert "ContrastBolusAgent" not in ds and "AcquisitionTime" not in ds
        descs.add(ds.SeriesDescription)
    assert len(descs) == 1
    q = generate_patient(
        tmp_path,
        patient_id="E",
        seed=2,
        n_timepoints=1,
        phases=["non_contrast", "arterial"],
        contrast_tags="empty",
        n_lesions=1,
        **SMALL,
    )
    for phase in ("non_contrast", "arterial"):
        ds = pydicom.dcmread(next((q / "baseline" / phase).glob("*.dcm")), stop_before_pixels=True)
        assert ds.ContrastBolusAgent == "" and "ContrastBolusStartTime" not in ds


def test_early_arterial_timing_and_description_override(tmp_path: Path) -> None:
    """Early arterial: aorta brighter, portal vein and liver darker than late arterial; and a
    series can be described as another phase (a mislabelled series)."""
    common = {"seed": 3, "n_timepoints": 1, "noise_hu": 0.0, "n_lesions": 1, **SMALL}
    late = generate_patient(tmp_path / "l", patient_id="L", phases=["arterial"], **common)
    early = generate_patient(
        tmp_path / "e",
        patient_id="E",
        phases=["arterial", "portal_venous"],
        arterial_timing="early",
        series_descriptions={"portal_venous": "ARTERIAL PHASE"},
        **common,
    )
    layers = {name: shape for name, _, shape, _ in LAYERS}

    def value(folder: Path, name: str) -> float:
        arr, dss = _series(folder)
        centre = layers[name].centre + np.array([0, 0, SLAB_CENTRE_S_MM])
        ipp0 = np.array(dss[0].ImagePositionPatient, float)
        sy, sx = (float(v) for v in dss[0].PixelSpacing)
        return float(
            arr[
                arr.shape[0] // 2,
                round((centre[1] - ipp0[1]) / sy),
                round((centre[0] - ipp0[0]) / sx),
            ]
        )

    assert value(early / "baseline/arterial", "aorta") > value(late / "baseline/arterial", "aorta")
    assert (
        value(early / "baseline/arterial", "portal_vein")
        < value(late / "baseline/arterial", "portal_vein") - 40
    )
    ds = pydicom.dcmread(next((early / "baseline/arterial").glob("*.dcm")), stop_before_pixels=True)
    assert "EARLY ARTERIAL" in ds.SeriesDescription
    pv = pydicom.dcmread(
        next((early / "baseline/portal_venous").glob("*.dcm")), stop_before_pixels=True
    )
    assert pv.SeriesDescription == "ARTERIAL PHASE"
    assert value(early / "baseline/portal_venous", "portal_vein") > 170  # pixels stay portal venous


def test_assessment_truth_is_a_format_v1_assessment(patient: Path) -> None:
    data = json.loads((patient / "assessment_truth.json").read_text())
    truth = json.loads((patient / "truth.json").read_text())
    assert data["format"] == "lesion-tool.assessment" and data["version"] == 1
    assert data["treatment_start"] == truth["treatment_start"]
    for tp, ttp in zip(data["timepoints"], truth["timepoints"], strict=True):
        assert tp["series_instance_uid"] == ttp["series"]["arterial"]["series_instance_uid"]
        for les, tles in zip(tp["lesions"], ttp["lesions"], strict=True):
            assert les["id"] == tles["id"]
            if les["category"] == "target":
                assert les["kind"] == "viable" and les["state"] == "measured"
                assert les["viable_diameter_mm"] == round(tles["viable_diameter_mm"], 1)
            if les["category"] == "new":
                assert les["state"] == "unequivocal" and les["typical_hcc_pattern"] is True
    assessment = load_assessment(patient / "assessment_truth.json")
    assert assessment.patient_id == "SYN-T"


def test_complete_response_leaves_a_scar_without_viable_tumour(tmp_path: Path) -> None:
    p = generate_patient(
        tmp_path,
        patient_id="CR",
        seed=9,
        trajectory="complete_response",
        n_lesions=1,
        phases=["arterial"],
        **SMALL,
    )
    truth = json.loads((p / "truth.json").read_text())
    last = truth["timepoints"][-1]["lesions"][0]
    first = truth["timepoints"][0]["lesions"][0]
    assert last["viable_diameter_mm"] == 0.0 and last["viable_volume_ml"] == 0.0
    assert last["viable_line"] is None
    assert 0 < last["longest_diameter_mm"] < first["longest_diameter_mm"]
    assert first["viable_diameter_mm"] > 10


def test_broken_cases_are_really_broken(tmp_path: Path) -> None:
    p = generate_patient(
        tmp_path,
        patient_id="BR",
        seed=1,
        n_timepoints=1,
        phases=["arterial"],
        broken=BROKEN_CASES,
        n_lesions=1,
        **SMALL,
    )
    folder = p / "baseline" / "arterial"
    with pytest.raises(InvalidDicomError):
        pydicom.dcmread(folder / "notes.txt")
    headers = {}
    for f in sorted(folder.glob("*.dcm")):
        headers[f.name] = pydicom.dcmread(f, stop_before_pixels=True)
    # truncated: the header reads, the pixels do not
    truncated = folder / "0017.dcm"  # instance of array slice 3 (20 slices, numbered from the top)
    with pytest.raises(Exception):  # noqa: B017 - pydicom raises several types here
        _ = pydicom.dcmread(truncated).pixel_array
    assert len({h.SeriesInstanceUID for h in headers.values()}) == 1
    coronal = [h for h in headers.values() if "REFORMATTED" in h.ImageType]
    assert len(coronal) == 3
    assert all(
        np.allclose(np.array(h.ImageOrientationPatient, float), [1, 0, 0, 0, 0, -1])
        for h in coronal
    )
    axial = [h for h in headers.values() if "REFORMATTED" not in h.ImageType]
    iop = np.array(axial[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    pos = np.array([h.ImagePositionPatient for h in axial], float)
    along = np.sort(pos @ normal)
    steps = np.diff(along)
    assert np.any(steps < 1e-3)  # duplicate position
    assert steps.max() > 1.5 * np.median(steps)  # missing slice
    assert float(axial[0].GantryDetectorTilt) != 0.0
    offsets = pos - pos[0]
    off_normal = offsets - np.outer(offsets @ normal, normal)
    assert np.abs(off_normal).max() > 1.0  # sheared: origins leave the normal
    assert len(axial) == 20  # 20 - missing + duplicate
    if shutil.which("dciodvfy"):  # the independent validator agrees the truncated file is broken
        run = subprocess.run(
            ["dciodvfy", str(truncated)], capture_output=True, text=True, check=False
        )
        assert any(line.startswith("Error") for line in (run.stdout + run.stderr).splitlines())


def _dicom_files_of_each_kind(root: Path) -> list[Path]:
    return [next((root / "baseline" / phase).glob("*.dcm")) for phase in PHASES]


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools (dciodvfy) not installed")
@pytest.mark.parametrize("syntax", ["explicit", "rle", "jpeg-ls"])
def test_dciodvfy_finds_no_errors(tmp_path: Path, syntax: str) -> None:
    p = generate_patient(
        tmp_path,
        patient_id="V",
        seed=1,
        n_timepoints=1,
        transfer_syntax=syntax,
        oblique_deg=(5.0, 0.0),
        n_lesions=1,
        **SMALL,
    )
    for f in _dicom_files_of_each_kind(p):
        run = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True, check=False)
        out = run.stdout + run.stderr
        assert "CTImage" in out
        errors = [line for line in out.splitlines() if line.startswith("Error")]
        assert not errors, f"{f}: {errors}"


@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="DCMTK (dcmdump) not installed")
def test_dcmdump_parses_the_files(tmp_path: Path) -> None:
    p = generate_patient(
        tmp_path,
        patient_id="D",
        seed=1,
        n_timepoints=1,
        transfer_syntax="rle",
        n_lesions=1,
        **SMALL,
    )
    for f in _dicom_files_of_each_kind(p):
        run = subprocess.run(["dcmdump", "+E", str(f)], capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        assert "(0008,0016) UI =CTImageStorage" in run.stdout
        assert "RLE" in run.stdout


def test_compressed_pixels_equal_uncompressed(tmp_path: Path) -> None:
    kwargs = {
        "patient_id": "Z",
        "seed": 8,
        "n_timepoints": 1,
        "phases": ["arterial"],
        "n_lesions": 1,
        **SMALL,
    }
    a = generate_patient(tmp_path / "a", **kwargs)
    b = generate_patient(tmp_path / "b", transfer_syntax="jpeg-ls", **kwargs)
    for fa, fb in zip(_files(a / "baseline"), _files(b / "baseline"), strict=True):
        np.testing.assert_array_equal(
            pydicom.dcmread(fa).pixel_array, pydicom.dcmread(fb).pixel_array
        )


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="phase"):
        generate_patient(tmp_path, patient_id="X", seed=1, phases=["venous"])
    with pytest.raises(ValueError, match="trajectory"):
        generate_patient(tmp_path, patient_id="X", seed=1, trajectory="cured")
    with pytest.raises(ValueError, match="broken"):
        generate_patient(tmp_path, patient_id="X", seed=1, broken=["upside_down"])
    with pytest.raises(ValueError, match="contrast_tags"):
        generate_patient(tmp_path, patient_id="X", seed=1, contrast_tags="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="broken_series"):
        generate_patient(
            tmp_path,
            patient_id="X",
            seed=1,
            phases=["arterial"],
            broken=["missing_slice"],
            broken_series=(0, "delayed"),
        )
    precious = tmp_path / "Y"
    precious.mkdir()
    (precious / "thesis.txt").write_text("not generated")
    with pytest.raises(ValueError, match="not written by the generator"):
        generate_patient(tmp_path, patient_id="Y", seed=1)
    assert (precious / "thesis.txt").is_file()


@pytest.mark.parametrize("syntax", ["explicit", "rle"])
def test_fast_series_writer_matches_pydicom_save_as(tmp_path: Path, syntax: str) -> None:
    """Slices assembled from pre-encoded shared elements equal a full pydicom ``save_as``."""
    from lesion_tool.synth.generator import _patient_info, _series_info
    from lesion_tool.synth.writer import (
        TRANSFER_SYNTAXES,
        SeriesWriter,
        StudyInfo,
        pixel_element,
        save_dataset,
        slice_dataset,
        slice_position,
        to_stored,
    )

    grid = axial_grid((4, 16, 12), (2.5, 1.5, 1.25), rotation=rotation_matrix(5.0, 3.0))
    rng = np.random.default_rng(0)
    image = rng.normal(60, 20, size=grid.shape).astype(np.float32)
    patient = _patient_info("W", np.random.default_rng(1))
    import datetime as dt

    study = StudyInfo("1.2.3.4", dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 9, 30), "A1", "1")
    series = _series_info(
        1, "W", "baseline", "arterial", study, "1.2.3.5", grid, True, True, True, "arterial", None
    )
    ts = TRANSFER_SYNTAXES[syntax]
    first = slice_dataset(
        image[0], grid, 0, 4, "1.2.3.6.10", patient, study, series, transfer_syntax=ts
    )
    writer = SeriesWriter(first)
    for k in range(1, 4):
        full = slice_dataset(
            image[k], grid, k, 4 - k, f"1.2.3.6.{k}", patient, study, series, transfer_syntax=ts
        )
        save_dataset(full, tmp_path / f"slow{k}.dcm")
        position, location = slice_position(grid, k)
        writer.write(
            tmp_path / f"fast{k}.dcm",
            sop_instance_uid=f"1.2.3.6.{k}",
            instance_number=4 - k,
            position=position,
            slice_location=location,
            pixel_element=pixel_element(to_stored(image[k]), ts),
        )
        if syntax == "explicit":
            writer.write(
                tmp_path / f"raw{k}.dcm",
                sop_instance_uid=f"1.2.3.6.{k}",
                instance_number=4 - k,
                position=position,
                slice_location=location,
                pixel_element=to_stored(image[k]).tobytes(),
            )
            assert (tmp_path / f"raw{k}.dcm").read_bytes() == (
                tmp_path / f"slow{k}.dcm"
            ).read_bytes()
        assert (tmp_path / f"fast{k}.dcm").read_bytes() == (tmp_path / f"slow{k}.dcm").read_bytes()


def test_the_io_loader_reads_the_truth_geometry(tmp_path: Path) -> None:
    """lesion_tool.io's volume of an oblique, anisotropic series maps the truth's voxels to the
    truth's LPS points (the voxel convention of truth.json is the loader's)."""
    from lesion_tool.io import load_series

    p = generate_patient(
        tmp_path,
        patient_id="O",
        seed=6,
        n_timepoints=1,
        phases=["arterial"],
        oblique_deg=(8.0, 6.0),
        shape=(24, 110, 96),
        spacing_mm=(2.5, 2.2, 2.6),
        noise_hu=0.0,
        n_lesions=2,
    )
    truth = json.loads((p / "truth.json").read_text())
    volume = load_series(p / "baseline" / "arterial")
    geo = truth["geometry"]
    assert list(volume.shape) == geo["shape_zyx"]
    np.testing.assert_allclose(volume.spacing_mm, geo["spacing_mm_zyx"], atol=1e-5)
    np.testing.assert_allclose(volume.origin_mm, geo["origin_lps_mm"], atol=1e-4)
    np.testing.assert_allclose(volume.direction, geo["direction"], atol=1e-6)
    for lesion in truth["timepoints"][0]["lesions"]:
        np.testing.assert_allclose(
            volume.index_to_patient(lesion["centre_voxel"]), lesion["centre_lps"], atol=1e-3
        )
        assert volume.array[tuple(lesion["seed_voxel"])] > 110.0  # viable tissue, arterial phase


def test_truth_masks_lie_on_the_series_grid_and_match_the_truth(tmp_path: Path) -> None:
    import SimpleITK as sitk

    from lesion_tool.io import from_sitk, load_series

    p = generate_patient(
        tmp_path,
        patient_id="M",
        seed=5,
        n_timepoints=2,
        phases=["arterial"],
        oblique_deg=(7.0, 0.0),
        n_lesions=2,
        write_masks=True,
        noise_hu=0.0,
        shape=(24, 110, 100),
        spacing_mm=(2.5, 2.2, 2.4),
    )
    truth = json.loads((p / "truth.json").read_text())
    for tp in truth["timepoints"]:
        volume = load_series(p / tp["label"] / "arterial")
        for kind, key, vol_key in (
            ("lesions", "longest_diameter_mm", "volume_ml"),
            ("viable", "viable_diameter_mm", "viable_volume_ml"),
        ):
            mask = from_sitk(sitk.ReadImage(str(p / tp["masks"][kind])))
            np.testing.assert_allclose(mask.origin_mm, volume.origin_mm, atol=1e-3)
            np.testing.assert_allclose(mask.direction, volume.direction, atol=1e-6)
            voxel_ml = float(np.prod(volume.spacing_mm)) / 1000
            for lesion in tp["lesions"]:
                region = mask.array == lesion["mask_label"]
                assert np.count_nonzero(region) * voxel_ml == pytest.approx(
                    lesion[vol_key], rel=0.08
                )
                line = lesion["viable_line" if kind == "viable" else "longest_line"]
                if line is None:
                    assert not region.any()
                    continue
                k = line["slice"]
                ys, xs = np.nonzero(region[k])
                assert region[
                    k,
                    round((line["start"][1] + line["end"][1]) / 2),
                    round((line["start"][2] + line["end"][2]) / 2),
                ]
                spacing = volume.spacing_mm[1:]
                pts = np.column_stack([ys * spacing[0], xs * spacing[1]])
                feret = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)).max()
                assert abs(feret - lesion[key]) <= math.hypot(*spacing)


@pytest.mark.parametrize("prefix", ["../x", "a/b", "", "x" * 17, "p q"])
def test_synth_prefix_cannot_leave_out_dir(tmp_path: Path, prefix: str, capsys) -> None:
    """``--prefix ../x`` used to write the patients outside OUT_DIR."""
    from lesion_tool.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["synth", str(tmp_path / "out"), "--prefix", prefix, "--patients", "1"])
    assert stop.value.code == 2
    assert "--prefix" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
