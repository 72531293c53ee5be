"""Opening a 500-widget screen: load (parse + validate), build, first paint.

A generated project with one screen of 500 widgets (value, bar, indicator, symbol, label,
button in turn, on a 20 x 25 grid at 1920 x 1080) bound to 60 sim/local tags through a real
``TagBroker`` and ``QtTagBridge``. One run: ``load_screen_file`` -> ``ScreenCanvas`` in a
1920 x 1080 window -> show -> layout -> ``grab()`` (renders every widget once). Against the
raw library doing the same job: 500 plain ``QLabel``s with geometry on a ``QWidget``, shown
and grabbed. Median over ``--runs`` runs after one warm-up; offscreen.

Run: ``.venv/bin/python bench/bench_screen_load.py [--runs 10] [--widgets 500] [--check]``.
``--check`` exits 1 when ours is above the 300 ms target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from hmi.drivers.defaults import default_registry
from hmi.model.screens.loader import Project, load_project, load_screen_file
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.context import WidgetContext

TARGET_MS = 300.0
SIZE = (1920, 1080)
COLUMNS = 20
SIM_TAGS = 50
LOCAL_TAGS = 10


def _project_yaml() -> str:
    lines = [
        "project: {name: Bench, start_screen: big}",
        "tags:",
    ]
    for i in range(SIM_TAGS):
        lines.append(
            f"  S{i}: {{address: 'sim://sine?period={10 + i}&min=0&max=100', units: '%', "
            "range: [0, 100], format: '.1f'}"
        )
    for i in range(LOCAL_TAGS):
        lines.append(
            f"  L{i}: {{address: 'local://L{i}?type=bool&initial=false', datatype: bool, "
            "states: {0: 'OFF', 1: 'ON'}, write: {}}"
        )
    lines += ["screens: [big.yaml]"]
    return "\n".join(lines) + "\n"


def _widget(i: int, rect: str) -> str:
    tag = f"S{i % SIM_TAGS}"
    local = f"L{i % LOCAL_TAGS}"
    kinds = (
        f"{{type: value, tag: {tag}, rect: {rect}}}",
        f"{{type: bar, tag: {tag}, orientation: horizontal, rect: {rect}}}",
        f"{{type: indicator, tag: {local}, rect: {rect}, states: "
        "[{value: 0, text: 'OFF'}, {value: 1, text: 'ON', look: active}]}",
        f"{{type: symbol, symbol: pump, tag: {local}, rect: {rect}}}",
        f"{{type: label, text: 'Label {i}', rect: {rect}}}",
        f"{{type: button, text: 'Start {i}', rect: {rect}, "
        f"action: {{kind: set, tag: {local}, value: true}}}}",
    )
    return f"  - {kinds[i % len(kinds)]}"


def _screen_yaml(count: int) -> str:
    rows = -(-count // COLUMNS)
    cell_w, cell_h = SIZE[0] / COLUMNS, SIZE[1] / rows
    lines = ["screen: {id: big, title: Bench, level: 2, size: [1920, 1080]}", "widgets:"]
    for i in range(count):
        x, y = (i % COLUMNS) * cell_w, (i // COLUMNS) * cell_h
        rect = f"[{x + 3:.0f}, {y + 3:.0f}, {cell_w - 6:.0f}, {cell_h - 6:.0f}]"
        lines.append(_widget(i, rect))
    return "\n".join(lines) + "\n"


def _window() -> QWidget:
    window = QWidget()
    window.resize(*SIZE)
    QVBoxLayout(window).setContentsMargins(0, 0, 0, 0)
    return window


def _paint(window: QWidget) -> None:
    window.show()
    QApplication.sendPostedEvents()  # layout requests and resize events
    QApplication.processEvents()
    window.grab()  # renders every widget once, as the first frame does


def run_ours(path: Path, project: Project, bridge: QtTagBridge) -> tuple[float, float, float]:
    """(load, build, paint) seconds for one run."""
    t0 = time.perf_counter()
    screen = load_screen_file(path, project)
    t1 = time.perf_counter()
    ctx = WidgetContext(
        bridge=bridge,
        tags=project.tags,
        navigate=lambda screen_id: None,
        open_faceplate=lambda template, params: None,
        project_root=path.parent,
        screen_id="big",
    )
    window = _window()
    canvas = ScreenCanvas.for_screen(screen, ctx, project.templates, window)
    window.layout().addWidget(canvas)
    t2 = time.perf_counter()
    _paint(window)
    t3 = time.perf_counter()
    canvas.release()
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents()
    return t1 - t0, t2 - t1, t3 - t2


def run_raw(count: int) -> float:
    t0 = time.perf_counter()
    window = _window()
    holder = QWidget(window)
    window.layout().addWidget(holder)
    rows = -(-count // COLUMNS)
    cell_w, cell_h = SIZE[0] // COLUMNS, SIZE[1] // rows
    for i in range(count):
        label = QLabel(f"{i:.1f} %", holder)
        label.setGeometry(
            (i % COLUMNS) * cell_w + 3, (i // COLUMNS) * cell_h + 3, cell_w - 6, cell_h - 6
        )
    _paint(window)
    elapsed = time.perf_counter() - t0
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents()
    return elapsed


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--widgets", type=int, default=500)
    parser.add_argument("--check", action="store_true", help="exit 1 above the target")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "project.yaml").write_text(_project_yaml(), encoding="utf-8")
        (root / "big.yaml").write_text(_screen_yaml(args.widgets), encoding="utf-8")
        project = load_project(root)
        broker = TagBroker(project.tags, default_registry(), project.file.connections)
        bridge = QtTagBridge(broker, CommandService(broker))
        measure: list[Callable[[], object]] = [
            lambda: run_ours(root / "big.yaml", project, bridge),
            lambda: run_raw(args.widgets),
        ]
        for warm_up in measure:
            warm_up()
        ours: list[tuple[float, float, float]] = []
        raw: list[float] = []
        for _ in range(args.runs):
            ours.append(run_ours(root / "big.yaml", project, bridge))
            raw.append(run_raw(args.widgets))
    totals = [sum(parts) for parts in ours]
    ours_ms = _median_ms(totals)
    raw_ms = _median_ms(raw)
    load_ms, build_ms, paint_ms = (_median_ms([run[i] for run in ours]) for i in range(3))
    print(
        f"{args.widgets} widgets, median of {args.runs}: load {load_ms:.1f} ms, "
        f"build {build_ms:.1f} ms, first paint {paint_ms:.1f} ms (target <= {TARGET_MS:.0f} ms)"
    )
    print(f"ours {ours_ms:.1f} ms, raw {raw_ms:.1f} ms, ratio {ours_ms / raw_ms:.1f}")
    shown_ms = _median_ms([run[1] + run[2] for run in ours])
    print(f"without the file: build + paint {shown_ms:.1f} ms, ratio {shown_ms / raw_ms:.1f}")
    figure("screen_load", f"screen of {args.widgets} widgets: load + build + first paint",
           ours_ms, "ms", target=f"<= {TARGET_MS:.0f}", met=ours_ms <= TARGET_MS, raw=raw_ms,
           raw_name="the same Qt widgets made in code, no file")  # fmt: skip
    del app
    if args.check and ours_ms > TARGET_MS:
        print(f"FAIL: {ours_ms:.1f} ms is above the target of {TARGET_MS:.0f} ms")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
