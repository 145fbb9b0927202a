"""Issue 12: ``synth`` on a full disk leaves no truncated file behind.

The disk filling up is simulated with RLIMIT_FSIZE in a child process: a write past the limit
fails with EFBIG after writing what fits, exactly as ENOSPC does. Before, the slice being written
stayed on disk cut short (a DICOM file whose pixel data ends early).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 6000  # bytes: the JSON files fit, a 48 x 48 slice (4.6 kB of pixels + header) does not

CHILD = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
from lesion_tool.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="RLIMIT_FSIZE")
def test_synth_on_a_full_disk_leaves_only_complete_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    run = subprocess.run(
        [sys.executable, "-c", CHILD, "synth", str(out), "--size", "52x48x6", "--timepoints", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "lesion-tool: error:" in run.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".")], "temporary files left behind"
    for path in files:
        if path.suffix == ".json":
            continue
        ds = pydicom.dcmread(path)  # every DICOM file left is whole: its pixels decode
        assert ds.pixel_array.shape == (48, 52), path


SMALL = ["--size", "64x56x8", "--timepoints", "1", "--phases", "arterial", "--lesions", "1"]


def _fail_like_simpleitk(image: object, path: str, *args: object, **kwargs: object) -> None:
    raise RuntimeError(
        "Exception thrown in SimpleITK ImageFileWriter_Execute: /tmp/SimpleITK/Code/IO/src/"
        "sitkImageFileWriter.cxx:191:\nITK ERROR: NiftiImageIO(0x55d0): Could not write "
        f"{path}: No space left on device"
    )


def test_synth_masks_on_a_full_disk_is_a_clear_error_naming_the_mask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import SimpleITK as sitk

    from lesion_tool.cli import main

    monkeypatch.setattr(sitk, "WriteImage", _fail_like_simpleitk)
    assert main(["synth", str(tmp_path), *SMALL, "--masks"]) == 1
    err = capsys.readouterr().err
    mask = tmp_path / "SYN-001" / "masks" / "baseline_lesions.nii.gz"
    assert err.startswith(f"lesion-tool: error: {mask}: cannot write the truth mask (")
    assert "No space left on device" in err and "sitkImageFileWriter" not in err
    assert not list((tmp_path / "SYN-001" / "masks").iterdir())  # no temporary file left


def test_synth_masks_cut_short_silently_by_the_writer_are_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # SimpleITK's NIfTI writer returns without an error when the disk fills up mid-file (seen
    # with RLIMIT_FSIZE): the file it leaves is cut short.
    import SimpleITK as sitk

    from lesion_tool.cli import main

    real = sitk.WriteImage

    def cut_short(image: object, path: str, *args: object, **kwargs: object) -> None:
        real(image, path, *args, **kwargs)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])

    monkeypatch.setattr(sitk, "WriteImage", cut_short)
    assert main(["synth", str(tmp_path), *SMALL, "--masks"]) == 1
    err = capsys.readouterr().err
    assert "baseline_lesions.nii.gz: the truth mask was not written completely" in err
    assert not list((tmp_path / "SYN-001" / "masks").iterdir())
