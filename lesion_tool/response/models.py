"""Result types of the response engine: responses, findings, timepoint and patient results."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CohortEndpoints",
    "Finding",
    "NewLesions",
    "PatientResult",
    "Response",
    "TimepointResult",
]


class Response(enum.StrEnum):
    """A response category, written exactly as the CSV exports spell it."""

    CR = "CR"
    """Complete response."""
    PR = "PR"
    """Partial response."""
    SD = "SD"
    """Stable disease."""
    PD = "PD"
    """Progressive disease."""
    NE = "NE"
    """Not evaluable."""
    NA = "NA"
    """Not applicable (e.g. non-target response without non-target lesions)."""
    NON_CR_NON_PD = "non-CR/non-PD"
    """Non-target disease present, not progressing (mRECIST: "IR/SD")."""


NewLesions = Literal["yes", "equivocal", "none"]
"""New lesions at a timepoint: ``yes`` counts as progression; ``equivocal``: new lesions were seen
but none counts (equivocal, or an unequivocal liver lesion not yet HCC by mRECIST); ``none``."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the engine noticed: an eligibility violation, a missing lesion, an ignored one."""

    severity: Literal["error", "warning"]
    message: str
    lesion_id: str | None = None
    timepoint: str | None = None
    """The timepoint label, when the finding belongs to one."""

    def __str__(self) -> str:
        where = " ".join(
            part
            for part in (
                f"[{self.timepoint}]" if self.timepoint else "",
                f"{self.lesion_id}:" if self.lesion_id else "",
            )
            if part
        )
        return f"{self.severity}: {where + ' ' if where else ''}{self.message}"


@dataclass(frozen=True, slots=True)
class TimepointResult:
    """The responses at one timepoint. Sums in millimetres (exact to 0.1 mm).

    At baseline the responses, nadir and changes are None. ``target_sum_mm`` is None when a
    target was not evaluated (the sum is unknown) or the patient has no targets.
    """

    label: str
    date: dt.date
    days_from_start: int
    target_sum_mm: float | None
    baseline_sum_mm: float | None
    nadir_sum_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    target_response: Response | None
    non_target_response: Response | None
    new_lesions: NewLesions | None
    overall_response: Response | None
    findings: tuple[Finding, ...] = ()

    @property
    def is_baseline(self) -> bool:
        """True for the baseline row (no responses)."""
        return self.overall_response is None


@dataclass(frozen=True, slots=True)
class PatientResult:
    """One assessment scored under one preset.

    ``progression_date`` is the date of the first PD, back-dated to the scan where a new lesion
    that caused it was first seen (spec 5). ``pfs_days`` counts from treatment start to
    progression or death (event) or to the last evaluable assessment (censored).
    ``dor_days`` runs from the first response to progression or death, or is censored at the last
    evaluable assessment (``dor_event`` False); None without a response.
    """

    patient_id: str
    reader: str
    criteria: str
    timepoints: tuple[TimepointResult, ...]
    best_overall_response: Response
    best_overall_response_unconfirmed: Response
    first_response_date: dt.date | None
    progression_date: dt.date | None
    pfs_days: int
    pfs_event: bool
    dor_days: int | None
    disease_control: bool
    measurable_at_baseline: bool
    findings: tuple[Finding, ...] = ()
    dor_event: bool | None = None
    """True when the duration of response ended in progression or death; None without response."""
    death_date: dt.date | None = None
    time_to_response_days: int | None = None
    """Days from treatment start to the first response (the one counted for BOR)."""
    os_days: int = 0
    """Overall survival: days from treatment start to death, or to the last known alive date."""
    os_event: bool = False
    """True when ``os_days`` ends in death."""


@dataclass(frozen=True, slots=True)
class CohortEndpoints:
    """Trial endpoints of one preset over a cohort (spec 8).

    ``orr`` and ``dcr`` are shares (0-1) of the ``n_evaluable`` patients with measurable disease
    at baseline, with exact Clopper-Pearson 95% intervals; None when nobody is evaluable. PFS is
    over all ``n`` patients; the median and its 95% interval are in days, None where the
    Kaplan-Meier curve does not reach 0.5 (not reached); OS likewise. ``km_*`` is the PFS
    Kaplan-Meier table (days, survival, lower and upper 95% confidence limits) for plotting.
    """

    criteria: str
    n: int
    n_evaluable: int
    n_responders: int
    n_disease_control: int
    orr: float | None
    orr_ci: tuple[float, float] | None
    dcr: float | None
    dcr_ci: tuple[float, float] | None
    n_pfs_events: int
    median_pfs_days: float | None
    median_pfs_ci: tuple[float | None, float | None]
    n_deaths: int = 0
    median_os_days: float | None = None
    median_os_ci: tuple[float | None, float | None] = (None, None)
    km_days: tuple[float, ...] = field(default=())
    km_survival: tuple[float, ...] = field(default=())
    km_lower: tuple[float, ...] = field(default=())
    km_upper: tuple[float, ...] = field(default=())
