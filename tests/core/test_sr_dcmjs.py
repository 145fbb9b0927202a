"""Our SRs as OHIF reads them: dcmjs (node, tests/js/read_sr.js) and its Cornerstone3D adapters.

A three-timepoint reading (baseline, week 8, week 16 with T1 at CR) is exported and read back by
the script: every measured target must come back as one Length per timepoint, labelled with its
lesion id (the group's Comment, DCM 121106), with the value the assessment holds, the CR target
included (0 mm, drawn where it was last measured). The SRs still pass dsrdump and dciodvfy.

Skipped only when node is not installed (``make test`` installs it and runs ``npm ci`` in
tests/js); when node is there but dcmjs is not, the test installs it with ``npm ci``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from test_sr_helpers import validate_sr, write_ct_series

from lesion_tool.model import Assessment, Lesion, Line, Timepoint
from lesion_tool.storage.sr import TRACKING_IDENTIFIER_LENGTH, export_sr
from lesion_tool.storage.sr_import import import_sr

JS = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed (make test installs nodejs and npm)"
)


@pytest.fixture(scope="module")
def dcmjs_ready() -> Path:
    """tests/js with dcmjs installed (``npm ci`` from the committed lock file when missing)."""
    if not (JS / "node_modules" / "dcmjs").is_dir():
        npm = shutil.which("npm")
        assert npm, "node is installed but npm is not; install npm to run the dcmjs test"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True
        )
    return JS


def _target(lesion_id: str, value: float, z: float, row: float, **extra: object) -> Lesion:
    return Lesion(
        id=lesion_id,
        category="target",
        state="measured",
        kind="longest",
        longest_diameter_mm=value,
        line=Line((z, row, 3.0), (z, row + 6.0, 12.0)),
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assessment, list[Path], dict]:
    """Export of a reading whose T1 is at CR at week 16: its SRs in timepoint order and the
    volumes by timepoint label."""
    from lesion_tool.io import load_series

    root = tmp_path_factory.mktemp("dcmjs-images")
    dates = {"baseline": "20260105", "week 8": "20260302", "week 16": "20260427"}
    volumes = {}
    for i, (label, date) in enumerate(dates.items()):
        write_ct_series(root / f"tp{i}", patient_id="DCMJS-1", study_date=date)
        volumes[label] = load_series(root / f"tp{i}")
    values = {
        "baseline": (30.0, 20.0, 11.0),
        "week 8": (14.5, 12.0, 8.0),
        "week 16": (None, 11.0, 0.0),
    }
    timepoints = []
    for label in dates:
        t1, t2, t3 = values[label]
        volume = volumes[label]
        t1_lesion = (
            _target("T1", t1, 2.0, 4.0, location="S8")
            if t1 is not None
            else Lesion(id="T1", category="target", state="absent", kind="longest", location="S8")
        )
        timepoints.append(
            Timepoint(
                label=label,
                date=dt.datetime.strptime(dates[label], "%Y%m%d").date(),
                study_instance_uid=volume.study_instance_uid,
                series_instance_uid=volume.series_instance_uid,
                lesions=(
                    t1_lesion,
                    _target("T2", t2, 4.0, 10.0),
                    # mRECIST: viable diameter summed; at week 16 no viable tumour is left (0 mm,
                    # no viable line) while the scar keeps its whole-lesion line
                    Lesion(
                        id="T3",
                        category="target",
                        state="measured",
                        kind="viable",
                        viable_diameter_mm=t3,
                        longest_diameter_mm=12.5,
                        line=Line((3.0, 2.0, 2.0), (3.0, 2.0, 2.0 + t3 / 0.7)) if t3 else None,
                        longest_line=Line(
                            (3.0, 2.0, 1.0), (3.0, 2.0, 1.0 + 12.5 / 0.7)
                        ),  # within 20 columns
                    ),
                    Lesion(id="NT1", category="non_target", state="present", organ="portal_vein"),
                ),
            )
        )
    assessment = Assessment(
        patient_id="DCMJS-1",
        treatment_start=dt.date(2026, 1, 6),
        reader="R1",
        timepoints=tuple(timepoints),
    )
    files = export_sr(assessment, root, tmp_path_factory.mktemp("dcmjs-sr"))
    return assessment, files, volumes


def _dcmjs(js: Path, files: list[Path]) -> dict:
    run = subprocess.run(
        [NODE, str(js / "read_sr.js"), *map(str, files)],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_dcmjs_sees_every_target_with_its_label_at_every_timepoint_cr_included(
    dcmjs_ready: Path, reading: tuple[Assessment, list[Path], dict]
) -> None:
    assessment, files, volumes = reading
    seen = _dcmjs(dcmjs_ready, files)
    print(json.dumps(seen, indent=1))  # what dcmjs sees, for the record (pytest -s)
    assert seen["dcmjs"] == "0.52.2"
    expected = {
        "baseline": {"T1": 30.0, "T2": 20.0, "T3": 11.0},
        "week 8": {"T1": 14.5, "T2": 12.0, "T3": 8.0},
        "week 16": {"T1": 0.0, "T2": 11.0, "T3": 0.0},  # T1 absent (CR), T3 no viable part
    }
    for timepoint, path, result in zip(assessment.timepoints, files, seen["files"], strict=True):
        assert result["loaded"], result["error"]  # the whole SR loads
        assert result["groups"] == 4 + 3  # four lesions, three presets' responses
        lengths = {m["label"]: m for m in result["lengths"]}
        assert len(lengths) == len(result["lengths"]) == 3  # one Length per target, no more
        assert {k: v["length"] for k, v in lengths.items()} == expected[timepoint.label]
        assert all(m["trackingIdentifier"] == TRACKING_IDENTIFIER_LENGTH for m in lengths.values())
        series = {str(ds.ReferencedSOPInstanceUID) for ds in _evidence(path)}
        assert {m["image"] for m in lengths.values()} <= series
        validate_sr(path)
    # T1's CR line is a zero-length line on the slice where it was last measured (slice 2)
    cr = next(m for m in seen["files"][2]["lengths"] if m["label"] == "T1")
    assert cr["points"][0] == cr["points"][1]
    assert list(volumes["week 16"].sop_instance_uids).index(cr["image"]) == 2
    # T3's 0 mm viable diameter is drawn as a point on its whole-lesion line's slice (3)
    viable = next(m for m in seen["files"][2]["lengths"] if m["label"] == "T3")
    assert viable["points"][0] == viable["points"][1]
    assert list(volumes["week 16"].sop_instance_uids).index(viable["image"]) == 3


def _evidence(path: Path) -> list[pydicom.Dataset]:
    ds = pydicom.dcmread(path)
    return list(
        ds.CurrentRequestedProcedureEvidenceSequence[0]
        .ReferencedSeriesSequence[0]
        .ReferencedSOPSequence
    )


def test_the_lesion_id_is_the_tracking_texts_stable_label(
    dcmjs_ready: Path, reading: tuple[Assessment, list[Path], dict]
) -> None:
    _, files, _ = reading
    seen = _dcmjs(dcmjs_ready, files)
    texts = {
        (m["label"], m["trackingIdentifier"]) for result in seen["files"] for m in result["lengths"]
    }
    assert texts == {(f"T{i}", TRACKING_IDENTIFIER_LENGTH) for i in (1, 2, 3)}


def test_the_cr_drawing_does_not_come_back_as_a_measurement(
    reading: tuple[Assessment, list[Path], dict],
) -> None:
    assessment, files, _ = reading
    result = import_sr(files)
    assert result.problems == []
    assert result.assessment is not None
    # the CR drawing (T1) and the 0 mm point (T3) are not read back as lines or values
    t1, _, t3, _ = result.assessment.timepoints[2].lesions
    assert t1 == assessment.timepoints[2].lesions[0]
    assert (t3.viable_diameter_mm, t3.line, t3.longest_diameter_mm) == (0.0, None, 12.5)
    assert t3.longest_line is not None
    # our own responses agree with the recomputed ones: no response warning
    assert not any("records" in w for w in result.warnings), result.warnings


@pytest.mark.realdata
def test_dcmjs_reads_hcc006_baseline_and_its_cr(
    dcmjs_ready: Path, shared_data: Path, tmp_path: Path
) -> None:
    """HCC_006's arterial phase: the readers' 32.8 mm viable nodule, then mRECIST CR (0 mm).

    Only the baseline series is at hand, so the CR timepoint is written on it too (the SR's
    timepoint context says "week 8"): what matters is that dcmjs sees T1 at both, labelled.
    """
    from lesion_tool.io import load_series
    from lesion_tool.storage.sr import build_timepoint_sr

    folder = next((shared_data / "hcc-tace-seg" / "HCC_006").glob("*/103.000000-*"))
    volume = load_series(folder)
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in volume.metadata["files"]]
    date = volume.study_date
    line = Line((50.0, 200.0, 300.0), (50.0, 230.0, 330.0))
    assessment = Assessment(
        patient_id="HCC_006",
        treatment_start=date,
        reader="R1",
        timepoints=tuple(
            Timepoint(
                label=label,
                date=date + dt.timedelta(days=days),
                series_instance_uid=volume.series_instance_uid,
                lesions=(lesion,),
            )
            for label, days, lesion in (
                (
                    "baseline",
                    0,
                    Lesion(
                        id="T1",
                        category="target",
                        state="measured",
                        kind="viable",
                        viable_diameter_mm=32.8,
                        longest_diameter_mm=32.8,
                        line=line,
                    ),
                ),
                ("week 8", 56, Lesion(id="T1", category="target", state="absent", kind="viable")),
            )
        ),
    )
    centre = volume.index_to_patient(((50.0, 215.0, 315.0),))[0]
    files = []
    for index in (0, 1):
        path = tmp_path / f"tp{index}.dcm"
        with pytest.warns(UserWarning):  # the images' name and study date, said by the tools
            document = build_timepoint_sr(
                assessment, index, images=headers, volume=volume, last_seen={"T1": centre}
            )
        document.save_as(path)
        validate_sr(path)
        files.append(path)
    seen = _dcmjs(dcmjs_ready, files)
    assert [r["loaded"] for r in seen["files"]] == [True, True]
    found = [[(m["label"], m["length"]) for m in r["lengths"]] for r in seen["files"]]
    assert found == [[("T1", 32.8)], [("T1", 0.0)]]
    cr = seen["files"][1]["lengths"][0]
    assert cr["image"] == volume.sop_instance_uids[50]
    assert cr["points"][0] == cr["points"][1] == [315.5, 215.5, 0]
