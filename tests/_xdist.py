"""How ``make test`` splits the suite between pytest-xdist workers (``--dist loadgroup``).

Each worker is a pytest session of its own: module- and session-scoped fixtures are built once per
worker that needs them. A test module therefore stays on one worker (its module fixtures are built
once), and so do the modules sharing a session fixture that caches costly work (a measurement, a
degraded image, the negative clicks), so it is computed once as in a single process. Fixtures that
only read a volume (``ircadb``, ``hcc006_ap``, ``synthetic_patient``) are cheap enough to read on
both workers, so they do not join modules. A test must never rely on another test having run
before it (on another worker it has not).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

__all__ = ["SHARED_WORK_FIXTURES", "module_of", "xdist_groups"]

SHARED_WORK_FIXTURES = (
    "ircadb_arterial",
    "ircadb_negative_points",
    "ircadb_slabbed",
    "hcc006_measured",
)


class _Item(Protocol):
    nodeid: str
    fixturenames: Iterable[str]


def module_of(item: _Item) -> str:
    """The test module's path of a collected test (``tests/core/test_x.py``)."""
    return item.nodeid.split("::", 1)[0]


def _find(parent: dict[str, str], name: str) -> str:
    parent.setdefault(name, name)
    while parent[name] != name:
        parent[name] = parent[parent[name]]
        name = parent[name]
    return name


def xdist_groups(
    items: Iterable[_Item], shared: Iterable[str] = SHARED_WORK_FIXTURES
) -> dict[str, str]:
    """Each test module's group: the module itself, joined with every module whose tests use the
    same fixture of ``shared`` (directly or through another fixture: ``fixturenames`` is the
    closure). A group is named after one of its modules."""
    shared = tuple(shared)
    parent: dict[str, str] = {}
    modules: list[str] = []
    for item in items:
        module = module_of(item)
        if module not in parent:
            modules.append(module)
        root = _find(parent, module)
        for name in shared:
            if name in item.fixturenames:
                other = _find(parent, f"fixture:{name}")
                if other != root:
                    # a module names the group, never the fixture's placeholder
                    if other.startswith("fixture:"):
                        parent[other] = root
                    else:
                        parent[root] = other
                        root = other
    return {module: _find(parent, module) for module in modules}
