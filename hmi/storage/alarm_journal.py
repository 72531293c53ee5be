"""The alarm journal: every alarm event of every station (table ``alarm_events``), each
station's alarm snapshot for a restart (``alarm_snapshot``), paged queries for the history view
and the KPIs counted in SQL for long ranges.

Blocking: call it from a worker thread (``hmi.runtime.alarm_journal.AlarmJournalWriter`` does
the writing) or from the CLI. Times are microseconds since the epoch, UTC. The tables come
from migration 0002 (the ``alarms`` branch); ``ready()`` brings the schema to every head.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Engine,
    Float,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    and_,
    distinct,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import (
    ACTIVE_STATES,
    PERIOD_S,
    STALE_AFTER_S,
    TOP,
    AlarmKpis,
    BadActor,
    JournalEvent,
    StaleAlarm,
    chattering,
    format_report,
    load_from_counts,
)
from hmi.model.alarms.states import OPERATOR_ACTIONS, AlarmAction, AlarmSnapshot, AlarmState
from hmi.model.audit.record import us_from_datetime
from hmi.storage.db import ensure_schema, make_engine, write_transaction
from hmi.storage.shared.journal_once import insert_once, transition_key

__all__ = [
    "ALARM_CHANNEL",
    "AlarmJournal",
    "AlarmQuery",
    "JournalCursor",
    "JournalPage",
    "alarm_report",
]

log = logging.getLogger(__name__)

metadata = MetaData()
alarm_events = Table(
    "alarm_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("time_us", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("alarm_id", Text, nullable=False),
    Column("tag", Text, nullable=False),
    Column("priority", String(16), nullable=False),
    Column("from_state", String(24), nullable=False),
    Column("to_state", String(24), nullable=False),
    Column("action", String(24), nullable=False),
    Column("value", Text, nullable=True),
    Column("message", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("workstation", Text, nullable=False),
    Column("shelved_until_us", BigInteger, nullable=True),
    Column("shelve_s", Float, nullable=True),
    Column("transition_key", Text, nullable=True, unique=True),
)
"""Created by migration 0002 (``shelved_until_us``, ``shelve_s``: 0004_alarms;
``transition_key``: 0005_alarms); a change here needs a new migration."""

ALARM_CHANNEL = "hmi_alarms"
"""The PostgreSQL NOTIFY channel an operator action on an alarm is announced on (payload: the
station's name), in the transaction that journals it."""

alarm_snapshot = Table(
    "alarm_snapshot",
    metadata,
    Column("workstation", String(255), primary_key=True),
    Column("taken_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)

JournalCursor = tuple[int, int]
"""(time_us, id) of the last row of a page: where the next page goes on."""

_ACTIVATE = AlarmAction.ACTIVATE.value
_OPERATOR = sorted(a.value for a in OPERATOR_ACTIONS)
_ACTIVE = [s.value for s in ACTIVE_STATES]


@dataclass(frozen=True, slots=True)
class AlarmQuery:
    """What the history view asks for; empty fields do not filter. ``tag`` and ``alarm_id``
    match exactly unless they contain ``*``; ``text`` searches message, comment and user;
    ``states`` match the state an event led to; ``after_id`` keeps the events stored after
    that row (what a refresh of the first page reads)."""

    since: datetime | None = None
    until: datetime | None = None  # exclusive
    priorities: tuple[Priority, ...] = ()
    tag: str | None = None
    alarm_id: str | None = None
    actions: tuple[AlarmAction, ...] = ()
    states: tuple[AlarmState, ...] = ()
    workstation: str | None = None
    text: str | None = None
    after_id: int = 0  # only events stored after this row id (0: all)


@dataclass(frozen=True, slots=True)
class JournalPage:
    events: list[JournalEvent]
    next_cursor: JournalCursor | None  # pass as ``cursor`` for the next page; None: no more


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _event(row: Row[Any]) -> JournalEvent:
    return JournalEvent(
        time_us=int(row.time_us), alarm_id=row.alarm_id, tag=row.tag,
        priority=Priority(row.priority), from_state=AlarmState(row.from_state),
        to_state=AlarmState(row.to_state), action=AlarmAction(row.action), value=row.value,
        message=row.message, user=row.user_id, comment=row.comment,
        workstation=row.workstation, sequence=int(row.sequence), id=int(row.id),
        shelve_s=row.shelve_s,
        shelved_until_us=None if row.shelved_until_us is None else int(row.shelved_until_us),
    )  # fmt: skip


def _row(event: JournalEvent) -> dict[str, Any]:
    return {
        "time_us": event.time_us, "sequence": event.sequence, "alarm_id": event.alarm_id,
        "tag": event.tag, "priority": event.priority.value,
        "from_state": event.from_state.value, "to_state": event.to_state.value,
        "action": event.action.value, "value": event.value, "message": event.message,
        "user_id": event.user, "comment": event.comment, "workstation": event.workstation,
        "shelved_until_us": event.shelved_until_us, "shelve_s": event.shelve_s,
        "transition_key": transition_key(event.alarm_id, event.action, event.time_us),
    }  # fmt: skip


class AlarmJournal:
    """The journal on one database (SQLite or PostgreSQL); nothing connects until first use."""

    def __init__(self, engine: Engine, *, migrate: bool = True) -> None:
        self.engine = engine
        self._migrate = migrate
        self._ready = False
        self.local_alarms: frozenset[str] = frozenset()  # this station's own: never deduped

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> AlarmJournal:
        return cls(make_engine(url), migrate=migrate)

    def close(self) -> None:
        self.engine.dispose()

    def ready(self) -> None:
        """Connect and bring the schema up to date (once; again after a failure)."""
        if not self._ready:
            ensure_schema(self.engine, migrate=self._migrate)
            self._ready = True

    # -- writing -------------------------------------------------------------------------------

    def append_many(self, events: Sequence[JournalEvent]) -> int:
        """Store events in one transaction, durable on return; how many."""
        if not events:
            return 0
        self.ready()
        postgres = self.engine.dialect.name == "postgresql"
        with write_transaction(self.engine) as connection:
            insert_once(connection, alarm_events, [self._keyed(e) for e in events])
            if postgres and any(e.action in OPERATOR_ACTIONS for e in events):
                connection.execute(
                    text("SELECT pg_notify(:channel, :station)"),
                    {"channel": ALARM_CHANNEL, "station": events[0].workstation},
                )
        return len(events)

    def _keyed(self, event: JournalEvent) -> tuple[AlarmAction | None, dict[str, Any]]:
        row = _row(event)  # another station's local alarm is another condition: no key
        local = event.alarm_id in self.local_alarms
        return (None, {**row, "transition_key": None}) if local else (event.action, row)

    def save_snapshot(self, workstation: str, snapshot: AlarmSnapshot) -> None:
        """Keep ``snapshot`` as this station's latest (replacing the one before)."""
        self.ready()
        values = {
            "taken_us": round(snapshot.taken_at * 1_000_000),
            "body": snapshot.model_dump_json(),
        }
        with write_transaction(self.engine) as connection:
            changed = connection.execute(
                update(alarm_snapshot)
                .where(alarm_snapshot.c.workstation == workstation)
                .values(**values)
            ).rowcount
            if not changed:
                connection.execute(insert(alarm_snapshot).values(workstation=workstation, **values))

    def last_snapshot(self, workstation: str) -> AlarmSnapshot | None:
        self.ready()
        with self.engine.connect() as connection:
            body = connection.execute(
                select(alarm_snapshot.c.body).where(alarm_snapshot.c.workstation == workstation)
            ).scalar()
        return None if body is None else AlarmSnapshot.model_validate_json(body)

    # -- what the other stations read (hmi.runtime.alarm_share) --------------------------------

    def operator_actions(
        self, *, after_id: int, since_us: int | None = None, up_to_id: int | None = None,
        exclude: str | None = None, limit: int = 2000, seen: set[int] | None = None,
    ) -> list[JournalEvent]:  # fmt: skip
        """Operator actions after row ``after_id`` (to ``up_to_id``, from ``since_us``), not by
        ``exclude``, in id order, but the ids in ``seen``; one this version cannot read is
        logged and added to ``seen``."""
        self.ready()
        c = alarm_events.c
        where = [c.id > after_id, c.action.in_(_OPERATOR)]
        if since_us is not None:
            where.append(c.time_us >= since_us)
        if up_to_id is not None:
            where.append(c.id <= up_to_id)
        if exclude is not None:
            where.append(c.workstation != exclude)
        events, seen = [], set() if seen is None else seen
        with self.engine.connect() as connection:
            statement = select(alarm_events).where(*where).order_by(c.id).limit(limit)
            for row in connection.execute(statement):
                if row.id in seen:
                    continue
                try:
                    events.append(_event(row))
                except (ValueError, TypeError) as exc:
                    log.warning("alarm journal row %s (by %s) skipped: %s", row.id,
                                row.workstation, exc)  # fmt: skip
                    seen.add(int(row.id))
        return events

    def newest_snapshot(self) -> tuple[str, AlarmSnapshot] | None:
        """The most recent snapshot of any station, with that station's name."""
        self.ready()
        s = alarm_snapshot.c
        with self.engine.connect() as connection:
            row = connection.execute(
                select(s.workstation, s.body).order_by(s.taken_us.desc()).limit(1)
            ).first()
        return (
            None if row is None else (row.workstation, AlarmSnapshot.model_validate_json(row.body))
        )

    # -- reading -------------------------------------------------------------------------------

    def _where(self, query: AlarmQuery) -> list[ColumnElement[bool]]:
        c = alarm_events.c
        where: list[ColumnElement[bool]] = []
        if query.since is not None:
            where.append(c.time_us >= us_from_datetime(query.since))
        if query.until is not None:
            where.append(c.time_us < us_from_datetime(query.until))
        if query.after_id:
            where.append(c.id > query.after_id)
        for column, value in (
            (c.tag, query.tag),
            (c.alarm_id, query.alarm_id),
            (c.workstation, query.workstation),
        ):
            if value:
                where.append(
                    column.like(_like(value), escape="\\") if "*" in value else column == value
                )
        if query.priorities:
            where.append(c.priority.in_([p.value for p in query.priorities]))
        if query.actions:
            where.append(c.action.in_([a.value for a in query.actions]))
        if query.states:
            where.append(c.to_state.in_([s.value for s in query.states]))
        if query.text:
            pattern = f"%{_like(query.text.lower())}%"
            where.append(
                or_(
                    *(
                        func.lower(col).like(pattern, escape="\\")
                        for col in (c.message, c.comment, c.user_id, c.alarm_id)
                    )
                )
            )
        return where

    def page(
        self,
        query: AlarmQuery = AlarmQuery(),
        *,
        cursor: JournalCursor | None = None,
        limit: int = 200,
        newest_first: bool = True,
    ) -> JournalPage:
        """One page of events matching ``query``, newest first (or oldest first)."""
        self.ready()
        c = alarm_events.c
        where = self._where(query)
        if cursor is not None:
            t, i = cursor
            if newest_first:
                where.append(or_(c.time_us < t, and_(c.time_us == t, c.id < i)))
            else:
                where.append(or_(c.time_us > t, and_(c.time_us == t, c.id > i)))
        order = (c.time_us.desc(), c.id.desc()) if newest_first else (c.time_us, c.id)
        statement = select(alarm_events).where(*where).order_by(*order).limit(limit + 1)
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        events = [_event(row) for row in rows[:limit]]
        more = len(rows) > limit and events
        last = events[-1] if more else None
        return JournalPage(events, None if last is None else (last.time_us, last.id or 0))

    def after(
        self, last_id: int, *, limit: int, workstation: str | None = None
    ) -> list[JournalEvent]:
        """Up to ``limit`` events stored after row ``last_id``, in id order (forwarding)."""
        self.ready()
        c = alarm_events.c
        where = [c.id > last_id] + ([c.workstation == workstation] if workstation else [])
        statement = select(alarm_events).where(*where).order_by(c.id).limit(limit)
        with self.engine.connect() as connection:
            return [_event(row) for row in connection.execute(statement)]

    def last_id(self) -> int:
        """The newest event's row id (0: none)."""
        self.ready()
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.max(alarm_events.c.id))).scalar() or 0)

    def count(self, query: AlarmQuery = AlarmQuery()) -> int:
        self.ready()
        statement = select(func.count()).select_from(alarm_events).where(*self._where(query))
        with self.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    # -- KPIs in SQL (the same definitions as hmi.model.alarms.kpi) -----------------------------

    def _activations(self, start_us: int, end_us: int) -> list[ColumnElement[bool]]:
        c = alarm_events.c
        return [c.action == _ACTIVATE, c.time_us >= start_us, c.time_us < end_us]

    def kpis(self, start_us: int, end_us: int) -> AlarmKpis:
        """Every KPI of [start, end), counted by the database."""
        self.ready()
        c = alarm_events.c
        in_range = self._activations(start_us, end_us)
        period_us = PERIOD_S * 1_000_000
        bucket = ((c.time_us - start_us) // period_us).label("bucket")
        with self.engine.connect() as connection:
            counts: dict[str, dict[int, int]] = defaultdict(dict)
            for workstation, index, n in connection.execute(
                select(c.workstation, bucket, func.count())
                .where(*in_range)
                .group_by(c.workstation, bucket)
            ):
                counts[workstation][int(index)] = int(n)
            distinct_times = select(c.alarm_id, c.time_us).where(*in_range).distinct().subquery()
            total = int(
                connection.execute(select(func.count()).select_from(distinct_times)).scalar_one()
            )
            n = func.count(distinct(c.time_us)).label("n")
            ranked = connection.execute(
                select(c.alarm_id, n)
                .where(*in_range)
                .group_by(c.alarm_id)
                .order_by(n.desc(), c.alarm_id)
                .limit(TOP)
            ).all()
            actors = []
            for alarm_id, activations in ranked:
                tag, priority = connection.execute(
                    select(c.tag, c.priority)
                    .where(*in_range, c.alarm_id == alarm_id)
                    .order_by(c.time_us.desc(), c.id.desc())
                    .limit(1)
                ).one()
                actors.append(
                    BadActor(
                        alarm_id,
                        tag,
                        Priority(priority),
                        int(activations),
                        int(activations) / total,
                    )
                )
            chatty = (
                select(c.alarm_id)
                .where(*in_range)
                .group_by(c.alarm_id)
                .having(func.count(distinct(c.time_us)) >= 3)
            )
            times: dict[str, list[int]] = defaultdict(list)
            for alarm_id, t in connection.execute(
                select(c.alarm_id, c.time_us).where(*in_range, c.alarm_id.in_(chatty)).distinct()
            ):
                times[alarm_id].append(int(t))
            stale = self._stale(connection, end_us)
        return AlarmKpis(
            start_us=start_us,
            end_us=end_us,
            activations=total,
            stations=tuple(load_from_counts(counts, start_us, end_us)),
            bad_actors=tuple(actors),
            chattering=tuple(chattering(times)),
            stale=tuple(stale),
        )

    @staticmethod
    def _stale(connection: Any, at_us: int, after_s: float = STALE_AFTER_S) -> list[StaleAlarm]:
        c = alarm_events.c
        position = func.row_number().over(
            partition_by=c.alarm_id, order_by=(c.time_us.desc(), c.id.desc())
        )
        ranked = (
            select(
                c.alarm_id,
                c.tag,
                c.priority,
                c.to_state,
                c.message,
                c.time_us,
                position.label("position"),
            )
            .where(c.time_us < at_us)
            .subquery()
        )
        last = connection.execute(
            select(ranked).where(ranked.c.position == 1, ranked.c.to_state.in_(_ACTIVE))
        ).all()
        if not last:
            return []
        entries = (
            select(c.alarm_id, c.action, func.max(c.time_us))
            .where(c.time_us < at_us, c.to_state.in_(_ACTIVE), c.from_state.not_in(_ACTIVE))
            .group_by(c.alarm_id, c.action)
        )
        since: dict[str, dict[bool, int]] = defaultdict(dict)
        for alarm_id, action, t in connection.execute(entries):
            restore = action == AlarmAction.RESTORE.value
            since[alarm_id][restore] = max(int(t), since[alarm_id].get(restore, int(t)))
        stale = []
        for row in last:
            began = since[row.alarm_id]
            start = began.get(False, began.get(True, int(row.time_us)))
            age = (at_us - start) / 1_000_000
            if age > after_s:
                stale.append(StaleAlarm(row.alarm_id, row.tag, Priority(row.priority),
                                        AlarmState(row.to_state), start, age, row.message))  # fmt: skip
        stale.sort(key=lambda s: (s.active_since_us, s.alarm_id))
        return stale


def alarm_report(url: str, start: datetime, end: datetime) -> str:
    """The KPI report of [start, end) for ``hmi alarms report --from --to`` (naive: UTC)."""
    journal = AlarmJournal.open(url)
    try:
        return format_report(journal.kpis(us_from_datetime(start), us_from_datetime(end)))
    finally:
        journal.close()
