"""The audit record behind another station's alarm action: the proof a station asks for
before it applies an action it read from the shared alarm journal.

A journal row proves nothing about who acted: every station journals, so the station role
may INSERT into ``alarm_events``, and anyone holding its credentials could write "Olga on
CR-01 shelved Level.Hi". Where an operator really acts, the command service writes the
action's audit record to the central chain (``hmi.runtime.audit``), hash-chained and, where
the site has a key, HMAC-SHA256 with it. So an action is *backed* when that record is in the
``audit`` table and sound, as ``hmi.storage.user_seal`` holds a user row to its record:

* it says the same thing: the audit action the operator action is recorded as
  (``AUDITED_AS``), target ``alarm:<id>``, the same workstation and user id, result
  ``done``, the transition as old and new value, the comment as reason, a shelve's duration
  in its details, and its time within ``window_us`` of the journal's;
* it hashes right with this station's key (without one, SHA-256; a keyed chain then cannot be
  checked and nothing is backed), so a record added by hand without the key does not pass;
* it is linked into the chain (the head's hash, or the ``prev_hash`` of the record after it),
  so one added beside the chain does not pass either;
* no other journal row took it: one record backs one action. The journal's rows around the
  actions (two windows either side) take the records in row id order, each the first sound
  record that says the same thing, so every station, at any start, pairs them alike, and a
  copy of a real row (replayed an hour or a day later with its time) is left without one.

``backing`` answers for a batch of actions with one range query on the journal, one on
``audit_target_time`` (migration 0005_audit) and one for the links. Blocking: call it on a
reader thread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, column, select, table

from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AUDITED_AS, AlarmAction
from hmi.model.audit.record import AuditResult, canonical_row, chain_hash, decode_value
from hmi.model.audit.storable import clean_text
from hmi.storage import schema

__all__ = ["Backing", "backing"]

_audit, _head = schema.audit, schema.audit_head
_journal = table(
    "alarm_events",
    *(column(name) for name in ("id", "time_us", "alarm_id", "action", "from_state",
                                "to_state", "user_id", "comment", "workstation", "shelve_s")),
)  # fmt: skip
"""The columns of ``hmi.storage.alarm_journal.alarm_events`` read here (that module imports
this package: its table is named, not imported)."""
_KEYED = "hmac-sha256"
_NONE = "the central audit trail holds no record of it"


@dataclass(frozen=True, slots=True)
class Backing:
    """Whether a journalled action is backed: ``record`` the uuid of the audit record that
    backs it, else None and ``problem`` why not."""

    record: str | None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class _Row:
    """What a journal row says about an operator action (from the row or a ``JournalEvent``)."""

    id: int
    time_us: int
    alarm_id: str
    action: str
    from_state: str
    to_state: str
    user: str
    comment: str
    workstation: str
    shelve_s: float | None


def backing(
    connection: Connection, events: Sequence[JournalEvent], *, key: bytes | None,
    window_us: int,
) -> dict[int, Backing]:  # fmt: skip
    """For each of ``events`` (stored: with an id), the record that backs it or why there is
    none; ``key``: the site's key (None: SHA-256), ``window_us``: how far apart the journal's
    time and the record's may be."""
    events = [e for e in events if e.id is not None and e.action in AUDITED_AS]
    if not events:
        return {}
    alarm_ids = sorted({e.alarm_id for e in events})
    actions = sorted({e.action.value for e in events})
    lo, hi = min(e.time_us for e in events), max(e.time_us for e in events)
    j = _journal.c
    rows = [
        _row_of(r)
        for r in connection.execute(
            select(j.id, j.time_us, j.alarm_id, j.action, j.from_state, j.to_state, j.user_id,
                   j.comment, j.workstation, j.shelve_s)
            .where(j.alarm_id.in_(alarm_ids), j.action.in_(actions),
                   j.time_us >= lo - 2 * window_us, j.time_us <= hi + 2 * window_us)
            .order_by(j.id)
        )
    ]  # fmt: skip
    mine = {e.id: _row_of_event(e) for e in events}
    known = {r.id for r in rows}
    rows.extend(r for i, r in mine.items() if i not in known)  # not readable in this snapshot
    c = _audit.c
    records = connection.execute(
        select(*(c[name] for name in schema.AUDIT_COLUMNS)).where(
            c.target_address.in_([f"alarm:{a}" for a in alarm_ids]),
            c.action.in_(sorted({AUDITED_AS[AlarmAction(a)].value for a in actions})),
            c.timestamp_us >= lo - 3 * window_us, c.timestamp_us <= hi + 3 * window_us,
        ).order_by(c.sequence)
    ).all()  # fmt: skip
    head = connection.execute(
        select(_head.c.last_sequence, _head.c.last_hash, _head.c.scheme).where(
            _head.c.chain == "audit"
        )
    ).first()
    after = _next_prev_hashes(connection, (int(r.sequence) for r in records))
    unsound = {str(r.uuid): _unsound(r, key, head, after) for r in records}
    by_target: dict[str, list[Row[Any]]] = {}
    for record in records:
        by_target.setdefault(str(record.target_address), []).append(record)
    taken: dict[str, int] = {}  # record uuid -> the journal row it backs
    out: dict[int, Backing] = {}
    for row in sorted(rows, key=lambda r: r.id):
        best, why = -1, _NONE
        for record in by_target.get(f"alarm:{row.alarm_id}", ()):
            uuid = str(record.uuid)
            stage, problem = _differs(record, row, window_us)
            if problem is None:
                stage, problem = 4, unsound[uuid]
            if problem is None and uuid in taken:
                stage, problem = 5, (f"audit record #{int(record.sequence)} backs journal row "
                                     f"{taken[uuid]} already (this row is a copy of that action)")  # fmt: skip
            if problem is None:
                taken[uuid] = row.id
                if row.id in mine:
                    out[row.id] = Backing(uuid)
                break
            if stage > best:
                best, why = stage, problem
        else:
            if row.id in mine:
                out[row.id] = Backing(None, why)
    return out


def _row_of(r: Any) -> _Row:
    shelve_s = None if r.shelve_s is None else float(r.shelve_s)
    return _Row(int(r.id), int(r.time_us), str(r.alarm_id), str(r.action), str(r.from_state),
                str(r.to_state), str(r.user_id), str(r.comment), str(r.workstation), shelve_s)  # fmt: skip


def _row_of_event(e: JournalEvent) -> _Row:
    assert e.id is not None
    return _Row(e.id, e.time_us, e.alarm_id, e.action.value, e.from_state.value,
                e.to_state.value, e.user, e.comment, e.workstation, e.shelve_s)  # fmt: skip


def _next_prev_hashes(connection: Connection, sequences: Iterable[int]) -> dict[int, str]:
    """sequence -> the ``prev_hash`` of the record after it (what links it into the chain)."""
    wanted = sorted({s + 1 for s in sequences})
    if not wanted:
        return {}
    c = _audit.c
    rows = connection.execute(select(c.sequence, c.prev_hash).where(c.sequence.in_(wanted)))
    return {int(s) - 1: str(h) for s, h in rows}


def _differs(record: Row[Any], row: _Row, window_us: int) -> tuple[int, str | None]:
    """How far ``record`` got towards saying what ``row`` says (to report the nearest miss),
    and where it differs (None: it says the same)."""
    where = f"audit record #{int(record.sequence)}"
    if (
        record.action != AUDITED_AS[AlarmAction(row.action)].value
        or record.workstation != row.workstation
        or record.user_id != row.user
    ):
        return 0, _NONE
    if record.result != AuditResult.DONE.value:
        return 1, f"{where} says it was {record.result}, not done"
    apart = abs(int(record.timestamp_us) - row.time_us)
    if apart > window_us:
        return 2, f"{where} is {apart / 1e6:.0f} s away from the journal's time"
    if not _says_the_same(record, row):
        return 3, f"{where} describes another {row.action} (states, reason or duration)"
    return 4, None


def _unsound(record: Row[Any], key: bytes | None, head: Any, after: dict[int, str]) -> str | None:
    """Why ``record`` is not a sound part of the chain (None: it is)."""
    where = f"audit record #{int(record.sequence)}"
    if key is None and head is not None and head.scheme == _KEYED:
        return "the audit chain is keyed and this station has no key to check its records"
    if chain_hash(canonical_row(tuple(record)), key) != record.hash:
        return f"{where} does not hash right (forged or altered)"
    sequence = int(record.sequence)
    if head is None or sequence > int(head.last_sequence):
        linked = False
    elif sequence == int(head.last_sequence):
        linked = head.last_hash == record.hash
    else:
        linked = after.get(sequence) == record.hash
    return None if linked else f"{where} is not part of the chain (added outside the audit store)"


def _says_the_same(record: Row[Any], row: _Row) -> bool:
    try:
        old, new = decode_value(record.old_value), decode_value(record.new_value)
    except (ValueError, TypeError, KeyError):
        return False
    if (old, new) != (row.from_state, row.to_state) or record.reason != clean_text(row.comment):
        return False
    if row.action != AlarmAction.SHELVE.value:
        return True
    try:
        asked = json.loads(record.details or "{}").get("duration_s")
    except (ValueError, AttributeError):
        return False
    if asked is None or row.shelve_s is None:
        return asked is None and row.shelve_s is None
    return isinstance(asked, (int, float)) and math.isclose(asked, row.shelve_s, abs_tol=1e-6)
