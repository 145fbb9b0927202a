"""Issue 12: a measured line keeps the SOPInstanceUID of the image it was measured on.

Optional in format v1 (old files load unchanged); recorded by the reading rules the plugin uses
and by import-sr; export-sr places the line by it (see test_sr_incomplete_series.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pydicom
import pytest
from test_sr_helpers import write_ct_series

from lesion_tool.errors import AssessmentError, ExportError
from lesion_tool.io import load_series
from lesion_tool.model import Assessment, Lesion, Line, Timepoint
from lesion_tool.reading.rules import line_on_image
from lesion_tool.storage import (
    assessment_from_dict,
    assessment_to_dict,
    load_assessment,
    save_assessment,
)
from lesion_tool.storage.sr import export_sr, relocate_line
from lesion_tool.storage.sr_import import import_sr

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"
UID = "1.2.826.0.1.3680043.8.498.12345"


def _assessment(uid: str | None) -> Assessment:
    lesion = Lesion(
        id="T1",
        category="target",
        state="measured",
        kind="longest",
        longest_diameter_mm=12.0,
        line=Line((3.0, 5.0, 5.0), (3.0, 5.0, 15.0), "voxel", uid),
    )
    timepoint = Timepoint(label="baseline", date=dt.date(2026, 1, 2), lesions=(lesion,))
    return Assessment(
        patient_id="UID-001", treatment_start=dt.date(2026, 1, 1), timepoints=(timepoint,)
    )


def test_the_uid_round_trips_through_the_json(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    save_assessment(_assessment(UID), path)
    stored = json.loads(path.read_text())["timepoints"][0]["lesions"][0]["line"]
    assert stored["sop_instance_uid"] == UID
    assert load_assessment(path).timepoints[0].lesions[0].line.sop_instance_uid == UID


def test_a_line_without_uid_is_written_as_before_and_old_files_load() -> None:
    stored = assessment_to_dict(_assessment(None))["timepoints"][0]["lesions"][0]["line"]
    assert set(stored) == {"start", "end", "space"}
    for path in sorted(EXAMPLES.glob("*.json")):
        for tp in load_assessment(path).timepoints:
            assert all(les.line is None or les.line.sop_instance_uid is None for les in tp.lesions)


@pytest.mark.parametrize("bad", ["", "1.2.x", "1.2.3.", 12, "1." + "2" * 70])
def test_a_malformed_uid_is_refused_naming_the_path(bad: object) -> None:
    data = assessment_to_dict(_assessment(UID))
    broken = copy.deepcopy(data)
    broken["timepoints"][0]["lesions"][0]["line"]["sop_instance_uid"] = bad
    with pytest.raises(AssessmentError, match=r"bad\.json: .*line.*sop_instance_uid"):
        assessment_from_dict(broken, source="bad.json")
    assert assessment_from_dict(data).timepoints[0].lesions[0].line.sop_instance_uid == UID


def test_line_on_image_names_the_slice_it_lies_on() -> None:
    uids = ("1.1", "1.2", "1.3")
    assert line_on_image((1.0, 2, 3), (1.0, 4, 5), uids).sop_instance_uid == "1.2"
    assert line_on_image((2.004, 2, 3), (1.998, 4, 5), uids).sop_instance_uid == "1.3"
    # across slices, beyond the volume, or a volume without UIDs: none
    assert line_on_image((1.0, 2, 3), (2.0, 4, 5), uids).sop_instance_uid is None
    assert line_on_image((3.0, 2, 3), (3.0, 4, 5), uids).sop_instance_uid is None
    assert line_on_image((1.0, 2, 3), (1.0, 4, 5), ()).sop_instance_uid is None
    line = line_on_image((1.0, 2, 3), (1.0, 4, 5), uids)
    assert (line.start, line.end, line.space) == ((1.0, 2.0, 3.0), (1.0, 4.0, 5.0), "voxel")
    # a non-conformant UID in an image is not recorded (the file must stay savable)
    for odd in ("1.2.abc", "1." + "2" * 70, ""):
        assert line_on_image((0.0, 2, 3), (0.0, 4, 5), (odd,)).sop_instance_uid is None


def test_relocate_line_moves_z_to_its_image_or_refuses() -> None:
    line = Line((3.0, 5.0, 5.0), (3.0, 6.0, 9.0), "voxel", "1.4")
    moved = relocate_line(line, ["1.2", "1.3", "1.4"], "T1")
    assert (moved.start, moved.end) == ((2.0, 5.0, 5.0), (2.0, 6.0, 9.0))
    assert relocate_line(line, ["1.1", "1.2", "1.3", "1.4"], "T1") == line
    with pytest.raises(ExportError, match=r"1\.4, which is not among the 2 images"):
        relocate_line(line, ["1.1", "1.2"], "T1")


def test_import_sr_records_the_image_of_each_line(tmp_path: Path) -> None:
    folder = tmp_path / "ct"
    datasets = write_ct_series(folder, patient_id="UID-001", n_slices=8)
    volume = load_series(folder)
    uid = str(datasets[3].SOPInstanceUID)
    first = datasets[0]
    assessment = _assessment(uid)
    tp = assessment.timepoints[0]
    assessment = Assessment(
        patient_id=assessment.patient_id,
        treatment_start=assessment.treatment_start,
        timepoints=(
            Timepoint(
                label=tp.label,
                date=tp.date,
                lesions=tp.lesions,
                study_instance_uid=str(first.StudyInstanceUID),
                series_instance_uid=str(first.SeriesInstanceUID),
            ),
        ),
    )
    [sr] = export_sr(assessment, folder, tmp_path / "sr")
    back = import_sr([sr], volumes={volume.series_instance_uid: volume}).assessment
    line = back.timepoints[0].lesions[0].line
    assert line.sop_instance_uid == uid
    assert line.start[0] == pytest.approx(3.0)
    assert str(pydicom.dcmread(folder / "0005.dcm").SOPInstanceUID) == uid  # slice 3 of 8
