"""Format v1 storage: validation messages, round trips, rounding, atomic saving, file discovery."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lesion_tool.errors import AssessmentError
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Line, Timepoint
from lesion_tool.storage import (
    assessment_from_dict,
    assessment_json,
    assessment_to_dict,
    find_assessment_files,
    load_assessment,
    round_diameter_mm,
    save_assessment,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"


def minimal() -> dict:
    return {
        "format": "lesion-tool.assessment",
        "version": 1,
        "patient_id": "HCC-001",
        "reader": "R1",
        "treatment_start": "2026-01-05",
        "death_date": None,
        "last_known_alive": "2026-09-30",
        "timepoints": [
            {
                "label": "baseline",
                "date": "2026-01-02",
                "study_instance_uid": "1.2.3",
                "series_instance_uid": "1.2.3.4",
                "lesions": [
                    {
                        "id": "T1",
                        "category": "target",
                        "organ": "liver",
                        "location": "S8",
                        "kind": "viable",
                        "state": "measured",
                        "viable_diameter_mm": 42.0,
                        "longest_diameter_mm": 55.0,
                        "line": {
                            "start": [31, 201.5, 180.0],
                            "end": [31, 240.2, 215.7],
                            "space": "voxel",
                        },
                    },
                    {
                        "id": "NT1",
                        "category": "non_target",
                        "organ": "portal_vein",
                        "type": "portal_vein_thrombosis",
                        "state": "present",
                    },
                ],
            },
            {
                "label": "fu1",
                "date": "2026-02-16",
                "lesions": [
                    {
                        "id": "T1",
                        "category": "target",
                        "organ": "liver",
                        "kind": "viable",
                        "state": "measured",
                        "viable_diameter_mm": 20.0,
                        "longest_diameter_mm": 50.0,
                    },
                    {
                        "id": "NT1",
                        "category": "non_target",
                        "organ": "portal_vein",
                        "state": "present",
                    },
                    {
                        "id": "N1",
                        "category": "new",
                        "organ": "liver",
                        "state": "unequivocal",
                        "longest_diameter_mm": 14.0,
                        "typical_hcc_pattern": True,
                    },
                ],
            },
        ],
    }


def problems_of(data: dict, source: str = "case.json") -> list[str]:
    with pytest.raises(AssessmentError) as info:
        assessment_from_dict(data, source=source)
    return str(info.value).splitlines()


def test_minimal_document_loads_into_the_model() -> None:
    a = assessment_from_dict(minimal())
    assert a.patient_id == "HCC-001"
    assert a.treatment_start == dt.date(2026, 1, 5)
    assert a.last_known_alive == dt.date(2026, 9, 30)
    t1 = a.timepoints[0].lesions[0]
    assert t1.kind is Kind.VIABLE and t1.state is LesionState.MEASURED
    assert t1.line == Line((31.0, 201.5, 180.0), (31.0, 240.2, 215.7), "voxel")
    assert a.timepoints[1].lesion("N1").category is Category.NEW
    assert a.timepoints[1].lesion("N1").typical_hcc_pattern is True


def test_round_trip_dict_model_dict_is_identity() -> None:
    data = minimal()
    data["trial"] = {"arm": "A"}  # unknown top-level field: kept in extra and written back
    a = assessment_from_dict(data)
    assert a.extra == {"trial": {"arm": "A"}}
    again = assessment_to_dict(a)
    assert again["trial"] == {"arm": "A"}
    assert assessment_from_dict(again) == a
    assert assessment_to_dict(assessment_from_dict(again)) == again


def test_round_trip_through_a_file_keeps_every_optional_field(tmp_path: Path) -> None:
    lesion = Lesion(
        id="LN1",
        category=Category.TARGET,
        state=LesionState.MEASURED,
        organ="lymph_node",
        location="porta hepatis",
        kind=Kind.SHORT_AXIS,
        type="lymph_node",
        short_axis_mm=21.0,
        porta_hepatis=True,
        line=Line((1, 2, 3), (4, 5, 6), "patient"),
        longest_line=Line((1, 2, 3), (7, 8, 9)),
        seed=(10, 20, 30),
        note="measured on AP",
    )
    ascites = Lesion(
        id="NT1",
        category=Category.NON_TARGET,
        state=LesionState.PRESENT,
        organ="peritoneum",
        type="ascites",
        cytology_confirmed=True,
    )
    a = Assessment(
        patient_id="P",
        treatment_start=dt.date(2026, 1, 1),
        timepoints=(Timepoint("baseline", dt.date(2025, 12, 30), (lesion, ascites)),),
        reader="R2",
        death_date=dt.date(2026, 5, 1),
    )
    path = tmp_path / "a.json"
    save_assessment(a, path)
    assert load_assessment(path) == a


def test_save_rounds_diameters_to_a_tenth_half_up(tmp_path: Path) -> None:
    data = minimal()
    lesion = data["timepoints"][0]["lesions"][0]
    lesion["viable_diameter_mm"] = 42.04999
    lesion["longest_diameter_mm"] = 55.25
    path = tmp_path / "a.json"
    save_assessment(assessment_from_dict(data), path)
    saved = json.loads(path.read_text())["timepoints"][0]["lesions"][0]
    assert saved["viable_diameter_mm"] == 42.0
    assert saved["longest_diameter_mm"] == 55.3


def test_every_problem_is_listed_with_file_and_json_path() -> None:
    data = minimal()
    tps = data["timepoints"]
    tps.append(copy.deepcopy(tps[1]))
    tps[2]["label"] = "fu2"
    tps[2]["date"] = "2026-04-01"
    tps[2]["lesions"][0]["state"] = "gone"  # unknown target state
    tps[1]["lesions"][0]["viable_diameter_mm"] = -3.0  # negative
    tps[1]["lesions"].append(copy.deepcopy(tps[1]["lesions"][1]))  # duplicate NT1
    lines = problems_of(data)
    assert (
        "case.json: $.timepoints[2].lesions[0].state: 'gone' is not a valid target state "
        "(measured, absent, too_small, not_evaluated)" in lines
    )
    assert any(
        line.startswith("case.json: $.timepoints[1].lesions[0].viable_diameter_mm: -3.0")
        for line in lines
    )
    assert any(
        line.startswith("case.json: $.timepoints[1].lesions[3].id: duplicate lesion id 'NT1'")
        for line in lines
    )
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (
            lambda d: d["timepoints"][1].update(date="2025-12-01"),
            "$.timepoints[1].date",
            "date order",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"].append(
                {
                    "id": "T9",
                    "category": "target",
                    "organ": "liver",
                    "kind": "longest",
                    "state": "measured",
                    "longest_diameter_mm": 12.0,
                }
            ),
            "$.timepoints[1].lesions[3].category",
            "does not appear at baseline",
        ),
        (
            lambda d: d["timepoints"][0]["lesions"].append(
                {"id": "N0", "category": "new", "organ": "liver", "state": "equivocal"}
            ),
            "$.timepoints[0].lesions[2].category",
            "'new' lesion at baseline",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][0].pop("viable_diameter_mm"),
            "$.timepoints[1].lesions[0]",
            "lacks 'viable_diameter_mm'",
        ),
        (
            lambda d: d["timepoints"][0]["lesions"][1].update(kind="longest"),
            "$.timepoints[0].lesions[1].kind",
            "only targets have one",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][0].update(viable_diameter_mm=float("nan")),
            "$.timepoints[1].lesions[0].viable_diameter_mm",
            "not a finite number",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][0].update(viable_diameter_mm=float("inf")),
            "$.timepoints[1].lesions[0].viable_diameter_mm",
            "not a finite number",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][1].update(state="measured"),
            "$.timepoints[1].lesions[1].state",
            "not a valid non-target state",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][2].update(state="present"),
            "$.timepoints[1].lesions[2].state",
            "not a valid new-lesion state",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][1].update(category="target", kind="longest"),
            "$.timepoints[1].lesions[1].category",
            "non_target at baseline",
        ),
        (
            lambda d: d["timepoints"][1]["lesions"][2].update(id="T1"),
            "$.timepoints[1].lesions[2].id",
            "duplicate lesion id",
        ),
        (
            lambda d: d["timepoints"][0]["lesions"][0].pop("kind"),
            "$.timepoints[0].lesions[0]",
            "without 'kind'",
        ),
        (lambda d: d.update(treatment_start="2026-02-30"), "$.treatment_start", "calendar date"),
        (lambda d: d.update(death_date="2025-01-01"), "$.death_date", "before treatment_start"),
        (lambda d: d.update(version=2), "$.version", "1 was expected"),
        (lambda d: d.pop("patient_id"), "$", "'patient_id' is a required property"),
        (
            lambda d: d["timepoints"][0]["lesions"][0].update(viable_diameter_mn=3.0),
            "$.timepoints[0].lesions[0]",
            "'viable_diameter_mn' was unexpected",
        ),
        (
            lambda d: d["timepoints"][0]["lesions"][0].update(kind="volume"),
            "$.timepoints[0].lesions[0].kind",
            "'volume' is not one of",
        ),
        (lambda d: d.update(timepoints=[]), "$.timepoints", "should be non-empty"),
        (
            lambda d: d["timepoints"][1].update(label="baseline"),
            "$.timepoints[1].label",
            "duplicate timepoint label 'baseline'",
        ),
    ],
)
def test_each_semantic_and_schema_problem_names_its_json_path(mutate, path, words) -> None:
    data = minimal()
    mutate(data)
    lines = problems_of(data)
    assert any(line.startswith(f"case.json: {path}: ") and words in line for line in lines), lines


def test_new_lesion_reusing_a_baseline_id_is_reported() -> None:
    data = minimal()
    data["timepoints"][1]["lesions"].pop(1)  # drop the NT1 follow-up
    data["timepoints"][1]["lesions"][1]["id"] = "NT1"
    lines = problems_of(data)
    assert any("reuses the id of a baseline non_target" in line for line in lines), lines


def test_load_reports_missing_file_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(AssessmentError, match="no such file"):
        load_assessment(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "lesion-tool.assessment",\n "version": 1,,}')
    with pytest.raises(AssessmentError, match=r"bad.json: line 2 column 15: not valid JSON"):
        load_assessment(bad)
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    with pytest.raises(AssessmentError, match=r"list.json: \$: \[1, 2\] is not of type 'object'"):
        load_assessment(not_object)


def test_save_refuses_an_invalid_assessment_and_writes_nothing(tmp_path: Path) -> None:
    bad = Assessment(
        "P",
        dt.date(2026, 1, 1),
        (
            Timepoint(
                "baseline",
                dt.date(2026, 1, 1),
                (Lesion("T1", Category.TARGET, LesionState.MEASURED, kind=Kind.LONGEST),),
            ),
        ),
    )
    with pytest.raises(AssessmentError, match="lacks 'longest_diameter_mm'"):
        save_assessment(bad, tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def _write_then_fail(data, handle, **kwargs):
    handle.write(json.dumps(data)[:40])  # half a document reaches the temporary file
    handle.flush()
    raise RuntimeError("disk pulled out mid-write")


def test_failing_save_keeps_the_previous_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "reading.json"
    first = assessment_from_dict(minimal())
    save_assessment(first, path)
    before = path.read_bytes()
    second = assessment_from_dict({**minimal(), "reader": "R2"})
    monkeypatch.setattr(assessment_json.json, "dump", _write_then_fail)
    with pytest.raises(RuntimeError, match="mid-write"):
        save_assessment(second, path)
    assert path.read_bytes() == before
    assert load_assessment(path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reading.json"]  # temp file removed


def test_failing_rename_keeps_the_previous_file_and_reports_it(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "reading.json"
    save_assessment(assessment_from_dict(minimal()), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(assessment_json.os, "replace", broken_replace)
    with pytest.raises(AssessmentError, match=r"reading.json: cannot save: .*No space left"):
        save_assessment(assessment_from_dict({**minimal(), "reader": "R2"}), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reading.json"]


def test_save_fsyncs_file_and_folder(tmp_path: Path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(assessment_json.os, "fsync", spy)
    save_assessment(assessment_from_dict(minimal()), tmp_path / "a.json")
    assert len(synced) == 2  # the temporary file, then the folder after the rename


def test_find_assessment_files_searches_folders_recursively(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").mkdir()
    (tmp_path / "a" / "one.json").write_text("{}")
    (tmp_path / "a" / "b" / "two.json").write_text("{}")
    (tmp_path / "a" / "notes.txt").write_text("x")
    (tmp_path / "a" / ".two.json.abc.tmp").write_text("x")
    (tmp_path / "a" / ".hidden").mkdir()
    (tmp_path / "a" / ".hidden" / "three.json").write_text("{}")
    single = tmp_path / "single.json"
    single.write_text("{}")
    found = find_assessment_files([tmp_path / "a", single, tmp_path / "a" / "one.json"])
    assert found == [tmp_path / "a" / "b" / "two.json", tmp_path / "a" / "one.json", single]
    assert find_assessment_files([tmp_path / "missing.json"]) == [tmp_path / "missing.json"]


def test_bundled_examples_load_and_round_trip(tmp_path: Path) -> None:
    files = find_assessment_files([EXAMPLES])
    assert 6 <= len(files) <= 10
    for path in files:
        a = load_assessment(path)
        save_assessment(a, tmp_path / path.name)
        assert load_assessment(tmp_path / path.name) == a
        assert json.loads((tmp_path / path.name).read_text()) == json.loads(path.read_text())


def test_non_finite_values_cannot_be_saved(tmp_path: Path) -> None:
    data = minimal()
    a = assessment_from_dict(data)
    lesion = a.timepoints[0].lesions[0]
    import dataclasses

    broken = dataclasses.replace(
        a,
        timepoints=(
            dataclasses.replace(
                a.timepoints[0],
                lesions=(dataclasses.replace(lesion, longest_diameter_mm=math.inf),),
            ),
        ),
    )
    with pytest.raises(AssessmentError, match="not a finite number"):
        save_assessment(broken, tmp_path / "x.json")


_diameters = st.none() | st.floats(0, 400, allow_nan=False, allow_infinity=False)


@st.composite
def _assessments(draw) -> Assessment:
    n_targets = draw(st.integers(0, 3))
    timepoints = []
    for index in range(draw(st.integers(1, 4))):
        lesions = []
        for k in range(n_targets):
            kind = draw(st.sampled_from(list(Kind)))
            state = (
                LesionState.MEASURED
                if index == 0
                else draw(
                    st.sampled_from(
                        [LesionState.MEASURED, LesionState.TOO_SMALL, LesionState.NOT_EVALUATED]
                    )
                )
            )
            value = draw(st.floats(0.05, 300, allow_nan=False))
            lesions.append(
                Lesion(
                    f"T{k}",
                    Category.TARGET,
                    state,
                    organ=draw(st.sampled_from(["liver", "lung", "lymph_node"])),
                    kind=kind,
                    viable_diameter_mm=value if kind is Kind.VIABLE else None,
                    longest_diameter_mm=(value + draw(st.floats(0, 50)))
                    if kind is not Kind.SHORT_AXIS
                    else None,
                    short_axis_mm=value if kind is Kind.SHORT_AXIS else draw(_diameters),
                    location=draw(st.none() | st.text(max_size=5)),
                    note=draw(st.none() | st.text(max_size=10)),
                    seed=draw(st.none() | st.tuples(*[st.floats(-1e3, 1e3)] * 3)),
                )
            )
        if index > 0 and draw(st.booleans()):
            lesions.append(
                Lesion(
                    "N1",
                    Category.NEW,
                    draw(st.sampled_from([LesionState.EQUIVOCAL, LesionState.UNEQUIVOCAL])),
                    longest_diameter_mm=draw(_diameters),
                    typical_hcc_pattern=draw(st.none() | st.booleans()),
                    cytology_confirmed=draw(st.booleans()),
                )
            )
        timepoints.append(
            Timepoint(
                f"tp{index}", dt.date(2026, 1, 1) + dt.timedelta(days=30 * index), tuple(lesions)
            )
        )
    return Assessment(
        draw(st.text(min_size=1, max_size=8)),
        dt.date(2026, 1, 1),
        tuple(timepoints),
        reader=draw(st.text(max_size=4)),
    )


def _rounded(a: Assessment) -> Assessment:
    import dataclasses

    def r(value):
        return None if value is None else round_diameter_mm(value)

    return dataclasses.replace(
        a,
        timepoints=tuple(
            dataclasses.replace(
                t,
                lesions=tuple(
                    dataclasses.replace(
                        lesion,
                        viable_diameter_mm=r(lesion.viable_diameter_mm),
                        longest_diameter_mm=r(lesion.longest_diameter_mm),
                        short_axis_mm=r(lesion.short_axis_mm),
                    )
                    for lesion in t.lesions
                ),
            )
            for t in a.timepoints
        ),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(assessment=_assessments())
def test_save_load_round_trip_property(tmp_path: Path, assessment: Assessment) -> None:
    path = tmp_path / "a.json"
    save_assessment(assessment, path)
    loaded = load_assessment(path)
    assert loaded == _rounded(assessment)
    save_assessment(loaded, path)  # idempotent: a second save changes nothing
    assert load_assessment(path) == loaded
