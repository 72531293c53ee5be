"""The historian at run time: the recorder that stores what the broker sees, and ``SqlHistory``,
the ``HistorySource`` trends backfill from.

* ``HistorianRecorder.record`` is a broker listener: it applies the recording rule
  (``hmi.model.trends.historian``: deadband, heartbeat, quality) and appends what passes to a bounded
  queue. It never blocks and never touches the database. **Overflow policy:** when the queue
  holds ``queue_size`` values (the database is away or too slow), the oldest value is dropped
  for each new one and counted; the writer logs the count (first drop at once, then once a
  minute), so the newest history survives an outage and memory stays bounded.
* One writer thread with its own connection takes the queue in batches (``batch_size`` values
  or every ``batch_interval_s``), one transaction each; a failed batch is retried with capped
  backoff while new values keep queueing. The same thread completes roll-ups every 10 s and
  applies retention every hour, in small transactions.
* Heartbeats come from a timer on the asyncio loop (``tick``), so the rule's state is only
  ever touched on the loop's thread.
* **Unclean stops.** The writer stores the station's last-alive time every ``ALIVE_EVERY_S``
  and a clean stop at ``stop``. At the next start, after an unclean stop (a crash, a power
  cut, a kill), every recorded tag whose newest sample is a value from before the crash gets
  a Bad(NotConnected) sample just after the later of that sample and the last-alive time: the
  outage is a gap however short, and nothing depends on the heartbeat.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hmi.model.errors import HmiError
from hmi.model.quality import NOT_CONNECTED
from hmi.model.trends.historian import HistorianConfig, RecordingFilter, Sample, quality_code, to_us
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.history import HistorySource, MemoryHistory, RawSamples
from hmi.storage.historian import HistorianStore

if TYPE_CHECKING:
    from hmi.model.trends.decimate import BucketSeries

log = logging.getLogger(__name__)

__all__ = ["HistorianRecorder", "RecorderStatus", "SqlHistory", "StationHistory"]

ROLLUP_EVERY_S = 10.0
PURGE_EVERY_S = 3600.0
FIRST_PURGE_S = 60.0
DROP_LOG_EVERY_S = 60.0
BACKOFF_MAX_S = 30.0
ALIVE_EVERY_S = 10.0  # how often the writer stores the station's last-alive time
CRASH_GAP = NOT_CONNECTED  # what a gap left by an unclean stop is stored as


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    """For diagnostics and the status bar: ``failing`` while the database refuses writes."""

    tags: int
    queued: int
    written: int
    dropped: int
    failures: int
    failing: bool
    last_error: str


class HistorianRecorder:
    def __init__(
        self,
        broker: TagBroker,
        store: HistorianStore,
        config: HistorianConfig,
        *,
        trended: Collection[str] = (),
        clock: Callable[[], float] = time.time,
        tick_s: float = 1.0,
        station: str | None = None,
        alive_every_s: float = ALIVE_EVERY_S,
    ) -> None:
        """Records the tags ``config`` selects among the broker's (``trended``: the tags some
        trend shows). ``clock`` gives POSIX seconds (heartbeats, roll-ups, retention, the
        last-alive time). ``station`` names this station's last-alive record (default the
        host name): stations sharing a database need names of their own."""
        self.station = station or socket.gethostname()
        self.alive_every_s = alive_every_s
        self.broker = broker
        self.store = store
        self.config = config
        self.clock = clock
        self.tick_s = tick_s
        names = config.selects(broker.tags, trended)
        self.filter = RecordingFilter({n: config.rule_for(broker.tags[n]) for n in names})
        self._capacity = config.queue_size
        self._queue: deque[Sample] = deque(maxlen=self._capacity)  # appending drops the oldest
        self._batch = config.batch_size
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._flushes: list[concurrent.futures.Future[None]] = []
        self._retry: list[Sample] = []
        self._thread: threading.Thread | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._subscribed: list[str] = []
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self.failing = False
        self.last_error = ""

    @property
    def tags(self) -> list[str]:
        return self.filter.tags

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> RecorderStatus:
        return RecorderStatus(
            len(self.filter.tags), len(self._queue) + len(self._retry), self.written,
            self.dropped, self.failures, self.failing, self.last_error,
        )  # fmt: skip

    # -- on the asyncio loop -------------------------------------------------------------------

    def record(self, tag: str, value: TagValue) -> None:
        """One change of one tag (the broker listener): the rule, then the queue."""
        for sample in self.filter.offer(
            tag, value.timestamp, value.value, value.quality, value.receive_time
        ):
            self._put(sample)

    def _put(self, sample: Sample) -> None:
        queue = self._queue
        if len(queue) >= self._capacity:
            self.dropped += 1
        queue.append(sample)
        if len(queue) >= self._batch and not self._wake.is_set():
            self._wake.set()

    def tick(self, now: float | None = None) -> int:
        """Queue the heartbeats due at ``now``; how many."""
        due = self.filter.due(self.clock() if now is None else now)
        for sample in due:
            self._put(sample)
        return len(due)

    async def start(self) -> None:
        """Subscribe the recorded tags (so their drivers deliver even with no screen showing
        them), listen to the broker, start the writer thread and the heartbeat timer. Call it
        before ``broker.start()`` so the first values are stored too."""
        if self._thread is not None:
            return
        for name in self.filter.tags:
            try:
                self.broker.subscribe(name)
            except HmiError as exc:
                log.warning("historian cannot subscribe %s: %s", name, exc)
                continue
            self._subscribed.append(name)
        self.broker.add_listener(self.record)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="historian-writer", daemon=True)
        self._thread.start()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        log.info("historian records %d tags into %s", len(self._subscribed), self.store.engine.url)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.tick()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, write what is queued (one attempt), stop the thread."""
        if self._thread is None:
            return
        with contextlib.suppress(ValueError):
            self.broker.remove_listener(self.record)
        for name in self._subscribed:
            self.broker.unsubscribe(name)
        self._subscribed.clear()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        await asyncio.to_thread(thread.join, timeout)
        left = len(self._queue) + len(self._retry)
        if left:
            log.error("historian stopped with %d values not written: %s", left, self.last_error)

    def flush(self) -> concurrent.futures.Future[None]:
        """Done once everything queued before this call has been written (or tried, while
        the database fails); at once if the writer is not running."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if not self.running:
            future.set_result(None)
            return future
        with self._lock:
            self._flushes.append(future)
        self._wake.set()
        return future

    # -- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        self._guard("gap marks", self._mark_gaps)
        self._guard("last-alive time", self._alive)
        start = time.monotonic()
        next_alive = start + self.alive_every_s
        next_roll = start + ROLLUP_EVERY_S
        next_purge = start + FIRST_PURGE_S
        logged_drops, next_drop_log = 0, start
        interval = self.config.batch_interval_s
        backoff = interval
        while True:
            if self.failing:
                self._stopping.wait(backoff)  # not woken by a full queue: it stays full
            else:
                self._wake.wait(interval)
            self._wake.clear()
            stopping = self._stopping.is_set()
            with self._lock:
                flushes, self._flushes = self._flushes, []
            ok = self._drain()
            for future in flushes:
                if future.set_running_or_notify_cancel():  # its waiter may have given up
                    future.set_result(None)
            backoff = interval if ok else min(BACKOFF_MAX_S, backoff * 2)
            now = time.monotonic()
            if self.dropped > logged_drops and (now >= next_drop_log or stopping):
                log.warning(
                    "historian queue full (%d values): dropped %d oldest values (%d in all)",
                    self._capacity, self.dropped - logged_drops, self.dropped,
                )  # fmt: skip
                logged_drops, next_drop_log = self.dropped, now + DROP_LOG_EVERY_S
            if stopping:
                if ok and not self._queue:
                    self._guard("clean stop", lambda: self._alive(stopped=True))
                return
            if ok and now >= next_alive:
                next_alive = now + self.alive_every_s
                self._guard("last-alive time", self._alive)
            if ok and now >= next_roll:
                next_roll = now + ROLLUP_EVERY_S
                self._guard("roll-up", self._roll_up)
            if ok and now >= next_purge and self.config.retention_days is not None:
                next_purge = now + PURGE_EVERY_S
                self._guard("retention", self._purge)

    def _alive(self, *, stopped: bool = False) -> None:
        self.store.alive(self.station, self.clock(), stopped=stopped)

    def _mark_gaps(self) -> None:
        """After this station's unclean stop, mark the time since its last sign of life as a
        gap in every tag it records that nobody recorded since (a station sharing the
        database that kept recording a tag leaves newer samples: no mark there). A station
        with no last-alive record yet (a database from before it was kept) falls back to
        the heartbeat: tags silent for longer than it allows."""
        last = self.store.last_alive(self.station)
        slack = 2 * self.config.batch_interval_s + 10.0  # queueing, clocks a little apart
        if last is None:
            now = self.clock()
            silent = {
                name: now - 1.5 * self.filter.rule(name).heartbeat_s - slack
                for name in self.filter.tags
            }
            marked = self.store.mark_gaps(silent, quality_code(CRASH_GAP))
        elif last[1]:
            return  # a clean stop stored its own Bad(NotConnected)
        else:
            alive = last[0]
            # Samples reach the database up to one alive period (and a batch) after it.
            until = alive + self.alive_every_s + slack
            silent = dict.fromkeys(self.filter.tags, until)
            marked = self.store.mark_gaps(silent, quality_code(CRASH_GAP), after=alive)
        if marked:
            log.warning("historian: %d tags were not recorded since an unclean stop", len(marked))

    def _roll_up(self) -> None:
        self.store.roll_up(self.clock() - self._lag())

    def _purge(self) -> None:
        days = self.config.retention_days
        if days is not None:
            self.store.purge(self.clock() - days * 86400)

    def _lag(self) -> float:
        """How far behind the clock roll-ups stay: values still queued land after it, and a
        late one (a device clock behind, a retried batch) only redoes its own blocks."""
        return max(60.0, 3 * self.config.batch_interval_s)

    def _drain(self) -> bool:
        """Write everything queued, a batch at a time; False if the database failed."""
        queue, size = self._queue, self._batch
        while self._retry or queue:
            batch = self._retry or [queue.popleft() for _ in range(min(size, len(queue)))]
            try:
                self.store.write(batch)
            except Exception as exc:  # the database's errors are many; the thread must live
                self._retry = batch
                self.failures += 1
                self.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if not self.failing:
                    log.error("historian cannot write (will retry): %s", self.last_error)
                self.failing = True
                return False
            self._retry = []
            self.written += len(batch)
            if self.failing:
                log.warning("historian writes again (%d values lost meanwhile)", self.dropped)
                self.failing = False
        return True

    def _guard(self, what: str, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:
            log.exception("historian %s failed; tried again later", what)


class SqlHistory:
    """``HistorySource`` over a ``HistorianStore``: each query runs on a small thread pool of
    its own, never on the loop. With the ``recorder``, values still queued are written first
    (waiting at most ``flush_timeout_s``), so a trend's history reaches up to its live data."""

    def __init__(
        self,
        store: HistorianStore,
        *,
        recorder: HistorianRecorder | None = None,
        workers: int = 2,
        flush_timeout_s: float = 2.0,
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.flush_timeout_s = flush_timeout_s
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="historian-query"
        )

    async def query(self, tag: str, start: float, end: float, buckets: int) -> BucketSeries:
        recorder = self.recorder
        if recorder is not None and recorder.running and tag in recorder.filter:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_timeout_s):
                    await asyncio.wrap_future(recorder.flush())
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self.store.query, tag, start, end, buckets
        )

    async def samples(self, tag: str, start: float, end: float) -> RawSamples | None:
        """``tag``'s stored samples with ``start <= t <= end``, exactly as stored (after
        what is queued was written, as ``query``); None if it was never recorded."""
        recorder = self.recorder
        if recorder is not None and recorder.running and tag in recorder.filter:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_timeout_s):
                    await asyncio.wrap_future(recorder.flush())
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(
            self._executor, self.store.rows, tag, to_us(start), to_us(end) + 1
        )
        return None if found is None else RawSamples(*found, "historian")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class StationHistory:
    """What a station trends from: the SQL historian when enabled and its database opens,
    otherwise (logged) the recent past of trended tags in memory, as before the historian."""

    def __init__(
        self,
        source: HistorySource,
        recorder: HistorianRecorder | None = None,
        store: HistorianStore | None = None,
    ) -> None:
        self.source = source
        self.recorder = recorder
        self.store = store

    @classmethod
    def open(
        cls,
        broker: TagBroker,
        config: HistorianConfig,
        *,
        trended: Collection[str] = (),
        memory_capacity: int = 36_000,
        station: str | None = None,
    ) -> StationHistory:
        if config.enabled:
            try:
                store = HistorianStore.open(config.url)
            except Exception as exc:
                log.error("historian database unavailable, trends keep recent memory: %s", exc)
            else:
                recorder = HistorianRecorder(
                    broker, store, config, trended=trended, station=station
                )
                return cls(SqlHistory(store, recorder=recorder), recorder, store)
        memory = MemoryHistory(memory_capacity, only=trended)
        broker.add_listener(memory.record)
        return cls(memory)

    async def start(self) -> None:
        if self.recorder is not None:
            await self.recorder.start()

    async def stop(self) -> None:
        if self.recorder is not None:
            await self.recorder.stop()
        if isinstance(self.source, SqlHistory):
            self.source.close()
        if self.store is not None:
            self.store.close()
