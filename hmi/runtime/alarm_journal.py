"""Every alarm event into the journal, off the UI loop: the alarm service's listener only puts
the event on a queue; one worker thread writes what has gathered in batches (one transaction
each), keeps the station's alarm snapshot, and answers the snapshot read at start-up.

In a flood the worker waits ``linger_s`` after an event for the ones behind it and writes them
together: one transaction per 50 ms instead of one per event keeps its Python work (and so
its hold on the GIL, which the UI thread needs for every paint) small. A call (``flush``, a
snapshot) ends the wait at once.

Overflow and failure policy: while the database refuses, events wait in memory (in order) and
the worker retries with capped backoff; beyond ``max_pending`` waiting events the oldest are
dropped and counted (``status.dropped``), so a long outage cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmEvent, AlarmSnapshot
from hmi.model.errors import HmiError

__all__ = ["AlarmJournalWriter", "JournalBehind", "JournalStatus"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class JournalSink(Protocol):
    """What the writer needs of ``hmi.storage.alarm_journal.AlarmJournal`` (blocking)."""

    def append_many(self, events: Sequence[JournalEvent]) -> int: ...

    def save_snapshot(self, workstation: str, snapshot: AlarmSnapshot) -> None: ...

    def last_snapshot(self, workstation: str) -> AlarmSnapshot | None: ...


class AlarmSource(Protocol):
    """What the writer needs of ``hmi.runtime.alarms.AlarmEngineService``."""

    def add_listener(self, listener: Callable[[AlarmEvent], None]) -> None: ...

    def remove_listener(self, listener: Callable[[AlarmEvent], None]) -> None: ...

    def snapshot(self) -> AlarmSnapshot: ...


class JournalBehind(HmiError):
    """``flush()`` found events still waiting because the database refuses them."""


@dataclass(frozen=True, slots=True)
class JournalStatus:
    written: int = 0
    pending: int = 0  # waiting for the database
    dropped: int = 0  # lost to the ``max_pending`` bound
    failing: bool = False
    detail: str = ""


@dataclass(slots=True)
class _Call:
    fn: Callable[[], Any]
    future: concurrent.futures.Future[Any]
    flush: bool = False


_STOP = object()


class AlarmJournalWriter:
    def __init__(
        self,
        journal: JournalSink,
        *,
        workstation: str,
        batch_max: int = 500,
        max_pending: int = 100_000,
        retry_s: float = 2.0,
        retry_max_s: float = 30.0,
        linger_s: float = 0.05,
        on_status: Callable[[JournalStatus], None] | None = None,
    ) -> None:
        """``on_status`` is called on the worker thread whenever the status changes."""
        self.journal = journal
        self.workstation = workstation
        self._batch_max = batch_max
        self._max_pending = max_pending
        self._retry_min = retry_s
        self._retry_max = retry_max_s
        self._retry = retry_s
        self._linger = linger_s
        self._next_try = 0.0
        self._on_status = on_status
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: deque[JournalEvent] = deque()
        self._thread: threading.Thread | None = None
        self._status = JournalStatus()
        self._alarms: AlarmSource | None = None
        self._snapshots: asyncio.Task[None] | None = None

    @property
    def status(self) -> JournalStatus:
        return self._status

    # -- the listener (UI loop) ----------------------------------------------------------------

    def record(self, event: AlarmEvent) -> None:
        """The alarm service's listener: queue the event, return at once. Another station's
        action applied here (``event.origin``) is in the journal already, by that station."""
        if event.origin is not None:
            return
        if self._thread is None:
            self.start()
        self._queue.put(JournalEvent.from_event(event, self.workstation))

    def attach(self, alarms: AlarmSource, *, snapshot_every_s: float = 60.0) -> None:
        """Journal every event of ``alarms`` and save its snapshot every ``snapshot_every_s``
        (when called on a running asyncio loop). Attach before ``alarms.start(snapshot)`` so
        the events of the restore are journalled too."""
        self.start()
        self._alarms = alarms
        alarms.add_listener(self.record)
        with contextlib.suppress(RuntimeError):  # no running loop: no periodic snapshots
            self._snapshots = asyncio.get_running_loop().create_task(
                self._snapshot_forever(alarms, snapshot_every_s), name="alarm-snapshots"
            )

    async def _snapshot_forever(self, alarms: AlarmSource, period_s: float) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await self.save_snapshot(alarms.snapshot())
            except Exception as exc:  # the database may be away: try again next time
                log.warning("alarm snapshot not saved: %s", exc)

    # -- calls on the worker, in order ---------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alarm-journal", daemon=True)
            self._thread.start()

    def _submit(self, fn: Callable[[], T], *, flush: bool = False) -> concurrent.futures.Future[T]:
        self.start()
        call = _Call(fn, concurrent.futures.Future(), flush)
        self._queue.put(call)
        return call.future

    async def last_snapshot(self) -> AlarmSnapshot | None:
        """This station's snapshot from the journal (None if none, or if unreadable: the
        alarms then start fresh rather than not at all)."""
        try:
            return await asyncio.wrap_future(
                self._submit(lambda: self.journal.last_snapshot(self.workstation))
            )
        except Exception as exc:
            log.error("no alarm snapshot read, alarms start fresh: %s", exc)
            return None

    async def save_snapshot(self, snapshot: AlarmSnapshot) -> None:
        await asyncio.wrap_future(
            self._submit(lambda: self.journal.save_snapshot(self.workstation, snapshot))
        )

    async def flush(self) -> None:
        """Return once every event recorded before the call is stored; ``JournalBehind`` if
        the database refuses them (they keep waiting)."""
        await asyncio.wrap_future(self._submit(lambda: None, flush=True))

    async def aclose(self) -> None:
        """Stop listening, save a last snapshot, write what waits (one attempt), stop."""
        if self._snapshots is not None:
            self._snapshots.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshots
            self._snapshots = None
        if self._alarms is not None:
            alarms, self._alarms = self._alarms, None
            with contextlib.suppress(ValueError):
                alarms.remove_listener(self.record)
            with contextlib.suppress(Exception):
                await self.save_snapshot(alarms.snapshot())
        if self._thread is not None:
            self._next_try = 0.0
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def close(self) -> None:
        """``aclose`` for synchronous code (no last snapshot)."""
        if self._alarms is not None:
            with contextlib.suppress(ValueError):
                self._alarms.remove_listener(self.record)
            self._alarms = None
        if self._thread is not None:
            self._next_try = 0.0
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    # -- worker --------------------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            timeout = None
            if self._pending:
                timeout = max(0.01, self._next_try - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            calls: list[_Call] = []
            taken = 0
            linger_until = time.monotonic() + self._linger
            while item is not None:
                if item is _STOP:
                    stop = True
                elif isinstance(item, _Call):
                    calls.append(item)
                else:
                    self._keep(item)
                taken += 1
                if stop or taken >= 10 * self._batch_max:
                    break
                wait = 0.0 if calls else linger_until - time.monotonic()
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if self._pending and (stop or time.monotonic() >= self._next_try):
                self._write()
            for call in calls:
                self._answer(call)
        if self._pending:
            log.error("alarm journal stopped with %d event(s) not stored", len(self._pending))

    def _keep(self, event: JournalEvent) -> None:
        self._pending.append(event)
        if len(self._pending) > self._max_pending:
            self._pending.popleft()
            self._publish(dropped=self._status.dropped + 1)

    def _write(self) -> None:
        while self._pending:
            batch = [self._pending[i] for i in range(min(self._batch_max, len(self._pending)))]
            try:
                self.journal.append_many(batch)
            except Exception as exc:
                if not self._status.failing:
                    log.error("alarm journal: %d event(s) wait, database refused: %s",
                              len(self._pending), exc)  # fmt: skip
                self._next_try = time.monotonic() + self._retry
                self._retry = min(self._retry * 2, self._retry_max)
                self._publish(failing=True, detail=str(exc))
                return
            for _ in batch:
                self._pending.popleft()
            self._publish(written=self._status.written + len(batch), failing=False, detail="")
        if self._retry != self._retry_min:
            log.info("alarm journal: database back, events stored")
            self._retry = self._retry_min

    def _answer(self, call: _Call) -> None:
        if call.future.done():
            return
        if call.flush and self._pending:
            call.future.set_exception(
                JournalBehind(
                    f"{len(self._pending)} alarm event(s) wait for the journal database: "
                    f"{self._status.detail}"
                )
            )
            return
        try:
            call.future.set_result(call.fn())
        except Exception as exc:
            call.future.set_exception(exc)

    def _publish(self, **changes: Any) -> None:
        old = self._status
        self._status = replace(old, **changes, pending=len(self._pending))
        if self._on_status is not None and self._status != old:
            try:
                self._on_status(self._status)
            except Exception:
                log.exception("alarm journal status listener failed")
