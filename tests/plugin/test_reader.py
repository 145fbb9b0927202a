"""The reader contribution: claims DICOM, declines the rest, gives layers with true geometry."""

from __future__ import annotations

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


def test_reader_reads_arterial_pixels_only_and_other_phases_lazily(synthetic_patient, monkeypatch):
    import dask.array as da
    from lesion_napari._loading import LoadedSeries, iter_loaded_series

    calls = _counting_loader(monkeypatch)
    layers = read_dicom(str(synthetic_patient))
    headers = [kwargs["metadata"]["lesion_tool"] for _, kwargs, _ in layers]
    n_arterial = sum(h["measure_on"] for h in headers)
    assert n_arterial == 2 and len(calls) == n_arterial  # no other phase was read
    # arterial layers first (as numpy), one of them visible; the rest hidden and lazy
    assert [h["measure_on"] for h in headers] == [True] * n_arterial + [False] * (
        len(layers) - n_arterial
    )
    assert [kwargs["visible"] for _, kwargs, _ in layers[:n_arterial]].count(True) == 1
    for data, kwargs, _ in layers[n_arterial:]:
        assert isinstance(data, da.Array) and not kwargs["visible"]
    assert all(isinstance(data, np.ndarray) for data, _, _ in layers[:n_arterial])

    eager = {
        item.volume.series_instance_uid: item.layer_data()
        for item in iter_loaded_series([synthetic_patient])
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
        assert volume.sop_instance_uids == e_volume.sop_instance_uids
        assert data.shape == e_data.shape and data.dtype == e_data.dtype
        np.testing.assert_array_equal(np.asarray(data), e_data)  # computing reads the series
    assert len(calls) == len(layers) - n_arterial


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
    layers = viewer.open(str(synthetic_patient), plugin="lesion-tool")
    hidden = [layer for layer in layers if not layer.metadata["lesion_tool"]["measure_on"]]
    assert hidden and not any(layer.visible for layer in hidden)
    assert len(calls) == len(layers) - len(hidden)  # only the arterial series were read
    before = len(calls)
    hidden[0].visible = True
    assert len(calls) == before + 1
    assert hidden[0]._slice.image.raw.max() > 0  # the shown slice holds the series' pixels
