"""The forwarding service: reads the audit trail and the alarm journal after its cursor, sends
them to the collector, and moves the cursor only over what was delivered.

It runs on a thread of its own with its own asyncio loop (``start``/``stop``), so neither the
UI nor the write path ever waits for it. At least once: after a failure it reconnects (capped
backoff) and resends everything not yet confirmed, at most ``window`` events; each message
carries its record id for the SIEM to drop duplicates."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hmi.model.alarms.kpi import JournalEvent
from hmi.model.audit.record import AuditRecord
from hmi.model.forwarding import SyslogSettings
from hmi.runtime.forwarding.messages import Formatter, formatter
from hmi.runtime.forwarding.source import EventSource, ForwardCursor, Position
from hmi.runtime.forwarding.transport import ForwardingError, SyslogConnection

__all__ = ["EventForwarder", "ForwardStatus"]

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.25
STATUS_S = 1.0


@dataclass(frozen=True, slots=True)
class ForwardStatus:
    """What the status bar and diagnostics show."""

    collector: str
    state: str = "connecting"  # connecting, connected, failing, stopped
    backlog: int = 0  # events stored and not yet confirmed delivered
    last_error: str = ""
    failing_since: float | None = None  # wall-clock time of the first failure of this outage
    delivered: Position = field(default_factory=Position)
    sent: int = 0  # messages sent since start (resends included)

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


def _seen(future: asyncio.Future[list[AuditRecord]]) -> None:
    if not future.cancelled():
        future.exception()


@dataclass(slots=True)
class _Batch:
    position: Position  # after this batch
    count: int
    acked_at: float | None = None


class EventForwarder:
    """Forwards from ``source`` to the collector of ``settings``, from ``cursor`` (or from
    ``start``, when there is no cursor file: ``hmi audit forward``)."""

    def __init__(
        self,
        settings: SyslogSettings,
        source: EventSource,
        *,
        cursor: ForwardCursor | None = None,
        start: Position | None = None,
        on_status: Callable[[ForwardStatus], None] | None = None,
        hostname: str = "",
        format_event: Formatter | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.cursor = cursor
        self._format = format_event or formatter(settings, hostname=hostname)
        self.on_status = on_status
        self._delivered = start or (cursor.load() if cursor is not None else Position())
        self.status = ForwardStatus(settings.collector.url, delivered=self._delivered)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    # -- life cycle on a thread of its own -------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            ready.set()
            try:
                loop.run_until_complete(self.run())
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="forwarding", daemon=True)
        self._thread.start()
        ready.wait()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending and keep the cursor (what is not confirmed goes again next time)."""
        self._stopping = True
        self.nudge()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def nudge(self) -> None:
        """New records were stored: look now rather than at the next poll. Any thread."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    # -- the work ------------------------------------------------------------------------------

    def _publish(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        if self.on_status is not None:
            try:
                self.on_status(self.status)
            except Exception:
                log.exception("forwarding status listener failed")

    def _fail(self, message: str) -> None:
        if message != self.status.last_error:
            log.error("forwarding: %s", message)
        since = self.status.failing_since or time.time()
        self._publish(state="failing", last_error=message, failing_since=since)

    async def run(self, *, until_caught_up: bool = False) -> Position:
        """Forward until ``stop`` (or, with ``until_caught_up``, until everything stored when
        it started is delivered: then return; a failure then raises ``ForwardingError``)."""
        self._wake = asyncio.Event()
        delay = 0.5
        target = None
        if until_caught_up:
            target = Position(self.source.audit.head().sequence, self._alarm_head())
        while not self._stopping:
            connection = SyslogConnection(self.settings)
            try:
                await connection.open()
                self._publish(state="connected")
                delay = 0.5
                if await self._session(connection, target):
                    return self._delivered
            except ForwardingError as exc:
                if until_caught_up:
                    raise
                self._fail(str(exc))
            except Exception as exc:  # the database: wait for it like for the collector
                if until_caught_up:
                    raise ForwardingError(f"cannot read the records: {exc}") from exc
                self._fail(f"cannot read the records to forward: {exc}")
            finally:
                await connection.close()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            delay = min(delay * 2, self.settings.reconnect_max_s)
        self._publish(state="stopped")
        return self._delivered

    def _alarm_head(self) -> int:
        return 0 if self.source.alarms is None else self.source.alarms.last_id()

    def _commit(self, position: Position) -> None:
        self._delivered = position
        if self.cursor is not None:
            self.cursor.save(position)

    def _confirm(self, connection: SyslogConnection, flight: deque[_Batch], now: float) -> None:
        """Move the cursor over the batches the collector has held for ``confirm_s``."""
        if not connection.confirms:  # UDP: sent is all there is
            while flight:
                self._delivered = flight.popleft().position
            if self.cursor is not None:
                self.cursor.save(self._delivered)
            return
        if connection.delivered() and flight:  # (raises when the collector went away)
            for batch in flight:
                if batch.acked_at is None:
                    batch.acked_at = now
        moved = None
        while flight and flight[0].acked_at is not None:
            if now - (flight[0].acked_at or now) < self.settings.confirm_s:
                break
            moved = flight.popleft().position
        if moved is not None:
            self._commit(moved)
            if self.status.failing_since is not None:
                self._publish(failing_since=None, last_error="", state="connected")

    async def _session(self, connection: SyslogConnection, target: Position | None) -> bool:
        """Send on one connection until it fails (raises) or stop; True when caught up."""
        settings, wake = self.settings, self._wake
        assert wake is not None
        sent = self._delivered
        flight: deque[_Batch] = deque()
        unconfirmed = 0
        next_status = 0.0
        ahead: tuple[int, asyncio.Future[list[AuditRecord]]] | None = None
        while not self._stopping:
            now = time.monotonic()
            self._confirm(connection, flight, now)
            unconfirmed = sum(b.count for b in flight)
            if now >= next_status:
                next_status = now + STATUS_S
                backlog = await asyncio.to_thread(self.source.backlog, self._delivered)
                self._publish(backlog=backlog, delivered=self._delivered)
            if unconfirmed >= settings.window:
                await asyncio.sleep(0.005)
                continue
            records: list[AuditRecord] = []
            alarms: list[JournalEvent] = []
            if target is None or sent.audit < target.audit:
                if ahead is not None and ahead[0] == sent.audit:
                    records = await ahead[1]
                else:
                    records = await asyncio.to_thread(
                        self.source.audit_after, sent.audit, settings.batch
                    )
                ahead = None
                if records:  # the next batch is read while this one is formatted and sent
                    after = records[-1].sequence
                    read = asyncio.to_thread(self.source.audit_after, after, settings.batch)
                    ahead = (after, asyncio.ensure_future(read))
                    ahead[1].add_done_callback(_seen)  # a session that ends leaves it unread
            if target is None or sent.alarms < target.alarms:
                alarms = await asyncio.to_thread(
                    self.source.alarms_after, sent.alarms, settings.batch
                )
            if target is not None:
                records = [r for r in records if r.sequence <= target.audit]
                alarms = [a for a in alarms if (a.id or 0) <= target.alarms]
            if not records and not alarms:
                if target is not None and not flight:
                    self._publish(backlog=0, delivered=self._delivered)
                    return True
                if flight:
                    await asyncio.sleep(min(0.02, settings.confirm_s or 0.02))
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), IDLE_POLL_S)
                wake.clear()
                continue
            messages = [self._format(r) for r in records] + [self._format(a) for a in alarms]
            await connection.send(messages)
            sent = Position(
                records[-1].sequence if records else sent.audit,
                (alarms[-1].id or 0) if alarms else sent.alarms,
            )
            flight.append(_Batch(sent, len(messages)))
            self.status = replace(self.status, sent=self.status.sent + len(messages))
        return False
