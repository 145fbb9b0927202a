"""Property-based tests (hypothesis) of the response engine over random readings."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.response import PRESETS, Response, score_assessment, settings_for

START = dt.date(2026, 1, 1)
RANK = {
    Response.CR: 4,
    Response.PR: 3,
    Response.SD: 2,
    Response.NON_CR_NON_PD: 2,
    Response.NE: 1,
    Response.PD: 0,
}


@st.composite
def readings(draw, *, scale_safe: bool = False):
    """A random reading, diameters as integer tenths of a mm (``scale_safe``: no absolute
    thresholds involved: no too_small, nodes or liver new lesions)."""
    n_targets = draw(st.integers(1, 4))
    n_non_targets = draw(st.integers(0, 2))
    n_follow_ups = draw(st.integers(1, 5))
    kinds = [draw(st.sampled_from([Kind.VIABLE, Kind.LONGEST])) for _ in range(n_targets)]
    organs = [draw(st.sampled_from(["liver", "lung", "adrenal"])) for _ in range(n_targets)]
    target_states = ["measured", "measured", "measured", "absent", "not_evaluated"]
    if not scale_safe:
        target_states.append("too_small")

    def target(index: int, state: str) -> Lesion:
        longest = draw(st.integers(1 if state == "measured" else 0, 1500))
        viable = draw(st.integers(0, longest)) if kinds[index] is Kind.VIABLE else None
        if state != "measured":
            longest, viable = None, None
        return Lesion(
            id=f"T{index}",
            category=Category.TARGET,
            state=LesionState(state),
            kind=kinds[index],
            organ=organs[index],
            longest_diameter_mm=None if longest is None else longest / 10,
            viable_diameter_mm=None if viable is None else viable / 10,
        )

    def non_target(index: int, baseline: bool) -> Lesion:
        states = (
            ["present"]
            if baseline
            else ["present", "absent", "unequivocal_progression", "not_evaluated"]
        )
        return Lesion(
            id=f"NT{index}",
            category=Category.NON_TARGET,
            state=LesionState(draw(st.sampled_from(states))),
            organ="liver",
        )

    def baseline_target(index: int) -> Lesion:
        longest = draw(st.integers(100, 1500))
        viable = draw(st.integers(1, longest)) if kinds[index] is Kind.VIABLE else None
        return Lesion(
            id=f"T{index}",
            category=Category.TARGET,
            state=LesionState.MEASURED,
            kind=kinds[index],
            organ=organs[index],
            longest_diameter_mm=longest / 10,
            viable_diameter_mm=None if viable is None else viable / 10,
        )

    timepoints = [
        Timepoint(
            "baseline",
            START - dt.timedelta(days=3),
            tuple(baseline_target(i) for i in range(n_targets))
            + tuple(non_target(i, True) for i in range(n_non_targets)),
        )
    ]
    when = 0
    for index in range(1, n_follow_ups + 1):
        when += draw(st.integers(14, 90))
        lesions = [target(i, draw(st.sampled_from(target_states))) for i in range(n_targets)]
        lesions += [non_target(i, False) for i in range(n_non_targets)]
        if draw(st.booleans()):
            organ = "lung" if scale_safe else draw(st.sampled_from(["liver", "lung"]))
            lesions.append(
                Lesion(
                    id="N1",
                    category=Category.NEW,
                    state=LesionState(draw(st.sampled_from(["equivocal", "unequivocal"]))),
                    organ=organ,
                    longest_diameter_mm=draw(st.integers(10, 300)) / 10,
                    typical_hcc_pattern=draw(st.booleans()),
                )
            )
        timepoints.append(Timepoint(f"fu{index}", START + dt.timedelta(days=when), tuple(lesions)))
    death = draw(st.none() | st.integers(1, when + 200))
    return Assessment(
        "P",
        START,
        tuple(timepoints),
        reader="R",
        death_date=None if death is None else START + dt.timedelta(days=death),
    )


def comparable(result, *, with_sums: bool = True):
    """The fields of a result that must not change (findings as a set: order follows input)."""
    rows = []
    for row in result.timepoints:
        fields = dataclasses.asdict(row)
        fields["findings"] = frozenset(row.findings)
        if not with_sums:
            # finding messages quote sums in mm; compare what they are about instead
            fields["findings"] = frozenset(
                (f.severity, f.lesion_id, f.timepoint) for f in row.findings
            )
            for key in ("target_sum_mm", "baseline_sum_mm", "nadir_sum_mm"):
                fields.pop(key)
        rows.append(fields)
    patient = {
        f.name: getattr(result, f.name)
        for f in dataclasses.fields(result)
        if f.name not in ("timepoints", "findings")
    }
    return rows, patient


@settings(max_examples=100, deadline=None)
@given(reading=readings(), data=st.data())
def test_reordering_lesions_changes_nothing(reading, data) -> None:
    shuffled = dataclasses.replace(
        reading,
        timepoints=tuple(
            dataclasses.replace(t, lesions=tuple(data.draw(st.permutations(t.lesions))))
            for t in reading.timepoints
        ),
    )
    for preset in PRESETS:
        s = settings_for(preset)
        assert comparable(score_assessment(shuffled, s)) == comparable(score_assessment(reading, s))


def _scaled(reading: Assessment, factor: int) -> Assessment:
    def scale(value: float | None) -> float | None:
        # Values are whole tenths; scaling the tenths keeps every scaled value exact.
        return None if value is None else round(value * 10) * factor / 10

    return dataclasses.replace(
        reading,
        timepoints=tuple(
            dataclasses.replace(
                t,
                lesions=tuple(
                    dataclasses.replace(
                        lesion,
                        longest_diameter_mm=scale(lesion.longest_diameter_mm),
                        viable_diameter_mm=scale(lesion.viable_diameter_mm),
                    )
                    for lesion in t.lesions
                ),
            )
            for t in reading.timepoints
        ),
    )


@settings(max_examples=100, deadline=None)
@given(reading=readings(scale_safe=True), factor=st.sampled_from([2, 3, 7]))
def test_scaling_every_diameter_changes_nothing_under_mrecist(reading, factor) -> None:
    s = settings_for("mrecist")
    original = score_assessment(reading, s)
    scaled = score_assessment(_scaled(reading, factor), s)
    assert comparable(scaled, with_sums=False) == comparable(original, with_sums=False)
    for a, b in zip(original.timepoints, scaled.timepoints, strict=True):
        if a.target_sum_mm is not None:
            assert round(b.target_sum_mm * 10) == round(a.target_sum_mm * 10) * factor


@settings(max_examples=120, deadline=None)
@given(reading=readings(), data=st.data())
def test_growth_of_one_target_never_improves_the_response(reading, data) -> None:
    follow_up = data.draw(st.integers(1, len(reading.timepoints) - 1))
    timepoint = reading.timepoints[follow_up]
    measured = [
        i
        for i, lesion in enumerate(timepoint.lesions)
        if lesion.category is Category.TARGET and lesion.state is LesionState.MEASURED
    ]
    if not measured:
        return
    index = data.draw(st.sampled_from(measured))
    grow = data.draw(st.integers(1, 400)) / 10
    lesion = timepoint.lesions[index]
    grown = dataclasses.replace(
        lesion,
        longest_diameter_mm=round((lesion.longest_diameter_mm + grow) * 10) / 10,
        viable_diameter_mm=None
        if lesion.viable_diameter_mm is None
        else round((lesion.viable_diameter_mm + grow) * 10) / 10,
    )
    lesions = list(timepoint.lesions)
    lesions[index] = grown
    changed = dataclasses.replace(
        reading,
        timepoints=(
            *reading.timepoints[:follow_up],
            dataclasses.replace(timepoint, lesions=tuple(lesions)),
            *reading.timepoints[follow_up + 1 :],
        ),
    )
    for preset in PRESETS:
        s = settings_for(preset)
        before = score_assessment(reading, s).timepoints[follow_up]
        after = score_assessment(changed, s).timepoints[follow_up]
        assert RANK[after.target_response] <= RANK[before.target_response]
        assert RANK[after.overall_response] <= RANK[before.overall_response]
