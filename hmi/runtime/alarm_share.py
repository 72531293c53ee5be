"""One alarm picture across the stations of a control room (issue 21, item 4): an operator
action journalled by any station (acknowledge, reset, shelve, unshelve, out of service,
return to service, comment) is applied to this station's alarm engine within a second.

Two paths, one read: PostgreSQL announces each journalled operator action (``NOTIFY
hmi_alarms`` in the transaction that stores it, heard by a ``ChannelListener``), which wakes
the read at once; a poll every ``poll_s`` (1 s) runs the same read in case the announcement
was missed. The read runs on a thread of its own; the actions are applied on the station's
loop through ``AlarmEngine.apply_remote``: the same state machine as a local action (one that
no longer applies here is skipped and logged), no command service (it was permitted and
audited where it was made), and its events carry their origin so the journal does not store
them twice.

A station that starts (or restarts) begins from the newest snapshot any station saved and
the operator actions journalled since, not from its own snapshot; one cut off from the
database reads what it missed when it is back. With no central database (SQLite) there is
nothing to share and this is not started: the station works alone and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmActionDenied, AlarmSnapshot
from hmi.runtime.watch import ChannelWatch
from hmi.storage.alarm_journal import ALARM_CHANNEL, AlarmJournal
from hmi.storage.shared.user_watch import ChannelListener, listens

log = logging.getLogger(__name__)

__all__ = ["SharedAlarms", "shares"]

CATCH_UP_MARGIN_S = 5.0
"""Actions this long before the snapshot a station starts from are applied again (one made on
a station whose action had not reached the snapshot's station yet); a repeat is denied."""

NO_SNAPSHOT_HORIZON_S = 8 * 3600.0
"""With no snapshot of any station, the actions of the last shift (8 h) are caught up."""

DEFER_S = 30.0
"""How long an action caught up at start waits for its alarm's first value; then it is
applied as things are (an alarm whose tag never had a value still gets its shelve)."""

LOCAL_KINDS = frozenset({"comm_loss", "station"})
"""Alarms on this station's own condition (its connection to a server, its audit trail, its
forwarding): another station's alarm of the same id is another condition, so their actions
are not shared and their transitions not deduplicated."""

_PAGE = 2000
LOOK_BACK = 1000
"""Row ids come from a sequence, and on PostgreSQL a transaction that took a smaller id may
commit after one that took a larger: a read "after id N" could skip it for good. So each read
looks back this many ids behind the cursor, skipping the ids it has seen."""
_HELD_TICK_S = 0.05  # how often held actions look for their alarm's first value


def shares(url: str) -> bool:
    """Whether stations on the database at ``url`` share one alarm picture (PostgreSQL)."""
    return listens(url)


@dataclass(slots=True)
class _Deferred:
    event: JournalEvent
    until: float  # monotonic


class SharedAlarms(ChannelWatch):
    """``start_snapshot()`` before the alarm service starts (where to begin), ``start()`` on
    the station's loop after it, ``stop()`` before the journal closes. ``applied`` counts the
    other stations' actions applied here, ``skipped`` those that did not apply."""

    def __init__(
        self, engine: AlarmEngine, journal: AlarmJournal, *, workstation: str, url: str,
        poll_s: float = 1.0, listen: bool = True,
        on_status: Callable[[str], None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__("alarm-share")
        self._engine = engine
        self._journal = journal
        self.local = frozenset(
            a for a in engine.alarm_ids if engine.definition(a).kind in LOCAL_KINDS
        )
        journal.local_alarms = self.local  # its transitions are this station's, never deduped
        self._workstation = workstation
        self._url = url
        self._poll_s = poll_s
        self._listen = listen and listens(url)
        self._on_status = on_status
        self._wake: asyncio.Event | None = None
        self._cursor: int | None = None  # highest id read; None: not read yet
        self._start_id: int | None = None  # the journal's last id when the snapshot was read
        self._since_us: int | None = None  # catch-up from here (the snapshot's time)
        self._seen: set[int] = set()
        self._deferred: list[_Deferred] = []
        self._reachable = True
        self.applied = 0
        self.skipped = 0

    # -- life cycle ----------------------------------------------------------------------------

    async def start_snapshot(self) -> AlarmSnapshot | None:
        """The newest snapshot of any station (None if none or unreadable), and where the
        catch-up of the actions journalled since then begins."""
        try:
            found = await asyncio.wrap_future(self._reader.submit(self._read_start))
        except Exception as exc:
            log.error("alarm picture: shared state not read, alarms start fresh: %s", exc)
            self._report(False, str(exc))
            return None
        if found is None:
            return None
        station, snapshot = found
        log.info("alarm picture: starting from the snapshot of %s taken at %.3f", station,
                 snapshot.taken_at)  # fmt: skip
        return snapshot

    def _read_start(self) -> tuple[str, AlarmSnapshot] | None:
        self._start_id = self._journal.last_id()
        found = self._journal.newest_snapshot()
        since = time.time() - NO_SNAPSHOT_HORIZON_S
        if found is not None:
            since = found[1].taken_at - CATCH_UP_MARGIN_S
        self._since_us = round(since * 1_000_000)
        return found

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._listen:
            self.listener = ChannelListener(
                self._url, lambda station: loop.call_soon_threadsafe(self._heard, station),
                channel=ALARM_CHANNEL, name="alarm-share",
            )  # fmt: skip
            self.listener.start()
        await self.check()
        self._task = loop.create_task(self._run(), name="alarm-share")

    def _heard(self, station: str | None) -> None:
        if self._wake is not None and station != self._workstation:
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        last_read = time.monotonic()
        while True:
            timeout = self._poll_s - (time.monotonic() - last_read)
            if self._deferred:
                timeout = min(timeout, _HELD_TICK_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(timeout, 0.0))
            if not self._wake.is_set() and time.monotonic() - last_read < self._poll_s:
                self._retry_deferred()  # a held action's alarm may have had its value
                continue
            self._wake.clear()
            last_read = time.monotonic()
            try:
                await self.check()
            except Exception:  # the picture must outlive any one failed read
                log.exception("alarm picture: check failed")

    # -- one read ------------------------------------------------------------------------------

    async def check(self) -> int:
        """Read the other stations' actions since the last read and apply them; how many
        were applied. A database that cannot be read changes nothing (read again later)."""
        try:
            events = await asyncio.wrap_future(self._reader.submit(self._read))
        except Exception as exc:
            if self._reachable:
                log.warning("alarm picture: journal not readable, this station's alarms go "
                            "on alone until it is back: %s", exc)  # fmt: skip
            self._report(False, str(exc))
            return 0
        self._report(True, "")
        applied = sum(self._apply(event, catch_up) for event, catch_up in events)
        self._retry_deferred()
        return applied

    def _read(self) -> list[tuple[JournalEvent, bool]]:
        """On the reader thread: the actions to apply, each with whether it is a catch-up."""
        out: list[tuple[JournalEvent, bool]] = []
        if self._cursor is None:  # first read: everything since the snapshot, from all
            start = self._start_id if self._start_id is not None else self._journal.last_id()
            after = 0
            since = self._since_us
            if since is None:  # the start read failed: the database was away then
                since = round((time.time() - NO_SNAPSHOT_HORIZON_S) * 1_000_000)
            while True:
                page = self._journal.operator_actions(
                    after_id=after, since_us=since, up_to_id=start, limit=_PAGE
                )
                out.extend((event, True) for event in page)
                self._seen.update(event.id for event in page if event.id is not None)
                if len(page) < _PAGE:
                    break
                after = int(page[-1].id or 0)
            self._cursor = start
        while True:
            page = self._journal.operator_actions(
                after_id=self._cursor - LOOK_BACK, exclude=self._workstation, limit=_PAGE,
                seen=self._seen,
            )  # fmt: skip
            fresh = [e for e in page if e.id is not None]
            for event in fresh:
                assert event.id is not None
                self._seen.add(event.id)
                self._cursor = max(self._cursor, event.id)
            out.extend((event, False) for event in fresh)
            if len(page) < _PAGE:
                break
        floor = self._cursor - LOOK_BACK
        self._seen = {i for i in self._seen if i > floor}
        return out

    def _apply(self, event: JournalEvent, catch_up: bool) -> bool:
        """Apply one action, or hold it: a catch-up action on an alarm with no value yet
        waits for the first one (an acknowledgement needs the condition it acknowledges),
        and any action behind a held one of its alarm waits behind it, in order. Actions on
        another station's own alarms (``LOCAL_KINDS``) are not this station's to apply."""
        if event.alarm_id in self.local:
            return False
        held = any(item.event.alarm_id == event.alarm_id for item in self._deferred)
        if held or (catch_up and not self._evaluated(event.alarm_id)):
            self._deferred.append(_Deferred(event, time.monotonic() + DEFER_S))
            return False
        return self._apply_now(event)

    def _apply_now(self, event: JournalEvent) -> bool:
        try:
            self._engine.apply_remote(
                event.action, event.alarm_id, now=event.time, user=event.user,
                comment=event.comment, shelve_s=event.shelve_s, origin=event.workstation,
            )  # fmt: skip
        except AlarmActionDenied as exc:
            self.skipped += 1
            log.info("alarm picture: %s of %s by %s on %s does not apply here: %s",
                     event.action.value, event.alarm_id, event.user, event.workstation,
                     exc)  # fmt: skip
            return False
        self.applied += 1
        return True

    def _evaluated(self, alarm_id: str) -> bool:
        try:
            return self._engine.evaluated(alarm_id)
        except AlarmActionDenied:  # not defined here (another project version)
            return True

    def _retry_deferred(self) -> None:
        """Held actions whose alarm has had its first value (or that waited ``DEFER_S``:
        the state machine decides then) are applied, in order."""
        if not self._deferred:
            return
        now, waiting, blocked = time.monotonic(), [], set()
        for item in self._deferred:
            alarm_id = item.event.alarm_id
            if alarm_id not in blocked and (self._evaluated(alarm_id) or now >= item.until):
                self._apply_now(item.event)
            else:
                blocked.add(alarm_id)
                waiting.append(item)
        self._deferred = waiting

    def _report(self, reachable: bool, detail: str) -> None:
        if reachable == self._reachable:
            return
        self._reachable = reachable
        if reachable:
            log.info("alarm picture: journal readable again, shared with the other stations")
        if self._on_status is not None:
            self._on_status("shared" if reachable else f"alone: {detail}")
