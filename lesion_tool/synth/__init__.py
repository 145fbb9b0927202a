"""Synthetic multiphase HCC CT studies with exact ground truth, for tests, samples and demos.

:func:`generate_patient` writes one patient's studies (baseline and follow-ups; non-contrast,
arterial, portal venous and delayed phases) as CT Image Storage files, with ``truth.json`` (every
lesion's exact viable and whole-lesion longest axial diameters, centre, seed voxel, volumes) and
``assessment_truth.json`` (the same as a format-v1 assessment) beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool._lazy import lazy_exports

if TYPE_CHECKING:
    from lesion_tool.synth.anatomy import HU, SEGMENTS
    from lesion_tool.synth.generator import assessment_from_truth, generate_cohort, generate_patient
    from lesion_tool.synth.lesions import LesionSpec
    from lesion_tool.synth.names import BROKEN_CASES, PHASES, SAMPLE_ID, TRAJECTORIES
    from lesion_tool.synth.sample import generate_sample
    from lesion_tool.synth.writer import TRANSFER_SYNTAXES

_LAZY: dict[str, str] = {
    "BROKEN_CASES": "lesion_tool.synth.names",
    "HU": "lesion_tool.synth.anatomy",
    "LesionSpec": "lesion_tool.synth.lesions",
    "PHASES": "lesion_tool.synth.names",
    "SAMPLE_ID": "lesion_tool.synth.names",
    "SEGMENTS": "lesion_tool.synth.anatomy",
    "TRAJECTORIES": "lesion_tool.synth.names",
    "TRANSFER_SYNTAXES": "lesion_tool.synth.writer",
    "assessment_from_truth": "lesion_tool.synth.generator",
    "generate_cohort": "lesion_tool.synth.generator",
    "generate_patient": "lesion_tool.synth.generator",
    "generate_sample": "lesion_tool.synth.sample",
}
"""Public name -> defining module, imported on first access (PEP 562) so that importing this
package costs nothing until a name is used."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


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
