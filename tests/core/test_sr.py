"""SR export (TID 1500 with highdicom) and the lossless round trip assessment -> SR -> assessment.

Every SR written here is checked by DCMTK dsrdump and dicom3tools dciodvfy (test_sr_helpers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from test_sr_helpers import iter_content, validate_sr, write_ct_series

from lesion_tool import __version__
from lesion_tool.cli import main
from lesion_tool.errors import AssessmentWarning, ExportError
from lesion_tool.io import load_series
from lesion_tool.model import Assessment, Lesion, Line, Timepoint
from lesion_tool.response import score_assessment, settings_for
from lesion_tool.storage import codes, load_assessment, save_assessment
from lesion_tool.storage.sr import (
    TRACKING_IDENTIFIER_LENGTH,
    build_timepoint_sr,
    export_sr,
    sr_file_name,
    tracking_uid,
)
from lesion_tool.storage.sr_import import UNCATEGORISED_KEY, import_sr, read_sr

PATIENT = "SRT-001"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Assessment, dict]:
    """Two timepoints (two series in one images folder) and an assessment using every field."""
    root = tmp_path_factory.mktemp("sr-images")
    write_ct_series(root / "bl", study_date="20260102")
    write_ct_series(root / "fu", study_date="20260302", origin_mm=(-51.0, -39.0, 90.0))
    volumes = {}
    for name in ("bl", "fu"):
        volume = load_series(root / name)
        volumes[volume.series_instance_uid] = volume
    bl, fu = (load_series(root / name) for name in ("bl", "fu"))

    def target(viable: float, longest: float, z: float) -> Lesion:
        return Lesion(
            id="T1",
            category="target",
            state="measured",
            location="S8",
            kind="viable",
            viable_diameter_mm=viable,
            longest_diameter_mm=longest,
            line=Line((z, 3.5, 4.25), (z, 15.0, 12.0)),  # in one slice: SCOORD on its image
            longest_line=Line((1.0, 2.0, 3.0), (3.0, 18.0, 16.5)),  # across slices: SCOORD3D
        )

    baseline = Timepoint(
        label="baseline",
        date=dt.date(2026, 1, 2),
        study_instance_uid=bl.study_instance_uid,
        series_instance_uid=bl.series_instance_uid,
        lesions=(
            target(42.0, 55.0, 2.0),
            Lesion(
                id="T2",
                category="target",
                state="measured",
                organ="lymph_node",
                kind="short_axis",
                type="lymph_node",
                short_axis_mm=21.0,
                porta_hepatis=True,
                line=Line((10.0, -20.0, 130.0), (12.0, -8.0, 131.0), space="patient"),
            ),
            Lesion(
                id="NT1",
                category="non_target",
                state="present",
                organ="portal_vein",
                type="portal_vein_thrombosis",
            ),
            Lesion(
                id="NT2",
                category="non_target",
                state="present",
                organ="peritoneum",
                type="ascites",
                cytology_confirmed=True,
            ),
        ),
    )
    follow_up = Timepoint(
        label="week 8",
        date=dt.date(2026, 3, 2),
        study_instance_uid=fu.study_instance_uid,
        series_instance_uid=fu.series_instance_uid,
        lesions=(
            target(20.0, 50.0, 4.0),
            Lesion(
                id="T2",
                category="target",
                state="too_small",
                organ="lymph_node",
                kind="short_axis",
                type="lymph_node",
                porta_hepatis=True,
            ),
            Lesion(
                id="NT1",
                category="non_target",
                state="unequivocal_progression",
                organ="portal_vein",
                type="portal_vein_thrombosis",
            ),
            Lesion(
                id="NT2",
                category="non_target",
                state="not_evaluated",
                organ="peritoneum",
                type="ascites",
                cytology_confirmed=True,
            ),
            Lesion(
                id="N1",
                category="new",
                state="unequivocal",
                location="caudate process",
                longest_diameter_mm=14.0,
                typical_hcc_pattern=True,
                line=Line((0.0, 10.0, 10.0), (0.0, 20.0, 15.0)),
            ),
            Lesion(
                id="N2",
                category="new",
                state="equivocal",
                organ="adrenal",
                longest_diameter_mm=8.5,
                typical_hcc_pattern=False,
            ),
        ),
    )
    assessment = Assessment(
        patient_id=PATIENT,
        treatment_start=dt.date(2026, 1, 5),
        reader="Reader^One",
        timepoints=(baseline, follow_up),
    )
    return root, assessment, volumes


@pytest.fixture(scope="module")
def exported(study: tuple[Path, Assessment, dict], tmp_path_factory) -> list[Path]:
    root, assessment, _ = study
    return export_sr(assessment, root, tmp_path_factory.mktemp("sr-out"))


def test_every_exported_sr_passes_dsrdump_and_dciodvfy(exported: list[Path]) -> None:
    names = [p.name for p in exported]
    assert [n[: -len("_12345678_SR.dcm")] for n in names] == [
        "SRT-001_Reader_One_baseline",
        "SRT-001_Reader_One_week_8",
    ]
    for path in exported:
        dump, verify = validate_sr(path)
        assert "Comprehensive 3D SR" in dump
        assert "Comprehensive3DSR" in verify


def test_sr_copies_patient_and_study_from_the_images(
    study: tuple[Path, Assessment, dict], exported: list[Path]
) -> None:
    _, assessment, _ = study
    for path, timepoint in zip(exported, assessment.timepoints, strict=True):
        ds = pydicom.dcmread(path)
        image = pydicom.dcmread(
            next((study[0] / ("bl" if timepoint.label == "baseline" else "fu")).iterdir())
        )
        assert ds.PatientID == image.PatientID == PATIENT
        assert ds.PatientName == image.PatientName
        assert ds.StudyInstanceUID == timepoint.study_instance_uid
        assert ds.StudyDate == image.StudyDate
        evidence = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        assert evidence.SeriesInstanceUID == timepoint.series_instance_uid
        assert len(evidence.ReferencedSOPSequence) == 6  # every image of the measured series
        assert ds.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator == "99LESIONTOOL"


def _groups(path: Path) -> dict[str, list[pydicom.Dataset]]:
    """Lesion id (or tracking text) -> the group's content items, by a plain pydicom walk."""
    ds = pydicom.dcmread(path)
    out = {}
    for item in iter_content(ds.ContentSequence):
        if item.ConceptNameCodeSequence[0].CodeMeaning != "Measurement Group":
            continue
        children = list(item.ContentSequence)
        texts = {
            c.ConceptNameCodeSequence[0].CodeMeaning: c.TextValue
            for c in children
            if c.ValueType == "TEXT"
        }
        out[texts.get("Lesion Identifier") or texts["Tracking Identifier"]] = children
    return out


def test_tracking_uid_is_stable_per_lesion_across_timepoints(exported: list[Path]) -> None:
    uids = []
    for path in exported:
        groups = _groups(path)
        uids.append(
            {
                key: next(c.UID for c in items if c.ValueType == "UIDREF")
                for key, items in groups.items()
            }
        )
    for lesion_id in ("T1", "T2", "NT1", "NT2"):
        assert (
            uids[0][lesion_id]
            == uids[1][lesion_id]
            == tracking_uid(PATIENT, lesion_id, reader="Reader^One")
        )
    assert len(set(uids[1].values())) == len(uids[1])  # distinct lesions, distinct UIDs
    assert tracking_uid(PATIENT, "T1") != tracking_uid("OTHER", "T1")


def test_tracking_uid_unique_per_trial_patient_reader_lesion() -> None:
    """Issue 13: T1 of reader 1 and of reader 2, or of patient 001 in two trials, differ."""
    keys = [
        ("001", "T1", "R1", ""),
        ("001", "T1", "R2", ""),
        ("001", "T1", "R1", "TRIAL-A"),
        ("001", "T1", "R1", "TRIAL-B"),
        ("001", "T2", "R1", "TRIAL-A"),
        ("002", "T1", "R1", "TRIAL-A"),
        ("001", "T1", "", ""),
        # no separator collision: ("a/b", "c") is not ("a", "b/c")
        ("a/b", "c", "R1", ""),
        ("a", "b/c", "R1", ""),
    ]
    uids = [tracking_uid(p, lesion, reader=r, scope=t) for p, lesion, r, t in keys]
    assert len(set(uids)) == len(uids)
    assert all(u.startswith("2.25.") and len(u) <= 64 for u in uids)
    # stable: the same key gives the same UID on every call (re-exports, other timepoints)
    assert tracking_uid("001", "T1", reader="R1", scope="TRIAL-A") == uids[2]


def test_ohif_tracking_identifier_only_where_the_first_length_is_on_an_image(
    exported: list[Path],
) -> None:
    groups = _groups(exported[0])
    text = {
        key: next(c.TextValue for c in items if c.ConceptNameCodeSequence[0].CodeValue == "112039")
        for key, items in groups.items()
    }
    # T1's first NUM is its viable diameter, drawn on slice 2: OHIF reopens it as a Length.
    assert text["T1"] == TRACKING_IDENTIFIER_LENGTH
    # OHIF takes the group's first NUM (any relationship): it must be the diameter with its line
    first_num = next(c for c in groups["T1"] if c.ValueType == "NUM")
    assert first_num.ConceptNameCodeSequence[0].CodeValue == codes.VIABLE_DIAMETER.value
    scoord = next(c for c in first_num.ContentSequence if c.ValueType == "SCOORD")
    assert scoord.GraphicType == "POLYLINE"
    # column = x + 0.5, row = y + 0.5 (DICOM image coordinates), on the image of slice 2
    np.testing.assert_allclose(list(scoord.GraphicData), [4.75, 4.0, 12.5, 15.5])
    # T2's line is in patient space (SCOORD3D), NT1 has no length: not OHIF Length groups.
    assert text["T2"] == "lesion-tool@1:target"
    assert text["NT1"] == "lesion-tool@1:non_target"
    assert text["lesion-tool@1:Response:mrecist"] == "lesion-tool@1:Response:mrecist"


def test_scoord3d_is_the_line_in_patient_coordinates(
    study: tuple[Path, Assessment, dict], exported: list[Path]
) -> None:
    _, assessment, volumes = study
    volume = volumes[assessment.timepoints[0].series_instance_uid]
    groups = _groups(exported[0])
    long_axis = next(
        c
        for c in groups["T1"]
        if c.ValueType == "NUM" and c.ConceptNameCodeSequence[0].CodeValue == "103339001"
    )
    scoord3d = next(c for c in long_axis.ContentSequence if c.ValueType == "SCOORD3D")
    expected = volume.index_to_patient([[1.0, 2.0, 3.0], [3.0, 18.0, 16.5]]).ravel()
    np.testing.assert_allclose(list(scoord3d.GraphicData), expected, atol=1e-4)
    assert scoord3d.ReferencedFrameOfReferenceUID == volume.frame_of_reference_uid


def _strip(lesion: Lesion) -> Lesion:
    """A lesion without its lines (compared separately, to float32 precision)."""
    return dataclasses.replace(lesion, line=None, longest_line=None)


def _assert_line(actual: Line | None, expected: Line | None) -> None:
    if expected is None:
        assert actual is None
        return
    assert actual is not None and actual.space == expected.space
    np.testing.assert_allclose(actual.start, expected.start, atol=1e-3)
    np.testing.assert_allclose(actual.end, expected.end, atol=1e-3)


def test_round_trip_is_lossless_field_by_field(
    study: tuple[Path, Assessment, dict], exported: list[Path]
) -> None:
    _, original, volumes = study
    result = import_sr(exported, volumes=volumes)
    assert result.problems == []
    back = result.assessment
    assert back is not None
    assert back.patient_id == original.patient_id
    assert back.reader == original.reader
    assert back.treatment_start == original.treatment_start
    assert back.extra == {}  # nothing of ours is left uncategorised
    assert len(back.timepoints) == len(original.timepoints)
    for got, want in zip(back.timepoints, original.timepoints, strict=True):
        assert (got.label, got.date) == (want.label, want.date)
        assert got.study_instance_uid == want.study_instance_uid
        assert got.series_instance_uid == want.series_instance_uid
        assert [lesion.id for lesion in got.lesions] == [lesion.id for lesion in want.lesions]
        for a, b in zip(got.lesions, want.lesions, strict=True):
            for field in dataclasses.fields(Lesion):
                if field.name in ("line", "longest_line"):
                    continue
                assert getattr(a, field.name) == getattr(b, field.name), (b.id, field.name)
            if b.line is None or b.line.space == "voxel":
                _assert_line(a.line, b.line)  # same slice, same voxel coordinates
            _assert_line(a.longest_line, b.longest_line)
    # a patient-space line comes back in the series' voxel indices (the volume was given)
    t2 = back.timepoints[0].lesion("T2")
    volume = volumes[original.timepoints[0].series_instance_uid]
    want = original.timepoints[0].lesion("T2").line
    np.testing.assert_allclose(
        volume.index_to_patient([t2.line.start, t2.line.end]), [want.start, want.end], atol=1e-3
    )


def test_round_trip_without_images_gives_lines_in_patient_space(
    study: tuple[Path, Assessment, dict], exported: list[Path]
) -> None:
    _, original, volumes = study
    back = import_sr(exported).assessment
    volume = volumes[original.timepoints[0].series_instance_uid]
    got = back.timepoints[0].lesion("T1")
    want = original.timepoints[0].lesion("T1")
    assert got.line.space == got.longest_line.space == "patient"
    for line_got, line_want in ((got.line, want.line), (got.longest_line, want.longest_line)):
        np.testing.assert_allclose(
            [line_got.start, line_got.end],
            volume.index_to_patient([line_want.start, line_want.end]),
            atol=1e-3,
        )
    assert _strip(got) == _strip(want)


def test_timepoint_responses_are_those_of_the_engine(
    study: tuple[Path, Assessment, dict], exported: list[Path]
) -> None:
    _, assessment, _ = study
    follow_up = read_sr(exported[1])
    assert set(follow_up.responses) == {"mrecist", "mrecist-1.1", "recist-1.1"}
    for preset, read in follow_up.responses.items():
        engine = score_assessment(assessment, settings_for(preset)).timepoints[1]
        assert read["target_response"] == str(engine.target_response)
        assert read["non_target_response"] == str(engine.non_target_response)
        assert read["overall_response"] == str(engine.overall_response)
        assert read["new_lesions"] == str(getattr(engine.new_lesions, "value", engine.new_lesions))
        assert read["target_sum_mm"] == pytest.approx(engine.target_sum_mm)
        assert read["baseline_sum_mm"] == pytest.approx(engine.baseline_sum_mm)
    baseline = read_sr(exported[0])
    assert baseline.responses["recist-1.1"]["target_sum_mm"] == pytest.approx(55.0 + 21.0)
    assert "overall_response" not in baseline.responses["recist-1.1"]


def test_measurement_method_is_the_first_preset(study, tmp_path: Path) -> None:
    _, assessment, volumes = study
    # volumes already loaded: no image folder is searched
    [path, _] = export_sr(assessment, None, tmp_path, criteria=("recist-1.1",), volumes=volumes)
    validate_sr(path)
    items = _groups(path)["T1"]
    method = next(
        c for c in items if c.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Method"
    )
    assert method.ConceptCodeSequence[0].CodeValue == codes.RECIST_1_1.value == "126081"
    assert "lesion-tool@1:Response:mrecist" not in _groups(path)


def test_local_mrecist_code_is_declared(exported: list[Path]) -> None:
    items = _groups(exported[0])["T1"]
    method = next(
        c for c in items if c.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Method"
    )
    code = method.ConceptCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("MRECIST", "99LESIONTOOL")


def test_export_errors_name_the_problem(study, tmp_path: Path) -> None:
    root, assessment, volumes = study
    missing = dataclasses.replace(
        assessment,
        timepoints=(dataclasses.replace(assessment.timepoints[0], series_instance_uid="1.2.3.4"),),
    )
    with pytest.raises(ExportError, match=r"timepoint 'baseline': series 1\.2\.3\.4 is not in"):
        export_sr(missing, root, tmp_path)
    # one timepoint without its series: the other is still written, and the error says so
    half = dataclasses.replace(
        assessment,
        timepoints=(
            assessment.timepoints[0],
            dataclasses.replace(assessment.timepoints[1], series_instance_uid="1.2.3.4"),
        ),
    )
    with pytest.raises(ExportError, match=r"1 of 2 timepoint\(s\) not exported.*week 8") as err:
        export_sr(half, root, tmp_path / "half")
    baseline_name = sr_file_name(PATIENT, assessment.reader, assessment.timepoints[0])
    assert (tmp_path / "half" / baseline_name).is_file()
    assert baseline_name in str(err.value)
    with pytest.raises(ExportError, match="Unknown criteria"):
        export_sr(assessment, root, tmp_path, criteria=("who",))
    with pytest.raises(ExportError, match="no image headers"):
        build_timepoint_sr(assessment, 0, images=[])
    follow_up = next(
        v
        for v in volumes.values()
        if v.series_instance_uid != assessment.timepoints[0].series_instance_uid
    )
    wrong = [pydicom.dcmread(f, stop_before_pixels=True) for f in follow_up.metadata["files"]]
    with pytest.raises(ExportError, match="lines would point at the wrong images"):
        build_timepoint_sr(assessment, 0, images=wrong, volume=follow_up)


def test_cli_export_then_import(study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, assessment, _ = study
    json_path = tmp_path / "a.json"
    save_assessment(assessment, json_path)
    assert (
        main(["export-sr", str(json_path), "--images", str(root), "--out", str(tmp_path / "sr")])
        == 0
    )
    written = [Path(line) for line in capsys.readouterr().out.split()]
    assert len(written) == 2
    for path in written:
        validate_sr(path)
    out = tmp_path / "back.json"
    assert main(["import-sr", *map(str, written), "--out", str(out), "--images", str(root)]) == 0
    assert "2 timepoint(s)" in capsys.readouterr().out
    back = load_assessment(out)
    original = load_assessment(json_path)
    for got, want in zip(back.timepoints, original.timepoints, strict=True):
        assert [_strip(x) for x in got.lesions] == [_strip(x) for x in want.lesions]
    assert UNCATEGORISED_KEY not in json.loads(out.read_text())


def test_cli_export_sr_usage_errors(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as err:
        main(["export-sr", "x.json", "--images", ".", "--out", ".", "--criteria", "who"])
    assert err.value.code == 2
    assert (
        main(["export-sr", str(tmp_path / "none.json"), "--images", ".", "--out", str(tmp_path)])
        == 1
    )
    assert "none.json" in capsys.readouterr().err


@pytest.mark.realdata
def test_enhanced_multiframe_ct_lines_reference_their_frame(
    shared_data: Path, tmp_path: Path
) -> None:
    path = shared_data / "sr-seg" / "pydicom-data" / "eCT_Supplemental.dcm"
    volume = load_series(path)
    header = pydicom.dcmread(path, stop_before_pixels=True)
    assessment = Assessment(
        patient_id=str(header.PatientID),
        treatment_start=volume.study_date,
        timepoints=(
            Timepoint(
                label="baseline",
                date=volume.study_date,
                series_instance_uid=volume.series_instance_uid,
                lesions=tuple(
                    Lesion(
                        id=f"T{z + 1}",
                        category="target",
                        state="measured",
                        kind="longest",
                        longest_diameter_mm=12.0,
                        line=Line((z, 3.0, 4.0), (z, 10.0, 12.0)),
                    )
                    for z in range(volume.shape[0])
                ),
            ),
        ),
    )
    out = tmp_path / "mf.dcm"
    build_timepoint_sr(assessment, 0, images=[header], volume=volume).save_as(out)
    validate_sr(out)
    groups = _groups(out)
    frames = volume.metadata["frame_indices"]
    for z in range(volume.shape[0]):
        num = next(c for c in groups[f"T{z + 1}"] if c.ValueType == "NUM")
        image = num.ContentSequence[0].ContentSequence[0]
        assert int(image.ReferencedSOPSequence[0].ReferencedFrameNumber) == frames[z] + 1
    back = read_sr(out, volume=volume)
    for z, lesion in enumerate(back.lesions):
        assert lesion.line == Line((z, 3.0, 4.0), (z, 10.0, 12.0))
    # the Image Library OHIF dereferences: the multi-frame image, with what its top level says
    library = next(
        item
        for item in pydicom.dcmread(out).ContentSequence
        if item.ConceptNameCodeSequence[0].CodeMeaning == "Image Library"
    )
    entries = [i for i in iter_content(library.ContentSequence) if i.ValueType == "IMAGE"]
    assert [e.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for e in entries] == [
        header.SOPInstanceUID
    ]
    names = {
        c.ConceptNameCodeSequence[0].CodeMeaning for c in iter_content(library.ContentSequence)
    }
    assert {"Modality", "Frame of Reference UID", "Pixel Data Rows", "Pixel Data Columns"} <= names


def test_export_warns_when_images_disagree_with_the_assessment(study) -> None:
    _, assessment, volumes = study
    timepoint = assessment.timepoints[0]
    volume = volumes[timepoint.series_instance_uid]
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in volume.metadata["files"]]
    odd = dataclasses.replace(
        assessment,
        patient_id="OTHER-9",
        timepoints=(dataclasses.replace(timepoint, date=dt.date(2026, 1, 3)),),
    )
    with pytest.warns(AssessmentWarning) as record:
        build_timepoint_sr(odd, 0, images=headers, volume=volume)
    messages = " ".join(str(w.message) for w in record)
    assert "PatientID 'SRT-001'" in messages
    assert "StudyDate is 2026-01-02" in messages


def test_every_local_code_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sr.md").read_text()
    local = set()
    for value in vars(codes).values():
        concepts = value.values() if isinstance(value, dict) else [value]
        for concept in concepts:
            if getattr(concept, "scheme_designator", None) == codes.LOCAL_SCHEME:
                local.add(concept.value)
    local |= {codes.OTHER_ORGAN_VALUE, codes.OTHER_LOCATION_VALUE, codes.OTHER_TYPE_VALUE}
    assert len(local) > 30
    assert [value for value in sorted(local) if f"`{value}`" not in doc] == []


@pytest.mark.realdata
def test_sr_on_real_tcia_headers_validates_and_reads_back(
    shared_data: Path, tmp_path: Path
) -> None:
    """HCC_006 arterial phase (109 slices): the readers' 32.8 mm viable nodule on a real study."""
    folder = next((shared_data / "hcc-tace-seg" / "HCC_006").glob("*/103.000000-*"))
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in folder.iterdir()]
    headers.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))  # axial, increasing S
    first = headers[0]
    date = dt.datetime.strptime(first.StudyDate, "%Y%m%d").date()
    assessment = Assessment(
        patient_id=str(first.PatientID),
        treatment_start=date,
        reader="R1",
        timepoints=(
            Timepoint(
                label="baseline",
                date=date,
                series_instance_uid=str(first.SeriesInstanceUID),
                lesions=(
                    Lesion(
                        id="T1",
                        category="target",
                        state="measured",
                        kind="viable",
                        viable_diameter_mm=32.8,
                        longest_diameter_mm=32.8,
                        line=Line((50.0, 200.0, 300.0), (50.0, 230.0, 330.0)),
                    ),
                ),
            ),
        ),
    )
    out = tmp_path / "hcc006.dcm"
    with pytest.warns(UserWarning, match="HCC_006"):  # highdicom on the images' PatientName
        document = build_timepoint_sr(assessment, 0, images=headers)
    document.save_as(out)
    validate_sr(out)
    back = read_sr(out)
    assert (back.patient_id, back.date, back.series_instance_uid) == (
        "HCC_006",
        date,
        str(first.SeriesInstanceUID),
    )
    [lesion] = back.lesions
    assert lesion.viable_diameter_mm == 32.8
    # no volume given: the line is placed through the image library, in patient mm
    image = headers[50]
    expected = np.array(image.ImagePositionPatient, float) + np.array(
        [300.0 * image.PixelSpacing[1], 200.0 * image.PixelSpacing[0], 0.0]
    )
    np.testing.assert_allclose(lesion.line.start, expected, atol=1e-3)


def test_a_line_without_its_diameter_is_reported(study) -> None:
    _, assessment, volumes = study
    timepoint = assessment.timepoints[0]
    volume = volumes[timepoint.series_instance_uid]
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in volume.metadata["files"]]
    lesion = dataclasses.replace(timepoint.lesion("T1"), viable_diameter_mm=None)
    odd = dataclasses.replace(
        assessment, timepoints=(dataclasses.replace(timepoint, lesions=(lesion,)),)
    )
    with pytest.warns(AssessmentWarning, match="T1: its line belongs to no recorded diameter"):
        build_timepoint_sr(odd, 0, images=headers, volume=volume)


def test_highdicom_reads_our_sr_back(exported: list[Path]) -> None:
    """A third reader: highdicom's own parser finds each lesion by its tracking UID."""
    import highdicom as hd

    document = hd.sr.srread(exported[1])
    assert isinstance(document, hd.sr.Comprehensive3DSR)
    [group] = document.content.get_image_measurement_groups(
        tracking_uid=tracking_uid(PATIENT, "T1", reader="Reader^One")
    )
    assert group.tracking_identifier == TRACKING_IDENTIFIER_LENGTH
    assert [(m.name.meaning, m.value, m.unit.value) for m in group.get_measurements()] == [
        (codes.VIABLE_DIAMETER.meaning, 20.0, "mm"),
        (codes.LONGEST_DIAMETER.meaning, 50.0, "mm"),
    ]
    assert group.finding_sites[0].value.value == codes.ORGAN_CODES["liver"].value
    assert len(document.content.get_image_measurement_groups()) == 6 + 3  # lesions + presets


def test_sr_file_names_never_collide() -> None:
    """ "fu 1", "fu_1" and "fu/1", or two readers of one patient, used to write one file."""
    date = dt.date(2026, 1, 1)
    names = {
        sr_file_name(patient, reader, Timepoint(label=label, date=date))
        for patient in ("P1", "P 1")
        for reader in ("R1", "R2", "")
        for label in ("fu 1", "fu_1", "fu/1")
    }
    assert len(names) == 18
    assert sr_file_name("P1", "R1", Timepoint(label="fu_1", date=date)) == "P1_R1_fu_1_SR.dcm"
    assert all("/" not in n for n in names)


def test_export_never_replaces_an_existing_file_without_force(
    study: tuple[Path, Assessment, dict], tmp_path: Path
) -> None:
    root, assessment, _ = study
    name = sr_file_name(PATIENT, assessment.reader, assessment.timepoints[0])
    (tmp_path / name).write_bytes(b"a reader's file")
    with pytest.raises(ExportError, match=r"1 of 2 timepoint\(s\) not exported.*exists"):
        export_sr(assessment, root, tmp_path)
    assert (tmp_path / name).read_bytes() == b"a reader's file"
    assert len(export_sr(assessment, root, tmp_path, overwrite=True)) == 2
    assert (tmp_path / name).read_bytes()[128:132] == b"DICM"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_image_without_sop_instance_uid_is_a_message_naming_it(
    study: tuple[Path, Assessment, dict], tmp_path: Path
) -> None:
    """It used to crash export-sr with an AttributeError (issue 12)."""
    import shutil

    from pydicom import dcmread

    root, assessment, _ = study
    copy = tmp_path / "images"
    shutil.copytree(root, copy)
    victim = sorted((copy / "bl").iterdir())[0]
    ds = dcmread(victim)
    del ds.SOPInstanceUID
    ds.save_as(victim)
    with pytest.raises(ExportError, match="has no SOPInstanceUID") as err:
        export_sr(assessment, copy, tmp_path / "out")
    assert victim.name in str(err.value)


def test_cli_trial_sign_off_role_and_predecessor(study, tmp_path: Path, capsys) -> None:
    root, assessment, _ = study
    path = tmp_path / "a.json"
    save_assessment(assessment, path)
    out = tmp_path / "sr"
    assert main(["export-sr", str(path), "--images", str(root), "--out", str(out)]) == 0
    first = sorted(out.glob("*.dcm"))
    old_uids = {p.name: pydicom.dcmread(p).SOPInstanceUID for p in first}
    draft = pydicom.dcmread(first[0])
    assert (draft.PreliminaryFlag, draft.VerificationFlag) == ("PRELIMINARY", "UNVERIFIED")
    assert draft.SoftwareVersions == __version__
    assert "ClinicalTrialSponsorName" not in draft
    capsys.readouterr()
    args = ["export-sr", str(path), "--images", str(root), "--out", str(out), "--force"]
    args += ["--sign-off", "Doe^Jane", "--organisation", "Core Lab", "--reader-role", "adjudicator"]
    args += ["--trial-sponsor", "Acme", "--trial-protocol", "HCC-01", "--trial-site", "S07"]
    args += ["--trial-time-point", "week 8=V3"]
    assert main(args) == 0
    signed = [pydicom.dcmread(p) for p in sorted(out.glob("*.dcm"))]
    for old, new in zip(first, signed, strict=True):
        validate_sr(Path(new.filename))
        assert (new.PreliminaryFlag, new.CompletionFlag, new.VerificationFlag) == (
            "FINAL",
            "COMPLETE",
            "VERIFIED",
        )
        verifier = new.VerifyingObserverSequence[0]
        assert (verifier.VerifyingObserverName, verifier.VerifyingOrganization) == (
            "Doe^Jane",
            "Core Lab",
        )
        predecessor = new.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
        referenced = predecessor.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        assert referenced == old_uids[old.name]
        assert (new.ClinicalTrialSponsorName, new.ClinicalTrialProtocolID) == ("Acme", "HCC-01")
        assert (new.ClinicalTrialSiteID, new.ClinicalTrialSubjectID) == ("S07", PATIENT)
        roles = [
            item.ConceptCodeSequence[0].CodeMeaning
            for item in iter_content(new.ContentSequence)
            if item.ConceptNameCodeSequence[0].CodeMeaning
            == "Person Observer's Role in this Procedure"
        ]
        assert roles == ["Adjudicator"]
    assert [ds.ClinicalTrialTimePointID for ds in signed] == ["baseline", "V3"]
    # an explicit predecessor is matched to its timepoint by the series it measures
    again = tmp_path / "again"
    assert main([*args[:5], str(again), "--predecessor", str(first[1])]) == 0
    [week8] = [pydicom.dcmread(p) for p in again.glob("*week_8*")]
    ref = week8.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert ref.ReferencedSOPInstanceUID == pydicom.dcmread(first[1]).SOPInstanceUID
    [baseline] = [pydicom.dcmread(p) for p in again.glob("*baseline*")]
    assert "PredecessorDocumentsSequence" not in baseline
    capsys.readouterr()
    other = pydicom.dcmread(first[0])
    other.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[
        0
    ].SeriesInstanceUID = "1.2.3.4"
    other.save_as(tmp_path / "other.dcm")
    assert main([*args[:5], str(tmp_path / "x"), "--predecessor", str(tmp_path / "other.dcm")]) == 1
    assert "no timepoint of patient SRT-001 was measured on it" in capsys.readouterr().err
    assert main([*args[:7], "--sign-off", "Doe^Jane"]) == 1
    assert "needs both --sign-off NAME and --organisation ORG" in capsys.readouterr().err


def test_bor_and_ncit_codes_in_the_response_groups(exported: list[Path]) -> None:
    follow_up = pydicom.dcmread(exported[1])
    values = {}
    for item in iter_content(follow_up.ContentSequence):
        if item.get("ValueType") == "CODE":
            name = item.ConceptNameCodeSequence[0].CodeMeaning
            code = item.ConceptCodeSequence[0]
            values.setdefault(name, set()).add((code.CodingSchemeDesignator, code.CodeValue))
    assert values["Best Overall Response"] == values["Current Response"] == {("NCIt", "C35571")}
    baseline = pydicom.dcmread(exported[0])
    assert not any(
        item.ConceptNameCodeSequence[0].CodeMeaning == "Best Overall Response"
        for item in iter_content(baseline.ContentSequence)
    )


def test_every_lesion_group_carries_its_id_as_comment_and_every_sr_an_image_library(
    exported: list[Path],
) -> None:
    for path in exported:
        ds = pydicom.dcmread(path)
        top = [item.ConceptNameCodeSequence[0].CodeMeaning for item in ds.ContentSequence]
        assert "Image Library" in top
        groups = _groups(path)
        for lesion_id, items in groups.items():
            if lesion_id.startswith("lesion-tool@1:Response"):
                continue
            comments = [
                i.TextValue for i in items if i.ConceptNameCodeSequence[0].CodeValue == "121106"
            ]
            assert comments == [lesion_id]


def test_edited_response_is_a_warning_naming_both(exported: list[Path], tmp_path: Path) -> None:
    ds = pydicom.dcmread(exported[1])
    for item in iter_content(ds.ContentSequence):
        if item.get("ValueType") == "CODE" and item.ConceptNameCodeSequence[0].CodeMeaning == (
            "Current Response"
        ):
            code = item.ConceptCodeSequence[0]
            code.CodeValue, code.CodeMeaning = "C18058", "Partial Response"  # PD edited to PR
    edited = tmp_path / "edited.dcm"
    ds.save_as(edited)
    result = import_sr([exported[0], edited])
    messages = [w for w in result.warnings if "records overall response PR" in w]
    assert messages and all("its lesions give PD" in m and str(edited) in m for m in messages)
    assert not any("records" in w for w in import_sr(exported).warnings)


def test_not_evaluable_is_the_local_ne_code_and_the_old_sct_code_still_reads(
    exported: list[Path], tmp_path: Path
) -> None:
    # NE was (373121007, SCT): PS3.16 has it only in CID 3703 Wall Motion, SNOMED CT calls it
    # "Test not done"; no standard NE response code could be verified, so NE is local
    for table in (
        codes.TARGET_RESPONSE_CODES,
        codes.NON_TARGET_RESPONSE_CODES,
        codes.OVERALL_RESPONSE_CODES,
    ):
        ne = table["NE"]
        assert (ne.value, ne.scheme_designator, ne.meaning) == (
            "NE",
            codes.LOCAL_SCHEME,
            "Not evaluable",
        )
    for value, scheme, meaning in (
        ("NE", codes.LOCAL_SCHEME, "Not evaluable"),
        ("373121007", "SCT", "Not Evaluated"),  # SRs written before
    ):
        ds = pydicom.dcmread(exported[1])
        for item in iter_content(ds.ContentSequence):
            if item.get("ValueType") == "CODE" and item.ConceptNameCodeSequence[0].CodeMeaning == (
                "Current Response"
            ):
                code = item.ConceptCodeSequence[0]
                code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = (
                    value,
                    scheme,
                    meaning,
                )
        edited = tmp_path / f"ne-{scheme}.dcm"
        ds.save_as(edited)
        result = import_sr([exported[0], edited])
        assert any("records overall response NE" in w for w in result.warnings), (
            scheme,
            result.warnings,
        )


def test_an_sr_without_patient_id_imports_with_a_plain_warning(
    exported: list[Path], tmp_path: Path, capsys
) -> None:
    ds = pydicom.dcmread(exported[0])
    ds.PatientID = ""
    path = tmp_path / "anonymous.dcm"
    ds.save_as(path)
    out = tmp_path / "a.json"
    assert main(["import-sr", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "has no PatientID" in err and "schema" not in err.lower()
    assert load_assessment(out).patient_id == "unknown"
    # import-sr writes through the audit trail: one verified "import" event
    from lesion_tool.storage.audit import verify_audit

    report = verify_audit(out)
    assert report.intact, report.problems
    assert [e["action"] for e in report.events] == ["import"]
    assert "imported from 1 DICOM SR file(s)" in report.events[0]["note"]


def test_pixel_lengths_on_a_known_image_become_mm(study, tmp_path: Path) -> None:
    import highdicom as hd

    _, _, volumes = study
    volume = next(iter(volumes.values()))
    images = [pydicom.dcmread(p) for p in volume.metadata["files"]]
    image = next(ds for ds in images if ds.SOPInstanceUID == volume.sop_instance_uids[1])
    px = hd.sr.CodedConcept("1", "UCUM", "px")
    line = hd.sr.CoordinatesForMeasurement(
        graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
        graphic_data=np.array([[2.0, 3.0], [5.0, 7.0]]),  # 3 columns, 4 rows: 5 pixels
        source_image=hd.sr.SourceImageForRegion(image.SOPClassUID, image.SOPInstanceUID),
    )
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=hd.UID(), identifier="Cornerstone3DTools@^0.1.0:Length"
        ),
        measurements=[
            hd.sr.Measurement(name=codes.LENGTH, value=5.0, unit=px, referenced_coordinates=[line])
        ],
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(),
        procedure_reported=codes.PROCEDURE_CT,
        imaging_measurements=[group],
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=images,
        content=report,
        series_instance_uid=hd.UID(),
        series_number=1,
        sop_instance_uid=hd.UID(),
        instance_number=1,
    )
    path = tmp_path / "px.dcm"
    sr.save_as(path)
    with pytest.warns(Warning, match="converted to"):
        read = read_sr(path, volume=volume)
    [entry] = read.uncategorised
    # pixel spacing (row 0.8, column 0.7 mm): 3 columns x 0.7 and 4 rows x 0.8
    assert entry["measurements"][0]["value_mm"] == pytest.approx(
        np.hypot(3 * 0.7, 4 * 0.8), abs=1e-4
    )
    refused = read_sr(path)
    assert refused.uncategorised == [] and "pixel spacing" in refused.refused[0]
