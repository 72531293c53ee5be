"""The station side of the OPC UA bench's ``screen`` mode: a generated project, the station
``hmi run`` builds from it on a qasync loop, a live screen, and the probes that watch its UI
thread. See ``bench_opcua.py`` for what is measured and why."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from opcua_peers import count_window
from opcua_probes import GcClock, HandOverClock, Splits, TickProbe, install_splits

SCREEN_SIZE = (1920, 1080)
COLUMNS = 20
PROBE_MS = 100  # the independent probe timer
PROBE_REPHASE = 10  # ticks between restarts of the probe at a random phase


def screen_items(items: int, widgets: int) -> list[int]:
    """The items the screen shows: spread evenly, so every part of a server cycle repaints."""
    step = max(1, items // max(1, widgets))
    return [(i * step) % items for i in range(widgets)]


def project_yaml(endpoint: str, ns: int, items: int, publish_ms: float) -> str:
    lines = [
        "project: {name: OPC UA bench, start_screen: bench}",
        "settings: {ui_refresh_hz: 10}",
        "connections:",
        f"  bench: {{driver: opcua, endpoint: '{endpoint}', publishing_interval_ms: {publish_ms},"
        " sampling_interval_ms: 0, timeout_s: 30}",
        "tags:",
    ]
    lines += [
        f"  V{i}: {{address: 'opcua://bench/ns={ns};s=Bench.V{i}', range: [0, 100], format: '.0f'}}"
        for i in range(items)
    ]
    lines.append("screens: [bench.yaml]")
    return "\n".join(lines) + "\n"


def screen_yaml(items: int, widgets: int) -> str:
    """Value and bar widgets in turn on a grid filling the design size."""
    width, height = SCREEN_SIZE
    rows = -(-widgets // COLUMNS)
    cell_w, cell_h = width / COLUMNS, height / rows
    lines = [
        f"screen: {{id: bench, title: Bench, level: 2, size: [{width}, {height}]}}",
        "widgets:",
    ]
    for k, i in enumerate(screen_items(items, widgets)):
        x, y = (k % COLUMNS) * cell_w, (k // COLUMNS) * cell_h
        rect = f"[{x + 3:.0f}, {y + 3:.0f}, {cell_w - 6:.0f}, {cell_h - 6:.0f}]"
        if k % 2 == 0:
            lines.append(f"  - {{type: value, tag: V{i}, rect: {rect}}}")
        else:
            lines.append(f"  - {{type: bar, tag: V{i}, orientation: horizontal, rect: {rect}}}")
    return "\n".join(lines) + "\n"


def run_screen(
    args: argparse.Namespace, endpoint: str, ns: int, raw: subprocess.Popen[str]
) -> dict[str, Any]:
    """A QApplication and a qasync loop, as ``hmi.app.run`` makes them; ``measure_screen`` in it."""
    import qasync
    from PySide6.QtCore import (
        QEvent,
        QMessageLogContext,
        QObject,
        QTimer,
        QtMsgType,
        qInstallMessageHandler,
    )
    from PySide6.QtWidgets import QApplication

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
            width, height = SCREEN_SIZE
            screen = {"name": "bench", "x": 0, "y": 0, "width": width, "height": height}
            screens = {"screens": [screen | {"logicalDpi": 96, "dpr": 1}]}
            (root / "screens.json").write_text(json.dumps(screens), encoding="utf-8")
            os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={root / 'screens.json'}"
        splits = Splits() if args.splits else None

        class EventClock(QApplication):
            """Times each event the loop dispatches (not those sent from inside another)."""

            def __init__(self, argv: list[str]) -> None:
                super().__init__(argv)
                self.kinds: dict[int, str] = {}  # id(receiver) -> name, for timers
                self._depth = 0

            def notify(self, receiver: QObject, event: QEvent) -> bool:
                if splits is None or not splits.active or self._depth:
                    return super().notify(receiver, event)
                self._depth += 1
                started = time.perf_counter()
                try:
                    return super().notify(receiver, event)
                finally:
                    took = time.perf_counter() - started
                    self._depth -= 1
                    splits.add(self._kind(receiver, event), took)

            def _kind(self, receiver: QObject, event: QEvent) -> str:
                kind = event.type()
                if kind == QEvent.Type.Timer:
                    name = self.kinds.get(id(receiver))
                    if name is not None:
                        return name
                    if type(receiver).__name__ == "_SimpleTimer":
                        return "asyncio callbacks (qasync timer events)"
                    return "other timers"
                if kind == QEvent.Type.SockAct:  # OPC UA reads now happen on the I/O thread
                    return "socket ready (SockAct)"
                if kind == QEvent.Type.MetaCall:  # how qasync's call_soon_threadsafe arrives
                    return "queued calls from other threads (MetaCall)"
                if kind == QEvent.Type.UpdateRequest:
                    return "painting (UpdateRequest)"
                return f"other events ({kind.name})"

        class FrameCounter(QObject):
            """A frame is one UpdateRequest of the top-level window: its backing store flushed."""

            def __init__(self) -> None:
                super().__init__()
                self.frames: list[float] = []

            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.UpdateRequest:
                    self.frames.append(time.monotonic())
                return False

        def quiet(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
            if "propagateSizeHints" not in message:  # the offscreen plugin, once per window
                print(message, file=sys.stderr)

        qInstallMessageHandler(quiet)
        os.environ["HMI_DATA_DIR"] = str(root / "data")  # the station's own database and spool
        import hmi.app as station_app

        app = EventClock(sys.argv[:1]) if splits else QApplication(sys.argv[:1])
        app.setQuitOnLastWindowClosed(False)  # as hmi.app: the loop ends when the station stops
        collector = None
        if args.gc == "app" and hasattr(station_app, "GuiThreadCollector"):
            # hmi.app.run turns automatic collection off and collects on a GUI-thread timer
            collector = station_app.GuiThreadCollector(interval_ms=1000)
            args.gc_detail = (
                "gc disabled, collected every 1 s on the UI thread, frozen after showing"
            )
            if splits is not None:
                app.kinds[id(collector.timer)] = "garbage collection (GuiThreadCollector timer)"
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            with loop:
                return loop.run_until_complete(
                    measure_screen(
                        args, root, endpoint, ns, raw, app, FrameCounter(), splits, QTimer
                    )
                )
        finally:
            if collector is not None:
                collector.timer.stop()
                gc.enable()
            asyncio.set_event_loop(None)


async def measure_screen(
    args: argparse.Namespace,
    root: Path,
    endpoint: str,
    ns: int,
    raw: subprocess.Popen[str],
    app: Any,
    frames: Any,
    splits: Splits | None,
    qtimer: Any,
) -> dict[str, Any]:
    """Build the station on a generated project, start it, show it, wait until every item has
    its first value, then count both clients over the same window while the screen repaints."""
    from PySide6.QtCore import Qt

    if splits is not None:
        install_splits(splits)
    from hmi.app import apply_theme, build_station
    from hmi.drivers.base import ConnectionState
    from hmi.model.screens.loader import load_project
    from hmi.model.value import TagValue

    assert raw.stdout is not None and raw.stdin is not None
    raw_setup_s = float((await asyncio.to_thread(raw.stdout.readline)).split()[1])

    (root / "project.yaml").write_text(
        project_yaml(endpoint, ns, args.items, args.publish_ms), encoding="utf-8"
    )
    (root / "bench.yaml").write_text(screen_yaml(args.items, args.widgets), encoding="utf-8")
    t = time.perf_counter()
    project = load_project(root)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    apply_theme(app, project.file.settings.theme)
    station = build_station(project)
    build_s = time.perf_counter() - t
    broker, bridge, window = station.broker, station.bridge, station.window
    on_screen = set(bridge.bound_tags())
    rest = [name for name in project.tags if name not in on_screen]
    for name in rest:  # the alarm engine's way: live, but nobody draws them
        if args.bind_rest:
            bridge.bind(name, lambda value: None)
        else:
            broker.subscribe(name)

    counts: Counter[float] = Counter()

    def listener(name: str, value: TagValue) -> None:
        counts[value.value] += 1

    broker.add_listener(listener)
    connected_at: list[float] = []

    def on_health(health: Any) -> None:
        if health.state is ConnectionState.CONNECTED and not connected_at:
            connected_at.append(time.perf_counter())

    broker.add_health_listener(on_health)

    # The 10 Hz flush: timed from its first act (taking the broker's changes) to ``flushed``,
    # with the age of each value it hands to a widget on the screen.
    flush_probe = TickProbe(bridge.interval_ms / 1000)
    flush_took: list[tuple[float, float, int]] = []  # (started, seconds, tags delivered)
    ages: list[tuple[float, float, float]] = []  # (flushed at, since stamped, since received)
    take_changes = broker.take_changes
    flush_started = [0.0]

    def timed_take_changes() -> dict[str, TagValue]:
        fired = time.monotonic()
        flush_probe.tick(fired)
        flush_started[0] = fired
        changes = take_changes()
        if changes:
            now = time.time()
            for name in on_screen.intersection(changes):
                value = changes[name]
                source = value.source_time
                ages.append((fired, now - (source or now), now - value.receive_time))
        return changes

    broker.take_changes = timed_take_changes  # type: ignore[method-assign]
    bridge.flushed.connect(
        lambda delivered: flush_took.append(
            (flush_started[0], time.monotonic() - flush_started[0], delivered)
        )
    )
    # The server publishes on its own 500 ms grid and the flush timer keeps a 100 ms grid, so
    # within a run a stall hits the flush at one fixed phase: lucky runs see nothing, others
    # the same lateness every cycle. The probe re-starts at a random phase every second, so it
    # samples what a 100 ms timer of any phase sees.
    probe = TickProbe(PROBE_MS / 1000)
    probe_timer = qtimer()
    probe_timer.setTimerType(Qt.TimerType.PreciseTimer)
    probe_timer.setInterval(PROBE_MS)
    rephase = qtimer()
    rephase.setSingleShot(True)

    def on_probe() -> None:
        probe.tick(time.monotonic())
        if len(probe.shots) % PROBE_REPHASE == 0:
            probe_timer.stop()
            rephase.start(random.randrange(PROBE_MS))

    def restart_probe() -> None:
        probe_timer.start()
        probe.start(time.monotonic())

    probe_timer.timeout.connect(on_probe)
    rephase.timeout.connect(restart_probe)
    window.installEventFilter(frames)
    if splits is not None:
        app.kinds[id(bridge.findChildren(qtimer)[0])] = "UI flush (QtTagBridge timer)"
        app.kinds[id(probe_timer)] = "probe timer"
    gc_clock = GcClock()
    hand_over = HandOverClock()

    # -- as hmi.app._serve (less its first-run check for an administrator): start, show,
    # collect and freeze
    started = time.perf_counter()
    await station.start()
    flush_probe.start(time.monotonic())
    restart_probe()
    window.present()
    if args.gc == "app":
        gc.collect()
        gc.freeze()
    names = list(project.tags)
    while any(broker.latest(name).value is None for name in names):
        await asyncio.sleep(0.01)
    setup_s = time.perf_counter() - started
    connect_s = connected_at[0] - started if connected_at else float("nan")
    if args.gc == "after-setup":
        gc.collect()
        gc.freeze()

    t0 = time.time() + 1.0
    t1 = t0 + args.seconds
    m0 = time.monotonic() + (t0 - time.time())
    m1 = m0 + args.seconds
    raw.stdin.write(f"{t0} {t1}\n")
    raw.stdin.flush()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    async def switch_on() -> None:
        await asyncio.sleep(max(0.0, t0 - time.time()))
        if splits is not None:
            splits.active = True
        if profiler is not None:
            profiler.enable()

    switching = asyncio.ensure_future(switch_on())
    window_counts = await count_window(counts, t0, t1)
    if splits is not None:
        splits.active = False
    if profiler is not None:
        profiler.disable()
    await switching
    probe_timer.stop()
    rephase.stop()
    shown = [w for w in (window.canvas.widgets() if window.canvas else ()) if hasattr(w, "binding")]
    live = sum(1 for w in shown if w.binding.value.value is not None and w.binding.quality.is_good)
    health = broker.pool.drivers["opcua://bench"].health.detail
    window.close()  # as the operator closes it: the screen unbinds, then the station stops
    await station.stop()
    gc_clock.close()
    hand_over.close()
    if args.gc != "off":
        gc.unfreeze()

    in_window = [(s, took, n) for s, took, n in flush_took if m0 <= s < m1]
    result = (
        window_counts
        | {
            "setup_s": setup_s,
            "raw_setup_s": raw_setup_s,
            "connect_s": connect_s,
            "load_s": load_s,
            "build_s": build_s,
            "health": health,
            "widgets": len(shown),
            "widgets_live": live,
            "on_screen_tags": len(on_screen),
            "rest": len(rest),
            "flush_late_ms": flush_probe.late_ms(m0, m1),
            "flush_ticks_expected": args.seconds * 1000 / bridge.interval_ms,
            "flush_took_ms": [took * 1000 for _, took, _ in in_window],
            "flush_delivered": sum(n for _, _, n in in_window),
            "probe_late_ms": probe.late_ms(m0, m1),
            "frames": sum(1 for at in frames.frames if m0 <= at < m1),
            "ages_ms": [age * 1000 for at, age, _ in ages if m0 <= at < m1],
            "latency_ms": [age * 1000 for at, _, age in ages if m0 <= at < m1],
        }
        | gc_clock.summary(m0, m1)
        | hand_over.summary(m0, m1)
    )
    if splits is not None:
        result["splits"] = splits
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(25)
        result["profile"] = out.getvalue()
    return result
