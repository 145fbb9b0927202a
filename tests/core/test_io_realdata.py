"""Real TCIA series (../shared/data): load_series equals SimpleITK's GDCM series reader."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from test_io_sitk import assert_same_as_gdcm, gdcm_read

from lesion_tool.io import load_series

pytestmark = pytest.mark.realdata

HCC_006_AP = (
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
)
HCC_006_PRE = "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/2.000000-PRE LIVER-29453"
HCC_048_PV = "hcc-tace-seg/HCC_048_PV"


SHA256 = {  # one file per series: the expected values below hold for this release
    f"{HCC_006_AP}/1-001.dcm": "4dd840cec78fc78c89d1125aaf999d29af6c743e987d3061c975ecb7da2f6916",
    f"{HCC_048_PV}/00000001.dcm": (
        "3cfdee7180987710ccb295ca5e396e11a501dd7e2e95d91f5f44353d389960a0"
    ),
}


@pytest.mark.parametrize("rel", sorted(SHA256))
def test_real_data_is_the_expected_release(shared_data: Path, rel: str) -> None:
    digest = hashlib.sha256((shared_data / rel).read_bytes()).hexdigest()
    assert digest == SHA256[rel], f"{rel} changed: the expected values below no longer apply"


@pytest.mark.parametrize(
    ("rel", "shape", "spacing"),
    [
        (HCC_006_AP, (109, 512, 512), (2.5, 0.78125, 0.78125)),
        (HCC_048_PV, (89, 512, 512), (2.5, 0.703125, 0.703125)),
    ],
)
def test_real_series_equal_gdcm(shared_data: Path, rel: str, shape: tuple, spacing: tuple) -> None:
    folder = shared_data / rel
    vol = load_series(folder)
    assert vol.shape == shape
    assert vol.spacing_mm == pytest.approx(spacing)
    assert vol.array.dtype == np.int16
    assert len(vol.sop_instance_uids) == shape[0]
    assert_same_as_gdcm(vol, gdcm_read(folder))


def test_hcc_006_identity(shared_data: Path) -> None:
    vol = load_series(shared_data / HCC_006_AP)
    assert vol.series_description == "LIVER 3 PHASE (AP)"
    assert vol.patient_id == "HCC_006"
    assert vol.study_date is not None and vol.study_date.isoformat() == "1999-08-06"
    # slices ascend feet to head along +S
    np.testing.assert_allclose(vol.slice_normal, [0, 0, 1])
    assert vol.origin_mm[2] == pytest.approx(-302.0)


def test_one_slice_pre_series_loads_with_a_warning(shared_data: Path) -> None:
    with pytest.warns(UserWarning, match="single slice"):
        vol = load_series(shared_data / HCC_006_PRE)
    assert vol.shape == (1, 512, 512)


def test_enhanced_ct_multiframe_file(shared_data: Path) -> None:
    vol = load_series(shared_data / "sr-seg/pydicom-data/eCT_Supplemental.dcm")
    assert vol.shape == (2, 512, 512)
    assert vol.spacing_mm == pytest.approx((10.0, 0.388672, 0.388672))
    # IOP row (-1, 0, 0), column (0, 1, 0): the normal is -S, frames at S = -159 and -149
    np.testing.assert_allclose(vol.slice_normal, [0, 0, -1])
    assert vol.origin_mm == pytest.approx((99.5, -301.5, -149.0))
    assert vol.array.min() == -1024
