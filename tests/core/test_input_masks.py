"""Issue 12: mask files are refused when they cannot be the image's voxels, never mismeasured.

Before: a half-truncated ``.nii.gz`` measured 9.55 mL instead of 16.60 mL with exit 0, a
transposed ``.npy`` reported "slice 33" of a 32-slice image, a ``.npy`` with fewer slices was
accepted, a label 2**31 - 1 raised MemoryError and aborted the folder, a malformed ``.npy`` gave
a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import write_series

from lesion_tool.cli import main
from lesion_tool.errors import LesionToolError
from lesion_tool.measurement import load_mask, measure_mask
from lesion_tool.measurement.diameter import Geometry

SLICES, ROWS, COLS = 32, 24, 20


@pytest.fixture
def image(tmp_path: Path) -> Path:
    folder = tmp_path / "image"
    write_series(folder, n=SLICES, rows=ROWS, cols=COLS)
    return folder


def _labels() -> np.ndarray:
    labels = np.zeros((SLICES, ROWS, COLS), dtype=np.uint8)
    labels[8:20, 6:18, 5:15] = 1
    return labels


def _measure(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["measure", "--json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_truncated_nifti_gz_is_refused_and_the_good_one_still_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import SimpleITK as sitk

    masks = tmp_path / "masks"
    masks.mkdir()
    img = sitk.GetImageFromArray(_labels())
    img.SetSpacing((0.8, 0.7, 2.5))
    sitk.WriteImage(img, str(masks / "good.nii.gz"))
    data = (masks / "good.nii.gz").read_bytes()
    (masks / "half.nii.gz").write_bytes(data[: len(data) // 2])
    sitk.WriteImage(img, str(masks / "plain.nii"))
    plain = (masks / "plain.nii").read_bytes()
    (masks / "plain.nii").write_bytes(plain[: len(plain) - 500])
    code, out = _measure(capsys, "--mask", str(masks))
    assert code == 1
    assert [m["file"] for m in out["measured"]] == [str(masks / "good.nii.gz")]
    reasons = {Path(p["file"]).name: p["reason"] for p in out["problems"]}
    assert set(reasons) == {"half.nii.gz", "plain.nii"}
    assert "cut short" in reasons["half.nii.gz"] and "cut short" in reasons["plain.nii"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda a: np.ascontiguousarray(a.transpose(2, 1, 0)), id="transposed"),
        pytest.param(lambda a: a[:-4], id="fewer slices"),
        pytest.param(lambda a: a[:, :-1], id="fewer rows"),
    ],
)
def test_npy_of_another_shape_than_the_image_is_refused(
    tmp_path: Path, image: Path, bad: object, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "m.npy", bad(_labels()))  # type: ignore[operator]
    code, out = _measure(capsys, "--mask", str(tmp_path / "m.npy"), "--image", str(image))
    assert code == 1 and out["measured"] == []
    assert "not the image's (z, y, x) shape (32, 24, 20)" in out["problems"][0]["reason"]


def test_npy_of_the_image_shape_is_measured(
    tmp_path: Path, image: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "m.npy", _labels())
    code, out = _measure(capsys, "--mask", str(tmp_path / "m.npy"), "--image", str(image))
    assert code == 0
    [label] = out["measured"][0]["labels"]
    assert 8 <= label["slice_index"] < 20


def test_huge_label_is_one_clear_failure_and_the_folder_continues(
    tmp_path: Path, image: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    huge = _labels().astype(np.int32) * 2_147_483_647
    np.save(masks / "a_huge.npy", huge)
    np.save(masks / "b_good.npy", _labels())
    code, out = _measure(capsys, "--mask", str(masks), "--image", str(image))
    assert code == 1
    assert [Path(m["file"]).name for m in out["measured"]] == ["b_good.npy"]
    assert "label 2147483647, above 65535" in out["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (MemoryError(), "not enough memory to load or measure this mask"),
        (
            RuntimeError("Exception thrown in SimpleITK ImageFileReader_Execute:\nITK ERROR: x"),
            "cannot be measured (RuntimeError: Exception thrown in SimpleITK",
        ),
        (OSError(5, "Input/output error"), "cannot be measured (OSError: [Errno 5] Input/output"),
    ],
    ids=["memory", "simpleitk", "io"],
)
def test_an_unexpected_failure_on_one_mask_never_stops_the_folder(
    tmp_path: Path,
    image: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    reason: str,
) -> None:
    import lesion_tool.measurement as measurement

    masks = tmp_path / "masks"
    masks.mkdir()
    for name in ("a.npy", "b_bad.npy", "c.npy"):
        np.save(masks / name, _labels())
    real = measurement.load_mask

    def load_mask(path, image=None):  # type: ignore[no-untyped-def]
        if Path(path).name == "b_bad.npy":
            raise failure
        return real(path, image)

    monkeypatch.setattr(measurement, "load_mask", load_mask)
    code = main(["measure", "--json", "--mask", str(masks), "--image", str(image)])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 1
    assert [Path(m["file"]).name for m in out["measured"]] == ["a.npy", "c.npy"]
    [problem] = out["problems"]
    assert Path(problem["file"]).name == "b_bad.npy"
    assert problem["reason"].startswith(reason), problem["reason"]
    assert captured.err.startswith(f"lesion-tool: error: {masks / 'b_bad.npy'}: ")


@pytest.mark.parametrize(
    "content", [b"", b"\x93NUMPY\x01\x00garbage", b"not numpy at all", b"\x93NUMPY\x01\x00"]
)
def test_malformed_npy_is_a_lesion_tool_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "m.npy").write_bytes(content)
    with pytest.raises(LesionToolError, match=r"m\.npy"):
        load_mask(tmp_path / "m.npy", Geometry((2.5, 0.7, 0.8)))


def test_truncated_npy_is_a_lesion_tool_error(tmp_path: Path) -> None:
    np.save(tmp_path / "m.npy", _labels())
    data = (tmp_path / "m.npy").read_bytes()
    (tmp_path / "m.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(LesionToolError, match=r"not a readable \.npy"):
        load_mask(tmp_path / "m.npy", Geometry((2.5, 0.7, 0.8)))


def test_complete_nifti_measures_as_before(tmp_path: Path) -> None:
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(_labels())
    img.SetSpacing((0.8, 0.7, 2.5))
    sitk.WriteImage(img, str(tmp_path / "m.nii.gz"))
    [result] = measure_mask(load_mask(tmp_path / "m.nii.gz"))
    assert result.volume_ml == pytest.approx(12 * 12 * 10 * 0.8 * 0.7 * 2.5 / 1000, rel=1e-6)
