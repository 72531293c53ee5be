"""Ours beside PyDM 1.29 on the same Qt (PySide6-Essentials 6.11.3): window-process RSS before
any screen and with it, load time of a screen of 500 value labels, CPU with them updating.

Each side runs in its own process (ours in this venv; PyDM in ``bench/.pydm-venv``, made here
from PyPI on first run with ``pydm==1.29.*`` and the same PySide6-Essentials pin, QtPy with
``QT_API=pyside6``). Offscreen, window 1920 x 1080, 500 labels on a 20 x 25 grid.

- RSS before any screen: after the framework's imports and its application object (ours: the
  modules ``hmi run`` imports, ``hmi.app``, plus ``QApplication``; PyDM: ``pydm`` and its
  widgets plus ``PyDMApplication``). RSS with the screen: after it is shown and painted.
- Load: ours ``load_screen_file`` (500 ``value`` widgets bound to 500 ``local://`` tags) ->
  ``ScreenCanvas`` -> show -> ``grab()``; PyDM a ``Display`` with 500 ``PyDMLabel``s on
  ``loc://`` channels made in code -> show -> ``grab()``. Median of ``--runs``.
- CPU: the same source on both sides, a 10 Hz ``QTimer`` in the window process giving all 500
  channels a new float: ours through ``TagBroker.publish`` (what a driver's context calls; the
  bridge flushes at 10 Hz), PyDM by emitting each ``loc://`` channel's ``value_signal`` (what a
  PyDM writer does). Process CPU time / wall time over ``--seconds``, % of one core.

Run: ``.venv/bin/python bench/bench_pydm.py [--runs 5] [--seconds 10]``. Exits 2 with the
reason when PyDM cannot be installed or run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".pydm-venv"
PYSIDE_PIN = "PySide6_Essentials==6.11.3"
COUNT, COLUMNS, SIZE = 500, 20, (1920, 1080)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cells() -> list[tuple[int, int, int, int]]:
    rows = -(-COUNT // COLUMNS)
    w, h = SIZE[0] // COLUMNS, SIZE[1] // rows
    return [((i % COLUMNS) * w + 3, (i // COLUMNS) * h + 3, w - 6, h - 6) for i in range(COUNT)]


def paint(window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    window.show()
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    window.grab()


def cpu_percent(app, seconds: float, tick) -> float:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(tick)
    timer.start()
    t0, c0 = time.monotonic(), time.process_time()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    timer.stop()
    return (time.process_time() - c0) / (time.monotonic() - t0) * 100


def role_pydm(runs: int, seconds: float) -> dict[str, float]:
    import pydm  # noqa: F401
    from pydm import Display, PyDMApplication, PyDMChannel
    from pydm.widgets import PyDMLabel
    from qtpy.QtCore import QObject, Signal

    app = PyDMApplication(hide_nav_bar=True, hide_menu_bar=True, hide_status_bar=True)
    before = rss_mb()

    def build(prefix: str) -> Display:  # fresh channels: dead labels break a loc:// broadcast
        display = Display()
        display.resize(*SIZE)
        for i, (x, y, w, h) in enumerate(cells()):
            label = PyDMLabel(display, init_channel=f"loc://{prefix}v{i}?type=float&init=0.0")
            label.setGeometry(x, y, w, h)
        paint(display)
        return display

    def timed(prefix: str) -> float:
        t = time.perf_counter()
        display = build(prefix)
        elapsed = time.perf_counter() - t
        display.close()
        display.deleteLater()
        app.sendPostedEvents()
        return elapsed

    timed("w")
    load = statistics.median(timed(f"r{run}") for run in range(runs))
    display = build("")
    with_screen = rss_mb()

    class Source(QObject):
        value = Signal(float)

    sources = [Source() for _ in range(COUNT)]
    channels = []
    for i, source in enumerate(sources):
        channel = PyDMChannel(address=f"loc://v{i}?type=float&init=0.0", value_signal=source.value)
        channel.connect()
        channels.append(channel)
    app.processEvents()  # let the queued connections of the writers settle before timing
    step = [0]

    def tick() -> None:
        step[0] += 1
        for i, source in enumerate(sources):
            source.value.emit(float(step[0] + i))

    cpu = cpu_percent(app, seconds, tick)
    shown = max((label.text() for label in display.findChildren(PyDMLabel)), key=len)
    return {"before": before, "with": with_screen, "load": load, "cpu": cpu, "shown": shown}


def role_ours(runs: int, seconds: float) -> dict[str, float]:
    import tempfile

    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    import hmi.app  # noqa: F401  (what the window process of `hmi run` imports)
    from hmi.drivers.defaults import default_registry
    from hmi.model.quality import GOOD
    from hmi.model.screens.loader import load_project, load_screen_file
    from hmi.model.value import TagValue
    from hmi.runtime.broker import TagBroker
    from hmi.runtime.commands import CommandService
    from hmi.runtime.qt_bridge import QtTagBridge
    from hmi.views.screen_canvas import ScreenCanvas
    from hmi.widgets.context import WidgetContext

    app = QApplication(sys.argv)
    before = rss_mb()
    root = Path(tempfile.mkdtemp(prefix="bench-pydm-"))
    tags = [f"  V{i}: {{address: 'local://V{i}?type=float&initial=0', format: '.1f'}}"
            for i in range(COUNT)]  # fmt: skip
    (root / "project.yaml").write_text(
        "project: {name: Bench, start_screen: big}\ntags:\n" + "\n".join(tags)
        + "\nscreens: [big.yaml]\n", encoding="utf-8")  # fmt: skip
    widgets = [f"  - {{type: value, tag: V{i}, rect: [{x}, {y}, {w}, {h}]}}"
               for i, (x, y, w, h) in enumerate(cells())]  # fmt: skip
    (root / "big.yaml").write_text(
        "screen: {id: big, title: Bench, level: 2, size: [1920, 1080]}\nwidgets:\n"
        + "\n".join(widgets) + "\n", encoding="utf-8")  # fmt: skip
    project = load_project(root)
    broker = TagBroker(project.tags, default_registry(), project.file.connections)
    bridge = QtTagBridge(broker, CommandService(broker))

    def build() -> tuple[QWidget, ScreenCanvas]:
        screen = load_screen_file(root / "big.yaml", project)
        ctx = WidgetContext(bridge=bridge, tags=project.tags, navigate=lambda s: None,
                            open_faceplate=lambda t, p: None, project_root=root,
                            screen_id="big")  # fmt: skip
        window = QWidget()
        window.resize(*SIZE)
        QVBoxLayout(window).setContentsMargins(0, 0, 0, 0)
        canvas = ScreenCanvas.for_screen(screen, ctx, project.templates, window)
        window.layout().addWidget(canvas)
        paint(window)
        return window, canvas

    def timed() -> float:
        t = time.perf_counter()
        window, canvas = build()
        elapsed = time.perf_counter() - t
        canvas.release()
        window.close()
        window.deleteLater()
        app.sendPostedEvents()
        return elapsed

    timed()
    load = statistics.median(timed() for _ in range(runs))
    window, _canvas = build()
    with_screen = rss_mb()
    addresses = [project.tags[f"V{i}"].address for i in range(COUNT)]
    bridge.start()
    step = [0]

    def tick() -> None:
        step[0] += 1
        now = time.time()
        broker.publish([(a, TagValue(float(step[0] + i), GOOD, now, now))
                        for i, a in enumerate(addresses)])  # fmt: skip

    cpu = cpu_percent(app, seconds, tick)
    from PySide6.QtWidgets import QLabel

    labels = [label.text() for label in window.findChildren(QLabel) if label.text()]
    return {"before": before, "with": with_screen, "load": load, "cpu": cpu,
            "shown": labels[-1] if labels else ""}  # fmt: skip


def ensure_venv() -> Path:
    """The PyDM venv's python, made (pip from PyPI) when missing; SystemExit(2) on failure."""
    python = VENV / "bin" / "python"
    check = [
        str(python),
        "-c",
        "import pydm, PySide6; print(pydm.__version__, PySide6.__version__)",
    ]
    env = dict(os.environ, QT_API="pyside6")
    if python.exists() and subprocess.run(check, env=env, capture_output=True).returncode == 0:
        return python
    steps = [[sys.executable, "-m", "venv", str(VENV)],
             [str(python), "-m", "pip", "install", "-q", "pydm==1.29.*", PYSIDE_PIN,
              "shiboken6==6.11.3"]]  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"cannot make {VENV}: {' '.join(step)} failed:\n{done.stderr[-1500:]}")
            raise SystemExit(2)
    done = subprocess.run(check, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"PyDM installed but does not import on PySide6: {done.stderr[-1500:]}")
        raise SystemExit(2)
    return python


def run_side(python: Path, role: str, args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ, QT_API="pyside6", QT_QPA_PLATFORM="offscreen",
               PYDM_DATA_PLUGINS_PATH="", PYTHONPATH=str(ROOT))  # fmt: skip
    command = [str(python), str(Path(__file__).resolve()), "--role", role,
               "--runs", str(args.runs), "--seconds", str(args.seconds)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        print(
            f"{role} side failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}"
        )
        raise SystemExit(2)
    return json.loads(lines[-1][len("RESULT ") :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--role", choices=["pydm", "ours"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        side = role_pydm if args.role == "pydm" else role_ours
        print("RESULT " + json.dumps(side(args.runs, args.seconds)), flush=True)
        os._exit(0)  # skip teardown of 500 widgets; figures are already out
    sys.path.insert(0, str(HERE))
    from figures import figure

    python = ensure_venv()
    pydm = run_side(python, "pydm", args)
    ours = run_side(Path(sys.executable), "ours", args)
    print(f"load average {Path('/proc/loadavg').read_text().strip()}; "
          f"max RSS of this parent {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")  # fmt: skip
    rows = [("before", "window process RSS before any screen", "MB", 1),
            ("with", f"window process RSS with {COUNT} labels shown", "MB", 1),
            ("load", f"load of a screen of {COUNT} value labels (median)", "ms", 1000),
            ("cpu", f"CPU, {COUNT} labels updating at 10 Hz", "% of a core", 1)]  # fmt: skip
    for key, name, unit, scale in rows:
        o, p = ours[key] * scale, pydm[key] * scale
        print(f"{name}: ours {o:.1f} {unit}, PyDM {p:.1f} {unit}, ours/PyDM {o / p:.2f}")
        figure("pydm", name, o, unit, raw=p, raw_name=f"PyDM 1.29 {name}")
    print(f"last label shown after the run: ours {ours['shown']!r}, PyDM {pydm['shown']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
