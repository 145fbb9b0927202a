"""The synthetic generator's option names, in a module without numpy or pydicom.

``lesion-tool synth`` offers these as choices when its parser is built, which happens for every
command (``lesion-tool --help`` too); the generator modules re-export them from here so each name
has one definition.
"""

from __future__ import annotations

PHASES: tuple[str, ...] = ("non_contrast", "arterial", "portal_venous", "delayed")
"""Phase folder names, in acquisition order."""

TRAJECTORIES: tuple[str, ...] = (
    "complete_response",
    "partial_response",
    "stable",
    "progression",
    "new_lesion",
)
"""Per-patient courses under treatment (what happens to every baseline lesion)."""

BROKEN_CASES: tuple[str, ...] = (
    "missing_slice",
    "duplicate_position",
    "gantry_tilt",
    "non_dicom_file",
    "truncated_file",
    "coronal_reformat",
)
"""Defects :func:`~lesion_tool.synth.generate_patient` can plant in one series so each reader
check has a file."""

TRANSFER_SYNTAX_NAMES: tuple[str, ...] = ("explicit", "rle", "jpeg-ls", "jpeg2000")
"""Keys of :data:`lesion_tool.synth.writer.TRANSFER_SYNTAXES` (all lossless)."""

SAMPLE_ID = "SYN-001"
"""Patient ID of the committed sample patient (``test_images/synthetic/SYN-001``)."""
