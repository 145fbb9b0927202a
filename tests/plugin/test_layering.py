"""The plugin's shape: small modules, panels -> controller -> core, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import lesion_napari

PLUGIN = Path(lesion_napari.__file__).parent
CONTROLLER_SIDE = ("_controller", "_study", "_lines", "_click", "_views", "_layers", "_loading")


def _imports(path: Path) -> set[str]:
    """The plugin modules a module imports (relative or absolute), as names like ``_views``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module.startswith("lesion_napari"):
                names.add(module.removeprefix("lesion_napari.").lstrip("."))
                names.update(f"{module}.{a.name}".lstrip(".") for a in node.names)
    return names


def test_no_plugin_module_is_over_500_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in PLUGIN.rglob("*.py")}
    assert max(sizes.values()) <= 500, sizes


def test_the_controller_imports_no_panel_and_panels_import_no_panel():
    for name in CONTROLLER_SIDE:
        imported = _imports(PLUGIN / f"{name}.py")
        assert not any("_panels" in m or "_widget" in m for m in imported), (name, imported)
    panels = sorted((PLUGIN / "_panels").glob("*.py"))
    assert len(panels) == 7  # __init__ + study, lesions, measurement, response, saving, pacs
    for panel in panels:
        if panel.name == "__init__.py":
            continue
        others = {p.stem for p in panels} - {panel.stem, "__init__"}
        imported = _imports(panel)
        assert not any(m.split(".")[0] in others or m in others for m in imported), panel.name
