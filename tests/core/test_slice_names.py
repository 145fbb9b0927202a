"""A slice is named by what a reader can look up: IRCADb's files carry an InstanceNumber but no
SeriesNumber, so its slices are "Im 122", not "Se ? · Im 122" (issue 11, w10-gestures)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pydicom

from lesion_tool.cli import main
from lesion_tool.io import load_series
from lesion_tool.io.slices import SeriesDisplayInfo, series_display_info
from lesion_tool.measurement.naming import slice_name

IRCADB = "ircadb/3Dircadb1.1/PATIENT_DICOM"


def test_a_series_without_a_series_number_names_its_images_alone() -> None:
    info = SeriesDisplayInfo("P", None, None, "ART", (5, 6, 7, 8), (None, None, 2, None))
    assert info.series_name == "" and info.label(1) == "Im 6" and info.label(2) == "Im 7 · Fr 2"
    assert info.title() == "P · no date · ART"
    assert SeriesDisplayInfo("P", None, None, "", (5,)).title() == "P · no date"
    numbered = SeriesDisplayInfo("P", None, 7, "ART", (5, 6, 7, 8))
    assert numbered.label(2) == "Se 7 · Im 7" and numbered.title() == "P · no date · Se 7 ART"


def test_ircadb_slices_are_named_by_their_instance_number(shared_data: Path, capsys) -> None:
    image = load_series(shared_data / IRCADB)
    info = series_display_info(image)
    assert info.series_number is None
    for z in (0, 88, image.shape[0] - 1):
        ds = pydicom.dcmread(image.metadata["files"][z], stop_before_pixels=True)
        assert slice_name(image, z) == f"Im {int(ds.InstanceNumber)}" == info.label(z)
    # the CLI: the diameter's slice (tumour 05's deepest point) by its image, then the index
    series = str(shared_data / IRCADB)
    args = ["measure", "--image", series, "--phase", "portal-venous"]
    assert main([*args, "--seed", "113,226,211"]) == 0
    out = capsys.readouterr().out
    assert f"{slice_name(image, 113)} (z 113)" in out and "Se " not in out
    # a flag that names a slice (tumour 07's deepest point: its region is widest on its last
    # slice; the click in plain liver used here before is now refused, its region drifted off it)
    assert main([*args, "--seed", "116,156,246", "--json"]) == 0
    flags = json.loads(capsys.readouterr().out)["flags"]
    named = [f for f in flags if re.search(r"\(Im \d+\)", f)]
    assert named and not any("Se " in f for f in flags), flags
