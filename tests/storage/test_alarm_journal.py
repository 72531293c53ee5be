"""The alarm journal on a SQLite file and on a PostgreSQL database of its own: events round
trip, paged and filtered queries, snapshots, and the KPIs counted in SQL equal the pure ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent, compute_kpis
from hmi.model.alarms.states import AlarmAction, AlarmMemory, AlarmSnapshot, AlarmState
from hmi.storage.alarm_journal import AlarmJournal, AlarmQuery, alarm_report
from hmi.storage.audit import AuditStore
from hmi.storage.db import current_revisions, head_revisions, make_engine

A, S, P = AlarmAction, AlarmState, Priority
US = 1_000_000
T0 = 1_700_000_400 * US
MIN = 60 * US
HOUR = 3600 * US


def at(us: int) -> datetime:
    return datetime.fromtimestamp(us / US, UTC)


@pytest.fixture
def journal(db_url: str) -> Iterator[AlarmJournal]:
    store = AlarmJournal(make_engine(db_url))
    yield store
    store.close()


def event(i: int, **changes: object) -> JournalEvent:
    base = JournalEvent(
        time_us=T0 + i * MIN, alarm_id=f"T{i % 3}.Hi", tag=f"Tank{i % 3}.Level",
        priority=(P.CRITICAL, P.HIGH, P.MEDIUM, P.LOW)[i % 4], from_state=S.NORMAL,
        to_state=S.UNACK, action=A.ACTIVATE, value=repr(90.5 + i), message=f"Tank {i} high",
        workstation="ST-01", sequence=i,
    )  # fmt: skip
    return JournalEvent(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def test_events_round_trip_with_every_field(journal: AlarmJournal) -> None:
    sent = [
        event(0),
        event(1, action=A.ACKNOWLEDGE, from_state=S.UNACK, to_state=S.ACKED, user="olga",
              comment="Füllstand geprüft ✓", value=None),
        event(2, action=A.SHELVE, to_state=S.SHELVED, user="sam", comment="sensor work",
              value="True", workstation="ST-02", shelve_s=900.5,
              shelved_until_us=1_800_000_900_500_001),
    ]  # fmt: skip
    assert journal.append_many(sent) == 3
    page = journal.page(newest_first=False)
    assert page.next_cursor is None
    assert [e.id for e in page.events] == sorted(e.id for e in page.events if e.id is not None)
    stripped = [JournalEvent(**{**{f: getattr(e, f) for f in e.__slots__}, "id": None})  # type: ignore[arg-type]
                for e in page.events]  # fmt: skip
    assert stripped == sent
    assert current_revisions(journal.engine) == head_revisions()
    assert {"0005_alarms"} <= head_revisions()


def test_pages_newest_first_and_filters(journal: AlarmJournal) -> None:
    journal.append_many([event(i) for i in range(25)])
    journal.append_many([event(5, alarm_id="Same.Time")])  # same time as event 5: by id
    seen: list[JournalEvent] = []
    cursor = None
    for _ in range(10):
        page = journal.page(cursor=cursor, limit=10)
        seen.extend(page.events)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 26 and len({e.id for e in seen}) == 26
    assert [e.time_us for e in seen] == sorted((e.time_us for e in seen), reverse=True)
    assert [e.alarm_id for e in seen if e.time_us == T0 + 5 * MIN] == ["Same.Time", "T2.Hi"]

    def ids(query: AlarmQuery) -> list[int]:
        return [e.sequence for e in journal.page(query, limit=100, newest_first=False).events]

    assert ids(AlarmQuery(priorities=(P.CRITICAL,))) == [0, 4, 8, 12, 16, 20, 24]
    assert ids(AlarmQuery(alarm_id="T1.Hi", since=at(T0 + 4 * MIN), until=at(T0 + 10 * MIN))) == [
        4, 7,
    ]  # fmt: skip
    assert ids(AlarmQuery(tag="Tank2*", until=at(T0 + 6 * MIN))) == [2, 5, 5]
    assert ids(AlarmQuery(text="TANK 1")) == [1, *range(10, 20)]
    assert ids(AlarmQuery(actions=(A.CLEAR,))) == []
    assert ids(AlarmQuery(states=(S.UNACK,), workstation="ST-01"))[:2] == [0, 1]
    assert journal.count(AlarmQuery(priorities=(P.LOW, P.HIGH))) == 13


def test_snapshot_is_kept_per_station_and_replaced(journal: AlarmJournal) -> None:
    assert journal.last_snapshot("ST-01") is None
    first = AlarmSnapshot(taken_at=100.0, alarms={"T.Hi": AlarmMemory(state=S.UNACK, active=True)})
    journal.save_snapshot("ST-01", first)
    journal.save_snapshot("ST-02", AlarmSnapshot(taken_at=5.0))
    second = AlarmSnapshot(
        taken_at=200.5,
        alarms={"T.Lo": AlarmMemory(state=S.ACKED, active=True, shelve="timed",
                                    shelved_until=900.0, by="sam", reason="work")},
    )  # fmt: skip
    journal.save_snapshot("ST-01", second)
    assert journal.last_snapshot("ST-01") == second
    assert journal.last_snapshot("ST-02") == AlarmSnapshot(taken_at=5.0)


def generated() -> list[JournalEvent]:
    """Two stations, floods, a chattering alarm, bad actors and stale alarms, over 2 h."""
    events: list[JournalEvent] = []
    seq = 0

    def add(t: int, alarm: str, action: AlarmAction = A.ACTIVATE, station: str = "ST-01",
            from_state: AlarmState = S.NORMAL, to_state: AlarmState = S.UNACK) -> None:  # fmt: skip
        nonlocal seq
        seq += 1
        events.append(JournalEvent(t, alarm, alarm.split(".")[0], P.HIGH, from_state, to_state,
                                   action, "1.0", alarm, workstation=station, sequence=seq))  # fmt: skip

    for period, n in enumerate((3, 14, 0, 11, 10, 1, 25, 0, 0, 2, 0, 4)):
        for i in range(n):
            t = T0 + period * 10 * MIN + i * 20 * US
            add(t, f"Flood{i % 7}.A")
            if period == 6:
                add(t, f"Flood{i % 7}.A", station="ST-02")
    for i in range(5):
        add(T0 + 70 * MIN + i * 5 * US, "Chat.A")
    add(T0 - 30 * HOUR, "Stale.A")
    add(T0 - 29 * HOUR, "Stale.A", A.ACKNOWLEDGE, from_state=S.UNACK, to_state=S.ACKED)
    add(T0 - 28 * HOUR, "Gone.A")
    add(T0 - HOUR, "Gone.A", A.CLEAR, from_state=S.UNACK, to_state=S.RTN_UNACK)
    add(T0 - 40 * HOUR, "Kept.A", A.RESTORE, to_state=S.UNACK)
    add(T0 + 3 * HOUR, "Later.A")  # after the range
    return events


def test_sql_kpis_equal_the_pure_ones(journal: AlarmJournal, db_url: str) -> None:
    events = generated()
    journal.append_many(events)
    start, end = T0, T0 + 2 * HOUR
    from_sql = journal.kpis(start, end)
    # ST-02's 25 activations are ST-01's, seen again: journalled once (issue 21, item 4)
    stored = journal.page(limit=10_000, newest_first=False).events
    assert len(stored) == len(events) - 25
    assert from_sql == compute_kpis(stored, start, end)
    assert from_sql.activations == 70 + 5
    (one,) = from_sql.stations
    assert (one.workstation, one.activations, one.maximum, one.flood_periods) == (
        "ST-01",
        75,
        25,
        3,
    )
    assert [(b.alarm_id, b.activations) for b in from_sql.bad_actors[:2]] == [
        ("Flood0.A", 14), ("Flood1.A", 13),
    ]  # fmt: skip
    assert [(c.alarm_id, c.most_in_window) for c in from_sql.chattering][-1] == ("Chat.A", 5)
    assert [s.alarm_id for s in from_sql.stale] == ["Kept.A", "Stale.A"]
    text = alarm_report(db_url, at(start), at(end))
    assert "Activations: 75" in text and "Stale.A" in text and "Chat.A" in text


def test_the_audit_store_and_the_journal_share_one_schema(db_url: str) -> None:
    audit = AuditStore(make_engine(db_url))
    audit.ready()  # upgrades to every head: the journal's tables are there too
    journal = AlarmJournal(make_engine(db_url), migrate=False)
    assert journal.count() == 0
    audit.close()
    journal.close()


def test_a_transition_journalled_by_two_stations_is_stored_once(journal: AlarmJournal) -> None:
    """Issue 21, item 4: the same activation and clear from two stations (the same source
    time) are one row each; a station that joined late dates the activation from its start,
    and that one is not stored either; its own later activation is."""
    hi = dict(alarm_id="Tank.Hi", tag="Tank.Level")
    clear = dict(action=A.CLEAR, from_state=S.UNACK, to_state=S.RTN_UNACK)
    journal.append_many([event(0, **hi)])
    journal.append_many([event(0, **hi, workstation="ST-02")])  # the same transition
    journal.append_many([event(3, **hi, workstation="ST-03")])  # joined late: dated later
    journal.append_many([event(5, **hi, **clear), event(5, **hi, **clear, workstation="ST-02")])
    journal.append_many([event(9, **hi, workstation="ST-03")])  # a new activation
    rows = [(e.action, e.workstation, e.time_us) for e in journal.page(newest_first=False).events]
    assert rows == [
        (A.ACTIVATE, "ST-01", T0), (A.CLEAR, "ST-01", T0 + 5 * MIN),
        (A.ACTIVATE, "ST-03", T0 + 9 * MIN),
    ]  # fmt: skip


def test_a_stations_own_alarm_is_never_taken_for_another_stations(
    journal: AlarmJournal,
) -> None:
    """A comm-loss or station alarm of the same id on two stations is two conditions."""
    journal.local_alarms = frozenset({"plant.CommLoss"})
    own = dict(alarm_id="plant.CommLoss", tag="plant")
    journal.append_many([event(0, **own)])
    journal.append_many([event(0, **own, workstation="ST-02")])
    journal.append_many([event(3, **own, workstation="ST-03")])
    assert [e.workstation for e in journal.page(newest_first=False).events] == [
        "ST-01", "ST-02", "ST-03",
    ]  # fmt: skip
