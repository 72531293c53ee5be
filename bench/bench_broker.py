"""Broker ingest with 10,000 tags changing, as the UI sees it.

A real ``TagBroker`` and ``QtTagBridge`` on a qasync loop (offscreen QApplication), 10,000
``local://`` tags each bound to one callback (a stand-in for a widget's setter). A producer
publishes pre-made batches of 1,000 values through the broker's driver context, as fast as it
can for a few seconds, yielding to the loop between batches; the bridge's timer flushes the
latest values to the callbacks at 10 Hz meanwhile. Measured:

- updates/s the broker accepted (wall clock, flushes included), against the raw path: the
  same values written into a plain dict in a bare loop, the least any broker must do;
- how late each UI flush fires against the timer's schedule, and how long it takes;
- RSS before and after.

Run: ``.venv/bin/python bench/bench_broker.py [--seconds 5] [--tags 10000] [--batch 1000]
[--profile] [--check]``. ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import qasync
from figures import figure
from PySide6.QtWidgets import QApplication

from hmi.drivers.defaults import default_registry
from hmi.model.address import TagAddress
from hmi.model.quality import GOOD
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.qt_bridge import QtTagBridge

TARGET_RATE = 100_000  # updates/s
TARGET_P99_LATE_MS = 20.0
REFRESH_HZ = 10.0
ROUNDS = 8  # distinct value sets cycled through, so consecutive rounds really change


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def make_batches(
    addresses: list[TagAddress], batch_size: int
) -> list[list[tuple[TagAddress, TagValue]]]:
    """ROUNDS x (tags / batch_size) batches; every round changes every tag once."""
    batches = []
    now = time.time()
    for r in range(ROUNDS):
        values = [
            (address, TagValue(float(r * 1000 + i % 1000), GOOD, now, now))
            for i, address in enumerate(addresses)
        ]
        batches.extend(values[i : i + batch_size] for i in range(0, len(values), batch_size))
    return batches


class FlushProbe:
    """Times each flush of the bridge against the schedule its QTimer keeps.

    Qt's precise timer advances its due time by one interval per shot and, when it has fallen
    behind, re-arms at fire time + interval; the probe models exactly that, so lateness is how
    long after its due time each flush started. The start is taken by wrapping the broker's
    ``take_changes`` (the first thing a flush does) on this instance only.
    """

    def __init__(self, bridge: QtTagBridge) -> None:
        self.bridge = bridge
        self.interval = bridge.interval_ms / 1000
        self.late_ms: list[float] = []
        self.took_ms: list[float] = []
        self.take_ms: list[float] = []
        self.delivered: list[int] = []
        self._due = 0.0
        self._fired = 0.0
        take_changes = bridge.broker.take_changes

        def timed_take_changes() -> dict[str, TagValue]:
            self._fired = time.monotonic()
            changes = take_changes()
            self.take_ms.append((time.monotonic() - self._fired) * 1000)
            return changes

        bridge.broker.take_changes = timed_take_changes  # type: ignore[method-assign]
        bridge.flushed.connect(self._on_flushed)

    def start(self) -> None:
        self._due = time.monotonic() + self.interval
        self.bridge.start()

    def _on_flushed(self, delivered: int) -> None:
        ended = time.monotonic()
        fired = self._fired
        while fired >= self._due + self.interval:  # flushes that had nothing to deliver
            self._advance(self._due)
        self.late_ms.append(max(0.0, fired - self._due) * 1000)
        self.took_ms.append((ended - fired) * 1000)
        self.delivered.append(delivered)
        self._advance(fired)

    def _advance(self, fired: float) -> None:
        self._due += self.interval
        if self._due < fired:
            self._due = fired + self.interval


async def produce(
    broker: TagBroker, batches: list[list[tuple[TagAddress, TagValue]]], seconds: float
) -> tuple[int, float, float]:
    """Publish batches as fast as possible for ``seconds``, yielding between batches.
    Returns (batches published, wall seconds, seconds spent inside publish)."""
    publish = broker.publish  # what DriverContext.publish is bound to
    n = len(batches)
    sent = 0
    inside = 0.0
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    while clock() < deadline:
        t = clock()
        publish(batches[sent % n])
        inside += clock() - t
        sent += 1
        await asyncio.sleep(0)  # let the UI timer fire: the point of the exercise
    return sent, clock() - start, inside


def raw_path(batches: list[list[tuple[TagAddress, TagValue]]], count: int) -> float:
    """The same values into a plain dict in a bare loop; returns seconds."""
    latest: dict[TagAddress, TagValue] = {}
    n = len(batches)
    start = time.perf_counter()
    for k in range(count):
        for address, value in batches[k % n]:
            latest[address] = value
    return time.perf_counter() - start


async def run(args: argparse.Namespace) -> dict[str, float]:
    rss0 = rss_mb()
    t0 = time.perf_counter()
    tags = {
        f"T{i:05d}": TagConfig(name=f"T{i:05d}", address=f"local://t{i:05d}?type=float")
        for i in range(args.tags)
    }
    broker = TagBroker(tags, default_registry(), {})
    bridge = QtTagBridge(broker, CommandService(broker), refresh_hz=REFRESH_HZ)
    shown: dict[str, object] = {}
    calls = 0

    def bind(name: str) -> None:
        def show(value: TagValue) -> None:  # a widget's setter, minus the painting
            nonlocal calls
            calls += 1
            shown[name] = value.value

        bridge.bind(name, show)

    for name in tags:
        bind(name)
    heard = [0] * args.listeners
    for k in range(args.listeners):  # alarm engine, historian: they see every change

        def listen(name: str, value: TagValue, k: int = k) -> None:
            heard[k] += 1

        broker.add_listener(listen)
    await broker.start()
    while len(shown) < args.tags or any(v is None for v in shown.values()):
        await asyncio.sleep(0.01)  # the local driver's first values, flushed by hand below
        bridge.flush()
    batches = make_batches([tag.address for tag in tags.values()], args.batch)
    gc.collect()
    setup_s = time.perf_counter() - t0
    rss1 = rss_mb()

    probe = FlushProbe(bridge)
    accepted0 = broker.updates_accepted
    calls0 = calls
    profiler = cProfile.Profile() if args.profile else None
    probe.start()
    if profiler:
        profiler.enable()
    sent, wall, inside = await produce(broker, batches, args.seconds)
    if profiler:
        profiler.disable()
    bridge.stop()
    accepted = broker.updates_accepted - accepted0
    rss2 = rss_mb()
    await broker.stop()

    raw_s = raw_path(batches, sent)
    updates = sum(len(batches[k % len(batches)]) for k in range(sent))
    ours = accepted / wall
    raw = updates / raw_s
    p99 = percentile(probe.late_ms, 99)
    expected_ticks = wall * REFRESH_HZ

    print(f"tags {args.tags:,}, batch {args.batch:,}, bound callbacks {len(tags):,}, "
          f"listeners {args.listeners}, UI refresh {REFRESH_HZ:g} Hz, "
          f"setup {setup_s:.1f} s")  # fmt: skip
    print(f"produced {updates:,} updates in {sent:,} batches over {wall:.2f} s; "
          f"broker accepted {accepted:,}")  # fmt: skip
    print(f"ingest: ours {ours:,.0f}/s, raw {raw:,.0f}/s, ratio {ours / raw:.3f}")
    print(f"  inside publish: {inside:.2f} s = {accepted / inside:,.0f}/s "
          f"({inside / accepted * 1e6:.2f} us/update); rest is flushes and the loop")  # fmt: skip
    print(f"UI flushes: {len(probe.late_ms)} (schedule allows {expected_ticks:.0f}), "
          f"{calls - calls0:,} callbacks, "
          f"{statistics.mean(probe.delivered) if probe.delivered else 0:,.0f} tags per flush")  # fmt: skip
    print(f"  lateness ms: p50 {percentile(probe.late_ms, 50):.2f}, p99 {p99:.2f}, "
          f"max {max(probe.late_ms, default=float('nan')):.2f}")  # fmt: skip
    print(f"  flush took ms: p50 {percentile(probe.took_ms, 50):.2f}, "
          f"p99 {percentile(probe.took_ms, 99):.2f}, "
          f"max {max(probe.took_ms, default=float('nan')):.2f} "
          f"(take_changes p50 {percentile(probe.take_ms, 50):.2f})")  # fmt: skip
    print(f"RSS MB: start {rss0:.0f}, after setup {rss1:.0f}, after run {rss2:.0f} "
          f"(run +{rss2 - rss1:.1f})")  # fmt: skip
    rate_ok = ours >= TARGET_RATE
    late_ok = p99 <= TARGET_P99_LATE_MS
    print(f"target >= {TARGET_RATE:,}/s: {'met' if rate_ok else 'MISSED'}; "
          f"p99 lateness <= {TARGET_P99_LATE_MS:g} ms: {'met' if late_ok else 'MISSED'}")  # fmt: skip
    figure(
        "broker",
        "tag ingest (10 Hz UI flush)",
        ours,
        "updates/s",
        target=f">= {TARGET_RATE:,}",
        met=rate_ok,
        raw=raw,
        raw_name="dict writes, bare loop",
    )
    figure("broker", "UI flush lateness p99", p99, "ms",
           target=f"<= {TARGET_P99_LATE_MS:g}", met=late_ok)  # fmt: skip
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())
    return {"ok": float(rate_ok and late_ok)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--listeners", type=int, default=0, help="every-change consumers")
    parser.add_argument("--profile", action="store_true", help="cProfile the run")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(run(args))
    return 0 if result["ok"] or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
