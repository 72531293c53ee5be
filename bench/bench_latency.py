"""End-to-end latency: from a value change at the server to the widget that shows it repainted,
p50/p95/p99, with 1,000 tags changing at 1 Hz and then at 10 Hz, over OPC UA and over Modbus,
beside a bare library client receiving the same changes in the same run.

Per protocol, three processes besides this one (``latency_peers.py``, run as this script with
``--role``): the server, whose every change writes the time it was made into the tag's value;
the bare client (asyncua: one subscription, latency taken in its publish callback; pymodbus: a
poll loop reading the same blocks at the same period, latency taken when a value changes); and
the station, as ``hmi run`` builds it: an offscreen ``QApplication`` (a 1920 x 1080 screen,
the project's theme), a qasync loop, ``build_station`` on a generated project (one connection,
1,000 tags, a screen of 1,000 value widgets, one a tag), so the real driver on the I/O thread
-> ``ThreadedDriver`` hand-over -> ``TagBroker`` -> ``QtTagBridge`` at the project's 10 Hz ->
``ValueWidget.setText`` -> Qt's repaint; garbage collection as ``hmi.app`` does it. An event
filter on every 4th ``ValueWidget`` (``--watch-every``: a Python filter on each paint costs the
UI thread, so the bench watches a sample; every widget is bound and repaints) sees each Paint
event it gets: when the widget paints a value it had not painted before, the latency is the
time now less the change time in the value. The same widgets note when the bridge handed them
each value, and the value says when the driver received it: the three splits printed.
A value superseded before a paint was never shown and is not counted (nor is one the server's
queue of 1 or a poll never saw); each side says how many changes it counted.

Every process reads one wall clock (``time.time()``) on one machine; ``latency_peers.py``
explains the values and the schedule (each tag changes on its own phase).

What is the protocol's: the bare client's latency, whose floor is the publishing interval
(``--publish-ms``, a change waits for the next publish) or the poll period (``--poll-ms``);
the station adds its UI flush (``ui_refresh_hz``, a value waits for the next tick), the
hand-over between threads and the paint. Target: p99 <= 250 ms at 1 Hz, everything included.
Exit status 2 when a target is missed.

    .venv/bin/python bench/bench_latency.py [--protocols opcua,modbus] [--seconds 20]
        [--items 1000] [--publish-ms 100] [--poll-ms 100] [--refresh-hz 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure
from latency_peers import GRACE_S, opcua_server, raw_modbus, raw_opcua, read_schedule
from latency_peers import modbus_server as modbus_peer
from opcua_probes import percentile

TARGET_P99_MS = 250.0
RATES = (1.0, 10.0)
SCREEN_SIZE = (1920, 1080)
COLUMNS = 25
PHASE_GAP_S = 0.5
LABEL = {"opcua": "OPC UA", "modbus": "Modbus"}
RAW = {
    "opcua": "bare asyncua subscription (change -> publish callback)",
    "modbus": "bare pymodbus poll loop (change -> read answered)",
}


# -- the station ------------------------------------------------------------------------------


def project_yaml(args: argparse.Namespace, address: str) -> str:
    if args.protocol == "opcua":
        connection = (
            f"{{driver: opcua, endpoint: 'opc.tcp://127.0.0.1:{args.port}', "
            f"publishing_interval_ms: {args.publish_ms}, sampling_interval_ms: 0, timeout_s: 30}}"
        )
        tag = f"opcua://lat/ns={address};s=Lat.V{{i}}"
    else:
        connection = (
            f"{{driver: modbus, host: 127.0.0.1, port: {address}, poll_ms: {args.poll_ms}, "
            "timeout_s: 2}"
        )
        tag = "modbus://lat/1/holding/{offset}?type=float32"
    lines = [
        "project: {name: Latency bench, start_screen: lat}",
        f"settings: {{ui_refresh_hz: {args.refresh_hz}}}",
        f"connections:\n  lat: {connection}",
        "tags:",
    ]
    lines += [
        f"  V{i}: {{address: '{tag.format(i=i, offset=2 * i)}', format: '.3f'}}"
        for i in range(args.items)
    ]
    lines.append("screens: [lat.yaml]")
    return "\n".join(lines) + "\n"


def screen_yaml(items: int) -> str:
    """One value widget a tag, on a grid filling the design size."""
    width, height = SCREEN_SIZE
    cell_w, cell_h = width / COLUMNS, height / -(-items // COLUMNS)
    lines = [
        f"screen: {{id: lat, title: Latency, level: 2, size: [{width}, {height}]}}",
        "widgets:",
    ]
    for i in range(items):
        x, y = (i % COLUMNS) * cell_w, (i // COLUMNS) * cell_h
        rect = f"[{x + 2:.0f}, {y + 2:.0f}, {cell_w - 4:.0f}, {cell_h - 4:.0f}]"
        lines.append(f"  - {{type: value, tag: V{i}, rect: {rect}}}")
    return "\n".join(lines) + "\n"


def run_station(args: argparse.Namespace) -> None:
    """A QApplication and a qasync loop as ``hmi.app.run`` makes them; ``measure`` in it."""
    import qasync
    from PySide6.QtWidgets import QApplication

    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
            width, height = SCREEN_SIZE
            screen = {"name": "lat", "x": 0, "y": 0, "width": width, "height": height}
            screens = {"screens": [screen | {"logicalDpi": 96, "dpr": 1}]}
            (root / "screens.json").write_text(json.dumps(screens), encoding="utf-8")
            os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={root / 'screens.json'}"
        os.environ["HMI_DATA_DIR"] = str(root / "data")  # the station's own database and spool
        from hmi.app import GuiThreadCollector

        app = QApplication(sys.argv[:1])
        app.setQuitOnLastWindowClosed(False)
        collector = GuiThreadCollector(interval_ms=1000)  # as hmi.app.run
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            with loop:
                loop.run_until_complete(measure(args, root, app))
        finally:
            collector.timer.stop()
            gc.enable()
            asyncio.set_event_loop(None)


async def measure(args: argparse.Namespace, root: Path, app: Any) -> None:
    """Build, start and show the station (as ``hmi.app._serve``), watch every value widget's
    paints through the schedule, report."""
    from PySide6.QtCore import QEvent, QObject

    from hmi.app import apply_theme, build_station
    from hmi.model.screens.loader import load_project
    from hmi.widgets.value import ValueWidget

    base = args.base
    (root / "project.yaml").write_text(project_yaml(args, args.address), encoding="utf-8")
    (root / "lat.yaml").write_text(screen_yaml(args.items), encoding="utf-8")
    project = load_project(root)
    apply_theme(app, project.file.settings.theme)
    station = build_station(project)
    window = station.window

    class PaintClock(QObject):
        """Sees every Paint event of the value widgets it is installed on (before the
        widget's own paintEvent, which is what this one event goes on to run)."""

        def __init__(self) -> None:
            super().__init__()
            self.samples: list[tuple[float, float]] = []  # (change time, change -> painted)
            self.received: list[tuple[float, float]] = []  # (change time, -> driver received)
            self.handed: list[tuple[float, float]] = []  # (change time, -> widget handed it)
            self.handed_at: dict[int, tuple[object, float]] = {}  # id(widget) -> (value, time)
            self.shown: dict[int, float] = {}
            self.paints = 0
            self.frames: list[float] = []  # UpdateRequests of the window: its repaints

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            kind = event.type()
            if kind == QEvent.Type.UpdateRequest:  # only the window gets these
                self.frames.append(time.time())
            elif kind == QEvent.Type.Paint and watched is not window:
                self.paints += 1
                value = watched.binding.value  # type: ignore[attr-defined]
                shown = value.value
                if shown and self.shown.get(id(watched)) != shown:
                    now = time.time()
                    self.shown[id(watched)] = shown
                    changed = base + shown
                    self.samples.append((changed, now - changed))
                    self.received.append((changed, value.receive_time - changed))
                    handed = self.handed_at.get(id(watched))
                    if handed is not None and handed[0] == shown:
                        self.handed.append((changed, handed[1] - changed))
            return False

    clock = PaintClock()
    await station.start()
    window.present()
    gc.collect()  # as hmi.app._serve
    gc.freeze()
    widgets = [w for w in window.canvas.widgets() if isinstance(w, ValueWidget)]
    window.installEventFilter(clock)
    for widget in widgets[:: args.watch_every]:
        widget.installEventFilter(clock)
        watch_handing(widget, clock.handed_at)
    while not all(w.binding.value.value is not None and w.binding.quality.is_good for w in widgets):
        await asyncio.sleep(0.05)
    print(f"READY {len(widgets)}", flush=True)
    schedule = await asyncio.to_thread(read_schedule)
    paints0 = clock.paints
    while time.time() < schedule[-1][2] + GRACE_S:
        await asyncio.sleep(0.05)
    paints = clock.paints - paints0
    frames = [sum(1 for t in clock.frames if start <= t < end) for _, start, end in schedule]
    health = next(iter(station.broker.pool.drivers.values())).health.detail
    window.close()
    await station.stop()
    gc.unfreeze()
    from latency_peers import summarize

    result = {
        "phases": summarize(clock.samples, schedule),
        "received": summarize(clock.received, schedule),
        "handed": summarize(clock.handed, schedule),
        "widgets": len(widgets),
        "paints": paints,
        "frames": frames,
        "health": health,
    }
    print(json.dumps(result), flush=True)


def watch_handing(widget: Any, handed_at: dict[int, tuple[object, float]]) -> None:
    """Note when the bridge hands the widget each value (the widget's own callback, wrapped in
    the binding that calls it)."""
    binding = widget.binding
    show = binding._on_value
    key = id(widget)

    def on_value(value: Any) -> None:
        handed_at[key] = (value.value, time.time())
        show(value)

    binding._on_value = on_value


# -- orchestration ----------------------------------------------------------------------------


def spawn(args: argparse.Namespace, role: str, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--role", role, "--items", str(args.items)]
    command += ["--base", repr(args.base), *extra]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def ready(process: subprocess.Popen[str], who: str) -> list[str]:
    """The words after READY (other lines a process prints are passed through)."""
    assert process.stdout is not None
    while line := process.stdout.readline():
        if line.startswith("READY"):
            return line.split()[1:]
        print(f"[{who}] {line}", end="", file=sys.stderr)
    raise RuntimeError(f"the bench's {who} stopped before it was ready")


def answer(process: subprocess.Popen[str], who: str) -> dict[str, Any]:
    assert process.stdout is not None
    while line := process.stdout.readline():
        if line.startswith("{"):
            return dict(json.loads(line))
        print(f"[{who}] {line}", end="", file=sys.stderr)
    raise RuntimeError(f"the bench's {who} stopped without its figures")


def tell(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def run_protocol(args: argparse.Namespace, protocol: str) -> dict[str, Any]:
    """Server, bare client and station for one protocol, through both rates."""
    processes: list[subprocess.Popen[str]] = []
    try:
        if protocol == "opcua":
            port = free_port()
            server = spawn(args, "opcua-server", "--port", str(port))
            processes.append(server)
            address = ready(server, "server")[0]  # the namespace index
            raw = spawn(args, "opcua-raw", "--port", str(port), "--publish-ms",
                        str(args.publish_ms))  # fmt: skip
            station_args = ["--port", str(port), "--address", address]
        else:
            server = spawn(args, "modbus-server")
            processes.append(server)
            address = ready(server, "server")[0]  # the port
            raw = spawn(args, "modbus-raw", "--port", address, "--poll-ms", str(args.poll_ms))
            station_args = ["--address", address]
        processes.append(raw)
        station = spawn(args, "station", "--protocol", protocol, "--publish-ms",
                        str(args.publish_ms), "--poll-ms", str(args.poll_ms), "--refresh-hz",
                        str(args.refresh_hz), "--watch-every", str(args.watch_every), *station_args)  # fmt: skip
        processes.append(station)
        ready(raw, "bare client")
        started = time.perf_counter()
        widgets = int(ready(station, "station")[0])
        set_up_s = time.perf_counter() - started
        t = time.time() + 1.0
        schedule = []
        for hz in RATES:
            schedule.append((hz, t, t + args.seconds))
            t += args.seconds + PHASE_GAP_S
        line = json.dumps(schedule)
        for process in (server, raw, station):
            tell(process, line)
        theirs = answer(raw, "bare client")
        ours = answer(station, "station")
        tell(server, "stop")
        stats = answer(server, "server")
        return {"schedule": schedule, "raw": theirs, "ours": ours, "server": stats,
                "widgets": widgets, "set_up_s": set_up_s}  # fmt: skip
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spread(values: list[float]) -> str:
    points = ", ".join(f"{percentile(values, p):.1f}" for p in (50, 95, 99))
    return f"p50/p95/p99 {points}, max {max(values, default=float('nan')):.1f} ms"


def print_protocol(args: argparse.Namespace, protocol: str, run: dict[str, Any]) -> bool:
    """The figures of one protocol; True when its targets are met."""
    interval = (f"publishing interval {args.publish_ms:g} ms" if protocol == "opcua"
                else f"poll period {args.poll_ms:g} ms")  # fmt: skip
    stats = run["server"]
    watched = len(range(0, run["widgets"], args.watch_every))
    print(
        f"{LABEL[protocol]}: {args.items:,} tags, {interval}, UI flush {args.refresh_hz:g} Hz; "
        f"station set up in {run['set_up_s']:.1f} s, {run['widgets']} value widgets; server "
        f"made {stats['changes']:,} changes, at most {stats['behind_max_ms']:.0f} ms behind "
        f"its schedule; {run['ours']['paints']:,} paint events of the {watched} watched widgets "
        f"(every {args.watch_every}th); driver: "
        f"{run['ours']['health']}"
    )
    met = True
    for k, (hz, start, end) in enumerate(run["schedule"]):
        theirs, ours = run["raw"]["phases"][k], run["ours"]["phases"][k]
        received, handed = run["ours"]["received"][k], run["ours"]["handed"][k]
        made = round(args.items * hz * (end - start))
        frames = run["ours"]["frames"][k] / (end - start)
        print(f"  {hz:g} Hz for {end - start:g} s, about {made:,} changes; the window repainted "
              f"{frames:.1f} times a second; {made // args.watch_every:,} changes of watched tags:")  # fmt: skip
        print(f"    {RAW[protocol]:<56} {len(theirs):7,} seen,    {spread(theirs)}")
        print(f"    {'station, change -> its driver received it':<56} {len(received):7,} painted, "
              f"{spread(received)}")  # fmt: skip
        print(f"    {'station, change -> the bridge handed it to the widget':<56} "
              f"{len(handed):7,} painted, {spread(handed)}")  # fmt: skip
        print(f"    {'station, change -> value widget painted':<56} {len(ours):7,} painted, "
              f"{spread(ours)}")  # fmt: skip
        ours99, raw99 = percentile(ours, 99), percentile(theirs, 99)
        ok = ours99 <= TARGET_P99_MS if hz == 1 else None
        met = met and ok is not False
        target = f"<= {TARGET_P99_MS:g}" if hz == 1 else ""
        verdict = (
            ""
            if ok is None
            else f"; target p99 <= {TARGET_P99_MS:g} ms: " + ("met" if ok else "MISSED")
        )
        print(
            f"    ours/raw p99 {ours99 / raw99:.2f}; the protocol's share of our p99 (the bare "
            f"client's): {raw99:.0f} of {ours99:.0f} ms{verdict}"
        )
        for p in (50, 95, 99):
            figure("latency", f"{LABEL[protocol]} change -> painted p{p}, {args.items:,} tags at "
                   f"{hz:g} Hz", percentile(ours, p), "ms", target=target if p == 99 else "",
                   met=ok if p == 99 else None, raw=percentile(theirs, p),
                   raw_name=RAW[protocol])  # fmt: skip
    return met


def run_main(args: argparse.Namespace) -> int:
    args.base = time.time()
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    print(
        f"end-to-end latency, {args.items:,} tags at {' and '.join(f'{r:g}' for r in RATES)} "
        f"Hz, {args.seconds:g} s each; {os.cpu_count()} CPUs; load average "
        f"{Path('/proc/loadavg').read_text().split()[0] if Path('/proc/loadavg').exists() else '?'}"
    )
    met = True
    for protocol in protocols:
        run = run_protocol(args, protocol)
        met = print_protocol(args, protocol, run) and met
    return 0 if met else 2


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--protocols", default="opcua,modbus")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each rate's run")
    parser.add_argument("--publish-ms", type=float, default=100.0, help="OPC UA, both clients")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="Modbus, both clients")
    parser.add_argument("--refresh-hz", type=float, default=10.0, help="the station's UI flush")
    parser.add_argument(
        "--watch-every",
        type=int,
        default=4,
        help="time the paints of every Nth value widget (the filter costs)",
    )
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--protocol", default="opcua", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--address", default="", help=argparse.SUPPRESS)
    parser.add_argument("--base", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.role == "opcua-server":
        asyncio.run(opcua_server(args.port, args.items, args.base))
    elif args.role == "opcua-raw":
        endpoint = f"opc.tcp://127.0.0.1:{args.port}"
        asyncio.run(raw_opcua(endpoint, args.items, args.publish_ms, args.base))
    elif args.role == "modbus-server":
        asyncio.run(modbus_peer(args.items, args.base))
    elif args.role == "modbus-raw":
        asyncio.run(raw_modbus(args.port, args.items, args.poll_ms, args.base))
    elif args.role == "station":
        run_station(args)
    else:
        return run_main(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
