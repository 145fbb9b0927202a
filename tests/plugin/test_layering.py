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
    names = {p.stem for p in panels}
    assert {"study", "lesions", "measurement", "response", "saving", "pacs"} <= names
    for panel in panels:
        if panel.name == "__init__.py":
            continue
        others = {p.stem for p in panels} - {panel.stem, "__init__"}
        imported = _imports(panel)
        assert not any(m.split(".")[0] in others or m in others for m in imported), panel.name


def _import_time_imports(path: Path) -> set[str]:
    """The plugin modules a module imports when it is imported (top level, outside
    ``if TYPE_CHECKING:``), as dotted names under the plugin like ``_panels.study``."""
    package = path.relative_to(PLUGIN).parent.parts
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
            if not isinstance(sub, ast.ImportFrom):
                continue
            module = sub.module or ""
            if sub.level:
                base = list(package[: len(package) - (sub.level - 1)])
                parts = [*base, *module.split(".")] if module else base
            elif module.startswith("lesion_napari"):
                parts = module.split(".")[1:]
            else:
                continue
            for alias in sub.names:
                full = ".".join([*parts, alias.name])
                name = full if (PLUGIN / (full.replace(".", "/") + ".py")).exists() else None
                names.add(name or ".".join(parts))
    names.discard("")
    return {n.removesuffix(".__init__") for n in names}


def test_no_import_cycle_among_plugin_modules():
    modules = {
        ".".join(p.relative_to(PLUGIN).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PLUGIN.rglob("*.py")
    }
    graph = {m: _import_time_imports(p) & set(modules) - {m} for m, p in modules.items()}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        if state.get(m) == 2:
            return
        assert state.get(m) != 1, " -> ".join([*trail, m])
        state[m] = 1
        for n in sorted(graph[m]):
            visit(n, [*trail, m])
        state[m] = 2

    for m in sorted(graph):
        visit(m, [])
    # the panels are above the controller: it never reaches them, even through others
    reach = {"_controller"}
    todo = ["_controller"]
    while todo:
        for n in graph[todo.pop()] - reach:
            reach.add(n)
            todo.append(n)
    assert not {m for m in reach if m.startswith("_panels") or m == "_widget"}, reach
