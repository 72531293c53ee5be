"""OPC UA throughput: notifications per second through the OPC UA driver into a live screen,
against a bare asyncua client subscribed to the same items on the same server in the same run.

Three processes, so that none steals another's event loop: the server (asyncua; in cycle k it
writes the value k to every item, stamped with the time of writing), the bare client (counts
what its publish callback receives: the ceiling, asyncua's own decoding and nothing else;
``--raw-mode handler`` uses asyncua's per-notification handler instead), and this one. Both
clients count notifications per cycle value over the same wall-clock window; the comparison uses
the cycles both saw whole, so neither gains from where a window happens to cut.

This process runs one of two modes:

- ``screen`` (default): the station exactly as ``hmi run`` builds it. An offscreen
  ``QApplication`` (a 1920 x 1080 screen) with the ISA-101 theme and a qasync loop;
  ``build_station`` on a generated project (one ``opcua`` connection, every item a tag, one
  screen of ``--widgets`` value and bar widgets bound to tags spread over all items), so
  ``default_registry()`` -> OPC UA driver -> ``TagBroker`` (with the station's history
  listener) -> ``QtTagBridge`` at the project's 10 Hz -> ``MainWindow`` -> ``ScreenCanvas``,
  shown maximised and repainting. The tags not on the screen are subscribed through the broker
  (``--bind-rest``: bound through the bridge to callbacks that draw nothing), so all items are
  live. ``gc.collect(); gc.freeze()`` right after the window is shown, and automatic collection
  replaced by pyqtgraph's ``GarbageCollector`` timer where ``hmi.app`` uses it, as ``hmi.app``
  does (``--gc after-setup``: automatic collection, frozen once every item has its first value;
  ``--gc off``: automatic, never frozen). The station's own files (audit database, spool) go
  to a temporary ``HMI_DATA_DIR``.
  Measured besides the rates: how late each 10 Hz flush starts against the schedule Qt's
  precise timer keeps, and how late an independent 100 ms precise ``QTimer`` fires, re-started
  at a random phase every second (the server publishes on a fixed grid, so a timer of fixed
  phase is hit by the same stall every cycle or never); target p99 <= 20 ms for both. Also how
  long each flush takes, frames painted (UpdateRequests of the window), the age of each value
  a widget is handed, garbage collections, and set-up times.
- ``broker``: driver + ``TagBroker`` on ``asyncio.run``, no Qt (the first version of this
  bench; ``--gc-freeze`` freezes after set-up).

Both count notifications with a broker listener (as the alarm engine would see them) and print
CPU per notification (process time over the window / notifications) and the time from start
until every item has its first value. The bare client's set-up starts once it is connected.

``--splits`` times where the UI thread's time goes (every Qt event dispatched from the loop, by
kind: asyncio callbacks, socket reads, flush, painting; inside them the decoding of each
PublishResponse, the driver's conversion and the broker); ``--profile`` runs cProfile over the
window. Both slow this process down: take the pass/fail figures from a run without them.
Exit status 2 when a target is missed.

    .venv/bin/python bench/bench_opcua.py [--mode screen|broker] [--items 10000] [--seconds 30]
        [--cycle 2] [--publish-ms 500] [--widgets 500] [--bind-rest]
        [--gc app|after-setup|off] [--splits] [--profile] [--raw-mode handler] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import logging
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asyncua import Client, Server, ua

NS_URI = "urn:hmi:bench"


def node_id(ns: int, i: int) -> ua.NodeId:
    return ua.NodeId(f"Bench.V{i}", ns)


# -- the server ------------------------------------------------------------------------------


async def serve(port: int, items: int, cycle: float) -> None:
    """Cycle k writes k to every item, stamped with the time of writing as a device server
    would; prints READY, and on a line from stdin its statistics."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    ns = await server.register_namespace(NS_URI)
    root = await server.nodes.objects.add_folder(ua.NodeId("Bench", ns), "Bench")
    ids = []
    for i in range(items):
        if i % 100 == 0:  # asyncua adds a child in time linear in its siblings: keep them few
            folder = await root.add_folder(ua.NodeId(f"Bench.F{i // 100}", ns), f"F{i // 100}")
        variant = ua.Variant(0.0, ua.VariantType.Double)
        ids.append((await folder.add_variable(node_id(ns, i), f"V{i}", variant)).nodeid)
    await server.start()
    print(f"READY {ns}", flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
    work: list[float] = []
    next_at = time.monotonic()
    tick = 0
    while not stop.done():
        tick += 1
        started = time.monotonic()
        for nid in ids:
            variant = ua.Variant(float(tick), ua.VariantType.Double)
            dv = ua.DataValue(variant, SourceTimestamp=datetime.now(UTC))
            await server.write_attribute_value(nid, dv)
        work.append(time.monotonic() - started)
        next_at += cycle
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.wait([stop], timeout=delay)
        else:
            next_at = time.monotonic()
    stats = {"cycles": tick, "work_mean_s": sum(work) / len(work), "work_max_s": max(work)}
    print(json.dumps(stats), flush=True)
    await server.stop()


# -- the bare asyncua client ------------------------------------------------------------------


async def run_raw(endpoint: str, items: int, publish_ms: float, mode: str) -> dict[str, Any]:
    """A bare asyncua client: one subscription, items created 1,000 per call. Says SETUP when
    every item has its first value, then counts over the window it reads from stdin."""
    counts: Counter[float] = Counter()
    total = 0

    class Handler:
        def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
            nonlocal total
            counts[val] += 1
            total += 1

    def on_publish(result: ua.PublishResult) -> None:
        nonlocal total
        for notification in result.NotificationMessage.NotificationData or ():
            if type(notification) is ua.DataChangeNotification:
                for item in notification.MonitoredItems:
                    counts[item.Value.Value.Value] += 1
                total += len(notification.MonitoredItems)

    # the same keep-alive as the driver's default: a busy server must not look dead
    client = Client(endpoint, timeout=30, watchdog_intervall=5)
    await client.connect()
    ns = await client.get_namespace_index(NS_URI)
    started = time.perf_counter()
    if mode == "handler":
        sub = await client.create_subscription(publish_ms, Handler())
        for start in range(0, items, 1000):
            nodes = [
                client.get_node(node_id(ns, i)) for i in range(start, min(items, start + 1000))
            ]
            await sub.subscribe_data_change(nodes, sampling_interval=0)
    else:
        session = client.uaclient.session
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=publish_ms,
            RequestedLifetimeCount=1000,
            RequestedMaxKeepAliveCount=10,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
        )
        result = await session.create_subscription(params, callback=on_publish)
        for start in range(0, items, 1000):
            requests = [
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=ua.ReadValueId(
                        NodeId=node_id(ns, i), AttributeId=ua.AttributeIds.Value
                    ),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=ua.MonitoringParameters(
                        ClientHandle=i + 1, SamplingInterval=0, QueueSize=1, DiscardOldest=True
                    ),
                )
                for i in range(start, min(items, start + 1000))
            ]
            await session.create_monitored_items(
                ua.CreateMonitoredItemsParameters(
                    SubscriptionId=result.SubscriptionId,
                    ItemsToCreate=requests,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                )
            )
    while total < items:
        await asyncio.sleep(0.01)
    print(f"SETUP {time.perf_counter() - started}", flush=True)
    t0, t1 = (float(x) for x in (await asyncio.to_thread(sys.stdin.readline)).split())
    window = await count_window(counts, t0, t1)
    await client.disconnect()
    return window


async def count_window(counts: Counter[float], t0: float, t1: float) -> dict[str, Any]:
    """Notifications per cycle value that arrived between wall-clock t0 and t1, and the CPU
    this process used meanwhile."""
    await asyncio.sleep(max(0.0, t0 - time.time()))
    before, cpu = Counter(counts), time.process_time()
    await asyncio.sleep(max(0.0, t1 - time.time()))
    cpu = time.process_time() - cpu
    return {"per_cycle": {str(k): n for k, n in (counts - before).items()}, "cpu_s": cpu}


# -- ours: OpcUaDriver -> TagBroker -----------------------------------------------------------


async def measure_ours(
    args: argparse.Namespace, endpoint: str, ns: int, raw: subprocess.Popen[str]
) -> dict[str, Any]:
    """Wait for the bare client to be set up, set up driver + broker, then count both over
    the same window."""
    from hmi.drivers.base import DriverRegistry
    from hmi.drivers.opcua import opcua_driver
    from hmi.model.project import OpcUaConnection
    from hmi.model.tags import TagConfig
    from hmi.runtime.broker import TagBroker

    assert raw.stdout is not None and raw.stdin is not None
    raw_setup_s = float((await asyncio.to_thread(raw.stdout.readline)).split()[1])
    connection = OpcUaConnection(
        driver="opcua",
        endpoint=endpoint,
        publishing_interval_ms=args.publish_ms,
        sampling_interval_ms=0,
        timeout_s=30,
    )
    tags = {
        f"v{i}": TagConfig(address=f"opcua://bench/ns={ns};s=Bench.V{i}") for i in range(args.items)
    }
    broker = TagBroker(tags, DriverRegistry({"opcua": opcua_driver}), {"bench": connection})
    counts: Counter[float] = Counter()

    def listener(name: str, value: Any) -> None:
        counts[value.value] += 1

    broker.add_listener(listener)
    started = time.perf_counter()
    await broker.start()
    for name in tags:
        broker.subscribe(name)
    while sum(n for value, n in counts.items() if value is not None) < args.items:
        await asyncio.sleep(0.01)
    setup_s = time.perf_counter() - started
    if args.gc_freeze:  # what the app could do once its project is loaded
        gc.freeze()
    t0 = time.time() + 1.0
    t1 = t0 + args.seconds
    raw.stdin.write(f"{t0} {t1}\n")
    raw.stdin.flush()
    window = await count_window(counts, t0, t1)
    window |= {"setup_s": setup_s, "raw_setup_s": raw_setup_s}
    window["health"] = broker.pool.drivers["opcua://bench"].health.detail
    await broker.stop()
    return window


# -- ours, as the station runs: driver -> broker -> bridge -> a live screen ------------------

SCREEN_SIZE = (1920, 1080)
COLUMNS = 20
PROBE_MS = 100  # the independent probe timer
PROBE_REPHASE = 10  # ticks between restarts of the probe at a random phase
TARGET_RATIO = 0.9
TARGET_P99_LATE_MS = 20.0
STOP_TIMEOUT_S = 5.0
GC_DETAIL = {
    "app": "frozen after showing, as hmi.app",
    "after-setup": "frozen once every item had its first value",
    "off": "never frozen",
}


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


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def spread(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.1f}, p99 {percentile(values, 99):.1f}, "
        f"max {max(values, default=float('nan')):.1f}"
    )


class TickProbe:
    """Lateness of a Qt precise timer against the schedule Qt keeps: each shot is due one
    interval after the previous due time; one that fires later than a whole interval re-arms
    at fire time + interval (``QTimerInfoList``), so a stall costs one late shot, not a burst.
    ``tick()`` is called at each shot; ``start()`` when the timer is started."""

    def __init__(self, interval_s: float) -> None:
        self.interval = interval_s
        self.shots: list[tuple[float, float]] = []  # (fired, late s)
        self._due = 0.0

    def start(self, now: float) -> None:
        self._due = now + self.interval

    def tick(self, fired: float) -> None:
        self.shots.append((fired, max(0.0, fired - self._due)))
        self._due += self.interval
        if self._due < fired:
            self._due = fired + self.interval

    def late_ms(self, m0: float, m1: float) -> list[float]:
        return [late * 1000 for fired, late in self.shots if m0 <= fired < m1]


class GcClock:
    """Every garbage collection: when it started, its generation and how long it took."""

    def __init__(self) -> None:
        self.runs: list[tuple[float, int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.monotonic()
        else:
            now = time.monotonic()
            self.runs.append((self._started, info["generation"], now - self._started))

    def close(self) -> None:
        gc.callbacks.remove(self._on_gc)

    def summary(self, m0: float, m1: float) -> dict[str, Any]:
        runs = [(gen, took) for at, gen, took in self.runs if m0 <= at < m1]
        return {
            "gc_runs": [sum(1 for gen, _ in runs if gen == g) for g in range(3)],
            "gc_max_ms": max((took * 1000 for _, took in runs), default=0.0),
            "gc_total_s": sum(took for _, took in runs),
        }


INNER_SPLITS = (
    "  decode PublishResponse (asyncua)",
    "  driver _on_publish (incl. broker)",
    "    TagBroker.publish (incl. listeners)",
)


class Splits:
    """Durations of named pieces of work over the window (``--splits``)."""

    def __init__(self) -> None:
        self.active = False
        self.spans: dict[str, list[float]] = {}
        self.sizes: list[int] = []  # notifications per PublishResponse

    def add(self, name: str, seconds: float) -> None:
        if self.active:
            self.spans.setdefault(name, []).append(seconds)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        """Time every call of ``owner.attribute`` (a class's method or a module's function)."""
        inner = getattr(owner, attribute)
        clock = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return inner(*args, **kwargs)
            finally:
                self.add(name, clock() - started)

        setattr(owner, attribute, timed)

    def table(self, seconds: float) -> list[str]:
        """Events the loop dispatched, most time first; then the pieces timed inside the
        asyncio callbacks (indented, in call order)."""
        rows = [
            f"  {'':<44} {'calls':>7} {'total s':>8} {'% wall':>7} {'mean ms':>8} "
            f"{'p99 ms':>7} {'max ms':>7}"
        ]
        events = sorted((n for n in self.spans if n[0] != " "), key=lambda n: -sum(self.spans[n]))
        inner = [n for n in INNER_SPLITS if n in self.spans]
        for name in [*events, *inner]:
            spans = self.spans[name]
            total = sum(spans)
            rows.append(
                f"  {name:<44} {len(spans):>7,} {total:>8.2f} {100 * total / seconds:>6.1f}% "
                f"{1000 * total / len(spans):>8.2f} {1000 * percentile(spans, 99):>7.1f} "
                f"{1000 * max(spans):>7.1f}"
            )
        return rows


def install_splits(splits: Splits) -> None:
    """Wrap the hot path at class level before anything is built (this process only)."""
    import asyncua.client.ua_session as ua_session

    from hmi.drivers.opcua.subscriptions import SubscriptionSet
    from hmi.runtime.broker import TagBroker

    decode = ua_session.struct_from_binary
    clock = time.perf_counter

    def timed_decode(objtype: Any, data: Any) -> Any:
        if objtype is not ua.PublishResponse:
            return decode(objtype, data)
        started = clock()
        response = decode(objtype, data)
        splits.add(INNER_SPLITS[0], clock() - started)
        if splits.active:
            splits.sizes.append(
                sum(
                    len(n.MonitoredItems)
                    for n in response.Parameters.NotificationMessage.NotificationData or ()
                    if type(n) is ua.DataChangeNotification
                )
            )
        return response

    ua_session.struct_from_binary = timed_decode
    splits.wrap(SubscriptionSet, "_on_publish", INNER_SPLITS[1])
    splits.wrap(TagBroker, "publish", INNER_SPLITS[2])


async def stop_within(stopping: Any, seconds: float) -> bool:
    """Await ``station.stop()``; if it hangs, cancel the OPC UA supervisor again (see below)
    so the bench can finish. False if it had to."""
    task = asyncio.ensure_future(stopping)
    if (await asyncio.wait({task}, timeout=seconds))[0]:
        task.result()
        return True
    # MainWindow.release() unsubscribes, which sets the driver's wake-up event; stop() then
    # cancels the supervisor while it waits in asyncio.wait_for(wake.wait(), ...). On Python
    # 3.11 wait_for returns the inner result when both happen in one loop iteration and the
    # cancellation is lost (CPython gh-86296, fixed in 3.12): stop() waits forever.
    for other in asyncio.all_tasks():
        if other.get_name().startswith("opcua supervisor"):
            other.cancel()
    await asyncio.wait({task}, timeout=seconds)
    return False


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
                if kind == QEvent.Type.SockAct:
                    return "socket ready (asyncua reads, reassembles)"
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
        if args.gc == "app" and hasattr(station_app, "GarbageCollector"):
            # hmi.app.run turns automatic collection off and collects on a GUI-thread timer
            collector = station_app.GarbageCollector(interval=1.0)
            args.gc_detail = (
                "gc disabled, collected every 1 s on the UI thread, frozen after showing"
            )
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
    from hmi.model.loader import load_project
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
    stop_hung = not await stop_within(station.stop(), STOP_TIMEOUT_S)
    gc_clock.close()
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
            "stop_hung": stop_hung,
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


def print_screen(args: argparse.Namespace, ours: dict[str, Any]) -> bool:
    """The live screen's figures; True if the lateness target is met."""
    rest = "bound to callbacks that draw nothing" if args.bind_rest else "subscribed"
    print(
        f"station: project of {args.items:,} tags loaded in {ours['load_s']:.2f} s, built in "
        f"{ours['build_s']:.2f} s; screen of {ours['widgets']} value/bar widgets on "
        f"{ours['on_screen_tags']} tags, {ours['rest']:,} more {rest} through the broker; "
        f"gc: {getattr(args, 'gc_detail', GC_DETAIL[args.gc])}"
    )
    print(
        f"set-up: connected {ours['connect_s']:.2f} s after start, every item's first value "
        f"{ours['setup_s']:.2f} s after start (bare client: {ours['raw_setup_s']:.2f} s after "
        f"connecting)"
    )
    late = ours["flush_late_ms"]
    print(
        f"UI flush (10 Hz): {len(late)} ticks (schedule {ours['flush_ticks_expected']:.0f}), "
        f"lateness ms {spread(late)}; {len(ours['flush_took_ms'])} had changes, taking ms "
        f"{spread(ours['flush_took_ms'])}; {ours['flush_delivered'] / args.seconds:,.0f} "
        f"tag changes/s to the screen's bindings"
    )
    probe = ours["probe_late_ms"]
    print(
        f"probe QTimer ({PROBE_MS} ms, re-phased at random every {PROBE_REPHASE} ticks): "
        f"{len(probe)} ticks, lateness ms {spread(probe)}"
    )
    print(
        f"screen: {ours['frames']} frames painted ({ours['frames'] / args.seconds:.1f}/s); "
        f"{ours['widgets_live']}/{ours['widgets']} widgets Good at the end"
    )
    print(
        f"a value handed to its widget, ms since the driver received it: "
        f"{spread(ours['latency_ms'])}; since the server stamped it: {spread(ours['ages_ms'])}"
    )
    runs = ours["gc_runs"]
    print(
        f"gc in the window: {runs[0]}/{runs[1]}/{runs[2]} collections of generation 0/1/2, "
        f"{ours['gc_total_s'] * 1000:.0f} ms in all, longest {ours['gc_max_ms']:.1f} ms"
    )
    worst = max(percentile(late, 99), percentile(probe, 99))
    ok = worst <= TARGET_P99_LATE_MS
    print(
        f"UI timer lateness p99 {worst:.1f} ms (the worse of flush and probe; target <= "
        f"{TARGET_P99_LATE_MS:g} ms): {'met' if ok else 'MISSED'}"
    )
    if ours["stop_hung"]:
        print(
            f"WARNING: station.stop() hung for {STOP_TIMEOUT_S:g} s: the OPC UA supervisor lost "
            "its cancellation (asyncio.wait_for on Python 3.11); cancelled it again"
        )
    splits: Splits | None = ours.get("splits")
    if splits is not None:
        print(f"where the UI thread's time went over the {args.seconds:g} s window (--splits):")
        for row in splits.table(args.seconds):
            print(row)
        if splits.sizes:
            print(
                f"  notifications per PublishResponse: {len(splits.sizes)} responses, "
                f"mean {statistics.mean(splits.sizes):,.0f}, max {max(splits.sizes):,}"
            )
    if "profile" in ours:
        print(ours["profile"])
    return ok


# -- orchestration ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def common_cycles(a: dict[str, int], b: dict[str, int]) -> list[str]:
    """Cycle values both saw, without the first and last (cut by the window)."""
    both = sorted(set(a) & set(b), key=float)
    return both[1:-1]


OURS = {"screen": "driver -> broker -> screen", "broker": "driver -> TagBroker"}


def run_main(args: argparse.Namespace) -> int:
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    me = [sys.executable, __file__, "--items", str(args.items), "--port", str(port)]
    server = subprocess.Popen(
        [*me, "--role", "server", "--cycle", str(args.cycle)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    raw: subprocess.Popen[str] | None = None
    try:
        assert server.stdout is not None and server.stdin is not None
        line = server.stdout.readline().split()
        if not line or line[0] != "READY":
            print("the bench server did not start", file=sys.stderr)
            return 1
        raw = subprocess.Popen(
            [
                *me,
                "--role",
                "raw",
                "--publish-ms",
                str(args.publish_ms),
                "--raw-mode",
                args.raw_mode,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if args.mode == "screen":
            ours = run_screen(args, endpoint, int(line[1]), raw)
        else:
            ours = asyncio.run(measure_ours(args, endpoint, int(line[1]), raw))
        theirs = json.loads(raw.communicate(timeout=60)[0].strip().splitlines()[-1])
        server.stdin.write("stop\n")
        server.stdin.flush()
        stats = json.loads(server.stdout.readline())
    finally:
        for process in (raw, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)

    cycles = common_cycles(ours["per_cycle"], theirs["per_cycle"])
    if not cycles:
        print("no cycle was seen whole by both clients; use a longer --seconds", file=sys.stderr)
        return 1
    ours_n = sum(ours["per_cycle"][c] for c in cycles)
    raw_n = sum(theirs["per_cycle"][c] for c in cycles)
    ours_all = sum(ours["per_cycle"].values())
    raw_all = sum(theirs["per_cycle"].values())
    print(
        f"{args.items} items, each changing every {args.cycle:g} s, publishing every "
        f"{args.publish_ms:g} ms; window {args.seconds:g} s; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"server: {stats['cycles']} cycles, writing all items took {stats['work_mean_s']:.2f} s "
        f"on average ({stats['work_max_s']:.2f} s at most)"
    )
    rows = [
        (f"bare asyncua ({args.raw_mode})", raw_n, theirs["cpu_s"], raw_all, ours["raw_setup_s"]),
        (OURS[args.mode], ours_n, ours["cpu_s"], ours_all, ours["setup_s"]),
    ]
    for label, _, cpu, everything, setup in rows:
        print(
            f"{label:<28} {everything / args.seconds:10,.0f} notifications/s  "
            f"{1e6 * cpu / max(1, everything):6.1f} us CPU each "
            f"({100 * cpu / args.seconds:3.0f}% of a core)  set-up {setup:5.2f} s"
        )
    ratio = ours_n / raw_n if raw_n else float("nan")
    freeze = ", gc frozen after set-up" if args.gc_freeze and args.mode == "broker" else ""
    ratio_ok = ratio >= TARGET_RATIO
    print(
        f"ours/raw {ratio:.3f}{freeze} over the {len(cycles)} cycles both saw whole "
        f"({ours_n:,} / {raw_n:,}; target >= {TARGET_RATIO:g}): {'met' if ratio_ok else 'MISSED'}"
        f"; driver: {ours['health']}"
    )
    late_ok = print_screen(args, ours) if args.mode == "screen" else True
    return 0 if ratio_ok and late_ok else 2


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mode",
        choices=("screen", "broker"),
        default="screen",
        help="screen: the station with a live screen under qasync (default); broker: no Qt",
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument(
        "--cycle",
        type=float,
        default=2.0,
        help="seconds between changes (asyncua needs ~1 s to write 10k)",
    )
    parser.add_argument("--publish-ms", type=float, default=500.0)
    parser.add_argument("--raw-mode", choices=("batch", "handler"), default="batch")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="broker mode: gc.freeze() after set-up (the collector stops re-scanning them)",
    )
    parser.add_argument("--widgets", type=int, default=500, help="screen mode: value/bar widgets")
    parser.add_argument(
        "--bind-rest",
        action="store_true",
        help="screen mode: bind the tags not on the screen through the bridge, not the broker",
    )
    parser.add_argument(
        "--gc",
        choices=("app", "after-setup", "off"),
        default="app",
        help="screen mode: app: as hmi.app (its collector, frozen after showing); after-setup: "
        "automatic, frozen once every item has a value; off: automatic, never frozen",
    )
    parser.add_argument(
        "--splits", action="store_true", help="screen mode: time the UI thread's work by kind"
    )
    parser.add_argument(
        "--profile", action="store_true", help="screen mode: cProfile this process's window"
    )
    parser.add_argument(
        "--role", choices=("main", "server", "raw"), default="main", help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.role == "server":
        asyncio.run(serve(args.port, args.items, args.cycle))
        return 0
    if args.role == "raw":
        endpoint = f"opc.tcp://127.0.0.1:{args.port}"
        result = asyncio.run(run_raw(endpoint, args.items, args.publish_ms, args.raw_mode))
        print(json.dumps(result), flush=True)
        return 0
    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())
