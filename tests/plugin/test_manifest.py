"""Plugin wiring: the npe2 manifest validates and every command in it imports."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

npe2 = pytest.importorskip("npe2")

MANIFEST = Path(__file__).resolve().parents[2] / "plugins" / "lesion_napari" / "napari.yaml"


def test_manifest_validates_with_imports():
    """``npe2 validate lesion-tool --imports``: found through the entry point, all importable."""
    npe2_cli = Path(sys.executable).with_name("npe2")
    command = [str(npe2_cli)] if npe2_cli.exists() else [sys.executable, "-m", "npe2"]
    done = subprocess.run(
        [*command, "validate", "lesion-tool", "--imports"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout


def test_every_python_name_imports():
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    names = [command.python_name for command in manifest.contributions.commands]
    assert len(names) == 6
    for name in names:
        module, _, attr = name.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), name


def test_contributions_are_what_the_plugin_offers():
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    [reader] = manifest.contributions.readers
    assert reader.accepts_directories
    assert "*" in reader.filename_patterns
    assert [w.display_name for w in manifest.contributions.widgets] == [
        "Lesion assessment",
        "Adjudication (core lab)",
    ]
    menu = manifest.contributions.menus["napari/file/io_utilities"]
    assert [item.command for item in menu] == [
        "lesion-tool.open_from_pacs",
        "lesion-tool.adjudication_menu",
    ]
    assert [s.key for s in manifest.contributions.sample_data] == ["synthetic"]
