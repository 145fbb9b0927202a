"""Fast constructors for frozen, slotted dataclasses built in hot loops."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["slot_constructor"]


def slot_constructor(cls: type, *, keywords: bool = False) -> Callable[..., Any]:
    """A constructor of the frozen, slotted dataclass ``cls`` that sets its slots directly.

    The frozen ``__init__`` sets each field through ``object.__setattr__`` by name, which costs
    more than the rest of building a small record; this one calls each slot's descriptor and
    skips ``__init__`` and ``__post_init__``. Every field must be given (no defaults): in field
    order, or by name with ``keywords`` (a misspelt or missing name is a ``TypeError``). For hot
    paths only (lesions while loading a trial, result rows while scoring it), with values already
    of the field types; tests check the objects equal those the dataclass builds.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    star = "*, " if keywords else ""
    source = (
        f"def make({star}{', '.join(names)}):\n    self = new(cls)\n"
        + "".join(f"    set_{name}(self, {name})\n" for name in names)
        + "    return self\n"
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": getattr(cls, name).__set__ for name in names})
    exec(compile(source, f"<{cls.__name__} slot constructor>", "exec"), namespace)
    return namespace["make"]
