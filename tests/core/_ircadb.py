"""IRCADb patient 1 (../shared/data/ircadb/3Dircadb1.1) as the measurement tests read it: the CT,
its seven tumour masks, liver and vessels, and a stress variant's expert tumours, in one place
(six test modules each kept their own copy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from lesion_tool.io import load_series
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import load_mask
from lesion_tool.measurement.evaluation import ExpertTumour, expert_tumours
from lesion_tool.measurement.masks import mask_from_array
from lesion_tool.measurement.stress import degrade

CASE = "ircadb/3Dircadb1.1"
TUMOURS = [f"livertumor0{i}" for i in range(1, 8)]


class Ircadb(NamedTuple):
    """The CT and its expert masks (boolean, on the CT's grid)."""

    image: CTVolume
    tumours: list[np.ndarray]
    liver: np.ndarray
    vessels: list[np.ndarray]


class Variant(NamedTuple):
    """A stress variant: its image, the expert tumours on it, its liver and its tumour masks."""

    volume: CTVolume
    experts: list[ExpertTumour]
    liver: np.ndarray
    masks: list[np.ndarray]


def load_ircadb(shared_data: Path) -> Ircadb:
    """Read the case in place (never copied: its licence forbids it)."""
    case = shared_data / CASE
    image = load_series(case / "PATIENT_DICOM")

    def arr(name: str) -> np.ndarray:
        return np.asarray(load_mask(case / "MASKS_DICOM" / name, image).segments[0].array) > 0

    vessels = [arr("portalvein"), arr("venoussystem")]
    return Ircadb(image, [arr(t) for t in TUMOURS], arr("liver"), vessels)


def variant(
    case: Ircadb,
    degraded: tuple[CTVolume, list[np.ndarray], np.ndarray] | None = None,
    **degrade_kw: Any,
) -> Variant:
    """The case degraded by :func:`lesion_tool.measurement.stress.degrade` (``degrade_kw``), with
    the seven tumours' expert diameters recomputed from the masks transformed the same way.
    ``degraded``: degrade's output when already built (the session's ``ircadb_arterial``)."""
    if degraded is None:
        degraded = degrade(case.image, case.tumours, case.liver, case.vessels, **degrade_kw)
    vol, masks, liver = degraded
    experts = expert_tumours(
        [
            mask_from_array(m.astype(np.uint8), vol, names={1: n})
            for m, n in zip(masks, TUMOURS, strict=True)
        ],
        vol,
    )
    experts = [t for t in experts if t.diameter_mm >= 5.0]
    assert len(experts) == 7
    return Variant(vol, experts, liver, masks)
