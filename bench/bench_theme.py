"""What the ISA-101 theme costs: the same screen loaded and the same station run with the
station's theme (``apply_theme``, as ``hmi run`` does: the style sheet on the chrome, the
colours on the screen widgets, ``hmi.widgets.theme``) and with no theme at all.

- **Load**: offscreen, ``hmi.app`` imported as the window process of ``hmi run`` has it, one
  screen read with ``load_screen_file`` -> ``ScreenCanvas`` in a 1920 x 1080 window -> show ->
  layout -> ``grab()`` (every widget rendered once, as the first frame). Two screens: the
  demo's overview (``screens/overview.yaml``, no plant: its values show as not yet connected)
  and the 500-widget screen ``bench_screen_load.py`` generates (value, bar, indicator, symbol,
  label, button in turn).
  - **First**: the first load of a fresh process, the theme applied or not (what an operator
    waits for; palettes and outline pictures are made for the first time inside it). Styled
    and unstyled processes alternate, ``--runs`` pairs; the verdict is on the median of the
    pairs' ratios (each styled process against the unstyled one beside it), the ms figures are
    the medians of each side.
  - **Again**: in one process, the screen loaded ``--pairs`` times styled and as often
    unstyled, in turn (the theme installed and taken off between loads, as ``hmi run``
    installs it; after two loads of each): what a screen change costs. The verdict is on the
    median of the pairs' ratios. Loads a fraction of a second apart see the same machine; on
    this shared 2-core machine single processes of the same code ran 0.8x to 1.6x apart, so a
    ratio of separate processes' medians moved by more than the theme costs.
- **CPU, pushed values**: a fresh process with the 500-widget screen shown and a 10 Hz
  ``QTimer`` giving its 50 number tags a new value through ``TagBroker.publish`` (as
  bench_pydm does) and turning its 10 state tags over every second (indicator, symbol and
  button looks change: the style-sheet selectors), process CPU over ``--seconds`` (garbage
  collection as ``hmi run`` has it: ``GuiThreadCollector``, collected and frozen once shown).
- **CPU, the demo**: ``hmi sim`` on free ports and a plain ``hmi run`` of a copy of the demo
  (as bench_idle.py), its ``settings.theme`` left at ``isa101`` or set to ``none`` (no such
  file: the station runs unstyled); CPU of the window process over ``--seconds`` after
  ``--warmup``.
- Both CPU figures are the median of ``--cpu-runs`` fresh processes a side, alternating: a
  few % of a core, one run moves by half as much as the theme costs.

- **Qt alone**: the same two measures with no code of ours: 500 plain ``QLabel``s (no Python
  subclass, no binding; bench_screen_load.py's raw side) built, shown and grabbed with the
  theme's style sheet on the application (as the station had it before its screens left the
  sheet for palettes: ``hmi.widgets.theme``) and without, in fresh processes; and 50 of them
  given a new text at 10 Hz. What Qt's ``QStyleSheetStyle`` costs any screen a style sheet
  reaches, printed beside ours.

- **Instructions**: the 500-widget load, first and again, counted by valgrind's callgrind,
  styled and unstyled (``theme_instructions.py``): the same count whatever the machine is doing, for a
  difference of a few per cent that the wall-clock figures, moving more than that from one
  process to the next on a shared machine, cannot show. Skipped without valgrind.

Targets: styled / unstyled <= 1.10 for the load of each screen, its instructions and each CPU
figure.

    python bench/bench_theme.py [--runs 11] [--pairs 20] [--cpu-runs 3] [--seconds 15]
                                [--warmup 15] [--skip-demo] [--check]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's hmi, whatever else is installed
TARGET = 1.10
SCREENS = ("overview", "big")
SIZE = (1920, 1080)


def _prepare(theme: bool, screen: str, folder: Path) -> tuple[object, Path]:
    """The application (themed or not) and (project, screen file) for ``screen``."""
    sys.path.insert(0, str(HERE))
    from PySide6.QtWidgets import QApplication

    import hmi.app  # what the window process of `hmi run` imports

    app = QApplication(sys.argv)
    # as `hmi run` does, styled or with `theme: none` (no such file: no theme, logged; the
    # window icon either way, so the icon is not counted as the theme's)
    hmi.app.apply_theme(app, "isa101" if theme else "none")
    if screen == "overview":
        root = ROOT / "screens"
    else:
        from bench_screen_load import _project_yaml, _screen_yaml

        root = folder
        (root / "project.yaml").write_text(_project_yaml(), encoding="utf-8")
        (root / "big.yaml").write_text(_screen_yaml(500), encoding="utf-8")
    return app, root


class _Screen:
    """One screen file shown on a canvas of its own, bound through a real broker and bridge."""

    def __init__(self, root: Path, screen_id: str) -> None:
        from hmi.drivers.defaults import default_registry
        from hmi.model.screens.loader import load_project
        from hmi.runtime.broker import TagBroker
        from hmi.runtime.commands import CommandService
        from hmi.runtime.qt_bridge import QtTagBridge

        self.root = root
        self.project = load_project(root)
        self.screen_id = screen_id
        self.broker = TagBroker(
            self.project.tags, default_registry(), self.project.file.connections
        )
        self.bridge = QtTagBridge(self.broker, CommandService(self.broker))

    def show(self) -> tuple[float, object, object]:
        """Seconds to load, build and first-paint the screen; the window and canvas."""
        from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

        from hmi.model.screens.loader import load_screen_file
        from hmi.views.screen_canvas import ScreenCanvas
        from hmi.widgets.context import WidgetContext

        path = self.root / self.project.file.screens[self._index()]
        t0 = time.perf_counter()
        screen = load_screen_file(path, self.project)
        ctx = WidgetContext(bridge=self.bridge, tags=self.project.tags,
                            navigate=lambda screen_id: None,
                            open_faceplate=lambda template, params: None,
                            project_root=self.root, screen_id=self.screen_id)  # fmt: skip
        window = QWidget()
        window.resize(*SIZE)
        QVBoxLayout(window).setContentsMargins(0, 0, 0, 0)
        canvas = ScreenCanvas.for_screen(screen, ctx, self.project.templates, window)
        window.layout().addWidget(canvas)
        window.show()
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        window.grab()
        return time.perf_counter() - t0, window, canvas

    @staticmethod
    def close(window: object, canvas: object) -> None:
        """Take a shown screen down before the next load (as the station's loop does on a
        screen change): outside an event loop only an explicit request deletes it."""
        from PySide6.QtCore import QEvent
        from PySide6.QtWidgets import QApplication

        canvas.release()  # type: ignore[attr-defined]
        window.close()  # type: ignore[attr-defined]
        window.deleteLater()  # type: ignore[attr-defined]
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def _index(self) -> int:
        names = [Path(name).stem for name in self.project.file.screens]
        return names.index(self.screen_id)


def role_load(theme: bool, screen: str) -> dict[str, float]:
    """The first load of a fresh process, styled or not: seconds, wall and CPU."""
    with tempfile.TemporaryDirectory(prefix="bench-theme-") as folder:
        app, root = _prepare(theme, screen, Path(folder))
        shown = _Screen(root, screen)
        c0 = time.process_time()
        first, _window, _canvas = shown.show()
        first_cpu = time.process_time() - c0
    del app
    return {"first": first, "first_cpu": first_cpu}


def role_load_pairs(screen: str, pairs: int) -> dict[str, list[float]]:
    """Seconds of each load of ``screen`` in one process, styled and unstyled in turn (the
    theme applied as ``hmi run`` applies it, and taken off again), after two of each."""
    import hmi.app
    from hmi.widgets.theme import chrome

    with tempfile.TemporaryDirectory(prefix="bench-theme-") as folder:
        app, root = _prepare(False, screen, Path(folder))
        shown = _Screen(root, screen)

        def load(theme: bool) -> float:
            if theme:
                hmi.app.apply_theme(app)  # type: ignore[arg-type]
            else:
                chrome.uninstall()
            elapsed, window, canvas = shown.show()
            shown.close(window, canvas)
            return elapsed

        for theme in (True, False, True, False):
            load(theme)
        times: dict[bool, list[float]] = {True: [], False: []}
        for i in range(pairs):
            for theme in (True, False) if i % 2 == 0 else (False, True):
                times[theme].append(load(theme))
    return {"styled": times[True], "unstyled": times[False]}


def role_cpu(theme: bool, seconds: float) -> dict[str, float]:
    from PySide6.QtCore import QTimer

    from hmi.model.quality import GOOD
    from hmi.model.value import TagValue

    with tempfile.TemporaryDirectory(prefix="bench-theme-") as folder:
        app, root = _prepare(theme, "big", Path(folder))
        from hmi.app import GuiThreadCollector

        collector = GuiThreadCollector(interval_ms=1000)  # garbage collection as `hmi run`
        shown = _Screen(root, "big")
        _elapsed, _window, _canvas = shown.show()
        gc.collect()
        gc.freeze()
        tags = shown.project.tags
        numbers = [tags[name].address for name in tags if name.startswith("S")]
        states = [tags[name].address for name in tags if name.startswith("L")]
        shown.bridge.start()
        step = [0]

        def tick() -> None:
            step[0] += 1
            now, k = time.time(), step[0]
            batch = [(a, TagValue(float((k + i) % 100), GOOD, now, now))
                     for i, a in enumerate(numbers)]  # fmt: skip
            if k % 10 == 1:
                batch += [(a, TagValue((k // 10 + i) % 2 == 0, GOOD, now, now))
                          for i, a in enumerate(states)]  # fmt: skip
            shown.broker.publish(batch)

        timer = QTimer()
        timer.setInterval(100)
        timer.timeout.connect(tick)
        timer.start()
        QTimer.singleShot(2000, app.quit)  # type: ignore[attr-defined]
        app.exec()  # type: ignore[attr-defined]  (first values, looks settled)
        t0, c0 = time.monotonic(), time.process_time()
        QTimer.singleShot(int(seconds * 1000), app.quit)  # type: ignore[attr-defined]
        app.exec()  # type: ignore[attr-defined]
        cpu = (time.process_time() - c0) / (time.monotonic() - t0) * 100
        timer.stop()
        collector.timer.stop()
    return {"cpu": cpu, "ticks": float(step[0])}


def _qt_labels(theme: bool, dressed: bool = False) -> tuple[object, object]:
    """Qt alone: the application (themed or not) and a builder of 500 plain ``QLabel``s (no
    Python subclass, no binding: bench_screen_load.py's raw side) in a 1920 x 1080 window.
    ``dressed``: each given, with Qt's own calls, what the theme draws on a value not yet
    connected: a shared palette whose background is a picture of its fill and dashed outline."""
    sys.path.insert(0, str(HERE))
    from bench_screen_load import COLUMNS
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen, QPixmap
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    from hmi.resources import theme_path

    app = QApplication(sys.argv)
    if theme:  # the sheet on the application, as the station had it before hmi.widgets.theme
        app.setStyleSheet(theme_path().read_text(encoding="utf-8"))

    def build() -> tuple[float, QWidget, list[QLabel]]:
        t0 = time.perf_counter()
        window = QWidget()
        window.resize(*SIZE)
        layout = QVBoxLayout(window)
        layout.setContentsMargins(0, 0, 0, 0)
        holder = QWidget(window)
        layout.addWidget(holder)
        columns, rows = COLUMNS, -(-500 // COLUMNS)  # bench_screen_load.run_raw's grid
        cell_w, cell_h = SIZE[0] // columns, SIZE[1] // rows
        labels = []
        palette = None
        if dressed:
            picture = QPixmap(cell_w - 6, cell_h - 6)
            picture.fill(QColor("#e0e0e0"))
            painter = QPainter(picture)
            painter.setPen(QPen(QColor("#c000c0"), 2, Qt.PenStyle.DashLine))
            painter.drawRect(1, 1, cell_w - 8, cell_h - 8)
            painter.end()
            palette = QPalette()
            palette.setBrush(QPalette.ColorRole.Window, QBrush(picture))
        for i in range(500):
            label = QLabel(f"{i:.1f} %", holder)
            label.setGeometry((i % columns) * cell_w + 3, (i // columns) * cell_h + 3,
                              cell_w - 6, cell_h - 6)  # fmt: skip
            if palette is not None:
                label.setAutoFillBackground(True)
                label.setPalette(palette)
            labels.append(label)
        window.show()
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        window.grab()
        return time.perf_counter() - t0, window, labels

    return app, build


def role_qt_load(theme: bool, dressed: bool = False) -> dict[str, float]:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    app, build = _qt_labels(theme, dressed)
    first, window, _labels = build()  # type: ignore[operator]
    later = []
    for _ in range(3):
        window.close()
        window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        elapsed, window, _labels = build()  # type: ignore[operator]
        later.append(elapsed)
    del app
    return {"first": first, "warm": statistics.median(later)}


def role_qt_cpu(theme: bool, seconds: float) -> dict[str, float]:
    """Qt alone: 50 of the 500 labels given a new text at 10 Hz (role_cpu's 50 number tags)."""
    from PySide6.QtCore import QTimer

    app, build = _qt_labels(theme)
    _elapsed, _window, labels = build()  # type: ignore[operator]
    gc.collect()
    gc.freeze()
    step = [0]

    def tick() -> None:
        step[0] += 1
        for i, label in enumerate(labels[:50]):
            label.setText(f"{(step[0] + i) % 100:.1f} %")

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(2000, app.quit)  # type: ignore[attr-defined]
    app.exec()  # type: ignore[attr-defined]
    t0, c0 = time.monotonic(), time.process_time()
    QTimer.singleShot(int(seconds * 1000), app.quit)  # type: ignore[attr-defined]
    app.exec()  # type: ignore[attr-defined]
    cpu = (time.process_time() - c0) / (time.monotonic() - t0) * 100
    timer.stop()
    return {"cpu": cpu, "ticks": float(step[0])}


def run_role(args: list[str]) -> dict[str, Any]:
    from figures import as_installed

    env = as_installed(dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT)))
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stdout + done.stderr)[-2000:]
        raise SystemExit(f"{' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def demo_cpu(theme: bool, warmup: float, seconds: float) -> float:
    """% of a core of `hmi run` on the demo, styled or with ``theme: none``."""
    from bench_idle import idle_pct
    from demo_run import demo_plant
    from figures import as_installed

    hmi = [sys.executable, "-m", "hmi.cli"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with tempfile.TemporaryDirectory(prefix="bench-theme-") as tmp:
        folder = Path(tmp)
        env = as_installed(dict(os.environ, HMI_DATA_DIR=str(folder / "data"),
                                QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT)))  # fmt: skip
        with demo_plant(folder, env) as project:
            if not theme:
                path = project / "project.yaml"
                text = path.read_text(encoding="utf-8")
                path.write_text(text.replace("settings:\n", "settings:\n  theme: none\n", 1),
                                encoding="utf-8")  # fmt: skip
            station = subprocess.Popen([*hmi, "run", str(project)], env=env, cwd=ROOT, **quiet)
            try:
                return idle_pct(station, warmup, seconds)
            finally:
                station.terminate()
                station.wait(timeout=15)


def _qt_alone(runs: int) -> float:
    """Qt's own price for the theme: 500 plain QLabels, styled and not, ``runs`` fresh processes
    each (alternating); the rows say it beside ours. The first load's ratio."""
    from figures import figure

    flags = {"sheet": [], "dressed": ["--unstyled", "--dressed"], "bare": ["--unstyled"]}
    sides: dict[str, list[dict[str, float]]] = {side: [] for side in flags}
    for _ in range(runs):
        for side, extra in flags.items():
            sides[side].append(run_role(["--role", "qt-load", *extra]))
    styled, dressed, bare = (
        {key: statistics.median(run[key] for run in sides[side]) * 1000 for key in sides[side][0]}
        for side in flags
    )
    for key, what in (("first", "first"), ("warm", "again")):
        print(f"Qt alone, 500 QLabels ({what}): sheet on the application {styled[key]:.1f} ms, "
              f"palettes with outline pictures {dressed[key]:.1f} ms, plain {bare[key]:.1f} ms, "
              f"ratios {styled[key] / bare[key]:.2f} / {dressed[key] / bare[key]:.2f}")  # fmt: skip
        figure("theme", f"Qt alone, 500 QLabels: build + paint ({what}), sheet on the application",
               styled[key],
               "ms", raw=bare[key], raw_name="the same QLabels, no style sheet")  # fmt: skip
        figure("theme", f"Qt alone, 500 QLabels: build + paint ({what}), fill + outline palettes",
               dressed[key], "ms", raw=bare[key],
               raw_name="the same QLabels, no palette")  # fmt: skip
    return styled["first"] / bare["first"]


def _cpu_figure(name: str, raw_name: str, runs: int, measure: Callable[[bool], float]) -> float:
    """A CPU figure styled / unstyled: the median of ``runs`` alternating processes a side (a
    few % of a core: one run moves by half as much as the theme costs); the ratio."""
    from figures import figure

    cpu: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(runs):
        for theme in (True, False):
            cpu[theme].append(measure(theme))
    styled, bare = statistics.median(cpu[True]), statistics.median(cpu[False])
    each = {side: ", ".join(f"{value:.2f}" for value in cpu[side]) for side in cpu}
    print(f"{name}, median of {runs} processes a side: {styled:.1f} % of a core ({each[True]}), "
          f"unstyled {bare:.1f} % ({each[False]}), ratio {styled / bare:.2f}; "
          f"load average {_load_average()}")  # fmt: skip
    figure("theme", name, styled, "% core", target=f"<= {TARGET:.2f} x unstyled",
           met=styled / bare <= TARGET, raw=bare, raw_name=raw_name)  # fmt: skip
    return styled / bare


def _paired(styled: list[float], bare: list[float]) -> float:
    """The median of the pairs' ratios: each styled load against the unstyled one beside it."""
    return statistics.median(a / b for a, b in zip(styled, bare, strict=True))


def _load_figures(screen: str, name: str, runs: int, pairs: int) -> bool:
    """The load figures of ``screen``: first (``runs`` pairs of fresh processes) and again
    (``pairs`` in one process); True if both meet the target."""
    from figures import figure

    first: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for i in range(runs):
        for theme in (True, False) if i % 2 == 0 else (False, True):
            flags = ["--role", "load", "--screen", screen] + ([] if theme else ["--unstyled"])
            first[theme].append(run_role(flags))
    again = run_role(["--role", "load-pairs", "--screen", screen, "--pairs", str(pairs)])
    sides = {
        "first": ([r["first"] for r in first[True]], [r["first"] for r in first[False]]),
        "again": (again["styled"], again["unstyled"]),
    }
    counts = {"first": f"{runs} pairs of fresh processes", "again": f"{pairs} pairs, one process"}
    met = True
    for what, (styled, bare) in sides.items():
        ratio = _paired(styled, bare)
        each = " ".join(f"{a / b:.2f}" for a, b in zip(styled, bare, strict=True))
        print(f"{screen}, load + build + paint ({what}): styled "
              f"{statistics.median(styled) * 1000:.1f} ms, unstyled "
              f"{statistics.median(bare) * 1000:.1f} ms (medians); pairs' ratios {each}; "
              f"median {ratio:.3f}; load average {_load_average()}")  # fmt: skip
        figure("theme", f"{name}: load + build + paint ({what}), styled",
               statistics.median(styled) * 1000, "ms", raw=statistics.median(bare) * 1000,
               raw_name="the same, no theme (medians)")  # fmt: skip
        figure("theme", f"{name}: load ({what}), styled / unstyled, median of {counts[what]}",
               ratio, "x", target=f"<= {TARGET:.2f}", met=ratio <= TARGET)  # fmt: skip
        met = met and ratio <= TARGET
    return met


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh process pairs, first load")
    parser.add_argument("--pairs", type=int, default=20, help="styled/unstyled pairs, again")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=15.0, help="the demo's, before CPU")
    parser.add_argument("--cpu-runs", type=int, default=3, help="processes per side, CPU")
    parser.add_argument("--skip-demo", action="store_true", help="no `hmi sim` + `hmi run`")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--role", choices=["load", "load-pairs", "cpu", "qt-load", "qt-cpu",
                                           "load-n"],
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--loads", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--screen", choices=SCREENS, default="big", help=argparse.SUPPRESS)
    parser.add_argument("--unstyled", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dressed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "load-n":  # under callgrind: theme_instructions.py
        sys.path.insert(0, str(HERE))
        from theme_instructions import role_load_n

        role_load_n(not args.unstyled, args.loads)
    if args.role:
        theme = not args.unstyled
        roles = {"load": lambda: role_load(theme, args.screen),
                 "load-pairs": lambda: role_load_pairs(args.screen, args.pairs),
                 "cpu": lambda: role_cpu(theme, args.seconds),
                 "qt-load": lambda: role_qt_load(theme, args.dressed),
                 "qt-cpu": lambda: role_qt_cpu(theme, args.seconds)}  # fmt: skip
        result = roles[args.role]()
        print("RESULT " + json.dumps(result), flush=True)
        os._exit(0)  # skip the teardown of hundreds of widgets: the figures are out
    sys.path.insert(0, str(HERE))
    from figures import figure

    print(f"load average at the start: {_load_average()}")
    missed = []
    for screen in SCREENS:
        name = "demo overview" if screen == "overview" else "500-widget screen"
        if not _load_figures(screen, name, args.runs, args.pairs):
            missed.append(f"{name} load")
    from theme_instructions import report

    report(TARGET)  # the same load, counted in instructions: no noise of the machine's
    qt_ratio = _qt_alone(args.runs)
    cpu_args = ["--role", "cpu", "--seconds", str(args.seconds)]
    ratio = _cpu_figure(
        "500-widget screen, values at 10 Hz: CPU, styled",
        "the same, no theme",
        args.cpu_runs,
        lambda theme: run_role(cpu_args + ([] if theme else ["--unstyled"]))["cpu"],
    )
    if ratio > TARGET:
        missed.append("pushed CPU")
    qt_cpu = {side: run_role(["--role", "qt-cpu", "--seconds", str(args.seconds)]
                             + ([] if side else ["--unstyled"]))["cpu"]
              for side in (True, False)}  # fmt: skip
    print(f"Qt alone, 500 QLabels, 50 new texts at 10 Hz: styled {qt_cpu[True]:.2f} % of a core, "
          f"unstyled {qt_cpu[False]:.2f} %, ratio {qt_cpu[True] / qt_cpu[False]:.2f}")  # fmt: skip
    figure("theme", "Qt alone, 500 QLabels, 50 texts at 10 Hz: CPU, sheet on the application",
           qt_cpu[True],
           "% core", raw=qt_cpu[False], raw_name="the same QLabels, no style sheet")  # fmt: skip
    print(f"Qt alone pays {qt_ratio:.2f}x for the theme's style sheet on the application on a "
          "first paint of plain QLabels (the floor of any screen a Qt style sheet reaches; the "
          "station's screens are outside it: hmi.widgets.theme)")  # fmt: skip
    if not args.skip_demo:
        ratio = _cpu_figure(
            "demo station with its plant: CPU, styled",
            "the same, theme: none",
            args.cpu_runs,
            lambda theme: demo_cpu(theme, args.warmup, args.seconds),
        )
        if ratio > TARGET:
            missed.append("demo CPU")
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
