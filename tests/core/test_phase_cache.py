"""The phase cache: a re-scan of unchanged files reads headers only and gives the same result;
a changed file, a turned-off or broken cache computes the evidence again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lesion_tool.io import phase_cache, scan
from lesion_tool.io.scan import scan_folders

SAMPLE = Path(__file__).resolve().parents[2] / "test_images" / "synthetic" / "SYN-001"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """One timepoint of the committed sample (four phases), copied so mtimes can change."""
    import shutil

    source = next(p for p in sorted(SAMPLE.iterdir()) if p.is_dir())
    target = tmp_path / "study"
    shutil.copytree(source, target)
    return target


def _count_pixel_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    original = scan._sample_slices

    def counting(stack):
        reads.append(stack.series_instance_uid)
        return original(stack)

    monkeypatch.setattr(scan, "_sample_slices", counting)
    return reads


def test_rescan_reads_no_pixels_and_equals_the_first_scan(study: Path, monkeypatch) -> None:
    reads = _count_pixel_reads(monkeypatch)
    first = scan_folders(study).to_dict()
    # One per series whose headers do not decide: the non-contrast and the arterial series (the
    # portal venous and delayed ones have a description and a contrast timing that agree).
    assert len(reads) == 2
    entries = list(Path(os.environ[phase_cache.CACHE_ENV]).rglob("*.json"))
    assert len(entries) == 2
    second = scan_folders(study).to_dict()
    assert len(reads) == 2  # nothing read the second time
    assert json.dumps(second) == json.dumps(first)


def test_a_changed_file_recomputes_only_its_series(study: Path, monkeypatch) -> None:
    reads = _count_pixel_reads(monkeypatch)
    first = scan_folders(study).to_dict()
    some_file = next(p for p in sorted((study / "arterial").iterdir()) if p.is_file())
    st = some_file.stat()
    os.utime(some_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = scan_folders(study).to_dict()
    assert len(reads) == 3
    assert json.dumps(again) == json.dumps(first)


def test_turned_off_or_broken_cache_still_scans(study: Path, monkeypatch, tmp_path) -> None:
    reads = _count_pixel_reads(monkeypatch)
    reference = scan_folders(study).to_dict()
    for entry in Path(os.environ[phase_cache.CACHE_ENV]).rglob("*.json"):
        entry.write_text("{not json")
    assert scan_folders(study).to_dict() == reference
    assert len(reads) == 4  # broken entries: computed again
    monkeypatch.setenv(phase_cache.CACHE_ENV, "")
    assert phase_cache.cache_dir() is None
    assert scan_folders(study).to_dict() == reference
    assert len(reads) == 6
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv(phase_cache.CACHE_ENV, str(blocked))  # cannot create folders under it
    assert scan_folders(study).to_dict() == reference


def test_default_folder_is_the_user_cache_dir(monkeypatch) -> None:
    from platformdirs import user_cache_dir

    monkeypatch.delenv(phase_cache.CACHE_ENV)
    assert phase_cache.cache_dir() == Path(user_cache_dir("lesion-tool", appauthor=False)) / (
        "phase-v1"
    )
