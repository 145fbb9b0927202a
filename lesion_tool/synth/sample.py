"""The committed sample patient ``test_images/synthetic/SYN-001``: its exact recipe.

Three timepoints of one patient with two target HCCs: baseline (non-contrast, arterial, portal
venous and delayed phases), a partial response at the first follow-up (necrosis grows, the
viable parts shrink by ~40%), and at the second follow-up a further response of the targets
with a new 16 mm arterially enhancing lesion in segment 3 (progression by a new lesion).
Follow-ups have arterial and portal venous phases. 160 x 160 pixels of 1.6 mm, 30 slices of
2.5 mm, JPEG-LS lossless, ~5 MB.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lesion_tool.synth.generator import generate_patient
from lesion_tool.synth.lesions import LesionSpec
from lesion_tool.synth.names import SAMPLE_ID

SAMPLE_SEED = 20260105

SAMPLE_OPTIONS: dict[str, Any] = {
    "patient_id": SAMPLE_ID,
    "seed": SAMPLE_SEED,
    "shape": (30, 160, 160),
    "spacing_mm": (2.5, 1.6, 1.6),
    "noise_hu": 8.0,
    "n_timepoints": 3,
    "trajectory": "new_lesion",
    "phases_by_timepoint": (
        ("non_contrast", "arterial", "portal_venous", "delayed"),
        ("arterial", "portal_venous"),
        ("arterial", "portal_venous"),
    ),
    "lesions": (
        LesionSpec(
            segment="S8",
            diameter_mm=46.0,
            aspect=0.8,
            depth=0.75,
            angle_deg=25.0,
            viable_scale=0.85,
            tip_deg=200.0,
        ),
        LesionSpec(
            segment="S6",
            diameter_mm=32.0,
            aspect=0.85,
            depth=0.8,
            angle_deg=-40.0,
            viable_scale=0.9,
            tip_deg=300.0,
        ),
        LesionSpec(
            segment="S3",
            diameter_mm=16.0,
            aspect=0.9,
            depth=0.85,
            angle_deg=10.0,
            viable_scale=1.0,
            category="new",
            appears_at=2,
        ),
    ),
}


def generate_sample(out_dir: str | os.PathLike[str], *, transfer_syntax: str = "jpeg-ls") -> Path:
    """Write the sample patient into ``out_dir/SYN-001`` (replacing it) and return that folder.

    ``transfer_syntax`` changes only the pixel encoding (all lossless): the pixel values, UIDs
    and truth are the same for every choice.
    """
    return generate_patient(out_dir, transfer_syntax=transfer_syntax, **SAMPLE_OPTIONS)
