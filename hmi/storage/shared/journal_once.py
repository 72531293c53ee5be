"""Each alarm transition in the shared journal once, whichever stations evaluated it (issue 21,
item 4): the unique ``transition_key`` of a process transition, and the check that stops a
station that joined late from journalling an activation another station already did.

A process transition (activate, clear, suppress, unsuppress, shelve ended) is the same on every
station that evaluates the alarm: it carries ``alarm|action|time_us`` (migration
``0005_alarms``), and the second station's insert of the same key does nothing (``ON CONFLICT
DO NOTHING``, which needs only the station's INSERT grant). Operator actions and restores are
made by one station and journalled by it alone: no key.

Journal ids in commit order (issue 16): ids come from a sequence, and two stations'
transactions could commit out of id order, so a forwarder reading ``id > cursor`` could pass an
id whose transaction commits later and never send it. On PostgreSQL every journal write takes
a transaction-scoped advisory lock (``_ID_LOCK``) before it draws an id and holds it to commit:
a transaction that draws a higher id commits after every lower one is committed or rolled
back, so what a reader sees is always every id up to the highest it sees (a gap only where a
transaction rolled back, which nothing fills later).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, or_, select, text

from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.storage.db import dialect_insert

__all__ = ["insert_once", "transition_key"]

_ID_LOCK = text("SELECT pg_advisory_xact_lock(1752001025)")  # 0x686d6a01, "hmj\x01"
_PROCESS = frozenset(
    {
        AlarmAction.ACTIVATE, AlarmAction.CLEAR, AlarmAction.SUPPRESS, AlarmAction.UNSUPPRESS,
        AlarmAction.SHELVE_ENDED,
    }
)  # fmt: skip

_ACTIVE_NOW = (AlarmState.UNACK.value, AlarmState.ACKED.value)
_CLEARED_NOW = tuple(
    s.value
    for s in (AlarmState.NORMAL, AlarmState.RTN_UNACK, AlarmState.LATCHED_UNACK,
              AlarmState.LATCHED_ACKED)
)  # fmt: skip
_PAIRED = {AlarmAction.ACTIVATE: _ACTIVE_NOW, AlarmAction.CLEAR: _CLEARED_NOW}
"""An activation (clear) journalled while the alarm's latest unmasked row already says active
(cleared), and whose latest activation (clear) came from another station, is that station's
transition seen again: by a station that joined late, which dates it from its own start, so
the key does not find it. A station's own repeats are kept (a clear hidden by a shelve)."""


def transition_key(alarm_id: str, action: AlarmAction, time_us: int) -> str | None:
    """``alarm|action|time_us`` for a process transition; None for an operator's or a restore.
    Stations that read the same source timestamps (one OPC UA server) key a transition alike."""
    if action not in _PROCESS:
        return None
    return f"{alarm_id}|{action.value}|{time_us}"


def insert_once(
    connection: Connection,
    table: Table,
    rows: Sequence[tuple[AlarmAction | None, dict[str, Any]]],
) -> None:
    """INSERT the rows into ``table`` (the journal's) in order, each transition once. A row
    whose action is given as None is inserted as it is (an alarm of this station's own).
    Consecutive rows of one kind go in one ``executemany`` of one prepared statement (a flood
    of 500 activations a second must not cost a statement built per row: that thread would
    hold the interpreter the UI needs)."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:  # ids in commit order (above); SQLite's write lock is had since BEGIN
        connection.execute(_ID_LOCK)
    make = dialect_insert(connection.dialect.name)
    group: list[dict[str, Any]] = []
    kind: tuple[str, ...] | None = None

    def flush() -> None:
        if group:
            statement = _keyed(make(table)) if kind is None else _once(make, table, group[0], kind)
            connection.execute(statement, list(group))
            group.clear()

    for action, row in rows:
        states = None if action is None else _PAIRED.get(action)
        if states != kind:
            flush()
            kind = states
        group.append(row)
    flush()


def _keyed(statement: Any) -> Any:
    return statement.on_conflict_do_nothing(index_elements=["transition_key"])


def _once(make: Any, table: Table, row: dict[str, Any], states: tuple[str, ...]) -> Any:
    """INSERT a row (its values bound by column name) unless its key is there or another
    station journalled it (above)."""
    c = table.c
    alarm = c.alarm_id == bindparam("alarm_id")
    newest = (c.time_us.desc(), c.id.desc())
    unmasked = _ACTIVE_NOW + _CLEARED_NOW
    # or_ of equalities, not IN: an IN list is an "expanding" parameter, which executemany
    # does not take
    state = select(c.to_state).where(alarm, or_(*(c.to_state == s for s in unmasked)))
    by = select(c.workstation).where(alarm, c.action == bindparam("action")).order_by(*newest)
    station: Any = bindparam("workstation")
    latest = func.coalesce(state.order_by(*newest).limit(1).scalar_subquery(), "")
    seen = and_(
        or_(*(latest == s for s in states)),
        func.coalesce(by.limit(1).scalar_subquery(), station) != station,
    )
    values = select(*(bindparam(k, type_=table.c[k].type).label(k) for k in row))
    return _keyed(make(table).from_select(list(row), values.where(~seen)))
