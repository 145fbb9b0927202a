"""The fast paths of loading and re-scoring give what the plain paths give (issue 17).

The loader builds lesions by setting their slots directly (``_slot_constructor``) and
``rescore`` writes CSV-only runs from rows made as text where each file is scored; both must
be indistinguishable from the dataclass constructors and the model-based writers.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from lesion_tool.cli import main
from lesion_tool.model import Lesion
from lesion_tool.storage import load_assessment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"

RICH_LESION = {
    "id": "T9",
    "category": "target",
    "organ": "liver",
    "location": "S8",
    "kind": "viable",
    "type": None,
    "state": "measured",
    "viable_diameter_mm": 21,
    "longest_diameter_mm": 30.5,
    "short_axis_mm": None,
    "typical_hcc_pattern": None,
    "porta_hepatis": False,
    "cytology_confirmed": False,
    "line": {"start": [3, 10.5, 12], "end": [3, 20, 30], "space": "voxel"},
    "longest_line": {"start": [3, 1, 2], "end": [3, 4, 5]},
    "seed": [3, 15, 20],
    "note": "rim",
    "segmentation": {
        "space": "voxel",
        "z": 3,
        "contour": [[1, 2], [3.5, 4], [5, 6]],
        "prompt": {"seed": [3, 15, 20], "threshold_offset_hu": 5},
        "edited": True,
        "flags": ["low contrast"],
    },
}


def _lesions(path: Path) -> list[Lesion]:
    return [lesion for t in load_assessment(path).timepoints for lesion in t.lesions]


def test_loaded_lesions_equal_what_the_dataclass_builds(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "hcc-ex01-partial-response.json").read_text())
    data["timepoints"][0]["lesions"].append(RICH_LESION)
    rich = tmp_path / "rich.json"
    rich.write_text(json.dumps(data))
    lesions = [lesion for path in sorted(EXAMPLES.glob("*.json")) for lesion in _lesions(path)]
    lesions += _lesions(rich)
    assert len(lesions) > 40
    for lesion in lesions:
        # replace() runs __init__ and __post_init__ on the same values: nothing may change
        rebuilt = dataclasses.replace(lesion)
        assert rebuilt == lesion
        for field in dataclasses.fields(Lesion):
            value, expected = getattr(lesion, field.name), getattr(rebuilt, field.name)
            assert type(value) is type(expected), (lesion.id, field.name)
    loaded = load_assessment(rich).timepoints[0].lesions[-1]
    assert loaded.seed == (3.0, 15.0, 20.0)
    assert all(type(v) is float for v in loaded.seed)
    assert loaded.viable_diameter_mm == 21.0
    assert type(loaded.viable_diameter_mm) is float
    assert loaded.line is not None
    assert loaded.line.start == (3.0, 10.5, 12.0)
    assert loaded.segmentation is not None
    assert loaded.segmentation.flags == ("low contrast",)


def test_loaded_timepoints_and_assessments_equal_what_the_dataclass_builds() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        assessment = load_assessment(path)
        for record in (assessment, *assessment.timepoints):
            rebuilt = dataclasses.replace(record)
            assert rebuilt == record
            for field in dataclasses.fields(record):  # compare=False fields too, all set
                value, expected = getattr(record, field.name), getattr(rebuilt, field.name)
                assert value == expected and type(value) is type(expected), field.name


def test_scored_results_equal_what_the_dataclass_builds() -> None:
    """Scoring builds its result rows with slot constructors: every field set, same objects."""
    from lesion_tool.response import PRESETS, score_assessment, settings_for

    checked = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        assessment = load_assessment(path)
        for preset in PRESETS:
            result = score_assessment(assessment, settings_for(preset))
            for record in (result, *result.timepoints):
                rebuilt = dataclasses.replace(record)  # the dataclass __init__ on every field
                assert rebuilt == record
                assert hash(rebuilt) == hash(record)
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("criteria", ["mrecist,mrecist-1.1,recist-1.1", "recist-1.1,mrecist"])
def test_csv_only_rescore_writes_the_bytes_of_the_model_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], criteria: str
) -> None:
    # Adds an adjudicator's reading of one patient (two files sort into one patient) and a
    # formula-like patient id (quoted by the writers).
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("*.md"))
    data = json.loads((EXAMPLES / "hcc-ex03-progression-by-sum.json").read_text())
    data["reader_role"] = "adjudicator"
    (folder / "adjudicator.json").write_text(json.dumps(data))
    data = json.loads((EXAMPLES / "hcc-ex01-partial-response.json").read_text())
    data["patient_id"] = '=1+2,"x"'
    (folder / "formula.json").write_text(json.dumps(data))

    def run(out: Path, *extra: str) -> tuple[int, str]:
        out.mkdir()
        code = main(
            [
                "rescore", str(folder), "--criteria", criteria,
                "--timepoints-csv", str(out / "tp.csv"),
                "--patients-csv", str(out / "pt.csv"),
                "--findings-csv", str(out / "fd.csv"),
                *extra,
            ]
        )  # fmt: skip
        return code, capsys.readouterr().err

    text_code, text_err = run(tmp_path / "text")  # rows made as text
    model_code, model_err = run(tmp_path / "model", "--summary")  # --summary keeps the models
    assert text_code == model_code
    assert text_err == model_err
    for name in ("tp.csv", "pt.csv", "fd.csv"):
        text = (tmp_path / "text" / name).read_bytes()
        assert text == (tmp_path / "model" / name).read_bytes(), name
    rows = (tmp_path / "text" / "pt.csv").read_text().splitlines()
    assert len(rows) == 1 + 10 * len(criteria.split(","))
    assert any(row.startswith('"\'=1+2,""x"""') for row in rows)
