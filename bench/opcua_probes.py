"""What the OPC UA bench measures besides the rates: timer lateness, garbage collections, the
chunks the I/O thread hands to the UI loop, and (``--splits``) where each thread's time goes.
No Qt here: the screen measurement feeds these from its timers and events."""

from __future__ import annotations

import gc
import time
from typing import Any

from asyncua import ua


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


class HandOverClock:
    """Every chunk of values a ``ThreadedDriver`` hands to the broker on the UI loop: when it
    started, how long the callback held the UI loop (the broker and its listeners included) and
    how many values it carried. Health changes and idle calls are left out. Wraps
    ``ThreadedDriver._hand_over`` at class level until ``close()``: a few clock reads a chunk."""

    def __init__(self) -> None:
        from hmi.runtime.io_thread import ThreadedDriver

        self.chunks: list[tuple[float, float, int]] = []  # (started, seconds, values)
        self._owner = ThreadedDriver
        inner = self._inner = ThreadedDriver._hand_over
        chunks = self.chunks
        clock = time.perf_counter

        def timed(driver: Any) -> None:
            work, pos = driver._work, driver._pos
            at = time.monotonic()
            started = clock()
            try:
                inner(driver)
            finally:
                took = clock() - started
                if driver._pos > 0 and (driver._work is not work or driver._pos != pos):
                    first = pos if driver._work is work else 0
                    chunks.append((at, took, min(driver._pos, len(driver._work)) - first))

        self._timed = timed
        ThreadedDriver._hand_over = timed  # type: ignore[method-assign]

    def close(self) -> None:
        if self._owner._hand_over is self._timed:
            self._owner._hand_over = self._inner  # type: ignore[method-assign]

    def summary(self, m0: float, m1: float) -> dict[str, Any]:
        chunks = [(took, n) for at, took, n in self.chunks if m0 <= at < m1]
        return {
            "chunk_ms": [took * 1000 for took, _ in chunks],
            "chunk_values": sum(n for _, n in chunks),
        }


# Pieces of work timed inside the events (``--splits``), in call order. The UI thread's run
# inside its asyncio callbacks; the I/O thread's are wall time on that thread, which overlaps
# the UI thread's (each waits while the other holds the GIL), so they stay out of its total.
UI_SPLITS = (
    "  ThreadedDriver._hand_over (a chunk, incl. broker)",
    "    TagBroker.publish (incl. listeners)",
)
IO_SPLITS = (
    "  decode PublishResponse, asyncua (I/O thread)",
    "  driver _on_publish (I/O thread)",
)
NAME_WIDTH = 52


class Splits:
    """Durations of named pieces of work over the window (``--splits``). A name not starting
    with a space is an event the UI loop dispatched; the others are ``UI_SPLITS``/``IO_SPLITS``."""

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
        """The UI thread: the events its loop dispatched, most time first, their sum, then the
        pieces timed inside its asyncio callbacks; then the I/O thread's pieces on their own."""
        rows = [
            f"  {'UI thread: events the loop dispatched':<{NAME_WIDTH}} {'calls':>7} "
            f"{'total s':>8} {'% wall':>7} {'mean ms':>8} {'p99 ms':>7} {'max ms':>7}"
        ]
        events = sorted((n for n in self.spans if n[0] != " "), key=lambda n: -sum(self.spans[n]))
        rows += [self._row(name, self.spans[name], seconds) for name in events]
        if events:
            busy = [span for name in events for span in self.spans[name]]
            rows.append(self._row("UI thread busy (the events above)", busy, seconds))
        rows += [self._row(n, self.spans[n], seconds) for n in UI_SPLITS if n in self.spans]
        io = [n for n in IO_SPLITS if n in self.spans]
        if io:
            rows.append("  I/O thread (its own loop; wall time, not in the UI thread's total):")
            rows += [self._row(name, self.spans[name], seconds) for name in io]
        return rows

    @staticmethod
    def _row(name: str, spans: list[float], seconds: float) -> str:
        total = sum(spans)
        return (
            f"  {name:<{NAME_WIDTH}} {len(spans):>7,} {total:>8.2f} {100 * total / seconds:>6.1f}% "
            f"{1000 * total / len(spans):>8.2f} {1000 * percentile(spans, 99):>7.1f} "
            f"{1000 * max(spans):>7.1f}"
        )


def install_splits(splits: Splits) -> None:
    """Wrap the hot path at class level before anything is built (this process only): on the
    I/O thread asyncua's decoding of each PublishResponse and the driver's conversion, on the
    UI thread each chunk handed over and the broker inside it."""
    import asyncua.client.ua_session as ua_session

    from hmi.drivers.opcua.subscriptions import SubscriptionSet
    from hmi.runtime.broker import TagBroker
    from hmi.runtime.io_thread import ThreadedDriver

    decode = ua_session.struct_from_binary
    clock = time.perf_counter

    def timed_decode(objtype: Any, data: Any) -> Any:
        if objtype is not ua.PublishResponse:
            return decode(objtype, data)
        started = clock()
        response = decode(objtype, data)
        splits.add(IO_SPLITS[0], clock() - started)
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
    splits.wrap(SubscriptionSet, "_on_publish", IO_SPLITS[1])
    splits.wrap(ThreadedDriver, "_hand_over", UI_SPLITS[0])
    splits.wrap(TagBroker, "publish", UI_SPLITS[1])
