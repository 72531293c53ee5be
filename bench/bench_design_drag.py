"""Design mode on a 500-widget screen: dragging 20 selected widgets, and opening the screen.

The generated screen of ``bench_screen_load`` (500 widgets bound to sim/local tags through a
real ``TagBroker`` and ``QtTagBridge``) in a 1920 x 1080 window, offscreen.

- **drag**: 20 neighbouring widgets (a 4 x 5 block) selected on the design overlay, dragged
  by real mouse-move events (and, printed beside, 20 spread over the whole screen); a
  frame is one move event plus the processing and painting it causes (snap, preview on the
  canvas, guides, overlay), timed to the end of ``processEvents``. Raw: the operator view's
  own repaint of the same screen (``update()`` of the whole canvas + ``processEvents``) in the
  same run. The release (one edit to the round-trip document) is timed apart.
- **open**: ``load_screen_file`` + build + first paint of the operator view, against the same
  plus opening the file as a round-trip document and laying the design overlay over it.

Run: ``.venv/bin/python bench/bench_design_drag.py [--frames 200] [--runs 5] [--check]``.
Targets: drag median <= 16 ms, p99 <= 33 ms; design open <= 1.5x the operator open.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_screen_load import COLUMNS, _project_yaml, _screen_yaml
from figures import figure
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from hmi.drivers.defaults import default_registry
from hmi.model.design.document import ScreenDocument
from hmi.model.screens.loader import Project, load_project, load_screen_file
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.views.designer.editor import ScreenEditor
from hmi.views.designer.overlay import DesignOverlay
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.context import WidgetContext

SIZE = (1920, 1080)
SELECTED = 20
MEDIAN_MS, P99_MS, OPEN_RATIO = 16.0, 33.0, 1.5


def _ctx(bridge: QtTagBridge, project: Project, root: Path) -> WidgetContext:
    return WidgetContext(
        bridge=bridge, tags=project.tags, navigate=lambda _id: None,
        open_faceplate=lambda _t, _p: None, project_root=root, screen_id="big",
    )  # fmt: skip


def _window() -> QWidget:
    window = QWidget()
    window.resize(*SIZE)
    QVBoxLayout(window).setContentsMargins(0, 0, 0, 0)
    return window


def _settle() -> None:
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def open_screen(
    path: Path, project: Project, bridge: QtTagBridge, *, design: bool
) -> tuple[float, QWidget, ScreenCanvas, ScreenEditor | None, DesignOverlay | None]:
    """Seconds to load, build and first-paint the screen (in design mode: with its document
    and overlay); the window and what was built."""
    t0 = time.perf_counter()
    screen = load_screen_file(path, project)
    window = _window()
    canvas = ScreenCanvas.for_screen(screen, _ctx(bridge, project, path.parent), {}, window)
    window.layout().addWidget(canvas)
    editor = overlay = None
    if design:
        editor = ScreenEditor(ScreenDocument.open(path), canvas, rebuild=lambda _doc: None)
        overlay = DesignOverlay(editor)
    window.show()
    _settle()
    window.grab()
    return time.perf_counter() - t0, window, canvas, editor, overlay


def _close(window: QWidget, canvas: ScreenCanvas) -> None:
    canvas.release()
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents()


def operator_frames(canvas: ScreenCanvas, frames: int) -> list[float]:
    samples = []
    for _ in range(frames):
        t0 = time.perf_counter()
        canvas.update()
        QApplication.processEvents()
        samples.append(time.perf_counter() - t0)
    return samples


def drag_frames(
    editor: ScreenEditor, overlay: DesignOverlay, frames: int
) -> tuple[list[float], float]:
    """Per-frame seconds of a drag of the selection, and the release's."""
    x0, y0, _w, _h = editor.canvas.stage_rect()
    scale = editor.canvas.scale
    first = editor.selection[0]
    rx, ry, rw, rh = editor.rect(first)
    start = QPoint(round(x0 + (rx + rw / 2) * scale), round(y0 + (ry + rh / 2) * scale))
    QApplication.sendEvent(overlay, _mouse(QEvent.Type.MouseButtonPress, start, overlay))
    samples = []
    for i in range(1, frames + 1):
        at = start + QPoint(i % 97, (i * 3) % 61)  # wanders over snap lines and edges
        event = _mouse(QEvent.Type.MouseMove, at, overlay)
        t0 = time.perf_counter()
        QApplication.sendEvent(overlay, event)
        QApplication.processEvents()
        samples.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    QApplication.sendEvent(overlay, _mouse(QEvent.Type.MouseButtonRelease, at, overlay))
    QApplication.processEvents()
    return samples, time.perf_counter() - t0


def _mouse(kind: QEvent.Type, at: QPoint, widget: QWidget) -> QMouseEvent:
    buttons = (
        Qt.MouseButton.NoButton
        if kind == QEvent.Type.MouseButtonRelease
        else Qt.MouseButton.LeftButton
    )
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    return QMouseEvent(kind, QPointF(at), QPointF(widget.mapToGlobal(at)), button, buttons,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip


def _ms(samples: list[float], q: float | None = None) -> float:
    if q is None:
        return statistics.median(samples) * 1000
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--widgets", type=int, default=500)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "project.yaml").write_text(_project_yaml(), encoding="utf-8")
        path = root / "big.yaml"
        path.write_text(_screen_yaml(args.widgets), encoding="utf-8")
        project = load_project(root)
        broker = TagBroker(project.tags, default_registry(), project.file.connections)
        bridge = QtTagBridge(broker, CommandService(broker))
        opens: dict[bool, list[float]] = {False: [], True: []}
        for run in range(args.runs + 1):  # the first of each is a warm-up
            for design in (False, True):
                took, window, canvas, _e, _o = open_screen(path, project, bridge, design=design)
                _close(window, canvas)
                if run:
                    opens[design].append(took)
        _t, window, canvas, editor, overlay = open_screen(path, project, bridge, design=True)
        assert editor is not None and overlay is not None
        every = list(editor.rects())
        operator_frames(canvas, 10)
        raw = operator_frames(canvas, args.frames)
        # a block of neighbours (4 x 5, as a rubber band takes them), then 20 spread over the
        # whole screen (every 25th: the dirty region's bounds are the screen)
        editor.select([every[row * COLUMNS + col] for row in range(4) for col in range(5)])
        drag, release = drag_frames(editor, overlay, args.frames)
        editor.select(every[:: len(every) // SELECTED][:SELECTED])
        spread, _release = drag_frames(editor, overlay, args.frames)
        assert editor.stack.count() == 2, "a drag was not one edit"
        _close(window, canvas)
    med, p99, raw_med = _ms(drag), _ms(drag, 0.99), _ms(raw)
    op_open, de_open = _ms(opens[False]), _ms(opens[True])
    ratio = de_open / op_open
    print(
        f"drag of {SELECTED} of {args.widgets} widgets, {args.frames} frames: median "
        f"{med:.1f} ms, p99 {_ms(drag, 0.99):.1f} ms, max {max(drag) * 1000:.1f} ms "
        f"(targets <= {MEDIAN_MS:.0f} / {P99_MS:.0f} ms); the release (one edit) "
        f"{release * 1000:.1f} ms"
    )
    print(f"20 spread over the screen: median {_ms(spread):.1f} ms, p99 {_ms(spread, 0.99):.1f} ms")
    print(
        f"operator view's repaint of the same screen: median {raw_med:.1f} ms, "
        f"p99 {_ms(raw, 0.99):.1f} ms; drag / repaint {med / raw_med:.2f}"
    )
    print(
        f"open, median of {args.runs}: operator view {op_open:.1f} ms, design mode "
        f"{de_open:.1f} ms, ratio {ratio:.2f} (target <= {OPEN_RATIO})"
    )
    figure("design_drag_median", f"design drag, {SELECTED} of {args.widgets} widgets: median frame",
           med, "ms", target=f"<= {MEDIAN_MS:.0f}", met=med <= MEDIAN_MS, raw=raw_med,
           raw_name="the operator view's repaint of the same screen")  # fmt: skip
    figure("design_drag_p99", f"design drag, {SELECTED} of {args.widgets} widgets: p99 frame",
           p99, "ms", target=f"<= {P99_MS:.0f}", met=p99 <= P99_MS, raw=_ms(raw, 0.99),
           raw_name="the operator view's repaint of the same screen")  # fmt: skip
    figure("design_open", f"open a {args.widgets}-widget screen in design mode", de_open, "ms",
           target=f"<= {OPEN_RATIO}x operator", met=ratio <= OPEN_RATIO, raw=op_open,
           raw_name="the operator view opening it")  # fmt: skip
    del app
    missed = med > MEDIAN_MS or p99 > P99_MS or ratio > OPEN_RATIO
    if args.check and missed:
        print("FAIL: a target was missed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
