"""The reader contribution: claims DICOM, declines the rest, gives layers with true geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lesion_napari._reader import get_reader, read_dicom

HCC_006_AP = (
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
)


def test_claims_a_dicom_folder_and_a_dicom_file(synthetic_patient):
    assert get_reader(str(synthetic_patient)) is read_dicom
    assert get_reader([str(synthetic_patient)]) is read_dicom
    one_file = next((synthetic_patient / "baseline" / "arterial").iterdir())
    assert get_reader(str(one_file)) is read_dicom


@pytest.mark.parametrize("name", ["notes.txt", "image.png", "missing-folder", "empty-folder"])
def test_declines_other_paths_without_raising(tmp_path, name):
    path = tmp_path / name
    if name == "empty-folder":
        path.mkdir()
    elif name != "missing-folder":
        path.write_bytes(b"\x89PNG\r\n" + bytes(300))
    assert get_reader(str(path)) is None
    assert get_reader([]) is None
    assert get_reader(None) is None  # a malformed call is declined, not an error


def test_reader_layers_arterial_visible_others_hidden(synthetic_patient):
    layers = read_dicom(str(synthetic_patient))
    kinds = {kind for _, _, kind in layers}
    assert kinds == {"image"}
    headers = [kwargs["metadata"]["lesion_tool"] for _, kwargs, _ in layers]
    arterial = [h for h in headers if h["measure_on"]]
    assert sorted(h["timepoint"] for h in arterial) == ["baseline", "fu1"]
    assert all(h["phase"] == "arterial" for h in arterial)
    visible = [kwargs["name"] for _, kwargs, _ in layers if kwargs["visible"]]
    assert len(visible) == 1 and "fu1" in visible[0]  # the latest study is shown first
    hidden = [h for h in headers if not h["measure_on"]]
    assert {h["phase"] for h in hidden} == {"portal_venous"}


@pytest.mark.realdata
def test_real_hcc_006_arterial_series_opens_with_the_right_scale(shared_data):
    folder = shared_data / HCC_006_AP
    files = sorted(folder.iterdir())
    assert len(files) == 109
    assert get_reader(str(folder)) is read_dicom
    [(data, kwargs, kind)] = read_dicom(str(folder))
    assert kind == "image"
    assert data.shape == (109, 512, 512)
    assert kwargs["scale"] == pytest.approx((2.5, 0.78125, 0.78125))
    header = kwargs["metadata"]["lesion_tool"]
    assert header["study_date"] == "1999-08-06"
    assert "LIVER 3 PHASE (AP)" in kwargs["name"]
    assert header["phase"] == "arterial"
    # radiological view: anterior at the top, the patient's right on the screen's left
    volume = kwargs["metadata"]["lesion_tool_volume"]
    world = np.array(kwargs["translate"])
    lps_first = volume.index_to_patient(np.zeros(3))
    assert world[1] == pytest.approx(lps_first[1])  # rows run towards posterior
    assert world[2] == pytest.approx(lps_first[0])  # columns run towards patient left


def _counting_loader(monkeypatch):
    """Count the core pixel loads made through the plugin's loading module."""
    import lesion_napari._loading as loading

    calls: list[int] = []
    real = loading.load_series

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "load_series", counted)
    return calls


def _counting_frames(monkeypatch):
    """Count the per-slice reads (the core's read_frame) made by the plugin's lazy volumes."""
    import lesion_napari._loading as loading

    calls: list[str] = []
    real = loading.read_frame

    def counted(ref, *args, **kwargs):
        calls.append(str(ref.header.path))
        return real(ref, *args, **kwargs)

    monkeypatch.setattr(loading, "read_frame", counted)
    return calls


def _assert_reader_equals_eager(folder, monkeypatch):
    """The reader reads no pixel; each layer equals the eager load (values, dtype, geometry)."""
    import dask.array as da
    from lesion_napari._loading import LoadedSeries, iter_loaded_series

    calls = _counting_loader(monkeypatch)
    frames = _counting_frames(monkeypatch)
    layers = read_dicom(str(folder))
    assert calls == [] and frames == []  # the reader returned after the header scan
    headers = [kwargs["metadata"]["lesion_tool"] for _, kwargs, _ in layers]
    n_arterial = sum(h["measure_on"] for h in headers)
    assert n_arterial >= 1
    # arterial layers first, one of them visible; every layer lazy; the rest hidden
    assert [h["measure_on"] for h in headers] == [True] * n_arterial + [False] * (
        len(layers) - n_arterial
    )
    assert [kwargs["visible"] for _, kwargs, _ in layers[:n_arterial]].count(True) == 1
    assert all(isinstance(data, da.Array) for data, _, _ in layers)
    assert not any(kwargs["visible"] for _, kwargs, _ in layers[n_arterial:])
    for _, kwargs, _ in layers[:n_arterial]:
        array = kwargs["metadata"]["lesion_tool_volume"].array
        assert array.chunks[0] == (1,) * array.shape[0]  # one chunk = one 2-D slice
        assert array.chunks[1:] == ((array.shape[1],), (array.shape[2],))

    eager = {
        item.volume.series_instance_uid: item.layer_data()
        for item in iter_loaded_series([folder])
        if isinstance(item, LoadedSeries)
    }
    calls.clear()
    for data, kwargs, kind in layers:
        header = kwargs["metadata"]["lesion_tool"]
        e_data, e_kwargs, e_kind = eager[header["series_instance_uid"]]
        assert kind == e_kind and kwargs["name"] == e_kwargs["name"]
        assert kwargs["scale"] == e_kwargs["scale"]
        assert kwargs["translate"] == e_kwargs["translate"]
        assert kwargs["contrast_limits"] == e_kwargs["contrast_limits"]
        assert header == e_kwargs["metadata"]["lesion_tool"]
        volume = kwargs["metadata"]["lesion_tool_volume"]
        e_volume = e_kwargs["metadata"]["lesion_tool_volume"]
        np.testing.assert_array_equal(volume.direction, e_volume.direction)
        assert volume.spacing_mm == e_volume.spacing_mm
        assert volume.origin_mm == e_volume.origin_mm
        assert volume.sop_instance_uids == e_volume.sop_instance_uids
        assert data.shape == e_data.shape and data.dtype == e_data.dtype
        computed = np.asarray(data)
        assert computed.dtype == e_data.dtype
        np.testing.assert_array_equal(computed, e_data)  # computing reads the series
    assert len(calls) == len(layers) - n_arterial  # hidden phases: one load each
    n_slices = sum(
        kw["metadata"]["lesion_tool_volume"].shape[0] for _, kw, _ in layers[:n_arterial]
    )
    assert len(frames) == n_slices  # each arterial slice was read once, from its own file


def test_reader_reads_no_pixels_and_every_layer_equals_the_eager_load(
    synthetic_patient, monkeypatch
):
    """Uncompressed (explicit VR little endian) series made by the generator."""
    _assert_reader_equals_eager(synthetic_patient, monkeypatch)


def test_reader_on_the_jpeg_ls_sample_equals_the_eager_load(monkeypatch):
    sample = Path(__file__).resolve().parents[2] / "test_images" / "synthetic" / "SYN-001"
    import pydicom

    one = next((sample / "baseline" / "arterial").iterdir())
    assert pydicom.dcmread(one, stop_before_pixels=True).file_meta.TransferSyntaxUID.is_compressed
    _assert_reader_equals_eager(sample / "baseline", monkeypatch)


def test_reading_one_slice_reads_only_that_slice_file(synthetic_patient, monkeypatch):
    frames = _counting_frames(monkeypatch)
    layers = read_dicom(str(synthetic_patient))
    data, kwargs, _ = next(layer for layer in layers if layer[1]["visible"])
    volume = kwargs["metadata"]["lesion_tool_volume"]
    k = volume.shape[0] // 2
    plane = np.asarray(volume.array[k])
    assert frames == [volume.metadata["files"][k]]
    assert plane.shape == volume.shape[1:] and plane.max() > 0
    frames.clear()
    np.asarray(data[3])  # one displayed slice (display axis 0 runs along z)
    assert len(frames) == 1


def test_a_slice_beyond_int16_is_a_clear_error_not_wrapped_values(synthetic_patient, tmp_path):
    """load_series would give float32 there; the lazy int16 array refuses the slice instead."""
    import shutil

    import pydicom

    from lesion_tool.errors import SeriesError

    copy = tmp_path / "patient"
    shutil.copytree(synthetic_patient / "baseline" / "arterial", copy)
    files = sorted(copy.iterdir())
    ds = pydicom.dcmread(files[0])
    ds.BitsStored, ds.HighBit = 16, 15
    pixels = ds.pixel_array.copy()
    pixels[0, 0] = 60000  # 58976 HU: beyond int16
    ds.PixelData = pixels.tobytes()
    ds.save_as(files[0])
    [(_, kwargs, _)] = read_dicom(str(copy))
    volume = kwargs["metadata"]["lesion_tool_volume"]
    k = volume.metadata["files"].index(str(files[0]))
    np.asarray(volume.array[k + 1 if k == 0 else k - 1])  # the other slices read as usual
    with pytest.raises(SeriesError, match="beyond the int16 range"):
        np.asarray(volume.array[k])


def test_a_series_that_cannot_be_read_lazily_is_a_warning_not_a_layer(
    synthetic_patient, tmp_path, monkeypatch
):
    """A broken hidden series is reported at open time, like the eager path, not on display."""
    import shutil

    import lesion_napari._reader as reader

    copy = tmp_path / "patient"
    shutil.copytree(synthetic_patient / "baseline", copy / "baseline")
    venous = sorted((copy / "baseline" / "portal_venous").iterdir())
    venous[len(venous) // 2].unlink()  # a gap: the core refuses the series
    shown: list[str] = []
    monkeypatch.setattr(reader, "show_warning", shown.append)
    layers = reader.read_dicom(str(copy))
    phases = [kwargs["metadata"]["lesion_tool"]["phase"] for _, kwargs, _ in layers]
    assert phases == ["arterial"]
    assert any("slice(s) missing" in text for text in shown), shown


@pytest.mark.gui
def test_hidden_phases_are_not_read_until_shown(viewer, synthetic_patient, monkeypatch):
    calls = _counting_loader(monkeypatch)
    frames = _counting_frames(monkeypatch)
    layers = viewer.open(str(synthetic_patient), plugin="lesion-tool")
    hidden = [layer for layer in layers if not layer.metadata["lesion_tool"]["measure_on"]]
    assert hidden and not any(layer.visible for layer in hidden)
    assert calls == []  # no whole series was read
    shown = next(layer for layer in layers if layer.visible)
    volume = shown.metadata["lesion_tool_volume"]
    assert 1 <= len(frames) < volume.shape[0]  # only the displayed slice(s) of the visible layer
    assert set(frames) <= set(volume.metadata["files"])
    assert shown._slice.image.raw.max() > 0
    hidden[0].visible = True
    assert len(calls) == 1
    assert hidden[0]._slice.image.raw.max() > 0  # the shown slice holds the series' pixels


def _truth_line(patient, label, lesion_id):
    import json

    data = json.loads((patient / "truth.json").read_text())
    [tp] = [tp for tp in data["timepoints"] if tp["label"] == label]
    [lesion] = [les for les in tp["lesions"] if les["id"] == lesion_id]
    return lesion


@pytest.mark.gui
def test_measuring_on_layers_opened_by_the_reader(viewer, synthetic_patient, qtbot, monkeypatch):
    """A line and a click measurement on lazy (per-slice) arterial layers from File > Open."""
    from lesion_napari._layers import is_lazy
    from lesion_napari._widget import LesionWidget

    frames = _counting_frames(monkeypatch)
    widget = LesionWidget(viewer)
    widget.controller.set_reader("R1")
    viewer.open(str(synthetic_patient), plugin="lesion-tool")
    qtbot.waitUntil(
        lambda: "baseline" in widget.controller.views and "fu1" in widget.controller.views,
        timeout=10_000,
    )
    widget.controller.set_timepoint("baseline")
    view = widget.controller.views["baseline"]
    qtbot.waitUntil(lambda: view.lines is not None, timeout=10_000)
    assert is_lazy(view.volume)

    # a line: measured from the geometry, no pixel needed
    t1 = _truth_line(synthetic_patient, "baseline", "T1")
    widget.lesions.new_target_button.click()
    read_before = len(frames)
    voxels = np.array([t1["viable_line"]["start"], t1["viable_line"]["end"]], dtype=float)
    view.lines.add(view.geometry.voxel_to_display(voxels), shape_type="line")
    lesion = widget.controller.session.timepoint("baseline").lesion("T1")
    assert lesion.viable_diameter_mm == pytest.approx(t1["viable_diameter_mm"], abs=0.5)
    assert is_lazy(view.volume)

    # a click: the worker reads the series once and the view keeps it in memory
    t2 = _truth_line(synthetic_patient, "baseline", "T2")
    widget.lesions.new_target_button.click()
    seed = view.geometry.voxel_to_world(np.asarray(t2["seed_voxel"], float))
    widget.controller.measure_at(seed)
    qtbot.waitUntil(lambda: widget.controller.proposal is not None, timeout=30_000)
    # the core's real-CT method: within the accuracy target max(3 mm, 10 %) of the truth
    assert widget.controller.proposal.viable_mm == pytest.approx(t2["viable_diameter_mm"], abs=3.0)
    assert not is_lazy(view.volume)
    n_slices = view.volume.shape[0]
    assert len(frames) - read_before <= n_slices + 1  # one whole read (plus a redraw at most)
    widget.controller.accept_proposal()
    t2_saved = widget.controller.session.timepoint("baseline").lesion("T2")
    assert t2_saved.viable_diameter_mm == pytest.approx(t2["viable_diameter_mm"], abs=3.0)
    assert t2_saved.segmentation is not None and len(t2_saved.segmentation.contour) >= 4
    # a second click reads nothing more
    read_after = len(frames)
    widget.lesions.new_target_button.click()
    widget.controller.measure_at(seed, background=False)
    assert widget.controller.proposal is not None and len(frames) == read_after


@pytest.mark.parametrize("lazy", [True, False])
def test_a_stray_reformat_in_the_arterial_series_is_named_not_shown(
    synthetic_patient, tmp_path, monkeypatch, lazy
):
    """A coronal image inside the arterial series: the axial stack opens, the stray is named."""
    import shutil

    import lesion_napari._reader as reader
    import pydicom
    from lesion_napari._loading import LoadedSeries, LoadProblem, iter_loaded_series
    from pydicom.uid import generate_uid

    copy = tmp_path / "patient"
    shutil.copytree(synthetic_patient / "baseline", copy / "baseline")
    arterial = sorted((copy / "baseline" / "arterial").iterdir())
    ds = pydicom.dcmread(arterial[len(arterial) // 2])
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    ds.save_as(copy / "baseline" / "arterial" / "coronal.dcm", enforce_file_format=True)
    if lazy:
        shown: list[str] = []
        monkeypatch.setattr(reader, "show_warning", shown.append)
        layers = reader.read_dicom(str(copy))
        metas = [kwargs["metadata"]["lesion_tool"] for _, kwargs, _ in layers]
        shapes = [data.shape for data, _, _ in layers]
    else:
        items = list(iter_loaded_series([copy]))
        shown = [i.message for i in items if isinstance(i, LoadProblem)]
        loaded = [i for i in items if isinstance(i, LoadedSeries)]
        metas = [{"phase": i.phase} for i in loaded]
        shapes = [i.volume.shape for i in loaded]
    assert sorted(m["phase"] for m in metas) == ["arterial", "portal_venous"]
    assert shapes[0] == (len(arterial), *shapes[0][1:])
    [message] = [text for text in shown if "coronal.dcm" in text]
    assert "stray coronal stack of 1 image(s)" in message


def test_two_patients_in_one_folder_are_refused_not_merged(synthetic_patient, tmp_path):
    """Issue 12: one patient's baseline used to become the other's "fu3" in a merged timeline."""
    import shutil

    import pydicom
    from lesion_napari._loading import LoadedSeries, iter_loaded_series
    from pydicom.uid import generate_uid

    from lesion_tool.errors import SeriesError

    shutil.copytree(synthetic_patient / "baseline", tmp_path / "a" / "baseline")
    other = tmp_path / "b" / "baseline"
    shutil.copytree(synthetic_patient / "baseline", other)
    for path in other.rglob("*"):
        if path.is_file() and path.suffix not in (".json", ".md"):
            try:
                ds = pydicom.dcmread(path)
            except pydicom.errors.InvalidDicomError:
                continue
            ds.PatientID = "OTHER-PATIENT"
            for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                setattr(ds, keyword, generate_uid(entropy_srcs=[str(getattr(ds, keyword))]))
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.save_as(path)
    with pytest.raises(SeriesError, match=r"2 patients .*open one patient's folder"):
        list(iter_loaded_series([tmp_path]))
    one = [i for i in iter_loaded_series([tmp_path / "a"]) if isinstance(i, LoadedSeries)]
    assert [i.label for i in one if i.measure_on] == ["baseline"]


def test_a_study_without_a_date_opens(synthetic_patient, tmp_path):
    """Issue 12: the reader compared a date with 0 and raised TypeError."""
    import shutil

    import pydicom

    copy = tmp_path / "patient"
    shutil.copytree(synthetic_patient, copy)
    for path in (copy / "baseline").rglob("*"):
        if path.is_file() and path.suffix not in (".json", ".md"):
            try:
                ds = pydicom.dcmread(path)
            except pydicom.errors.InvalidDicomError:
                continue
            del ds.StudyDate
            ds.save_as(path)
    layers = read_dicom(str(copy))
    assert sum(1 for _data, kwargs, _kind in layers if kwargs.get("visible", True)) == 1
