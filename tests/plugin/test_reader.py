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
