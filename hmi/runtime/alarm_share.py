"""One alarm picture across the stations of a control room (issue 21, item 4): an operator
action journalled by any station (acknowledge, reset, shelve, unshelve, out of service,
return to service, comment) is applied to this station's alarm engine within a second, once
the audit record that backs it is found in the central audit trail.

Two paths, one read: PostgreSQL announces each journalled operator action (``NOTIFY
hmi_alarms`` in the transaction that stores it, heard by a ``ChannelListener``), which wakes
the read at once; a poll every ``poll_s`` (1 s) runs the same read in case the announcement
was missed. The read runs on a thread of its own; the actions are applied on the station's
loop through ``AlarmEngine.apply_remote``: the same state machine as a local action (one that
no longer applies here is skipped and logged), no command service (it was permitted where it
was made), and its events carry their origin so the journal does not store them twice.

A journal row alone is not trusted: the station role may INSERT into ``alarm_events`` (every
station journals), so anyone holding its credentials could write "Olga on CR-01 shelved
Level.Hi". Each action must be backed by its audit record, which the command service where it
was made wrote to the central chain (``hmi.storage.shared.alarm_seal``: same station, user,
alarm, action and transition, within ``RECORD_WINDOW_S`` of the row's time, hashing right
with the site key, linked into the chain, and backing no other row). The read looks the
records up for its whole batch, on the reader thread. The record may come after its row (the
command service makes it durable after the action, the journal writes on a thread of its own,
and a spooled record arrives when it is forwarded): an action without one is *held*, looked up
again every ``_RECORD_TICK_S``, with every action of its alarm behind it, in order. Once
``HOLD_S`` has passed without one (counted from its first read, and only by reads that could
look), it is *refused*: not applied, logged as an error with the row, alarm, user and station,
recorded in the audit trail as ``alarm_share_refused`` (result denied) and shown as the station
alarm ``station.alarm_share``, which stands until the station restarts.

A station that starts (or restarts) begins from the newest snapshot any station saved and
the operator actions journalled since, not from its own snapshot (each backed, as above); one
cut off from the database reads what it missed when it is back. With no central database
(SQLite) there is nothing to share and this is not started: the station works alone and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmActionDenied, AlarmSnapshot
from hmi.model.alarms.station import StationCondition
from hmi.model.audit.record import AuditAction, AuditResult, iso_from_us
from hmi.runtime.audit import NOBODY, AuditRecorder
from hmi.runtime.watch import ChannelWatch
from hmi.storage.alarm_journal import ALARM_CHANNEL, AlarmJournal
from hmi.storage.shared.alarm_seal import Backing, backing
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

RECORD_WINDOW_S = 60.0
"""An action's audit record is this close to its journal row's time at most (the command
service makes both for one action, the record durable just after it)."""

HOLD_S = 60.0
"""How long an action is held while its audit record is not found; then it is refused."""

REFUSED: StationCondition = "alarm_share"
"""The station condition a refused action raises (``station.alarm_share``)."""

_RECORD_TICK_S = 0.2  # how often the read runs while an action waits for its record
_NOT_LOOKED = "its audit record could not be looked up yet"


_NAMED = 80  # characters of a name from a journal row a refusal shows (the row may be hostile)
_CAPPED = 256  # characters of a text from a journal row a refusal's record keeps


def _named(text: str) -> str:
    """A name read from a journal row, as a refusal's message and station alarm show it: as
    it is when short and printable, else quoted with its control characters escaped, cut
    to ``_NAMED`` characters and its length said (a forged row may carry anything)."""
    if len(text) <= _NAMED and text.isprintable():
        return text
    cut = repr(text[:_NAMED])
    return cut if len(text) <= _NAMED else f"{cut}... ({len(text):,} characters)"


def _capped(text: str) -> str:
    """A text from a journal row as a refusal's record keeps it: at most ``_CAPPED``
    characters, so its details stay whole JSON under the record's own bound."""
    return text if len(text) <= _CAPPED else f"{text[:_CAPPED]}... ({len(text):,} characters)"


def shares(url: str) -> bool:
    """Whether stations on the database at ``url`` share one alarm picture (PostgreSQL)."""
    return listens(url)


@dataclass(slots=True)
class _Deferred:
    event: JournalEvent
    until: float  # monotonic: a catch-up applied as things are from then (no first value)
    refuse_at: float  # monotonic: refused from then while no record backs it
    catch_up: bool
    backed: bool
    problem: str = ""  # why no record backs it (yet)


class SharedAlarms(ChannelWatch):
    """``start_snapshot()`` before the alarm service starts (where to begin), ``start()`` on
    the station's loop after it, ``stop()`` before the journal closes. ``applied`` counts the
    other stations' actions applied here, ``skipped`` those that did not apply, ``refused``
    those without their audit record. ``key``: the site's audit key (to check the records);
    ``recorder``: where a refusal is recorded; ``hold_s`` and ``record_window_s``: see
    ``HOLD_S`` and ``RECORD_WINDOW_S``."""

    def __init__(
        self, engine: AlarmEngine, journal: AlarmJournal, *, workstation: str, url: str,
        poll_s: float = 1.0, listen: bool = True,
        on_status: Callable[[str], None] | None = None, key: bytes | None = None,
        recorder: AuditRecorder | None = None, hold_s: float = HOLD_S,
        record_window_s: float = RECORD_WINDOW_S,
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
        self._key = key or None
        self._recorder = recorder
        self._hold_s = hold_s
        self._window_us = round(record_window_s * 1_000_000)
        self.applied = 0
        self.skipped = 0
        self.refused = 0

    @property
    def held(self) -> int:
        """Actions held here: for their audit record, their alarm's first value, or behind a
        held one of their alarm."""
        return len(self._deferred)

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
            period = self._poll_s
            if any(not item.backed for item in self._deferred):
                period = min(period, _RECORD_TICK_S)  # look for the records again soon
            timeout = period - (time.monotonic() - last_read)
            if self._deferred:
                timeout = min(timeout, _HELD_TICK_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(timeout, 0.0))
            if not self._wake.is_set() and time.monotonic() - last_read < period:
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
        """Read the other stations' actions since the last read, look up their audit records
        (and those of the actions held for theirs), apply the backed ones and refuse those held
        too long; how many were applied. A database that cannot be read changes nothing (read
        again later)."""
        awaiting = [item.event for item in self._deferred if not item.backed]
        try:
            events, verdicts = await asyncio.wrap_future(self._reader.submit(self._read, awaiting))
        except Exception as exc:
            if self._reachable:
                log.warning("alarm picture: journal not readable, this station's alarms go "
                            "on alone until it is back: %s", exc)  # fmt: skip
            self._report(False, str(exc))
            return 0
        self._report(True, "")
        for item in self._deferred:
            verdict = None if verdicts is None else verdicts.get(item.event.id or 0)
            if verdict is not None and not item.backed:
                item.backed, item.problem = verdict.record is not None, verdict.problem
        applied = sum(
            self._apply(event, catch_up, None if verdicts is None else verdicts.get(event.id or 0))
            for event, catch_up in events
        )
        refused = [] if verdicts is None else self._due_refusals()
        applied += self._retry_deferred()
        for item in refused:
            await self._refuse(item)
        return applied

    def _read(
        self, awaiting: Sequence[JournalEvent]
    ) -> tuple[list[tuple[JournalEvent, bool]], dict[int, Backing] | None]:
        """On the reader thread: the actions to apply, each with whether it is a catch-up, and
        the backing of each of them and of those ``awaiting`` theirs (None: not looked up)."""
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
        wanted = [*awaiting, *(event for event, _ in out if event.alarm_id not in self.local)]
        if not wanted:
            return out, {}
        try:
            with self._journal.engine.connect() as connection:
                found = backing(connection, wanted, key=self._key, window_us=self._window_us)
        except Exception as exc:  # held, and looked up again at the next read
            log.warning("alarm picture: audit records not looked up, %d action(s) held: %s",
                        len(wanted), exc)  # fmt: skip
            return out, None
        return out, found

    def _apply(self, event: JournalEvent, catch_up: bool, verdict: Backing | None) -> bool:
        """Apply one action, or hold it: one without its audit record yet waits for it; a
        catch-up action on an alarm with no value yet waits for the first one (an
        acknowledgement needs the condition it acknowledges); and any action behind a held one
        of its alarm waits behind it, in order. Actions on another station's own alarms
        (``LOCAL_KINDS``) are not this station's to apply."""
        if event.alarm_id in self.local:
            return False
        backed = verdict is not None and verdict.record is not None
        held = any(item.event.alarm_id == event.alarm_id for item in self._deferred)
        if held or not backed or (catch_up and not self._evaluated(event.alarm_id)):
            now = time.monotonic()
            problem = _NOT_LOOKED if verdict is None else verdict.problem
            self._deferred.append(
                _Deferred(event, now + DEFER_S, now + self._hold_s, catch_up, backed, problem)
            )
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

    def _retry_deferred(self) -> int:
        """Held actions with their record whose alarm has had its first value (or that waited
        ``DEFER_S``: the state machine decides then) are applied, in order; how many."""
        if not self._deferred:
            return 0
        now, waiting, blocked, applied = time.monotonic(), [], set(), 0
        for item in self._deferred:
            alarm_id = item.event.alarm_id
            ready = not item.catch_up or self._evaluated(alarm_id) or now >= item.until
            if alarm_id not in blocked and item.backed and ready:
                applied += self._apply_now(item.event)
            else:
                blocked.add(alarm_id)
                waiting.append(item)
        self._deferred = waiting
        return applied

    def _due_refusals(self) -> list[_Deferred]:
        """Take out the held actions whose record did not come within ``hold_s``."""
        now = time.monotonic()
        due = [item for item in self._deferred if not item.backed and now >= item.refuse_at]
        if due:
            self._deferred = [item for item in self._deferred if item not in due]
        return due

    async def _refuse(self, item: _Deferred) -> None:
        """Not applied: said in the log, in the audit trail and by the station alarm."""
        event = item.event
        self.refused += 1
        user = _named(event.user) if event.user else "nobody"
        what = (f"{event.action.value} of alarm {_named(event.alarm_id)} by {user} on "
                f"{_named(event.workstation)} (alarm journal row {event.id})")  # fmt: skip
        log.error("alarm picture: %s refused, not applied: %s; a row without its audit record "
                  "may be forged by someone holding the station role", what, item.problem)  # fmt: skip
        self._engine.update_station(REFUSED, True, time.time(), f"{what}: {item.problem}")
        if self._recorder is None:
            return
        details = {
            "journal_row": event.id, "action": event.action.value,
            "user_id": _capped(event.user), "workstation": _capped(event.workstation),
            "time": iso_from_us(event.time_us),
            "from_state": event.from_state.value, "to_state": event.to_state.value,
            "comment": _capped(event.comment), "shelve_s": event.shelve_s,
        }  # fmt: skip
        try:
            await self._recorder.record_action(
                AuditAction.ALARM_SHARE_REFUSED, result=AuditResult.DENIED, actor=NOBODY,
                target_address=f"alarm:{event.alarm_id}", target_tag=event.tag,
                error=item.problem, origin="alarm picture", reason=f"{what} has no audit record",
                details=json.dumps(details, sort_keys=True, separators=(",", ":")),
            )  # fmt: skip
        except Exception as exc:  # the refusal stands; the log and the alarm still say so
            log.error("alarm picture: the refusal of %s was not recorded: %s", what, exc)

    def _report(self, reachable: bool, detail: str) -> None:
        if reachable == self._reachable:
            return
        self._reachable = reachable
        if reachable:
            log.info("alarm picture: journal readable again, shared with the other stations")
        if self._on_status is not None:
            self._on_status("shared" if reachable else f"alone: {detail}")
