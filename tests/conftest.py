"""Shared fixtures: paths to the project's synthetic data and to the real data in ../shared/data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_IMAGES = ROOT / "test_images"
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_OUTPUT = ROOT / "test-output"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public DICOM of ../shared/data; skips (with the reason) only where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it is present in CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_output() -> Path:
    """A folder kept after the run for artefacts a person should look at (screenshots, plots)."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


@pytest.fixture(scope="session", autouse=True)
def _session_phase_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Session-scoped fixtures (the demo pipeline) scan too: never into the user's cache."""
    folder = tmp_path_factory.mktemp("session-phase-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LESION_TOOL_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def _private_phase_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """Each test gets an empty phase cache of its own, never the user's (``~/.cache``)."""
    folder = tmp_path_factory.mktemp("phase-cache")
    monkeypatch.setenv("LESION_TOOL_CACHE_DIR", str(folder))
    return folder


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (``--dist loadgroup``)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its :func:`_xdist.xdist_groups` group, so ``-n 2 --dist loadgroup``
    (what ``make test`` runs) sends a module, and the modules sharing costly session work, to
    one worker. Nothing is marked without pytest-xdist (the plain ``pytest`` run is unchanged)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    from _xdist import module_of, xdist_groups

    groups = xdist_groups(items)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(groups[module_of(item)]))
