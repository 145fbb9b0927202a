"""Fixtures of the core tests that read real data.

Read (and measured) once per session, shared by the modules that need them (each used to keep
its own copy, which CI paid for once per module):

- ``ircadb``: IRCADb patient 1, its CT and expert masks (:mod:`_ircadb`).
- ``ircadb_negative_points``: the seeded clicks where IRCADb has no tumour, per seed.
- ``ircadb_arterial``: IRCADb made arterial-looking (stress variants "hyper", "necrotic core").
- ``ircadb_slabbed``: IRCADb in slabs (stress variants "2.5 mm", "5 mm"), the last one asked.
- ``hcc006_ap``: HCC-TACE-Seg HCC_006's arterial series (``_hcc006.HCC_006_AP``).
- ``hcc006_measured``: ``measure_lesion`` on that series, each (prompt, phase) once.

Tests must not modify what these return (arrays, results): other modules read them after.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pytest
from _hcc006 import HCC_006_AP
from _ircadb import Ircadb, Variant, load_ircadb, variant

from lesion_tool.errors import MeasurementError
from lesion_tool.io import load_series
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionMeasurement, LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import negative_points
from lesion_tool.measurement.stress import degrade

NegativePoints = list[tuple[str, tuple[int, int, int]]]


@pytest.fixture(scope="session")
def ircadb(shared_data: Path) -> Ircadb:
    """IRCADb patient 1 read once per session (the measurement modules measure on it and its
    variants)."""
    return load_ircadb(shared_data)


@pytest.fixture(scope="session")
def ircadb_negative_points(ircadb: Ircadb) -> Callable[[int], NegativePoints]:
    """``points(seed)``: :func:`negative_points` on IRCADb's expert masks (40 liver and 10 vessel
    clicks), computed once per seed (test_measure_specificity and test_measure_vessel both
    click them)."""
    image, tumours, liver, vessels = ircadb

    @cache
    def points(seed: int) -> NegativePoints:
        return negative_points(
            liver, tumours, vessels, image.spacing_mm, n_liver=40, n_vessel=10, seed=seed
        )

    return points


@pytest.fixture(scope="session")
def ircadb_arterial(ircadb: Ircadb) -> Callable[[str], tuple[CTVolume, list, np.ndarray]]:
    """``image(enhance)``: IRCADb made arterial-looking (``"hyper"`` or ``"necrotic"``) by
    :func:`degrade`, with no slabs and no noise, built once per session: without noise degrade
    draws nothing at random (the same image whatever the seed), and the necrotic-core image is
    measured by test_measure_stress and clicked by test_measure_vessel. Its masks and liver are
    the expert ones (no slabs: the CT's grid): only the image is new (about 135 MB each)."""
    image, tumours, liver, vessels = ircadb

    @cache
    def arterial(enhance: str) -> tuple[CTVolume, list, np.ndarray]:
        return degrade(image, tumours, liver, vessels, enhance=enhance)

    return arterial


@pytest.fixture(scope="session")
def ircadb_slabbed(ircadb: Ircadb) -> Callable[[float], Variant]:
    """``variant(thickness_mm)``: IRCADb in slabs (no noise: the same whatever the seed) with its
    expert tumours recomputed, the last one asked kept: the 5 mm one is measured by
    test_measure_slab (seeds 0 and 1: the seed picks the clicks) and test_measure_thick."""

    @lru_cache(maxsize=1)
    def slabbed(thickness_mm: float) -> Variant:
        return variant(ircadb, thickness_mm=thickness_mm)

    return slabbed


@pytest.fixture(scope="session")
def hcc006_ap(shared_data: Path) -> CTVolume:
    """HCC_006's arterial series, read once per session."""
    return load_series(shared_data / HCC_006_AP)


@pytest.fixture(scope="session")
def hcc006_measured(
    hcc006_ap: CTVolume,
) -> Callable[[LesionPrompt, str], LesionMeasurement | MeasurementError]:
    """``measured(prompt, phase)``: ``measure_lesion(hcc006_ap, prompt, phase=phase)``, or the
    :class:`MeasurementError` it raised, computed once per (prompt, phase) in the session: the
    nodule's prompts are asserted on by several tests (test_measure_tcia), the kidney click by
    three (test_measure_realct, test_measure_offliver). Any other error is raised, not kept."""
    done: dict[tuple[LesionPrompt, str], LesionMeasurement | MeasurementError] = {}

    def measured(prompt: LesionPrompt, phase: str) -> LesionMeasurement | MeasurementError:
        key = (prompt, phase)
        if key not in done:
            try:
                done[key] = measure_lesion(hcc006_ap, prompt, phase=phase)
            except MeasurementError as err:
                done[key] = err
        return done[key]

    return measured
