"""Response settings: every choice the specification names, with the three presets' defaults.

``shared/spec/response-rules.md`` names each setting; :func:`settings_for` returns a preset with
optional overrides (``settings_for("recist-1.1", confirm=False)``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lesion_tool.errors import CriteriaError

__all__ = ["PRESETS", "ResponseSettings", "settings_for"]

PRESETS: tuple[str, ...] = ("mrecist", "mrecist-1.1", "recist-1.1")
"""The criteria presets of spec section 3, in their canonical order."""


@dataclass(frozen=True, slots=True)
class ResponseSettings:
    """All settings of the response rules. Diameters in millimetres, intervals in days.

    Use :func:`settings_for` to get a preset; the defaults here are those of ``mrecist``.
    """

    criteria: str = "mrecist"
    """Preset name, written into every result (``mrecist``, ``mrecist-1.1``, ``recist-1.1``)."""
    use_viable_diameter: bool = True
    """Sum the viable (arterially enhancing) diameter of ``viable`` targets (mRECIST presets);
    False sums their whole-lesion longest diameter (RECIST 1.1). A ``viable`` target measured with
    viable diameter 0 then counts as gone (spec 3, rule 3)."""
    five_mm_rule: bool = False
    """PD also needs an absolute increase of at least ``pd_min_increase_mm`` over the nadir."""
    liver_hcc_new_lesion_rules: bool = True
    """mRECIST: a new liver lesion counts only when it qualifies as HCC (spec 5)."""
    too_small_mm: float = 5.0
    """Value summed for a target ``too_small`` to measure."""
    pd_increase_pct: int = 20
    """PD: sum at least this many percent above the nadir (inclusive)."""
    pd_min_increase_mm: float = 5.0
    """The 5 mm rule's absolute increase over the nadir (inclusive)."""
    pr_decrease_pct: int = 30
    """PR: sum at least this many percent below the baseline sum (inclusive)."""
    node_normal_mm: float = 10.0
    """A lymph node with short axis below this is normal (nodal CR)."""
    confirm: bool = True
    """Best overall response needs a confirmed CR / PR (spec 7; single-arm trial)."""
    confirm_min_days: int = 28
    """Minimum days between a CR / PR and the assessment that confirms it."""
    sd_min_days: int = 42
    """SD counts for best response only when recorded at least this many days after start."""
    dcr_sd_min_days: int = 182
    """Disease control: SD (or better) still without PD at an assessment at least this late."""
    new_liver_hcc_min_mm: float = 10.0
    """mRECIST: a new liver lesion with the typical HCC pattern counts from this diameter."""
    new_liver_growth_mm: float = 10.0
    """mRECIST: a new liver lesion also counts after this interval growth since first seen."""
    min_target_mm: float = 10.0
    """Eligibility: minimum longest (or viable) diameter of a non-nodal target."""
    slice_thickness_factor: float = 2.0
    """Eligibility: when slices are thicker than ``thick_slice_mm``, a target needs at least this
    multiple of the slice thickness."""
    thick_slice_mm: float = 5.0
    """Eligibility: slice thickness above which the factor above applies."""
    slice_thickness_mm: float | None = None
    """Eligibility: the baseline series' slice thickness when known (the assessment does not
    store it; :func:`~lesion_tool.response.check_baseline` also takes it as an argument)."""
    min_node_short_axis_mm: float = 15.0
    """Eligibility: minimum short axis of a nodal target."""
    porta_hepatis_node_mm: float = 20.0
    """Eligibility: minimum short axis of a nodal target at the porta hepatis (mRECIST)."""
    max_targets: int = 5
    """Eligibility: most targets in all (RECIST 1.0: 10)."""
    max_targets_per_organ: int = 2
    """Eligibility: most targets per organ (RECIST 1.0: 5)."""

    def __post_init__(self) -> None:
        for name in (
            "too_small_mm",
            "pd_min_increase_mm",
            "node_normal_mm",
            "new_liver_hcc_min_mm",
            "new_liver_growth_mm",
            "min_target_mm",
            "min_node_short_axis_mm",
            "porta_hepatis_node_mm",
            "thick_slice_mm",
            "slice_thickness_factor",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value >= 0):
                raise ValueError(f'Setting "{name}" must be a number >= 0, got {value!r}.')
        for name in (
            "pd_increase_pct",
            "pr_decrease_pct",
            "confirm_min_days",
            "sd_min_days",
            "dcr_sd_min_days",
            "max_targets",
            "max_targets_per_organ",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise ValueError(f'Setting "{name}" must be an integer >= 0, got {value!r}.')
        if self.pr_decrease_pct > 100:
            raise ValueError('Setting "pr_decrease_pct" must be at most 100.')
        if self.slice_thickness_mm is not None and not self.slice_thickness_mm > 0:
            raise ValueError('Setting "slice_thickness_mm" must be > 0 or None.')


_PRESET_VALUES: dict[str, dict[str, object]] = {
    "mrecist": {
        "criteria": "mrecist",
        "use_viable_diameter": True,
        "five_mm_rule": False,
        "liver_hcc_new_lesion_rules": True,
    },
    "mrecist-1.1": {
        "criteria": "mrecist-1.1",
        "use_viable_diameter": True,
        "five_mm_rule": True,
        "liver_hcc_new_lesion_rules": True,
    },
    "recist-1.1": {
        "criteria": "recist-1.1",
        "use_viable_diameter": False,
        "five_mm_rule": True,
        "liver_hcc_new_lesion_rules": False,
    },
}


def settings_for(preset: str, **overrides: object) -> ResponseSettings:
    """The settings of a preset, with optional overrides of any field.

    Raises
    ------
    CriteriaError
        ``preset`` is not one of :data:`PRESETS`.
    TypeError
        An override names no setting.
    """
    try:
        values = dict(_PRESET_VALUES[preset])
    except KeyError:
        raise CriteriaError(
            f"Unknown criteria {preset!r}; choose one of {', '.join(PRESETS)}."
        ) from None
    names = {f.name for f in dataclasses.fields(ResponseSettings)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"Unknown response setting(s): {', '.join(unknown)}.")
    values.update(overrides)
    return ResponseSettings(**values)  # type: ignore[arg-type]
