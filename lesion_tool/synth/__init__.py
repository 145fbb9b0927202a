"""Synthetic multiphase HCC CT studies with exact ground truth, for tests, samples and demos.

:func:`generate_patient` writes one patient's studies (baseline and follow-ups; non-contrast,
arterial, portal venous and delayed phases) as CT Image Storage files, with ``truth.json`` (every
lesion's exact viable and whole-lesion longest axial diameters, centre, seed voxel, volumes) and
``assessment_truth.json`` (the same as a format-v1 assessment) beside them.
"""

from __future__ import annotations

from lesion_tool.synth.anatomy import HU, PHASES, SEGMENTS
from lesion_tool.synth.generator import (
    BROKEN_CASES,
    assessment_from_truth,
    generate_cohort,
    generate_patient,
)
from lesion_tool.synth.lesions import TRAJECTORIES, LesionSpec
from lesion_tool.synth.sample import SAMPLE_ID, generate_sample
from lesion_tool.synth.writer import TRANSFER_SYNTAXES

__all__ = [
    "BROKEN_CASES",
    "HU",
    "PHASES",
    "SAMPLE_ID",
    "SEGMENTS",
    "TRAJECTORIES",
    "TRANSFER_SYNTAXES",
    "LesionSpec",
    "assessment_from_truth",
    "generate_cohort",
    "generate_patient",
    "generate_sample",
]
