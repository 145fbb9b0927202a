"""The adjudicator's view (issue 13): two readers' readings of a patient side by side,
read-only, differences highlighted, and the decision stored where ``rescore`` uses it."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from lesion_napari._adjudication import FIELDS, AdjudicationWidget, column_title
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QAbstractItemView

from lesion_tool.cli import main
from lesion_tool.corelab.adjudication import decision_problems, load_decision, load_decisions
from lesion_tool.response import score_assessment, settings_for
from lesion_tool.storage import load_assessment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"
FOUR = (
    "hcc-ex01-partial-response.json",  # mRECIST PR
    "hcc-ex02-complete-response-scar.json",
    "hcc-ex03-progression-by-sum.json",
    "hcc-ex04-new-lesion-backdated.json",
)


def _second_read(folder: Path) -> Path:
    """HCC-EX01 read again by R2, who sees no shrinkage (mRECIST SD where R1 says PR)."""
    data = json.loads((EXAMPLES / FOUR[0]).read_text(encoding="utf-8"))
    data["reader"] = "R2"
    baseline = {les["id"]: les for les in data["timepoints"][0]["lesions"]}
    for timepoint in data["timepoints"][1:]:
        for lesion in timepoint["lesions"]:
            if lesion["category"] == "target":
                lesion["state"] = "measured"
                for key in ("viable_diameter_mm", "longest_diameter_mm"):
                    lesion[key] = baseline[lesion["id"]][key]
    path = folder / "ex01-R2.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def readings(tmp_path: Path) -> Path:
    folder = tmp_path / "readings"
    folder.mkdir()
    for name in FOUR:
        shutil.copy(EXAMPLES / name, folder / name)
    _second_read(folder)
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.json")}


def _text(table, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item is not None else ""


def test_two_differing_readings_side_by_side_and_the_decision(
    qtbot, readings: Path, tmp_path: Path, capsys, test_output
) -> None:
    before = _digest(readings)
    worklist_dir = tmp_path / "adjudication"
    assert main(["adjudicate", str(readings), "--out", str(worklist_dir)]) == 0
    capsys.readouterr()

    view = AdjudicationWidget()
    qtbot.addWidget(view)
    view.resize(900, 760)
    view.load([readings])
    qtbot.waitUntil(lambda: view.loaded is not None and view.worker is None, timeout=30_000)

    # the one patient read twice is listed, flagged, with the core's reason
    assert view.patient_combo.count() == 1
    assert view.patient_combo.currentData() == "HCC-EX01"
    assert "needs adjudication" in view.patient_combo.currentText()
    assert "best overall response differs: R1 PR, R2 SD" in view.reasons_label.text()
    assert "4 patient(s), 1 read by two or more readers, 1 need adjudication" in (
        view.source_label.text()
    )

    # both readings in columns, every value the core's, read-only
    r1 = load_assessment(readings / FOUR[0])
    r2 = load_assessment(readings / "ex01-R2.json")
    for preset in view.presets:
        table = view.tables[preset]
        assert table.editTriggers() == QAbstractItemView.NoEditTriggers
        heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
        assert heads == [column_title(r, f) for r in ("R1", "R2") for f in FIELDS]
        for k, reading in enumerate((r1, r2)):
            result = score_assessment(reading, settings_for(preset))
            for i, t in enumerate(result.timepoints):
                assert _text(table, i, 4 * k) == t.date.isoformat()
                want = "–" if t.target_sum_mm is None else f"{t.target_sum_mm:.1f}"
                assert _text(table, i, 4 * k + 1) == want
                assert _text(table, i, 4 * k + 3) == str(t.overall_response or "")
            bor_row = len(result.timepoints)
            assert _text(table, bor_row, 4 * k + 3) == str(result.best_overall_response)
    # each reader's lesions, as on the adjudication page
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert titles == [*view.presets, "R1 lesions", "R2 lesions"]
    lesions = view.tabs.widget(titles.index("R2 lesions"))
    ids = {lesions.item(i, 0).text() for i in range(lesions.rowCount())}
    assert ids == {les.id for tp in r2.timepoints for les in tp.lesions}
    assert lesions.editTriggers() == QAbstractItemView.NoEditTriggers
    view.tabs.setCurrentIndex(titles.index("R2 lesions"))
    view.grab().save(str(test_output / "plugin_adjudication_lesions.png"))
    view.tabs.setCurrentIndex(0)
    # differences highlighted: the follow-up sums and responses and the BOR; baseline agrees
    differing = view.differing_cells("mrecist")
    rows = {row for row, _column in differing}
    assert ("best overall", column_title("R1", "overall")) in differing
    assert ("best overall", column_title("R2", "overall")) in differing
    assert "baseline" not in rows
    assert any(column == column_title("R2", "sum mm") for _row, column in differing)
    view.grab().save(str(test_output / "plugin_adjudication.png"))

    # the decision: into the worklist folder's decisions/, schema-checked, used by rescore
    view.load([worklist_dir])  # the adjudicate worklist folder: where decisions go
    assert view.decisions_dir == worklist_dir / "decisions"
    assert "Now open the readings it was made from" in view.message.text()
    assert view.patient_combo.currentData() == "HCC-EX01"  # the readings stay open
    assert "No decision yet" in view.decision_label.text()
    view.reader_combo.setCurrentText("R2")
    qtbot.mouseClick(view.decide_button, Qt.LeftButton)
    assert "Enter a reason and your adjudicator id" in view.message.text()
    qtbot.keyClicks(view.reason_edit, "R1 measured the wrong segment at fu1")
    qtbot.keyClicks(view.adjudicator_edit, "ADJ1")
    qtbot.mouseClick(view.decide_button, Qt.LeftButton)
    stored = worklist_dir / "decisions" / "HCC-EX01.adjudication.json"
    assert stored.is_file(), view.message.text()
    assert decision_problems(json.loads(stored.read_text(encoding="utf-8"))) == []
    decision = load_decision(stored)
    assert (decision.patient_id, decision.chosen_reader, decision.adjudicator) == (
        "HCC-EX01",
        "R2",
        "ADJ1",
    )
    assert decision.readers == ("R1", "R2") and decision.preset == "mrecist"
    assert decision.reason == "R1 measured the wrong segment at fu1"
    assert decision.decided_at.tzinfo is not None
    assert any("best overall response differs" in t for t in decision.triggers)
    assert "Decided: R2's reading stands; by ADJ1" in view.decision_label.text()
    decisions, problems = load_decisions([worklist_dir / "decisions"])
    assert problems == [] and decisions["HCC-EX01"].chosen_reader == "R2"

    # a second decision only when asked to replace the first
    view.reader_combo.setCurrentText("R1")
    qtbot.mouseClick(view.decide_button, Qt.LeftButton)
    assert "a decision exists for HCC-EX01" in view.message.text()
    assert load_decision(stored).chosen_reader == "R2"
    view.replace_box.setChecked(True)
    qtbot.mouseClick(view.decide_button, Qt.LeftButton)
    assert load_decision(stored).chosen_reader == "R1"
    view.reader_combo.setCurrentText("R2")
    view.replace_box.setChecked(True)
    qtbot.mouseClick(view.decide_button, Qt.LeftButton)

    # the endpoints follow the decision (R2's SD stands), and the readings were never written
    argv = ["rescore", str(readings), "--summary", "--criteria", "mrecist"]
    assert main([*argv, "--adjudications", str(worklist_dir / "decisions")]) == 0
    out = capsys.readouterr().out
    assert "ORR 1/4 = 25.0%" in out and "3 single reader, 1 adjudicated" in out
    assert _digest(readings) == before


def test_unreadable_and_lonely_readings_are_messages(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(EXAMPLES / FOUR[0], folder / FOUR[0])
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    view = AdjudicationWidget()
    qtbot.addWidget(view)
    view.load([folder])
    qtbot.waitUntil(lambda: view.loaded is not None and view.worker is None, timeout=30_000)
    assert view.patient_combo.count() == 0
    assert "nothing to adjudicate" in view.message.text()
    assert (
        "broken.json" in view.source_label.text() and "not valid JSON" in view.source_label.text()
    )
    assert not view.decide_button.isEnabled()
    # a folder with no readings at all
    empty = tmp_path / "empty"
    empty.mkdir()
    view.load([empty])
    qtbot.waitUntil(lambda: view.worker is None, timeout=30_000)
    assert "no assessment files" in view.message.text() and view.message.styleSheet()


@pytest.mark.gui
def test_menu_commands_open_the_dialog_and_the_view(
    viewer, qtbot, readings: Path, test_output
) -> None:
    """File > IO Utilities: Open from PACS... docks the assessment widget and shows its dialog;
    Adjudicate readings... docks the adjudication view (through the plugin's manifest)."""
    from lesion_napari._menus import adjudication_view, open_from_pacs
    from lesion_napari._widget import LesionWidget

    viewer.window._qt_window.resize(1700, 1000)
    open_from_pacs(viewer)
    widgets = list(viewer.window.dock_widgets.values())
    [assessment] = [w for w in widgets if isinstance(w, LesionWidget)]
    dialog = assessment.pacs.dialog()
    qtbot.waitUntil(dialog.isVisible)
    open_from_pacs(viewer)  # again: the same widget and dialog, not a second dock
    assert [w for w in viewer.window.dock_widgets.values() if isinstance(w, LesionWidget)] == [
        assessment
    ]
    dialog.reject()
    adjudication_view(viewer)
    [view] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, AdjudicationWidget)]
    view.load([readings])
    qtbot.waitUntil(lambda: view.loaded is not None and view.worker is None, timeout=30_000)
    assert view.patient_combo.currentData() == "HCC-EX01"
    view.grab().save(str(test_output / "plugin_adjudication_docked.png"))
