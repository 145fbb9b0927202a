"""Registration of a follow-up to the baseline and propagation of the targets (issue 15)."""

from __future__ import annotations

from lesion_tool.registration.register import (
    Registration,
    RegistrationSettings,
    register_series,
    soft_tissue_mask,
    transform_from_dict,
    transform_to_dict,
)

__all__ = [
    "Registration",
    "RegistrationSettings",
    "register_series",
    "soft_tissue_mask",
    "transform_from_dict",
    "transform_to_dict",
]
