"""The audit record behind a shared alarm action (``hmi.storage.shared.alarm_seal``), on a
SQLite file and on PostgreSQL: real records appended by the audit store, real rows stored by
the alarm journal. A record backs the row it describes, and only that one; a row whose record
says something else, lies outside the window, was refused, or does not hash with the key is
not backed, and the answer says why. The index of migration 0005_audit is there on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import inspect

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AUDITED_AS, AlarmAction, AlarmState
from hmi.model.audit.record import AuditRecord, AuditResult
from hmi.runtime.alarm_share import shares
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore
from hmi.storage.db import head_revisions, make_engine
from hmi.storage.shared.alarm_seal import backing

A, S = AlarmAction, AlarmState
KEY = b"the site's audit key"
T = 1_796_000_000 * 1_000_000
WINDOW = 60 * 1_000_000


@pytest.fixture
def stores(db_url: str) -> Iterator[tuple[AlarmJournal, AuditStore]]:
    journal = AlarmJournal(make_engine(db_url))
    audit = AuditStore(make_engine(db_url), key=KEY)
    yield journal, audit
    journal.close()
    audit.close()


def shelve(**changes: object) -> JournalEvent:
    event = JournalEvent(
        T, "Level.Hi", "Level", Priority.HIGH, S.ACKED, S.SHELVED, A.SHELVE, None, "",
        user="olga", comment="transmitter work", workstation="CR-01", shelve_s=900.0,
    )  # fmt: skip
    return replace(event, **changes)  # type: ignore[arg-type]


def record_of(event: JournalEvent, **changes: object) -> AuditRecord:
    """What the command service of ``event``'s station records for it."""
    fields: dict[str, object] = {
        "user_id": event.user, "workstation": event.workstation,
        "target_address": f"alarm:{event.alarm_id}", "target_tag": event.tag,
        "old_value": event.from_state.value, "new_value": event.to_state.value,
        "reason": event.comment, "app_version": "test",
        "details": json.dumps({"duration_s": event.shelve_s, "one_shot": event.shelve_s is None}),
    }  # fmt: skip
    record = AuditRecord.create(AUDITED_AS[event.action], **{**fields, **changes})  # type: ignore[arg-type]
    return replace(record, timestamp_us=event.time_us + 250_000)


def stored(journal: AlarmJournal, *events: JournalEvent) -> list[JournalEvent]:
    before = journal.last_id()
    journal.append_many(events)
    return journal.after(before, limit=100)


def look_up(
    journal: AlarmJournal, events: list[JournalEvent], key: bytes | None = KEY
) -> list[str]:
    with journal.engine.connect() as connection:
        found = backing(connection, events, key=key, window_us=WINDOW)
    return [found[e.id].problem if found[e.id].record is None else "backed" for e in events]  # type: ignore[index]


def test_the_index_of_the_look_up_is_made_on_every_database(
    stores: tuple[AlarmJournal, AuditStore], db_url: str
) -> None:
    journal, audit = stores
    audit.ready()
    journal.ready()
    indexes = {i["name"]: i["column_names"] for i in inspect(audit.engine).get_indexes("audit")}
    assert indexes["audit_target_time"] == ["target_address", "timestamp_us"]
    assert "0005_audit" in head_revisions()
    assert shares(db_url) is db_url.startswith("postgresql")  # SQLite: no picture to share


def test_a_record_backs_the_row_it_describes_and_no_copy_of_it(
    stores: tuple[AlarmJournal, AuditStore],
) -> None:
    journal, audit = stores
    real = shelve()
    audit.append(record_of(real))
    first, copy = stored(journal, real, real)
    assert look_up(journal, [first, copy]) == [
        "backed",
        f"audit record #1 backs journal row {first.id} already (this row is a copy of that action)",
    ]
    assert look_up(journal, [copy]) == look_up(journal, [first, copy])[1:]  # whatever is asked
    assert look_up(journal, [first], key=None) == [
        "the audit chain is keyed and this station has no key to check its records"
    ]
    assert look_up(journal, [first], key=b"another key") == [
        "audit record #1 does not hash right (forged or altered)"
    ]


def test_a_row_is_not_backed_by_a_record_that_says_something_else(
    stores: tuple[AlarmJournal, AuditStore],
) -> None:
    journal, audit = stores
    real = shelve()
    audit.append(record_of(real, details=json.dumps({"duration_s": 60.0, "one_shot": False})))
    audit.append(record_of(replace(real, time_us=T - 5 * WINDOW)))
    audit.append(record_of(real, result=AuditResult.DENIED))
    audit.append(record_of(real, user_id="sam"))
    (row,) = stored(journal, real)
    (problem,) = look_up(journal, [row])
    assert problem == "audit record #1 describes another shelve (states, reason or duration)"
    (other_station,) = stored(journal, shelve(workstation="CR-07", time_us=T + 1))
    assert look_up(journal, [other_station]) == ["the central audit trail holds no record of it"]
    (late,) = stored(journal, shelve(time_us=T - 7 * WINDOW))
    assert look_up(journal, [late]) == ["audit record #2 is 120 s away from the journal's time"]
