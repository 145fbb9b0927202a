"""The widget's panels: each shows part of the controller's state and calls its operations.

Panels import the controller's module for types and constants only, never each other: they
subscribe to the controller's topics instead of refreshing one another.
"""

from __future__ import annotations

from qtpy.QtWidgets import QAbstractButton, QWidget

from lesion_napari._controller import Controller


def follow(panel: QWidget, controller: Controller, topics: tuple[str, ...], callback) -> None:
    """Call ``callback`` on each of the controller's ``topics`` while ``panel`` exists."""
    for topic in topics:
        controller.subscribe(topic, callback)

    def forget(*_: object) -> None:
        for topic in topics:
            controller.unsubscribe(topic, callback)

    panel.destroyed.connect(forget)


def allow(button: QAbstractButton | QWidget, reason: str | None, tip: str = "") -> None:
    """Enable a control, or disable it with the reason as its tooltip."""
    button.setEnabled(reason is None)
    button.setToolTip(tip if reason is None else f"Not now: {reason}")


__all__ = ["Controller", "allow", "follow"]
