"""What a station reads of the other stations' alarm journal to share one alarm picture
(issue 21, item 4): their operator actions after a cursor, and the newest alarm snapshot any
station saved (where a station that starts, or comes back, begins). Blocking, no Qt; called
from the alarm picture's reader thread (``hmi.runtime.alarm_share``).

Row ids come from a sequence, and on PostgreSQL a transaction that took a smaller id may
commit after one that took a larger: a read "after id N" could skip it for good. So each read
looks back ``LOOK_BACK`` ids behind the cursor, and the caller skips the ids it has seen.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import OPERATOR_ACTIONS, AlarmSnapshot
from hmi.storage.alarm_journal import AlarmJournal, _event, alarm_events, alarm_snapshot

log = logging.getLogger(__name__)

__all__ = ["LOOK_BACK", "last_id", "newest_snapshot", "operator_actions"]

LOOK_BACK = 1000
"""Ids behind the cursor read again, for rows whose transaction committed late."""

_ACTIONS = sorted(a.value for a in OPERATOR_ACTIONS)


def last_id(journal: AlarmJournal) -> int:
    """The highest row id in the journal now (0 when empty)."""
    journal.ready()
    with journal.engine.connect() as connection:
        return int(connection.execute(select(func.max(alarm_events.c.id))).scalar() or 0)


def operator_actions(
    journal: AlarmJournal, *, after_id: int, since_us: int | None = None,
    up_to_id: int | None = None, exclude: str | None = None, limit: int = 2000,
    seen: set[int] | None = None,
) -> list[JournalEvent]:  # fmt: skip
    """Operator actions with ``id > after_id - LOOK_BACK`` (and ``<= up_to_id``, at or after
    ``since_us``), not made by station ``exclude``, in id order, leaving out the ids in
    ``seen``. A row this version cannot read (a state it does not know) is logged once and
    its id added to ``seen``."""
    journal.ready()
    c = alarm_events.c
    where = [c.id > after_id - LOOK_BACK, c.action.in_(_ACTIONS)]
    if since_us is not None:
        where.append(c.time_us >= since_us)
    if up_to_id is not None:
        where.append(c.id <= up_to_id)
    if exclude is not None:
        where.append(c.workstation != exclude)
    statement = select(alarm_events).where(*where).order_by(c.id).limit(limit)
    events = []
    with journal.engine.connect() as connection:
        for row in connection.execute(statement):
            if seen is not None and row.id in seen:
                continue
            try:
                events.append(_event(row))
            except (ValueError, TypeError) as exc:
                log.warning("alarm journal row %s (by %s) skipped: %s", row.id, row.workstation,
                            exc)  # fmt: skip
                if seen is not None:
                    seen.add(int(row.id))
    return events


def newest_snapshot(journal: AlarmJournal) -> tuple[str, AlarmSnapshot] | None:
    """The most recent alarm snapshot of any station, with that station's name."""
    journal.ready()
    s = alarm_snapshot.c
    with journal.engine.connect() as connection:
        row = connection.execute(
            select(s.workstation, s.body).order_by(s.taken_us.desc()).limit(1)
        ).first()
    if row is None:
        return None
    return str(row.workstation), AlarmSnapshot.model_validate_json(row.body)
