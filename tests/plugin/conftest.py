"""Fixtures of the plugin tests.

Viewer tests (marked ``gui``) need OpenGL: pytest-xvfb starts Xvfb (with Mesa) in its
``pytest_configure``, so DISPLAY is set and Qt uses it. Only when there is no display at all (after
pytest-xvfb had its turn) do we fall back to Qt's offscreen platform, where GUI-free tests still
run and viewer tests are skipped with the reason. Never force offscreen for viewer tests: it has
no OpenGL and napari fails in vispy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import numpy as np
import pytest

from lesion_tool.io.volume import CTVolume


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _is_xdist_controller(config) -> bool:
    """The pytest-xdist process that only hands tests to its workers (pytest-xvfb's own test)."""
    return config.getoption("dist", "no") != "no" and not os.environ.get("PYTEST_XDIST_WORKER")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """After pytest-xvfb: offscreen Qt only when there is no display at all. Not in a
    pytest-xdist controller: pytest-xvfb starts no Xvfb there (the workers start their own), and
    the workers inherit its environment, so an offscreen set there skipped every viewer test."""
    if not _has_display() and not _is_xdist_controller(config):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _save_dir(tmp_path, monkeypatch):
    """Autosave goes to the test's folder, never to the home directory."""
    monkeypatch.setenv("LESION_TOOL_SAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("LESION_TOOL_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def viewer(request):
    """A napari viewer, or a skip when there is no display with OpenGL (run under Xvfb)."""
    if not _has_display() or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        pytest.skip("a napari viewer needs OpenGL: run the gui tests under Xvfb (pytest-xvfb)")
    return request.getfixturevalue("make_napari_viewer")()


@pytest.fixture
def make_volume():
    """Factory of small test volumes (see :func:`disk_volume`)."""
    return disk_volume


def disk_volume(
    *,
    study_date: dt.date = dt.date(2026, 1, 2),
    radius_mm: float = 10.0,
    shape: tuple[int, int, int] = (8, 64, 64),
    spacing: tuple[float, float, float] = (2.5, 0.8, 0.8),
    direction: np.ndarray | None = None,
    patient_id: str = "PAT-1",
    study_uid: str = "1.2.3.1",
) -> CTVolume:
    """A small CT-like volume: liver-like background (100 HU) with a bright sphere (200 HU)."""
    z, y, x = np.indices(shape, dtype=float)
    centre = (np.asarray(shape) - 1) / 2.0
    dist = np.sqrt(
        ((z - centre[0]) * spacing[0]) ** 2
        + ((y - centre[1]) * spacing[1]) ** 2
        + ((x - centre[2]) * spacing[2]) ** 2
    )
    array = np.where(dist <= radius_mm, 200, 100).astype(np.int16)
    return CTVolume(
        array=array,
        spacing_mm=spacing,
        origin_mm=(-25.0, -25.0, 100.0),
        direction=np.eye(3)[:, ::-1] if direction is None else direction,
        series_instance_uid=study_uid + ".1",
        study_instance_uid=study_uid,
        frame_of_reference_uid="1.2.3.9",
        study_date=study_date,
        patient_id=patient_id,
        series_description="ART test",
    )


@pytest.fixture(scope="session")
def synthetic_patient(tmp_path_factory):
    """One small synthetic patient for the whole plugin suite (generated once, about 1 s).

    Three liver targets (the third breaks the two-per-organ rule on purpose, so the panel has
    an eligibility warning to show) and a non-target; baseline and one follow-up; arterial and
    portal-venous phases.
    """
    from lesion_tool.synth import generate_patient
    from lesion_tool.synth.lesions import LesionSpec

    names = {f.name for f in dataclasses.fields(LesionSpec)}

    def spec(segment: str, diameter_mm: float, viable: float, **kwargs) -> LesionSpec:
        # the generator's knob for the viable share has had two spellings
        if "viable_scale" in names:
            kwargs["viable_scale"] = viable
        elif "cut" in names:
            kwargs["cut"] = -1.2 if viable >= 1.0 else -0.4
        return LesionSpec(segment, diameter_mm, **kwargs)

    specs = [
        spec("S8", 40.0, 0.85),
        spec("S6", 30.0, 1.0),
        spec("S3", 24.0, 1.0),
        spec("S5", 16.0, 0.85, category="non_target"),
    ]
    out = tmp_path_factory.mktemp("synthetic")
    return generate_patient(
        out,
        patient_id="SYN-E2E",
        seed=5,
        n_timepoints=2,
        phases=("arterial", "portal_venous"),
        lesions=specs,
    )


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch):
    """The resume-or-new-version question answers "resume" without a modal dialog; tests that
    check the choice read ``asked`` (the readings offered) and set ``answers`` ("resume" or
    "new", in order)."""
    from types import SimpleNamespace

    out = SimpleNamespace(asked=[], answers=[])
    try:
        import lesion_napari._panels.study as study
    except ImportError:  # no Qt: GUI-free tests only
        return out

    def ask(parent, found):
        out.asked.append(found)
        return None if out.answers and out.answers.pop(0) == "new" else found[-1]

    monkeypatch.setattr(study, "ask_resume", ask)
    return out


@pytest.fixture
def notices(monkeypatch):
    """Every notification of the plugin's modules, collected instead of shown."""
    import importlib
    from types import SimpleNamespace

    out = SimpleNamespace(errors=[], warnings=[], infos=[])
    for name in ("_controller", "_study", "_lines", "_click", "_panels.saving", "_reader"):
        module = importlib.import_module(f"lesion_napari.{name}")
        for func, sink in (("show_error", out.errors), ("show_warning", out.warnings)):
            if hasattr(module, func):
                monkeypatch.setattr(module, func, sink.append)
        if hasattr(module, "show_info"):
            monkeypatch.setattr(module, "show_info", out.infos.append)
    return out
