"""OPC UA throughput: notifications per second through the OPC UA driver into a live screen,
against a bare asyncua client subscribed to the same items on the same server in the same run.

Three processes, so that none steals another's event loop: the server (asyncua; in cycle k it
writes the value k to every item, stamped with the time of writing), the bare client (counts
what its publish callback receives: the ceiling, asyncua's own decoding and nothing else;
``--raw-mode handler`` uses asyncua's per-notification handler instead), and this one. Both
clients count notifications per cycle value over the same wall-clock window; the comparison uses
the cycles both saw whole, so neither gains from where a window happens to cut. The server and
the bare client are ``opcua_peers.py``, run as this script with ``--role server|raw``.

This process runs one of two modes:

- ``screen`` (default, ``opcua_screen.py``): the station exactly as ``hmi run`` builds it. An
  offscreen ``QApplication`` (a 1920 x 1080 screen) with the ISA-101 theme and a qasync loop;
  ``build_station`` on a generated project (one ``opcua`` connection, every item a tag, one
  screen of ``--widgets`` value and bar widgets bound to tags spread over all items), so
  ``default_registry()`` -> OPC UA driver on the I/O thread (its own asyncio loop: asyncua's
  socket reads, the decoding of each PublishResponse and the driver's conversion happen there)
  -> ``ThreadedDriver`` hands the values to the UI loop in chunks of 1,000, one chunk per loop
  callback -> ``TagBroker`` (with the station's history listener) -> ``QtTagBridge`` at the
  project's 10 Hz -> ``MainWindow`` -> ``ScreenCanvas``, shown maximised and repainting. The
  tags not on the screen are subscribed through the broker (``--bind-rest``: bound through the
  bridge to callbacks that draw nothing), so all items are live. ``gc.collect(); gc.freeze()``
  right after the window is shown, and automatic collection replaced by pyqtgraph's
  ``GuiThreadCollector`` timer where ``hmi.app`` uses it, as ``hmi.app`` does (``--gc
  after-setup``: automatic collection, frozen once every item has its first value; ``--gc
  off``: automatic, never frozen). The station's own files (audit database, spool) go to a
  temporary ``HMI_DATA_DIR``.
  Measured besides the rates: how late each 10 Hz flush starts against the schedule Qt's
  precise timer keeps, and how late an independent 100 ms precise ``QTimer`` fires, re-started
  at a random phase every second (the server publishes on a fixed grid, so a timer of fixed
  phase is hit by the same stall every cycle or never); target p99 <= 20 ms for both. Also how
  long each flush takes, the chunks handed over from the I/O thread and how long each held the
  UI loop (the broker and its listeners included), frames painted (UpdateRequests of the
  window), the age of each value a widget is handed (since the driver received it on the I/O
  thread, so the hand-over's queueing is in it), garbage collections, and set-up times.
- ``broker``: driver + ``TagBroker`` on ``asyncio.run``, no Qt (the first version of this
  bench; ``--gc-freeze`` freezes after set-up). Its registry does not put OPC UA on the I/O
  thread: the driver runs on the same loop as the broker, as before the I/O thread.

Both count notifications with a broker listener (as the alarm engine would see them) and print
CPU per notification (process time over the window / notifications, all threads of this
process) and the time from start until every item has its first value. The bare client's
set-up starts once it is connected.

``--splits`` (``opcua_probes.py``) times where each thread's time goes. On the UI thread: every
Qt event dispatched from the loop, by kind (asyncio callbacks, queued calls from the I/O thread,
flush, painting), their sum, and inside the asyncio callbacks each ``ThreadedDriver._hand_over``
(one chunk, the broker included) and the broker in it. On the I/O thread, in rows of its own
kept out of the UI thread's sum: asyncua's decoding of each PublishResponse and the driver's
``_on_publish``. Spans are wall time, and the two threads share the GIL, so a span on either
includes the moments the other held it. ``--profile`` runs cProfile over the window (the UI
thread only: cProfile profiles the thread that enables it). Both slow this process down: take
the pass/fail figures from a run without them. Exit status 2 when a target is missed.

    .venv/bin/python bench/bench_opcua.py [--mode screen|broker] [--items 10000] [--seconds 30]
        [--cycle 2] [--publish-ms 500] [--widgets 500] [--bind-rest]
        [--gc app|after-setup|off] [--splits] [--profile] [--raw-mode handler] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import figure
from opcua_peers import count_window, run_raw, serve
from opcua_probes import Splits, percentile, spread
from opcua_screen import PROBE_MS, PROBE_REPHASE, run_screen

TARGET_RATIO = 0.9
TARGET_P99_LATE_MS = 20.0
TARGET_RSS_MB = 400.0
GC_DETAIL = {
    "app": "frozen after showing, as hmi.app",
    "after-setup": "frozen once every item had its first value",
    "off": "never frozen",
}


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
    # not io_thread=True: the driver runs on this loop, next to the broker
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
    chunks = ours["chunk_ms"]
    print(
        f"hand-over from the I/O thread: {len(chunks):,} chunks of values in the window "
        f"({ours['chunk_values'] / max(1, len(chunks)):,.0f} values each on average), each "
        f"holding the UI loop ms {spread(chunks)} (the broker and its listeners included)"
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
    figure("opcua", f"UI timer lateness p99, {ours['widgets']}-widget live screen", worst, "ms",
           target=f"<= {TARGET_P99_LATE_MS:g}", met=ok)  # fmt: skip
    print(
        f"UI timer lateness p99 {worst:.1f} ms (the worse of flush and probe; target <= "
        f"{TARGET_P99_LATE_MS:g} ms): {'met' if ok else 'MISSED'}"
    )
    splits: Splits | None = ours.get("splits")
    if splits is not None:
        print(f"where the time went over the {args.seconds:g} s window (--splits):")
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
    figure("opcua", f"subscribed notifications, {args.items:,} items", ours_n / args.seconds,
           "notifications/s", target=f"ratio >= {TARGET_RATIO:g}", met=ratio_ok,
           raw=raw_n / args.seconds, raw_name=f"bare asyncua client ({args.raw_mode})")  # fmt: skip
    late_ok = print_screen(args, ours) if args.mode == "screen" else True
    rss_ok = resources(args, ours, theirs)
    return 0 if ratio_ok and late_ok and rss_ok else 2


def resources(args: argparse.Namespace, ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Memory and CPU of this process (the station, with its screen in ``screen`` mode) beside
    the bare client's, subscribed to the same items (issue 18: RSS <= 400 MB at 10,000 tags)."""
    what = f"{args.items:,} tags" + (
        f", {args.widgets}-widget screen" if args.mode == "screen" else ""
    )
    mb, raw_mb = ours.get("rss_mb"), theirs.get("rss_mb")
    ok = mb is None or mb <= TARGET_RSS_MB
    if mb is not None:
        print(f"resident memory at the end of the window: {mb:,.0f} MB (bare client: "
              f"{raw_mb or float('nan'):,.0f} MB; target <= {TARGET_RSS_MB:g} MB): "
              f"{'met' if ok else 'MISSED'}")  # fmt: skip
        figure("opcua", f"RSS with {what}", mb, "MB", target=f"<= {TARGET_RSS_MB:g}", met=ok,
               raw=raw_mb, raw_name="bare asyncua client, same subscriptions")  # fmt: skip
    figure("opcua", f"CPU with {what}", 100 * ours["cpu_s"] / args.seconds, "% of a core",
           raw=100 * theirs["cpu_s"] / args.seconds,
           raw_name="bare asyncua client, same subscriptions")  # fmt: skip
    return ok


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
        "--profile", action="store_true", help="screen mode: cProfile the UI thread's window"
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
