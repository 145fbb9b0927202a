"""A headers-only scan, and the re-scan of an unchanged folder (phase cache filled), import
neither pydicom nor scipy: their imports alone cost more CPU than reading 2,000 headers
(issue 17). The raw header reader's fixed tag table is pydicom's data dictionary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pydicom", "scipy", "SimpleITK", "skimage", "highdicom")


def _scan_imports(folder: Path, *options: str, cache: Path) -> tuple[set[str], dict]:
    """Heavy packages imported by ``lesion-tool scan --json FOLDER OPTIONS`` run afresh, and
    its JSON."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from lesion_tool.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['scan', '--json', {str(folder)!r}, *{list(options)!r}])\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print(json.dumps([code, heavy, json.loads(out.getvalue())]))\n"
    )
    env = {**os.environ, "LESION_TOOL_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    code, heavy, result = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0, done.stderr
    return set(heavy), result


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    from _dicom_factory import write_series

    root = tmp_path / "export"
    write_series(root / "s3", n=8, rows=64, cols=64, description="LATE ARTERIAL", series_number=3)
    write_series(root / "s4", n=8, rows=64, cols=64, description="PORTAL VENOUS", series_number=4)
    (root / "notes.txt").write_text("not DICOM\n")
    return root


def test_headers_only_scan_imports_no_pydicom_nor_scipy(export: Path, tmp_path: Path) -> None:
    heavy, result = _scan_imports(export, "--no-pixels", cache=tmp_path / "cache")
    assert heavy == set()
    series = result["patients"][0]["studies"][0]["series"]
    assert [(s["series_number"], s["slice_count"]) for s in series] == [(3, 8), (4, 8)]
    assert [Path(p["path"]).name for p in result["problems"]] == ["notes.txt"]


def test_rescan_with_filled_cache_reads_headers_only(export: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    heavy_first, first = _scan_imports(export, cache=cache)
    assert "scipy" in heavy_first  # the pixels were analysed once
    heavy_again, again = _scan_imports(export, cache=cache)
    assert heavy_again == set()
    assert again == first  # the same evidence, from the cache


def test_known_tags_are_pydicoms_dictionary() -> None:
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    from lesion_tool.io._rawheader import KNOWN_TAGS
    from lesion_tool.io.headers import _KEYWORDS

    assert set(_KEYWORDS) <= set(KNOWN_TAGS)
    for keyword, (tag, vr) in KNOWN_TAGS.items():
        assert (tag, vr) == (int(tag_for_keyword(keyword)), dictionary_VR(tag)), keyword
