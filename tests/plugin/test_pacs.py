"""The plugin against a real PACS (Orthanc on loopback, the core tests' ``_orthanc`` helper).

A reader opens *Open from PACS...*, types the server and the patient, searches, retrieves both
studies (progress, cache) and the viewer shows them; the reading is signed off (SR COMPLETE /
VERIFIED, the reader as verifying observer) and sent by STOW-RS, and a QIDO search then finds
the SR in the patient's study. Server down, a wrong URL, a 401 and a study gone from the server
are each a message in the dialog, never a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from lesion_napari._pacs_dialog import PacsDialog
from lesion_napari._widget import LesionWidget

from lesion_tool.model import Category
from lesion_tool.pacs import PacsConnection, connect
from lesion_tool.storage.sr_import import import_sr


def _orthanc_helper():
    """tests/core/_orthanc.py, the one Orthanc helper of the project (imported once)."""
    if "_orthanc" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "core" / "_orthanc.py"
        spec = importlib.util.spec_from_file_location("_orthanc", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["_orthanc"] = module
        spec.loader.exec_module(module)
    return sys.modules["_orthanc"]


_orthanc = _orthanc_helper()
pytestmark = pytest.mark.skipif(
    _orthanc.orthanc_missing() is not None, reason=_orthanc.orthanc_missing() or ""
)
USER, PASSWORD = "reader", "s3cret-Pa55"
PATIENT = "SYN-E2E"


def _dicom_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.dcm") if p.is_file())


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, synthetic_patient) -> Iterator[object]:
    """Orthanc (HTTP basic authentication) holding the synthetic patient's two studies."""
    server = _orthanc.OrthancServer(tmp_path_factory.mktemp("orthanc"), users={USER: PASSWORD})
    server.start()
    try:
        server.upload(_dicom_files(synthetic_patient))
        yield server
    finally:
        server.stop()
        _orthanc.reap()


def _fill_server(qtbot, dialog: PacsDialog, url: str, user: str = USER, password: str = PASSWORD):
    form = dialog.connection_form
    form.url_edit.clear()
    qtbot.keyClicks(form.url_edit, url)
    form.auth_combo.setCurrentIndex(1)
    form.user_edit.clear()
    qtbot.keyClicks(form.user_edit, user)
    form.password_edit.clear()
    qtbot.keyClicks(form.password_edit, password)


def _search(qtbot, dialog: PacsDialog) -> None:
    qtbot.mouseClick(dialog.search_button, 1)  # Qt.LeftButton
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)


def _cells(dialog: PacsDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


@pytest.mark.gui
def test_open_from_pacs_measure_sign_off_and_send(
    make_napari_viewer, orthanc, synthetic_patient, tmp_path, qtbot, monkeypatch, test_output
):
    cache = tmp_path / "pacs-cache"
    monkeypatch.setenv("LESION_TOOL_CACHE_DIR", str(cache))
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right", name="Lesion assessment")
    c = widget.controller
    c.set_reader("R1")

    # 1. search: typed into the dialog, results as a table
    dialog = widget.pacs.show_dialog()
    qtbot.addWidget(dialog)
    _fill_server(qtbot, dialog, orthanc.url)
    qtbot.keyClicks(dialog.patient_id_edit, PATIENT)
    _search(qtbot, dialog)
    rows = _cells(dialog)
    assert len(rows) == 2, dialog.message.text()
    titles = [dialog.table.horizontalHeaderItem(i).text() for i in range(len(rows[0]))]
    assert titles[:3] == ["Patient ID", "Name", "Date"] and "Series" in titles
    assert {r[0] for r in rows} == {PATIENT}
    assert all(r[titles.index("Series")] == "2" for r in rows)  # arterial + portal venous
    dates = [r[2] for r in rows]
    assert dates == sorted(dates, reverse=True)  # newest first
    viewer.screenshot(str(test_output / "plugin_pacs_dialog.png"), canvas_only=False, flash=False)
    dialog.grab().save(str(test_output / "plugin_pacs_dialog_only.png"))

    # 2. retrieve both studies with progress into the cache; the viewer shows them
    dialog.table.selectAll()
    seen: list[tuple[int, int]] = []
    dialog._relay.progressed.connect(lambda item: seen.append((item[2].done, item[2].total)))
    qtbot.mouseClick(dialog.retrieve_button, 1)
    qtbot.waitUntil(lambda: dialog.retrieved_folder is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not c.loading and len(c.views) == 2, timeout=60_000)
    assert not dialog.isVisible()
    assert dialog.retrieved_folder == cache / PATIENT
    n_files = len(_dicom_files(synthetic_patient))
    assert len(_dicom_files(cache)) == n_files
    assert seen and seen[-1][0] == seen[-1][1]  # the bar reached the end of each study
    assert list(c.views) == ["baseline", "fu1"]
    assert c.views["baseline"].image.visible and "arterial" in c.views["baseline"].image.name

    # 3. measure T1 at both timepoints where the generator says its diameters lie
    truth = {
        tp["label"]: {les["id"]: les for les in tp["lesions"]}
        for tp in json.loads((synthetic_patient / "truth.json").read_text())["timepoints"]
    }
    for label in ("baseline", "fu1"):
        c.set_timepoint(label)
        if label == "baseline":
            c.new_lesion(Category.TARGET)
        else:
            c.select_lesion("T1")
        view = c.views[label]
        for key, whole in (("viable_line", False), ("longest_line", True)):
            c.set_whole_line(whole)
            ends = np.array([truth[label]["T1"][key]["start"], truth[label]["T1"][key]["end"]])
            view.lines.add(view.geometry.voxel_to_display(ends.astype(float)), shape_type="line")
    measured = {tp.label: tp.lesion("T1") for tp in c.session.assessment.timepoints}
    for label, lesion in measured.items():
        want = truth[label]["T1"]
        assert lesion.viable_diameter_mm == pytest.approx(want["viable_diameter_mm"], abs=0.5)
        assert lesion.longest_diameter_mm == pytest.approx(want["longest_diameter_mm"], abs=0.5)

    # 4. sign off: SRs FINAL, COMPLETE, VERIFIED with the reader as verifying observer
    panel = widget.pacs
    assert widget.saving.button_row.indexOf(panel.launcher) >= 0  # in the saving panel's row
    qtbot.mouseClick(panel.launcher, 1)
    assert panel.isVisible()
    panel.observer_edit.setText("Doe^Jane")
    panel.organisation_edit.setText("Test Hospital")
    panel.role_combo.setCurrentText("reader")
    qtbot.mouseClick(panel.sign_button, 1)
    qtbot.waitUntil(lambda: panel.written is not None and panel.worker is None, timeout=60_000)
    assert panel.status.styleSheet() == "", panel.status.text()
    assert len(panel.written.paths) == 2
    for path in panel.written.paths:
        assert path.parent == c.session.path.parent / "sr"
        ds = pydicom.dcmread(path)
        assert ds.CompletionFlag == "COMPLETE" and ds.VerificationFlag == "VERIFIED"
        assert ds.VerifyingObserverSequence[0].VerifyingObserverName == "Doe^Jane"
        assert ds.VerifyingObserverSequence[0].VerifyingOrganization == "Test Hospital"
        assert ds.PatientID == PATIENT
    imported = import_sr(list(panel.written.paths))
    assert imported.problems == [] and imported.assessment is not None
    for tp in imported.assessment.timepoints:  # the SRs carry the diameters measured
        assert tp.lesion("T1").viable_diameter_mm == pytest.approx(
            measured[tp.label].viable_diameter_mm, abs=0.05
        )
    panel.grab().save(str(test_output / "plugin_pacs_panel.png"))
    widget.saving.grab().save(str(test_output / "plugin_saving_row.png"))

    # 5. send by STOW-RS; a QIDO search finds each SR in its study
    qtbot.mouseClick(panel.send_button, 1)
    qtbot.waitUntil(lambda: bool(panel.stored) and panel.worker is None, timeout=60_000)
    assert "signed off by Doe^Jane" in panel.status.text()
    connection = PacsConnection(orthanc.url, username=USER, password=PASSWORD)
    with connect(connection) as client:
        for path in panel.written.paths:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            series = client.search_series(str(ds.StudyInstanceUID))
            sr = [s for s in series if s.modality == "SR"]
            assert [s.series_instance_uid for s in sr] == [str(ds.SeriesInstanceUID)]
            refs = client.search_instances(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID))
            assert str(ds.SOPInstanceUID) in {r.sop_instance_uid for r in refs}
            assert str(ds.SOPInstanceUID) in panel.stored
        # the modality filter of the search: both studies now hold an SR
        assert len(client.search_studies(patient_id=PATIENT, modality="SR")) == 2
        assert client.search_studies(patient_id=PATIENT, modality="MR") == []

    # 6. signing off again replaces the SRs (same files) and references the ones replaced
    first = {p.name: pydicom.dcmread(p) for p in panel.written.paths}
    panel.written = None
    qtbot.mouseClick(panel.sign_button, 1)
    qtbot.waitUntil(lambda: panel.written is not None and panel.worker is None, timeout=60_000)
    assert sorted(p.name for p in panel.written.paths) == sorted(first)
    for path in panel.written.paths:
        ds = pydicom.dcmread(path)
        old = first[path.name]
        assert ds.SOPInstanceUID != old.SOPInstanceUID
        [study] = ds.PredecessorDocumentsSequence
        [series] = study.ReferencedSeriesSequence
        assert series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == old.SOPInstanceUID


@pytest.mark.gui
def test_errors_are_messages_in_the_dialog(qtbot, orthanc, tmp_path, monkeypatch):
    monkeypatch.setenv("LESION_TOOL_CACHE_DIR", str(tmp_path / "cache"))
    opened: list[Path] = []
    dialog = PacsDialog(open_folder=opened.append)
    qtbot.addWidget(dialog)

    def message() -> str:
        assert dialog.message.styleSheet(), "an error is shown in red"
        return dialog.message.text()

    # no URL, then a URL that is no URL
    _search(qtbot, dialog)
    assert "Enter the server's DICOMweb URL" in message()
    _fill_server(qtbot, dialog, "pacs.example")
    _search(qtbot, dialog)
    assert "is not a DICOMweb URL" in message()
    # a server that is down
    _fill_server(qtbot, dialog, f"http://127.0.0.1:{_orthanc.free_port()}/dicom-web")
    _search(qtbot, dialog)
    assert "connection refused" in message()
    # the wrong path on a live server
    _fill_server(qtbot, dialog, f"{orthanc.base}/no-such-root")
    _search(qtbot, dialog)
    assert "DICOMweb root" in message()
    # a wrong password: 401
    _fill_server(qtbot, dialog, orthanc.url, password="wrong")
    _search(qtbot, dialog)
    assert "401" in message() and "refused the credentials" in message()
    dialog.connection_form.auth_combo.setCurrentIndex(0)  # "No login"
    _search(qtbot, dialog)
    assert "asks for credentials (401 Unauthorized): give a user and password" in message()
    # a bad date range is named
    _fill_server(qtbot, dialog, orthanc.url)
    qtbot.keyClicks(dialog.date_edit, "2024-13-45")
    _search(qtbot, dialog)
    assert "is not a date or date range" in message()
    dialog.date_edit.clear()
    # retrieving with nothing selected
    dialog.patient_id_edit.setText(PATIENT)
    _search(qtbot, dialog)
    assert len(dialog.studies) == 2 and not dialog.message.styleSheet()
    dialog.table.clearSelection()
    dialog.retrieve()
    assert "Select a study" in message()

    # Cancel stops the retrieval (the progress bar stops); retrieving again completes it
    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.retrieve_button, 1)
    assert dialog.cancel_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, 1)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    assert "retrieval cancelled" in message() and "pulling again resumes" in message()
    assert opened == [] and dialog.progress.maximum() > 0
    qtbot.mouseClick(dialog.retrieve_button, 1)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    assert opened == [dialog.retrieved_folder], dialog.message.text()
    study = dialog.studies[0]
    assert dialog.retrieved_folder == tmp_path / "cache" / PATIENT / study.study_instance_uid
    assert len(list(dialog.retrieved_folder.rglob("*.dcm"))) == study.instance_count


@pytest.mark.gui
def test_a_study_gone_from_the_server_is_a_message(qtbot, synthetic_patient, tmp_path):
    """The study is listed, then deleted on the server before the reader retrieves it."""
    server = _orthanc.OrthancServer(tmp_path / "orthanc")
    server.start()
    try:
        server.upload(_dicom_files(synthetic_patient / "baseline"))
        opened: list[Path] = []
        dialog = PacsDialog(open_folder=opened.append, cache_dir=tmp_path / "cache")
        qtbot.addWidget(dialog)
        dialog.connection_form.url_edit.setText(server.url)
        _search(qtbot, dialog)
        assert len(dialog.studies) == 1
        server.clear()
        dialog.table.selectRow(0)
        dialog.retrieve()
        qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
        assert dialog.message.styleSheet()
        assert "no study" in dialog.message.text() and server.url in dialog.message.text()
        assert opened == [] and dialog.retrieved_folder is None
        assert _dicom_files(tmp_path / "cache") == [] if (tmp_path / "cache").exists() else True
    finally:
        server.stop(wait=False)
        _orthanc.reap()
