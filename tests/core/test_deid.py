"""De-identified exports (issue 12): no identifying attribute of the source survives in the SR,
CSV or report; pseudonyms are the same in every export under one key; intervals are exact."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pydicom
import pytest
from test_sr_helpers import validate_sr, write_ct_series

from lesion_tool.cli import main
from lesion_tool.deid import Deidentifier, load_or_create_key
from lesion_tool.errors import LesionToolError
from lesion_tool.io import load_series
from lesion_tool.model import Assessment, Lesion, Line, Timepoint
from lesion_tool.response import score_assessment, settings_for
from lesion_tool.storage import save_assessment
from lesion_tool.storage.sr import ClinicalTrial, export_sr, tracking_uid

MRN = "MRN-98765"
IDENTIFYING = {
    "PatientName": "DOE^JANE",
    "PatientBirthDate": "19580214",
    "AccessionNumber": "ACC77441",
    "ReferringPhysicianName": "WHO^DOCTOR",
    "InstitutionName": "SAINT ELSEWHERE",
    "OtherPatientIDs": "OLD-55123",
}
SECRETS = [MRN, "98765", "DOE", "JANE", "19580214", "ACC77441", "WHO", "ELSEWHERE", "55123"]
KEY = Deidentifier(b"k" * 32)


def test_pseudonyms_are_keyed_and_stable_and_dates_keep_intervals() -> None:
    other = Deidentifier(b"o" * 32)
    assert KEY.patient_id(MRN) == KEY.patient_id(MRN) != other.patient_id(MRN)
    assert KEY.patient_id(MRN) != KEY.patient_id("MRN-98766")
    assert KEY.patient_id(MRN).startswith("P-") and MRN not in KEY.patient_id(MRN)
    shift = KEY.shift_days(MRN)
    assert 1 <= shift <= 3650
    a, b = dt.date(2026, 1, 2), dt.date(2026, 3, 2)
    assert KEY.date(MRN, b) - KEY.date(MRN, a) == b - a
    assert KEY.date(MRN, a) == a - dt.timedelta(days=shift)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Assessment]:
    root = tmp_path_factory.mktemp("deid-images")
    for name, date in (("bl", "20260102"), ("fu", "20260302")):
        write_ct_series(root / name, patient_id=MRN, study_date=date)
        for path in (root / name).iterdir():
            ds = pydicom.dcmread(path)
            for keyword, value in IDENTIFYING.items():
                setattr(ds, keyword, value)
            ds.save_as(path)
    bl, fu = (load_series(root / name) for name in ("bl", "fu"))

    def tp(label: str, date: dt.date, volume, mm: float) -> Timepoint:
        lesion = Lesion(
            id="T1",
            category="target",
            state="measured",
            kind="viable",
            viable_diameter_mm=mm,
            longest_diameter_mm=mm + 5,
            line=Line((2.0, 3.5, 4.25), (2.0, 15.0, 12.0)),
            note="seen by Dr Who at Saint Elsewhere",
        )
        return Timepoint(
            label=label,
            date=date,
            study_instance_uid=volume.study_instance_uid,
            series_instance_uid=volume.series_instance_uid,
            lesions=(lesion,),
        )

    assessment = Assessment(
        patient_id=MRN,
        treatment_start=dt.date(2026, 1, 5),
        reader="R1",
        timepoints=(
            tp("baseline", dt.date(2026, 1, 2), bl, 40.0),
            tp("week 8", dt.date(2026, 3, 2), fu, 20.0),
        ),
    )
    return root, assessment


def test_scores_are_unchanged_by_deidentification(study) -> None:
    _root, assessment = study
    for preset in ("mrecist", "recist-1.1"):
        plain = score_assessment(assessment, settings_for(preset))
        pseudo = score_assessment(KEY.assessment(assessment), settings_for(preset))
        assert pseudo.patient_id == KEY.patient_id(MRN)
        assert (pseudo.best_overall_response, pseudo.pfs_days, pseudo.pfs_event) == (
            plain.best_overall_response,
            plain.pfs_days,
            plain.pfs_event,
        )
        assert [r.days_from_start for r in pseudo.timepoints] == [
            r.days_from_start for r in plain.timepoints
        ]


def _without_uids(path: Path) -> bytes:
    """The file's bytes with every UID value taken out: new UIDs are random digits, and a
    five-digit secret (the MRN's 98765) turns up in one now and then by chance (a flaky CI run
    at 7e19140), not because it leaked; every other value is still searched."""
    raw = path.read_bytes()
    uids: set[str] = set()

    def collect(_ds: pydicom.Dataset, elem: pydicom.DataElement) -> None:
        if elem.VR == "UI" and elem.value:
            values = elem.value if elem.VM > 1 else [elem.value]
            uids.update(str(v) for v in values)

    pydicom.dcmread(path).walk(collect)
    for uid in sorted(uids, key=len, reverse=True):
        raw = raw.replace(uid.encode(), b"")
    return raw


def test_deidentified_sr_holds_no_source_identifier_and_is_valid(study, tmp_path: Path) -> None:
    root, assessment = study
    files = export_sr(assessment, root, tmp_path, deidentifier=KEY)
    assert len(files) == 2
    images = {ds.SOPInstanceUID for p in (root / "bl").iterdir() for ds in [pydicom.dcmread(p)]}
    for path in files:
        assert MRN not in path.name and KEY.patient_id(MRN) in path.name
        raw = _without_uids(path)
        for secret in [*SECRETS, "20260102", "20260302", "Dr Who"]:
            assert secret.encode() not in raw, (path.name, secret)
        ds = pydicom.dcmread(path)
        assert ds.PatientID == KEY.patient_id(MRN) and str(ds.PatientName) == ds.PatientID
        assert ds.PatientIdentityRemoved == "YES"
        codes = {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
        assert {"113100", "113104", "113107", "113110"} <= codes
        _dump, verify = validate_sr(path)  # dsrdump and dciodvfy: no errors
        assert "Error" not in verify
    first = pydicom.dcmread(files[0])
    evidence = {
        ref.ReferencedSOPInstanceUID
        for study_item in first.CurrentRequestedProcedureEvidenceSequence
        for series in study_item.ReferencedSeriesSequence
        for ref in series.ReferencedSOPSequence
    }
    assert evidence & images  # Retain UIDs: the SR still points at the measured images
    assert first.StudyDate == KEY.date(MRN, dt.date(2026, 1, 2)).strftime("%Y%m%d")


def _tracking_uids(ds: pydicom.Dataset) -> set[str]:
    """Every UIDREF value of the SR content (the Tracking Unique Identifiers)."""
    found: set[str] = set()

    def visit(items) -> None:  # type: ignore[no-untyped-def]
        for item in items:
            if item.get("ValueType") == "UIDREF":
                found.add(str(item.UID))
            visit(item.get("ContentSequence", []))

    visit(ds.ContentSequence)
    return found


def test_deidentified_tracking_uids_come_from_the_pseudonym(study, tmp_path: Path) -> None:
    # Tracking UIDs are name-based UUIDs of (patient, reader, lesion): from the real id, anyone
    # holding a candidate MRN could recompute them and recognise the patient.
    root, assessment = study
    pseudonym = KEY.patient_id(MRN)
    from_real = {
        tracking_uid(MRN, name, reader="R1")
        for name in ("T1", *(f"response/{p}" for p in ("mrecist", "mrecist-1.1", "recist-1.1")))
    }
    for path in export_sr(assessment, root, tmp_path / "deid", deidentifier=KEY):
        uids = _tracking_uids(pydicom.dcmread(path))
        assert tracking_uid(pseudonym, "T1", reader="R1") in uids
        assert not uids & from_real
    # identified SRs keep their UIDs (derived from the real id, as before)
    for path in export_sr(assessment, root, tmp_path / "plain"):
        assert tracking_uid(MRN, "T1", reader="R1") in _tracking_uids(pydicom.dcmread(path))


def test_trial_subject_defaults_to_the_pseudonym(study, tmp_path: Path) -> None:
    root, assessment = study
    trial = ClinicalTrial(sponsor="ACME", protocol_id="HCC-301")
    files = export_sr(assessment, root, tmp_path, deidentifier=KEY, trial=trial)
    for path in files:
        assert MRN.encode() not in path.read_bytes()
        ds = pydicom.dcmread(path)
        assert ds.ClinicalTrialSubjectID == KEY.patient_id(MRN)


def test_csv_and_report_carry_the_same_pseudonym_and_no_identifier(
    study, tmp_path: Path, monkeypatch, capsys
) -> None:
    _root, assessment = study
    key_file = tmp_path / "trial.key"
    key_file.write_bytes(b"k" * 32)
    reading = tmp_path / "in" / f"{MRN}_R1.json"
    reading.parent.mkdir()
    save_assessment(assessment, reading)
    csv_path = tmp_path / "t.csv"
    assert (
        main(
            [
                "rescore",
                str(reading),
                "--timepoints-csv",
                str(csv_path),
                "--deidentify",
                "--deid-key",
                str(key_file),
            ]
        )
        == 0
    )
    text = csv_path.read_text()
    assert KEY.patient_id(MRN) in text
    for secret in [MRN, "2026-01-02", "2026-03-02"]:
        assert secret not in text
    assert (
        main(
            [
                "report",
                str(reading),
                "--out",
                str(tmp_path / "report"),
                "--deidentify",
                "--deid-key",
                str(key_file),
            ]
        )
        == 0
    )
    html = (tmp_path / "report" / "report.html").read_text()
    assert KEY.patient_id(MRN) in html
    for secret in [MRN, "98765", "2026-01-02", "Dr Who"]:
        assert secret not in html, secret
    for png in (tmp_path / "report").rglob("*"):
        assert MRN not in png.name


def test_key_file_rules(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("LESION_TOOL_DEID_KEY", raising=False)
    key, path, created = load_or_create_key()
    assert created and len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    again, _path, created_again = load_or_create_key()
    assert again == key and not created_again
    with pytest.raises(LesionToolError, match="no such de-identification key"):
        load_or_create_key(tmp_path / "typo.key")
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    with pytest.raises(LesionToolError, match="at least 16 bytes"):
        load_or_create_key(short)


def test_deidentified_assessment_drops_free_text(study) -> None:
    _root, assessment = study
    noted = dataclasses.replace(assessment, extra={"site": "Saint Elsewhere"})
    pseudo = KEY.assessment(noted)
    assert pseudo.extra == {}
    assert all(lesion.note is None for tp in pseudo.timepoints for lesion in tp.lesions)


# Attributes of the source images that PS3.15 Annex E (Basic Application Level Confidentiality
# Profile, table E.1-1) removes or replaces, set to distinctive values. Every one that identifies
# the patient, the visit, the people or the place is listed here; UIDs are retained on purpose
# (Retain UIDs option: an SR must reference its images) and dates are shifted (Retain
# Longitudinal Temporal Information with Modified Dates option).
ANNEX_E_SOURCE = {
    "PatientName": "DOE^JANE^MARIE",
    "PatientID": "MRN-43210",
    "PatientBirthDate": "19580214",
    "OtherPatientIDs": "OLD-55123",
    "OtherPatientNames": "ROE^JANET",
    "PatientAddress": "12 ELM STREET SPRINGFIELD",
    "PatientTelephoneNumbers": "5550199",
    "PatientAge": "067Y",
    "AccessionNumber": "ACC77441",
    "StudyID": "STUDY9931",
    "ReferringPhysicianName": "WHO^DOCTOR",
    "PerformingPhysicianName": "JEKYLL^HENRY",
    "OperatorsName": "TECH^TINA",
    "RequestingPhysician": "HOUSE^GREGORY",
    "InstitutionName": "SAINT ELSEWHERE",
    "InstitutionAddress": "1 HOSPITAL ROAD GOTHAM",
    "StationName": "CTSCAN04",
    "DeviceSerialNumber": "SN8842117",
    "StudyDate": None,  # the study's own date (per timepoint), below
}


def _identifying_strings(datasets: list[pydicom.Dataset]) -> set[str]:
    """Every identifying value of the source, and its parts and other spellings a writer could
    use (name components, a date as YYYY-MM-DD), longer than 3 characters."""
    found: set[str] = set()
    for ds in datasets:
        for keyword in ANNEX_E_SOURCE:
            value = str(ds.get(keyword, "") or "")
            if not value:
                continue
            parts = {value, *value.replace("^", " ").split()}
            if keyword.endswith("Date") and len(value) == 8:
                parts.add(f"{value[:4]}-{value[4:6]}-{value[6:]}")
            found |= {p for p in parts if len(p) > 3}
    return found


def test_every_deidentified_export_holds_none_of_the_sources_identifying_attributes(
    tmp_path: Path,
) -> None:
    """SR, CSV and report made with --deidentify, checked byte by byte (and their file names)
    against the values of the source images' PS3.15 Annex E attributes."""
    root = tmp_path / "images"
    sources = []
    for name, date in (("bl", "20260102"), ("fu", "20260302")):
        write_ct_series(root / name, patient_id=ANNEX_E_SOURCE["PatientID"], study_date=date)
        for path in (root / name).iterdir():
            ds = pydicom.dcmread(path)
            for keyword, value in ANNEX_E_SOURCE.items():
                if value is not None:
                    setattr(ds, keyword, value)
            ds.save_as(path)
            sources.append(ds)
    secrets = _identifying_strings(sources)
    assert {"JANE", "MARIE", "MRN-43210", "19580214", "2026-01-02", "CTSCAN04"} <= secrets
    bl, fu = (load_series(root / name) for name in ("bl", "fu"))
    lesion = Lesion(
        id="T1",
        category="target",
        state="measured",
        kind="viable",
        viable_diameter_mm=30.0,
        longest_diameter_mm=35.0,
        line=Line((2.0, 3.5, 4.25), (2.0, 15.0, 12.0)),
    )
    assessment = Assessment(
        patient_id=ANNEX_E_SOURCE["PatientID"],
        treatment_start=dt.date(2026, 1, 5),
        reader="R1",
        timepoints=tuple(
            Timepoint(
                label=label,
                date=date,
                study_instance_uid=volume.study_instance_uid,
                series_instance_uid=volume.series_instance_uid,
                lesions=(dataclasses.replace(lesion, viable_diameter_mm=mm),),
            )
            for label, date, volume, mm in (
                ("baseline", dt.date(2026, 1, 2), bl, 30.0),
                ("week 8", dt.date(2026, 3, 2), fu, 15.0),
            )
        ),
    )
    reading = tmp_path / "in" / "reading.json"
    reading.parent.mkdir()
    save_assessment(assessment, reading)
    key = tmp_path / "trial.key"
    key.write_bytes(b"k" * 32)
    deid = ["--deidentify", "--deid-key", str(key)]
    out = tmp_path / "out"
    csvs = ["--timepoints-csv", str(out / "t.csv"), "--patients-csv", str(out / "p.csv")]
    out.mkdir()
    sr_dir, report_dir = out / "sr", out / "report"
    assert (
        main(["export-sr", str(reading), "--images", str(root), "--out", str(sr_dir), *deid]) == 0
    )
    assert main(["rescore", str(reading), *csvs, *deid]) == 0
    assert main(["report", str(reading), "--out", str(report_dir), *deid]) == 0
    written = [p for p in out.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".dcm", ".csv", ".html"} <= kinds, kinds
    assert len(list(sr_dir.glob("*.dcm"))) == 2
    pseudonym = KEY.patient_id(ANNEX_E_SOURCE["PatientID"])
    for path in written:
        raw = path.read_bytes()
        for secret in secrets:
            assert secret not in str(path.relative_to(out)), (path.name, secret)
            assert secret.encode() not in raw, (path.name, secret)
            assert secret.encode("utf-16-le") not in raw, (path.name, secret)
        if path.suffix in (".dcm", ".csv", ".html"):
            assert pseudonym.encode() in raw, path.name


def test_scan_with_deidentify_prints_no_patient_id_name_date_or_path(
    tmp_path: Path, capsys
) -> None:
    """``scan`` printed PatientID and ``scan --json`` PatientName (issue 12). With --deidentify
    both print the pseudonym every other export uses, shifted dates and keyed path aliases."""
    folder = tmp_path / "DOE_JANE_MRN-43210"
    write_ct_series(folder / "ct", patient_id="MRN-43210", study_date="20260102")
    for path in (folder / "ct").iterdir():
        ds = pydicom.dcmread(path)
        ds.PatientName = "DOE^JANE"
        ds.save_as(path)
    (folder / "ct" / "notes.txt").write_text("not DICOM")
    key = tmp_path / "trial.key"
    key.write_bytes(b"k" * 32)
    pseudonym = KEY.patient_id("MRN-43210")
    secrets = ["MRN-43210", "43210", "DOE", "JANE", "2026-01-02", "20260102", str(tmp_path)]
    assert main(["scan", str(folder)]) == 0
    plain = capsys.readouterr().out
    assert "MRN-43210" in plain and str(folder) in plain  # what must go
    for extra in ([], ["--json"]):
        args = ["scan", *extra, str(folder), "--deidentify", "--deid-key", str(key)]
        assert main(args) == 0
        said = capsys.readouterr()
        for secret in secrets:
            assert secret not in said.out + said.err, (extra, secret)
        assert pseudonym in said.out
        assert KEY.date("MRN-43210", dt.date(2026, 1, 2)).isoformat() in said.out
