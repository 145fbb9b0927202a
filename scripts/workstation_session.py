"""A radiologist's session on the real HCC_006 study, driven through the real widget.

What it does, as a reader would (every step through the docked widget, the canvas and Qt
events, no private shortcuts into the core):

1. opens napari (1920 x 1080), docks *Lesion assessment*, types reader ``R1``;
2. *Open study* on ``../shared/data/hcc-tace-seg/HCC_006`` (arterial series and the one-slice
   PRE LIVER series beside it), waits for it to load;
3. *New target*, then drags T1's line on the canvas across the readers' nodule (Im 37);
4. saves, takes screenshots, closes the viewer;
5. opens napari again, reader ``R1``, the same study: the "resume or new version" dialog
   appears (it is grabbed and answered "resume"), and checks that T1 is back, intact, and the
   file unchanged;
6. a click measurement where the truth is known (HCC_006's nodule has no published position):
   the real 3D-IRCADb-01 patient 1 CT, Shift+M and a click at tumour 01's deepest point (its
   ``truth.json``), the proposal against the expert's diameter, Kind ``longest`` (a
   portal-venous image), Shift+A pressed with the lines layer active; saved, closed, opened
   again: the contour is drawn again;
7. the README's picture: the synthetic patient SYN-001, T1 from one click at its seed, accepted,
   baseline and follow-up side by side.

It prints what it checked and writes screenshots to ``--out`` (default ``/tmp/workstation``).
Run by hand, under Xvfb when there is no screen::

    xvfb-run -a -s "-screen 0 1920x1080x24" env PYTHONPATH=$PWD:$PWD/plugins \\
        python scripts/workstation_session.py --out /tmp/workstation

Autosaved readings go to ``--out``/autosave (``LESION_TOOL_SAVE_DIR``), never to the home
directory. Exit code 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import napari  # noqa: TID251 - a script driving the napari plugin, like benchmarks/
import numpy as np
from lesion_napari._display import display_tools
from lesion_napari._widget import LesionWidget
from napari._qt.dialogs.qt_notification import NapariQtNotification  # noqa: TID251
from qtpy.QtCore import QEvent, QPointF, Qt, QTimer  # noqa: TID251
from qtpy.QtGui import QMouseEvent  # noqa: TID251
from qtpy.QtTest import QTest  # noqa: TID251
from qtpy.QtWidgets import QApplication, QDialog  # noqa: TID251
from vispy.app.canvas import MouseEvent

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT.parent / "shared" / "data" / "hcc-tace-seg" / "HCC_006"
SCREEN = (1920, 1080)
T1_VOXELS = ((72.0, 342.0, 156.0), (72.0, 315.0, 188.0))
"""T1's line on HCC_006's arterial series, (z, y, x) array voxels: across the readers' viable
nodule along its oblique long axis on Se 103 · Im 37 (the nodule's position and this line from
``tests/core/test_measure_tcia.py``): 41.9 voxels of 0.78 mm, 32.7 mm; the three readers
measured 32.8, 34.0 and 28.9 mm."""
READERS_MM = (28.9, 34.0)
SYNTHETIC = ROOT / "test_images" / "synthetic" / "SYN-001"
IRCADB = ROOT.parent / "shared" / "data" / "ircadb" / "3Dircadb1.1"
ROI_VOXELS = ((72.0, 255.0, 105.0), (72.0, 280.0, 130.0))
"""An ellipse ROI in the right lobe's parenchyma beside T1 (HCC_006 liver about 105 HU)."""


def small(path: Path) -> None:
    """Store a screenshot with a 256-colour palette (the docs keep each under 300 KB)."""
    from PIL import Image

    with Image.open(path) as image:
        quantized = image.convert("RGB").quantize(colors=256)
    quantized.save(path, optimize=True)


def wait_until(app: object, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the Qt event loop until ``condition()`` holds; raise after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def pause(app: object, seconds: float) -> None:
    """Let Qt draw for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


class Session:
    """One napari window with the widget docked, and the checks made on it."""

    def __init__(self, out: Path, failures: list[str]) -> None:

        self.out = out
        self.failures = failures
        self.viewer = napari.Viewer(show=True, title="lesion-tool session")
        self.app = QApplication.instance()
        window = self.viewer.window._qt_window
        window.resize(*SCREEN)
        window.move(0, 0)
        self.widget = LesionWidget(self.viewer)
        self.viewer.window.add_dock_widget(self.widget, area="right", name="Lesion assessment")
        pause(self.app, 0.5)

    def check(self, ok: bool, what: str) -> None:
        """Print one check; remember a failure."""
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            self.failures.append(what)

    def type_reader(self, reader: str) -> None:
        """Type the reader id into the study panel's field and press Enter."""

        edit = self.widget.study.reader_edit
        edit.setFocus()
        edit.clear()
        QTest.keyClicks(edit, reader)
        QTest.keyClick(edit, Qt.Key_Return)
        pause(self.app, 0.1)

    def open_study(self, folder: Path) -> float:
        """Open a study as *Open study…* does (the folder dialog answered); seconds taken."""
        start = time.monotonic()
        self.widget.controller.open_study(folder)
        wait_until(self.app, lambda: not self.widget.controller.loading, 180, "the study")
        pause(self.app, 0.5)
        return time.monotonic() - start

    def drag(self, start_voxel: tuple, end_voxel: tuple) -> None:
        """Press, move and release the left button on the canvas between two voxels (on the
        slice of the first), as a hand does: to draw a line or a ROI."""
        c = self.widget.controller
        view = c.current_view
        p0w, p1w = (view.geometry.voxel_to_world(np.asarray(v)) for v in (start_voxel, end_voxel))
        self.viewer.dims.set_point(0, float(p0w[0]))
        pause(self.app, 0.2)
        canvas = self.viewer.window._qt_viewer.canvas
        transform = canvas.view.transform * canvas.view.scene.transform
        p0, p1 = (np.asarray(transform.map([w[2], w[1]])[:2]) for w in (p0w, p1w))
        scene = canvas._scene_canvas
        press = MouseEvent(pos=tuple(p0), modifiers=(), button=1, type="mouse_press")
        scene.events.mouse_press(pos=tuple(p0), modifiers=(), button=1)
        for t in np.linspace(0, 1, 8)[1:]:
            pos = tuple(p0 + t * (p1 - p0))
            scene.events.mouse_move(pos=pos, modifiers=(), button=1, press_event=press)
            pause(self.app, 0.02)
        scene.events.mouse_release(pos=tuple(p1), modifiers=(), button=1)
        pause(self.app, 0.2)

    def key(self, key: int, shift: bool = False) -> None:
        """A key typed on the canvas as a hand does (Shift held down first when asked)."""
        native = self.viewer.window._qt_viewer.canvas.native
        if shift:
            QTest.keyPress(native, Qt.Key_Shift)
        QTest.keyClick(native, key, Qt.ShiftModifier if shift else Qt.NoModifier)
        if shift:
            QTest.keyRelease(native, Qt.Key_Shift, Qt.ShiftModifier)
        pause(self.app, 0.1)

    def click(self, voxel: tuple) -> None:
        """Press and release the left button on the canvas at a voxel (on its slice)."""
        view = self.widget.controller.current_view
        world = view.geometry.voxel_to_world(np.asarray(voxel, dtype=float))
        self.viewer.dims.set_point(0, float(world[0]))
        pause(self.app, 0.2)
        canvas = self.viewer.window._qt_viewer.canvas
        transform = canvas.view.transform * canvas.view.scene.transform
        pos = tuple(float(v) for v in transform.map([world[2], world[1]])[:2])
        scene = canvas._scene_canvas
        scene.events.mouse_press(pos=pos, modifiers=(), button=1)
        scene.events.mouse_release(pos=pos, modifiers=(), button=1)
        pause(self.app, 0.1)

    def hover(self, voxel: tuple) -> str:
        """Move the mouse over a voxel of the current image; the status bar text after it."""

        view = self.widget.controller.current_view
        world = view.geometry.voxel_to_world(np.asarray(voxel, dtype=float))
        canvas = self.viewer.window._qt_viewer.canvas
        transform = canvas.view.transform * canvas.view.scene.transform
        x, y = (float(v) for v in transform.map([world[2], world[1]])[:2])
        native = canvas.native
        for target in (self.viewer.window._qt_window, native):
            QApplication.sendEvent(target, QEvent(QEvent.Enter))
        event = QMouseEvent(
            QEvent.MouseMove, QPointF(x, y), Qt.NoButton, Qt.NoButton, Qt.NoModifier
        )
        QApplication.sendEvent(native, event)
        pause(self.app, 0.1)
        self.viewer.window._qt_window.status_thread.calculate_status()
        pause(self.app, 0.2)
        status = self.viewer.status
        return status.get("coordinates", "") if isinstance(status, dict) else str(status)

    def save_visible(self) -> bool:
        """Whether the Save button is on the 1080p screen without scrolling."""
        button = self.widget.saving.save_button
        if not button.isVisible():
            return False
        window = self.viewer.window._qt_window
        top_left = button.mapTo(window, button.rect().topLeft())
        bottom = top_left.y() + button.height()
        scroll = self.widget.saving.parentWidget()
        while scroll is not None and not hasattr(scroll, "verticalScrollBar"):
            scroll = scroll.parentWidget()
        visible = button.visibleRegion().boundingRect().height() == button.height()
        return visible and bottom <= window.height()

    def heights(self) -> str:
        """The panels' heights and the room the dock has (pixels), for the report."""
        from qtpy.QtWidgets import QScrollArea  # noqa: TID251

        w = self.widget
        scroll = w.findChild(QScrollArea)
        parts = [
            f"{name} {getattr(w, name).height()}"
            for name in ("study", "lesions", "response", "measurement", "saving")
        ]
        body = scroll.widget()
        return (
            f"panels {', '.join(parts)}; body {body.height()} (hint {body.sizeHint().height()}) "
            f"in a {scroll.viewport().height()} px viewport; body min width "
            f"{body.minimumSizeHint().width()}, viewport width {scroll.viewport().width()}"
        )

    def screenshot(self, name: str, wait_s: float = 0.5) -> Path:
        """The whole window (canvas, docks, status bar) as a PNG, the notifications (read and
        printed by then) closed so they do not hide the canvas."""
        pause(self.app, wait_s)
        for toast in self.viewer.window._qt_window.findChildren(NapariQtNotification):
            toast.close()
        pause(self.app, 0.3)
        path = self.out / name
        self.viewer.screenshot(str(path), canvas_only=False, flash=False)
        small(path)
        print(f"      screenshot {path} ({path.stat().st_size // 1024} KB)")
        return path

    def close(self) -> None:
        """Close napari's window, as the reader does at the end of the day."""
        self.viewer.close()
        pause(self.app, 0.5)


def first_reading(out: Path, failures: list[str]) -> tuple[Path, str]:
    """Open, enter R1, draw T1, save, screenshot, close; returns the file and its text."""
    s = Session(out, failures)
    c = s.widget.controller
    s.type_reader("R1")
    seconds = s.open_study(STUDY)
    s.check(list(c.views) == ["baseline"], f"HCC_006 opened in {seconds:.1f} s: one timepoint")
    view = c.current_view
    s.check(view.volume.shape[0] == 109, f"arterial series measured on ({view.image.name})")
    nsteps = s.viewer.dims.nsteps[0]
    s.check(nsteps == 109, f"the slider has {nsteps} steps for 109 slices")
    s.check(bool(c.phase_notes), "phase warning shown: " + " ".join(c.phase_notes.values())[:80])
    s.check(s.save_visible(), "Save button visible on a 1920 x 1080 screen: " + s.heights())
    s.screenshot("1_opened.png")

    s.widget.lesions.new_target_button.click()
    s.drag(*T1_VOXELS)
    t1 = c.session.timepoint("baseline").lesion("T1")
    s.check(t1 is not None, "T1 recorded from one drag")
    if t1 is not None:
        lo, hi = READERS_MM
        mm = t1.viable_diameter_mm
        s.check(
            mm is not None and lo - max(3.0, 0.1 * lo) <= mm <= hi + max(3.0, 0.1 * hi),
            f"T1 viable diameter {mm} mm (readers {lo}-{hi} mm)",
        )
    table = s.widget.lesions.table
    row = [table.item(0, k).text() for k in range(table.columnCount())] if table.rowCount() else []
    s.check(bool(row) and row[-1] == "Se 103 · Im 37", f"lesion table row {row}")
    status = s.hover((72, 300, 150))
    s.check(" HU · Se 103 · Im " in status, f"status bar: {status}")
    tools = display_tools(s.viewer)
    tools.panel.ellipse_button.click()
    s.drag(*ROI_VOXELS)
    roi = tools.roi.last
    s.check(
        roi is not None and 80 <= roi.mean <= 130,
        f"ellipse ROI in the liver: {tools.roi.text}",
    )
    s.widget.saving.save_button.click()
    path = c.session.path
    s.check(path is not None and path.exists(), f"saved to {path}")
    s.hover((72, 300, 150))
    s.screenshot("2_t1_drawn.png")
    text = path.read_text()
    saved = json.loads(text)
    s.check(saved.get("reader") == "R1", "the file says reader R1")
    s.close()
    return path, text


def resumed_reading(out: Path, failures: list[str], path: Path, text: str) -> None:
    """Open napari again: the reading is offered for resume and comes back intact."""

    s = Session(out, failures)
    c = s.widget.controller
    offered: list[str] = []

    def answer_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(100, answer_dialog)
            return
        offered.append(dialog.windowTitle())
        dialog.grab().save(str(out / "3_resume_dialog.png"))
        dialog.accept()  # the first item: "Resume ..."

    s.type_reader("R1")
    QTimer.singleShot(100, answer_dialog)
    s.open_study(STUDY)
    s.check(bool(offered), f"resume offered: {offered}")
    s.check(c.session.path == path, f"the same file resumed: {c.session.path}")
    t1 = c.session.timepoint("baseline").lesion("T1")
    s.check(t1 is not None, f"T1 back: {t1.viable_diameter_mm if t1 else None} mm")
    s.check(path.read_text() == text, "the file is unchanged before any edit")
    z = s.viewer.dims.point[0]
    view = c.current_view
    if t1 is not None and view is not None:
        t1_z = view.geometry.voxel_to_world(np.asarray(t1.line.start, dtype=float))[0]
        s.check(abs(z - t1_z) < 1e-6, "the viewer opens at T1's slice")
    s.screenshot("4_resumed.png")
    s.close()


def click_reading(out: Path, failures: list[str]) -> None:
    """IRCADb tumour 01: a click proposal, accepted by its key, saved; reopened: its contour."""
    from lesion_napari._views import CONTOUR

    truth = json.loads((IRCADB / "truth.json").read_text())["tumours"]["livertumor01"]
    expert = float(truth["long_axis_mm"])
    s = Session(out, failures)
    c = s.widget.controller
    s.type_reader("R1")
    s.viewer.open(str(IRCADB / "PATIENT_DICOM"), plugin="lesion-tool")
    wait_until(s.app, lambda: "baseline" in c.views and not c.loading, 180, "IRCADb")
    pause(s.app, 0.5)
    s.key(Qt.Key_M, shift=True)
    s.check(c.click_armed, "Shift+M arms the click")
    s.click(tuple(float(v) for v in truth["deepest_point_zyx"]))
    wait_until(s.app, lambda: c.proposal is not None and not c.measuring, 120, "the proposal")
    p = c.proposal
    s.check(
        abs(p.whole_mm - expert) <= max(3.0, 0.1 * expert),
        f"click proposal {p.whole_mm:.1f} mm, expert {expert:.1f} mm (within max(3 mm, 10 %))",
    )
    text = s.widget.measurement.proposal_text.text()
    s.check("portal-venous" in text, "the panel says why there is no viable part")
    lesions = s.widget.lesions
    s.check(
        not lesions.accept_button.isEnabled()
        and "viable part was not measured" in lesions.proposal_label.text()
        and lesions.accept_longest_button.isVisible(),
        "before Accept: disabled, the core's reason beside it, 'Accept as whole lesion' offered",
    )
    s.screenshot("5_click_proposal.png")
    s.widget.measurement.kind_combo.setCurrentText("longest")  # RECIST 1.1 on this series
    s.check(lesions.accept_button.isEnabled(), "Kind longest: Accept enabled")
    view = c.current_view
    s.viewer.layers.selection.active = view.lines  # as after drawing a line by hand
    s.key(Qt.Key_A, shift=True)
    t1 = c.session.timepoint("baseline").lesion("T1")
    s.check(
        t1 is not None and t1.segmentation is not None,
        "Shift+A with the lines layer active accepted T1 with its contour",
    )
    s.widget.saving.save_button.click()
    path = c.session.path
    s.check(path is not None and path.exists(), f"saved to {path}")
    s.close()

    s = Session(out, failures)
    c = s.widget.controller
    s.type_reader("R1")

    def answer_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(100, answer_dialog)
            return
        dialog.accept()  # "Resume ..."

    QTimer.singleShot(100, answer_dialog)
    s.viewer.open(str(IRCADB / "PATIENT_DICOM"), plugin="lesion-tool")
    wait_until(s.app, lambda: "baseline" in c.views and not c.loading, 180, "IRCADb again")
    pause(s.app, 0.5)
    view = c.views["baseline"]
    roles = [str(r) for r in view.lines.features["role"]]
    s.check(CONTOUR in roles, f"reopened: T1's contour drawn again (lines: {roles})")
    s.screenshot("6_click_reopened.png")
    s.close()


def overview(out: Path, failures: list[str]) -> None:
    """The README's picture: the synthetic patient SYN-001 (three timepoints), T1 measured at
    baseline from one click at its seed (``truth.json``), baseline | follow-up side by side."""
    truth = json.loads((SYNTHETIC / "truth.json").read_text())["timepoints"][0]["lesions"][0]
    s = Session(out, failures)
    c = s.widget.controller
    s.type_reader("R1")
    s.open_study(SYNTHETIC)
    s.check(len(c.views) == 3, f"SYN-001: {len(c.views)} timepoints")
    s.key(Qt.Key_T, shift=True)
    s.key(Qt.Key_M, shift=True)
    s.click(tuple(float(v) for v in truth["seed_voxel"]))
    wait_until(s.app, lambda: c.proposal is not None and not c.measuring, 120, "the proposal")
    s.key(Qt.Key_A, shift=True)
    t1 = c.session.timepoint("baseline").lesion("T1")
    viable, whole = truth["viable_diameter_mm"], truth["longest_diameter_mm"]
    s.check(
        t1 is not None and abs((t1.viable_diameter_mm or 0) - viable) <= max(3.0, 0.1 * viable),
        f"SYN-001 T1 viable {t1.viable_diameter_mm if t1 else None} mm (truth {viable:.1f}), "
        f"whole {t1.longest_diameter_mm if t1 else None} mm (truth {whole:.1f})",
    )
    s.widget.study.side_by_side_box.setChecked(True)
    pause(s.app, 1.0)
    s.screenshot("7_overview.png")
    s.close()


def main(argv: list[str] | None = None) -> int:
    """Run the session; 0 when every check passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/workstation"))
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    os.environ["LESION_TOOL_SAVE_DIR"] = str(out / "autosave")
    for old in (out / "autosave").glob("*.json"):
        old.unlink()
    if not STUDY.is_dir():
        print(f"{STUDY}: not found (see ../shared/data/README.md)", file=sys.stderr)
        return 1
    failures: list[str] = []
    path, text = first_reading(out, failures)
    resumed_reading(out, failures, path, text)
    if (IRCADB / "truth.json").is_file():
        click_reading(out, failures)
    else:
        print(f"{IRCADB}: not found, the click measurement was not played", file=sys.stderr)
        failures.append("IRCADb case missing")
    overview(out, failures)
    print(f"{len(failures)} check(s) failed" if failures else "every check passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
