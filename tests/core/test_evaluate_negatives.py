"""``lesion-tool evaluate --negatives``: clicks where there is no tumour, on IRCADb patient 1.

The benchmark (``benchmarks/bench_stress.py --negatives 40``) places 40 seeded clicks in plain
liver (>= 10 mm from every tumour and vessel mask) and 10 in the portal and hepatic vein masks,
and counts each as refused, flagged or unflagged. The CLI places the same clicks (same function,
same seed) from the masks it is given. On the original image (portal venous) the bench gave, seed
0: liver 24 refused / 16 flagged / 0 unflagged, vessels 1 / 9 / 0 (README, "Stress").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lesion_tool.cli import main

CASE = "ircadb/3Dircadb1.1"
TUMOURS = [f"livertumor0{i}" for i in range(1, 8)]


def _args(case: Path) -> list[str]:
    masks = case / "MASKS_DICOM"
    out = ["evaluate", "--image", str(case / "PATIENT_DICOM"), "--clicks", "0"]
    for t in TUMOURS:
        out += ["--mask", str(masks / t)]
    out += ["--liver", str(masks / "liver"), "--phase", "portal-venous"]
    return [*out, "--vessel", str(masks / "portalvein"), "--vessel", str(masks / "venoussystem")]


def test_negative_clicks_are_counted_like_the_bench(
    shared_data: Path, ircadb_negative_points, capsys
) -> None:
    case = shared_data / CASE
    assert main([*_args(case), "--negatives", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    neg = out["negatives"]
    # The very clicks the bench places on the original image at seed 0.
    bench = ircadb_negative_points(0)  # negative_points on the expert masks, once per session
    assert [(c["where"], tuple(c["seed"])) for c in neg["clicks"]] == bench
    liv, ves = neg["counts"]["liver"], neg["counts"]["vessel"]
    assert (liv["clicks"], ves["clicks"]) == (40, 10)
    for c in (liv, ves, neg["counts"]["all"]):
        assert c["refused"] + c["flagged"] + c["unflagged"] == c["clicks"]
    # No lesion reported without a warning where there is none; most plain-liver clicks are
    # refused outright (the bench: 24 of 40, the rest flagged; vessels 1 refused, 9 flagged).
    assert liv["unflagged"] == 0, [c for c in neg["clicks"] if c["outcome"] == "unflagged"]
    assert ves["unflagged"] == 0, [c for c in neg["clicks"] if c["outcome"] == "unflagged"]
    assert liv["refused"] >= 20, liv
    for c in neg["clicks"]:
        assert (c["outcome"] == "refused") == bool(c["refused"])
        assert c["outcome"] != "flagged" or c["flags"]
    # The tumours are still evaluated beside them: 7 deepest points.
    assert out["overall"]["clicks"] == 7


def test_negative_lines_are_printed_with_the_table(shared_data: Path, capsys) -> None:
    case = shared_data / CASE
    args = [a for a in _args(case) if a != "--vessel"]
    args = args[: args.index(str(case / "MASKS_DICOM" / "portalvein"))]  # no vessel masks
    assert main([*args, "--negatives", "4"]) == 0
    text = capsys.readouterr().out
    [line] = [x for x in text.splitlines() if x.startswith("no tumour, plain liver:")]
    assert line.startswith("no tumour, plain liver: 4 clicks, refused ")
    assert "unflagged 0" in line
    assert "no tumour, vessels: no clicks (give the vessel masks with --vessel MASK)" in text
    assert "clicks where there is no tumour:" in text


def test_negatives_need_the_liver_mask(shared_data: Path, capsys) -> None:
    case = shared_data / CASE
    args = ["evaluate", "--image", str(case / "PATIENT_DICOM")]
    args += ["--mask", str(case / "MASKS_DICOM" / "livertumor03"), "--negatives", "5"]
    assert main(args) == 1
    assert "give the liver mask with --liver MASK" in capsys.readouterr().err


def test_help_explains_negatives(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--negatives N" in text
    assert "unflagged (a lesion reported where there is none)" in text
    assert "Default 0: off" in text
