"""One alarm picture across the stations of a control room (issue 21, item 4): stations with
their own broker, alarm engine, journal writer and shared picture, each reading one real asyncua
server (the same source timestamps, as stations behind one aggregating server do), on one real
PostgreSQL database, connected as the documented station role. Operator actions go through the
command service on the station where they are made, as an operator's would, and are recorded in
the central audit trail (keyed with a site key) by that station's recorder: another station
applies them only once it finds that record. Rows written into the journal by hand, as anyone
holding the station role could, are refused, recorded and shown."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from pydantic import TypeAdapter
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from hmi.drivers.defaults import default_registry
from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings, Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AUDITED_AS, AlarmAction, AlarmState
from hmi.model.alarms.station import station_alarms
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.project import ProjectFile
from hmi.runtime.alarm_journal import AlarmJournalWriter
from hmi.runtime.alarm_share import HOLD_S, SharedAlarms
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import AlarmRequest, CommandService
from hmi.storage import schema
from hmi.storage.admin import grant_statements
from hmi.storage.alarm_journal import AlarmJournal, AlarmQuery
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine, upgrade
from hmi.storage.trail import AuditTrail
from tests.drivers.opcua.opcua_plant import PlantServer, free_port
from tests.runtime.pg_proxy import CuttableProxy
from tests.storage.conftest import PgAdmin

pytestmark = pytest.mark.postgres

S, A = AlarmState, AlarmAction
Until = Callable[..., Awaitable[None]]
ALARMS = TypeAdapter(tuple[AlarmDefinition, ...]).validate_python(
    [{"id": "Level.Hi", "tag": "Level", "kind": "hi", "limit": 80, "priority": "high"},
     {"id": "Level.Lo", "tag": "Level", "kind": "lo", "limit": 20, "priority": "low"}]
)  # fmt: skip
KEY = b"the site's audit key, for the tests"


@pytest.fixture
def station_url(pg_url: str) -> Iterator[str]:
    """A database as IT sets it up: the owner migrates, then exactly the documented grants;
    the station role's URL."""
    admin = PgAdmin(pg_url)
    name = admin.create()
    role = f"hmi_station_{uuid.uuid4().hex[:8]}"
    auditor = f"hmi_auditor_{uuid.uuid4().hex[:8]}"
    for each in (role, auditor):
        admin.execute(f'CREATE ROLE "{each}" LOGIN')
    owner = make_engine(admin.url_of(name))
    upgrade(owner)
    owner.dispose()
    for statement in grant_statements(role, auditor, database=name):
        admin.execute(statement, database=name)
    try:
        yield make_url(admin.url_of(name)).set(username=role).render_as_string(hide_password=False)
    finally:
        admin.drop(name)
        for each in (role, auditor):
            admin.execute(f'DROP ROLE IF EXISTS "{each}"')


@pytest.fixture
def plant() -> Iterator[PlantServer]:
    server = PlantServer(free_port(), None)
    server.write("Level", 50.0)
    try:
        yield server
    finally:
        server.close()


@dataclass
class Station:
    name: str
    broker: TagBroker
    alarms: AlarmEngineService
    commands: CommandService
    writer: AlarmJournalWriter
    share: SharedAlarms
    trail: AuditTrail

    def state(self, alarm_id: str = "Level.Hi") -> AlarmState:
        return self.alarms.status(alarm_id).state

    async def act(self, action: AlarmAction, text: str = "", **kw: float | None) -> None:
        result = await self.commands.alarm(AlarmRequest(action, "Level.Hi", text, **kw))  # type: ignore[arg-type]
        assert result.ok, result.message
        await self.writer.flush()


@asynccontextmanager
async def station(
    url: str, name: str, server: PlantServer | None = None, *, endpoint: str = "",
    node: str = "", hold_s: float = HOLD_S,
) -> AsyncIterator[Station]:  # fmt: skip
    """A station as the app builds one (without a window): ``server`` or its endpoint and
    the node of ``Level``; its audit trail on the same database, with the site key."""
    if server is not None:
        endpoint, node = server.endpoint, server.node_id("Level")
    project = ProjectFile.model_validate({
        "project": {"name": "p", "start_screen": "main"}, "screens": ["main.yaml"],
        "connections": {"plant": {"driver": "opcua", "endpoint": endpoint}},
        "tags": {"Level": {"address": f"opcua://plant/{node}"}},
    })  # fmt: skip
    broker = TagBroker(project.tags, default_registry(), project.connections)
    alarms = AlarmEngineService(
        broker, (*ALARMS, *station_alarms()), settings=AlarmSettings(tick_s=0.05)
    )
    journal = AlarmJournal.open(url, migrate=False)
    writer = AlarmJournalWriter(
        journal, workstation=name, linger_s=0.01, retry_s=0.5, retry_max_s=1.0
    )
    trail = AuditTrail(AuditStore.open(url, key=KEY, migrate=False), retry_s=0.2, retry_max_s=0.5)
    trail.start()
    recorder = AuditRecorder(trail, workstation=name, app_version="test")
    share = SharedAlarms(
        alarms.engine, journal, workstation=name, url=url, key=KEY, recorder=recorder,
        hold_s=hold_s,
    )  # fmt: skip
    snapshot = await share.start_snapshot()
    writer.attach(alarms)
    await broker.start()
    await alarms.start(snapshot)
    await share.start()
    if share.listener is not None:
        await asyncio.to_thread(share.listener.listening.wait, 5)
    try:
        commands = CommandService(broker, recorder=recorder, alarms=alarms)
        yield Station(name, broker, alarms, commands, writer, share, trail)
    finally:
        await share.stop()
        await alarms.stop()
        await writer.aclose()
        await broker.stop()
        journal.close()
        await trail.aclose()
        trail.store.close()


async def within(check: Callable[[], bool], seconds: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def rows(url: str, **query: object) -> list[tuple[str, str, str, str, str]]:
    journal = AlarmJournal.open(url, migrate=False)
    try:
        events = journal.page(AlarmQuery(**query), newest_first=False, limit=1000).events  # type: ignore[arg-type]
    finally:
        journal.close()
    return [(e.alarm_id, e.action.value, e.from_state.value, e.to_state.value, e.workstation)
            for e in events]  # fmt: skip


def test_an_acknowledge_and_a_shelve_on_one_station_show_on_the_other_within_a_second(
    station_url: str, plant: PlantServer
) -> None:
    async def main() -> None:
        async with (
            station(station_url, "CR-01", plant) as a,
            station(station_url, "CR-02", plant) as b,
        ):
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: a.state() is S.UNACK and b.state() is S.UNACK, 10, "alarm")
            await a.act(A.ACKNOWLEDGE, "seen")
            took = await within(lambda: b.state() is S.ACKED, 1.0, "ack on CR-02")
            print(f"ack shown on the other station after {took * 1000:.0f} ms")
            await a.act(A.COMMENT, "operator sent to the tank")
            await a.act(A.SHELVE, "level transmitter being replaced", duration_s=1.5)
            await within(lambda: b.state() is S.SHELVED, 1.0, "shelve on CR-02")
            until_a = a.alarms.status("Level.Hi").shelved_until
            assert b.alarms.status("Level.Hi").shelved_until == pytest.approx(until_a, abs=1e-6)
            assert b.alarms.status("Level.Hi").by == a.alarms.status("Level.Hi").by
            # the expiry is the same on both: unshelved on both, journalled once
            await within(lambda: a.state() is S.UNACK and b.state() is S.UNACK, 3, "expiry")
            await b.act(A.OUT_OF_SERVICE, "calibration")
            await within(lambda: a.state() is S.OUT_OF_SERVICE, 1.0, "out of service on CR-01")
            await b.act(A.RETURN_TO_SERVICE, "calibrated")
            await within(lambda: a.state() is S.UNACK, 1.0, "back in service on CR-01")
            # the condition clears on both before CR-02's acknowledgement reaches CR-01
            await asyncio.to_thread(plant.write, "Level", 50.0)
            await within(lambda: a.state() is S.RTN_UNACK and b.state() is S.RTN_UNACK, 5, "return")
            await b.act(A.ACKNOWLEDGE, "")
            await within(lambda: a.state() is S.NORMAL, 1.0, "ack of the return on CR-01")
            # an acknowledgement that no longer applies on the other station is skipped there
            skipped = a.share.skipped
            await a.act(A.COMMENT, "all clear")
            await within(lambda: b.share.applied >= 4, 1.0, "comment")
            assert b.share.skipped == skipped == 0

    asyncio.run(main())
    journal = rows(station_url)
    operator = [r for r in journal if r[1] not in ("activate", "clear", "shelve_ended")]
    assert operator == [
        ("Level.Hi", "acknowledge", "unack", "acked", "CR-01"),
        ("Level.Hi", "comment", "acked", "acked", "CR-01"),
        ("Level.Hi", "shelve", "acked", "shelved", "CR-01"),
        ("Level.Hi", "out_of_service", "unack", "out_of_service", "CR-02"),
        ("Level.Hi", "return_to_service", "out_of_service", "unack", "CR-02"),
        ("Level.Hi", "acknowledge", "rtn_unack", "normal", "CR-02"),
        ("Level.Hi", "comment", "normal", "normal", "CR-01"),
    ], "each operator action journalled once, by the station where it was made"
    process = [r[:2] for r in journal if r[1] in ("activate", "clear", "shelve_ended")]
    assert process == [
        ("Level.Hi", "activate"),
        ("Level.Hi", "shelve_ended"),
        ("Level.Hi", "clear"),
    ], f"each process transition once, though both stations evaluated it: {journal}"


def test_a_station_that_joins_late_starts_from_the_shared_state(
    station_url: str, plant: PlantServer
) -> None:
    async def main() -> None:
        async with station(station_url, "CR-01", plant) as a:
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: a.state() is S.UNACK, 10, "alarm")
            await a.act(A.ACKNOWLEDGE, "seen")
            await a.act(A.SHELVE, "transmitter work", duration_s=60.0)
            await within(lambda: a.state("Level.Hi") is S.SHELVED, 1, "shelved")
            # CR-02 joins with no snapshot of its own, CR-01 has saved none yet either
            async with station(station_url, "CR-02", plant) as b:
                await within(lambda: b.state() is S.SHELVED, 5, "shelve on the late joiner")
                assert b.alarms.status("Level.Hi").shelved_until == pytest.approx(
                    a.alarms.status("Level.Hi").shelved_until
                )
                await a.act(A.UNSHELVE, "work done")
                await within(lambda: b.state() is S.UNACK, 1.0, "unshelve on CR-02")
                await a.act(A.ACKNOWLEDGE, "")
                await within(lambda: b.state() is S.ACKED, 1.0, "ack on CR-02")
            # CR-02 restarts: CR-01's later snapshot is the shared state, not CR-02's own
            await a.writer.save_snapshot(a.alarms.snapshot())
            await a.act(A.COMMENT, "after the snapshot")
            async with station(station_url, "CR-02", plant) as b:
                await within(lambda: b.state() is S.ACKED, 5, "restart from the shared state")
                await asyncio.sleep(0.3)  # actions just before the snapshot, again: denied
                assert b.state() is S.ACKED

    asyncio.run(main())
    journal = rows(station_url)
    workstations = {r[4] for r in journal if r[1] not in ("restore",)}
    assert workstations == {"CR-01"}, "\n".join(map(str, journal))


def test_a_station_cut_off_catches_up_when_it_is_back(station_url: str, plant: PlantServer) -> None:
    parsed = make_url(station_url)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    via_proxy = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)

    async def main() -> None:
        async with (
            station(station_url, "CR-01", plant) as a,
            station(via_proxy, "CR-02", plant) as b,
        ):
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: a.state() is S.UNACK and b.state() is S.UNACK, 10, "alarm")
            proxy.cut()
            await a.act(A.ACKNOWLEDGE, "seen while CR-02 was cut off")
            await a.act(A.SHELVE, "shelved while CR-02 was cut off", duration_s=120.0)
            await asyncio.sleep(1.5)  # CR-02 cannot read the journal: its picture stays
            assert b.state() is S.UNACK
            await asyncio.to_thread(plant.write, "Level", 10.0)  # Lo activates on both
            await within(lambda: b.state("Level.Lo") is S.UNACK, 5, "Lo on CR-02 cut off")
            proxy.restore()
            took = await within(lambda: b.state() is S.SHELVED, 8, "CR-02 caught up")
            print(f"caught up {took * 1000:.0f} ms after the cut ended")
            # what CR-02 journalled while cut off is stored now (its Lo activation twice
            # over: before CR-01's or after it, it is one row)
            await within(lambda: b.writer.status.pending == 0, 10, "CR-02's journal written")
            assert a.state() is S.SHELVED and b.share.skipped == 0

    try:
        asyncio.run(main())
    finally:
        proxy.close()
    process = [r[:2] for r in rows(station_url) if r[1] in ("activate", "clear")]
    # Hi cleared unseen under CR-01's shelve, seen by CR-02 (cut off, not shelved yet)
    assert sorted(process) == [
        ("Level.Hi", "activate"), ("Level.Hi", "clear"), ("Level.Lo", "activate"),
    ], "CR-02's transitions from its cut-off time are not stored twice"  # fmt: skip


def test_rows_a_station_cannot_apply_do_not_stop_the_picture(
    station_url: str, plant: PlantServer
) -> None:
    """Rows another station journals (with their audit records) that do not fit this
    station's project or version: skipped and logged; the actions behind them apply."""
    from hmi.storage.alarm_journal import alarm_events

    def journal_action(alarm_id: str, action: AlarmAction, to_state: str) -> None:
        journal = AlarmJournal.open(station_url, migrate=False)
        try:
            if to_state in {s.value for s in S}:
                event = JournalEvent(
                    round(time.time() * 1e6), alarm_id, "Level", Priority.HIGH, S.UNACK,
                    S(to_state), action, None, "", user="mallory", workstation="CR-09",
                )  # fmt: skip
                journal.append_many([event])
                audit_record_of(station_url, event)
            else:
                with journal.engine.begin() as connection:
                    connection.execute(insert(alarm_events).values(
                        time_us=round(time.time() * 1e6), sequence=1, alarm_id=alarm_id,
                        tag="Level", priority="high", from_state="unack", to_state=to_state,
                        action=action.value, message="", user_id="x", comment="",
                        workstation="CR-09",
                    ))  # fmt: skip
        finally:
            journal.close()

    async def main() -> None:
        async with station(station_url, "CR-02", plant) as b:
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: b.state() is S.UNACK, 10, "alarm")
            await asyncio.to_thread(journal_action, "No.Such.Alarm", A.ACKNOWLEDGE, "acked")
            await asyncio.to_thread(journal_action, "Level.Hi", A.ACKNOWLEDGE, "exploded")
            await asyncio.to_thread(journal_action, "Level.Hi", A.RESET, "normal")
            await asyncio.to_thread(journal_action, "Level.Hi", A.ACKNOWLEDGE, "acked")
            await within(lambda: b.state() is S.ACKED, 2.0, "the good row behind the bad")
            assert b.share.skipped == 2  # the unknown alarm, a reset of a non-latching one
            assert b.alarms.status("Level.Lo").state is S.NORMAL

    asyncio.run(main())


def audit_record_of(url: str, event: JournalEvent) -> None:
    """The audit record the command service of ``event``'s station writes for it."""
    details = ""
    if event.action is A.SHELVE:
        details = json.dumps({"duration_s": event.shelve_s, "one_shot": event.shelve_s is None})
    store = AuditStore.open(url, key=KEY, migrate=False)
    try:
        store.append(AuditRecord.create(
            AUDITED_AS[event.action], user_id=event.user, workstation=event.workstation,
            target_address=f"alarm:{event.alarm_id}", target_tag=event.tag,
            old_value=event.from_state.value, new_value=event.to_state.value,
            reason=event.comment, details=details, app_version="test",
        ))  # fmt: skip
    finally:
        store.close()


def journalled(url: str, action: AlarmAction, to: AlarmState, *, comment: str = "",
               shelve_s: float | None = None, by: str = "olga", on: str = "CR-01") -> JournalEvent:  # fmt: skip
    """An operator action on ``Level.Hi`` as a station's journal writer stores it."""
    event = JournalEvent(
        round(time.time() * 1e6), "Level.Hi", "Level", Priority.HIGH, S.UNACK, to, action,
        None, "", user=by, comment=comment, workstation=on, shelve_s=shelve_s,
    )  # fmt: skip
    journal = AlarmJournal.open(url, migrate=False)
    try:
        journal.append_many([event])
        return journal.page(AlarmQuery(), limit=1).events[0]
    finally:
        journal.close()


def forge_shelve(url: str, *, by: str = "olga", on: str = "CR-01") -> int:
    """An attacker holding the station role's credentials: one INSERT into ``alarm_events``
    saying ``by`` on ``on`` shelved Level.Hi for an hour, announced like a real one."""
    engine = make_engine(url)
    now_us = round(time.time() * 1e6)
    try:
        with engine.begin() as connection:
            row = connection.execute(text(
                "INSERT INTO alarm_events (time_us, sequence, alarm_id, tag, priority, "
                "from_state, to_state, action, message, user_id, comment, workstation, "
                "shelved_until_us, shelve_s) VALUES (:t, 7, 'Level.Hi', 'Level', 'high', "
                "'unack', 'shelved', 'shelve', '', :by, 'maintenance', :on, :until, 3600.0) "
                "RETURNING id"
            ), {"t": now_us, "by": by, "on": on, "until": now_us + 3_600_000_000}).scalar_one()  # fmt: skip
            connection.execute(text("SELECT pg_notify('hmi_alarms', :on)"), {"on": on})
    finally:
        engine.dispose()
    return int(row)


def refusals(url: str) -> list[AuditRecord]:
    store = AuditStore.open(url, key=KEY, migrate=False)
    try:
        return [r for r in store.iter_records() if r.action is AuditAction.ALARM_SHARE_REFUSED]
    finally:
        store.close()


def test_a_shelve_inserted_into_the_journal_by_hand_is_refused_recorded_and_shown(
    station_url: str, plant: PlantServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack: the station role may INSERT into ``alarm_events``, and a row with no audit
    record behind it shelves nothing. It is held for its record, then refused: the log, the
    audit trail (``alarm_share_refused``) and the station alarm say which alarm, user,
    station and row."""
    found: dict[str, object] = {}

    async def main() -> None:
        async with station(station_url, "CR-02", plant, hold_s=0.5) as b:
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: b.state() is S.UNACK, 10, "alarm")
            found["row"] = await asyncio.to_thread(forge_shelve, station_url)
            await within(lambda: b.share.refused == 1, 5, "the forged shelve refused")
            assert b.state() is S.UNACK and b.share.applied == 0
            shown = b.alarms.status("station.alarm_share")
            assert shown.state is S.UNACK
            found["shown"] = str(shown.value)
            await asyncio.sleep(0.3)  # read again: refused once, never applied
            assert b.share.refused == 1 and b.state() is S.UNACK

    with caplog.at_level(logging.ERROR, logger="hmi.runtime.alarm_share"):
        asyncio.run(main())
    row = found["row"]
    what = f"shelve of alarm Level.Hi by olga on CR-01 (alarm journal row {row})"
    assert what in str(found["shown"]) and "no record" in str(found["shown"])
    assert what in caplog.text and "refused" in caplog.text
    [record] = refusals(station_url)
    assert (record.workstation, record.result, record.target_address) == (
        "CR-02", AuditResult.DENIED, "alarm:Level.Hi",
    )  # fmt: skip
    details = json.loads(record.details)
    assert (details["journal_row"], details["user_id"], details["workstation"]) == (
        row, "olga", "CR-01",
    )  # fmt: skip
    store = AuditStore.open(station_url, key=KEY, migrate=False)
    assert store.verify().ok  # the refusal is a record of the chain like any other
    store.close()


def test_a_forged_row_with_a_hostile_user_name_is_refused_and_shown_bounded(
    station_url: str, plant: PlantServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A forged row may carry anything: a user name of 100,000 characters with line breaks
    and terminal escapes. The refusal's log line, station alarm and record stay short, on one
    line, and the record's details whole JSON."""
    hostile = "olga\n\x1b[31mFAKE: all clear\x1b[0m" + "x" * 100_000
    found: dict[str, object] = {}

    async def main() -> None:
        async with station(station_url, "CR-02", plant, hold_s=0.5) as b:
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: b.state() is S.UNACK, 10, "alarm")
            found["row"] = await asyncio.to_thread(forge_shelve, station_url, by=hostile)
            await within(lambda: b.share.refused == 1, 5, "the forged shelve refused")
            assert b.state() is S.UNACK and b.share.applied == 0
            found["shown"] = str(b.alarms.status("station.alarm_share").value)

    with caplog.at_level(logging.ERROR, logger="hmi.runtime.alarm_share"):
        asyncio.run(main())
    shown = str(found["shown"])
    assert len(shown) < 1000 and "\n" not in shown and "\x1b" not in shown, shown[:300]
    assert "'olga\\n\\x1b[31mFAKE" in shown and f"{len(hostile):,} characters" in shown
    [line] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(line) < 1500 and "\n" not in line and "\x1b" not in line
    [record] = refusals(station_url)
    details = json.loads(record.details)  # whole JSON, not cut by the record's bound
    assert details["journal_row"] == found["row"]
    assert details["user_id"].startswith("olga\n") and len(details["user_id"]) < 300


def test_a_row_backed_by_a_record_added_to_the_audit_table_without_the_key_is_refused(
    station_url: str, plant: PlantServer
) -> None:
    """The attacker appends a matching record too, chained at the head (the station role may
    INSERT into ``audit`` and move its head) but hashed without the site key: it does not
    hash right, and the row is refused."""

    def forge_record_and_row() -> int:
        engine = make_engine(station_url)
        try:
            with engine.begin() as connection:
                head = connection.execute(text(
                    "SELECT last_sequence, last_hash FROM audit_head WHERE chain = 'audit' "
                    "FOR UPDATE"
                )).one()  # fmt: skip
                record = AuditRecord.create(
                    AuditAction.ALARM_SHELVE, user_id="olga", workstation="CR-01",
                    target_address="alarm:Level.Hi", target_tag="Level", old_value="unack",
                    new_value="shelved", reason="maintenance", app_version="test",
                    details=json.dumps({"duration_s": 3600.0, "one_shot": False}),
                )  # fmt: skip
                _, stored = record.chained_row(int(head[0]) + 1, str(head[1]), None)
                connection.execute(
                    insert(schema.audit), [dict(zip(schema.AUDIT_COLUMNS, stored, strict=True))]
                )
                connection.execute(text(
                    "UPDATE audit_head SET last_sequence = :s, last_hash = :h "
                    "WHERE chain = 'audit'"
                ), {"s": stored[12], "h": stored[24]})  # fmt: skip
        finally:
            engine.dispose()
        return forge_shelve(station_url)

    async def main() -> None:
        async with station(station_url, "CR-02", plant, hold_s=0.5) as b:
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: b.state() is S.UNACK, 10, "alarm")
            await b.act(A.COMMENT, "a real record first: the chain's key is known")
            await asyncio.to_thread(forge_record_and_row)
            await within(lambda: b.share.refused == 1, 5, "the forged shelve refused")
            assert b.state() is S.UNACK and b.share.applied == 0

    asyncio.run(main())
    [record] = refusals(station_url)
    assert "does not hash right" in record.error, record.error


def test_an_action_whose_record_comes_late_is_held_then_applied_in_order(
    station_url: str, plant: PlantServer
) -> None:
    """The record may come after its row (the journal and the trail write on threads of
    their own; a spooled record arrives when it is forwarded): the action is held, the
    comment journalled behind it waits behind it, and both apply once the record is there."""

    async def main() -> None:
        async with station(station_url, "CR-02", plant, hold_s=10.0) as b:
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: b.state() is S.UNACK, 10, "alarm")
            ack = await asyncio.to_thread(journalled, station_url, A.ACKNOWLEDGE, S.ACKED)
            note = await asyncio.to_thread(
                journalled, station_url, A.COMMENT, S.ACKED, comment="checked on site"
            )
            await asyncio.to_thread(audit_record_of, station_url, note)
            await within(lambda: b.share.held == 2, 5, "both rows read and held")
            assert b.state() is S.UNACK and b.share.applied == 0
            await asyncio.to_thread(audit_record_of, station_url, ack)
            await within(lambda: b.state() is S.ACKED and b.share.applied == 2, 2, "applied")
            assert b.share.refused == 0 and b.share.held == 0
            assert b.alarms.status("station.alarm_share").state is S.NORMAL

    asyncio.run(main())
    assert refusals(station_url) == []


def test_a_copy_of_a_real_action_is_not_backed_by_its_record(
    station_url: str, plant: PlantServer
) -> None:
    """One record backs one row: a real shelve's row copied by hand (its record found by
    the copy too) leaves the copy without one."""

    async def main() -> None:
        async with (
            station(station_url, "CR-01", plant) as a,
            station(station_url, "CR-02", plant, hold_s=0.5) as b,
        ):
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(lambda: a.state() is S.UNACK and b.state() is S.UNACK, 10, "alarm")
            await a.act(A.ACKNOWLEDGE, "seen")
            await within(lambda: b.state() is S.ACKED, 1.0, "ack on CR-02")
            engine = make_engine(station_url)
            try:
                with engine.begin() as connection:  # the same row again, a new id
                    connection.execute(text(
                        "INSERT INTO alarm_events (time_us, sequence, alarm_id, tag, priority, "
                        "from_state, to_state, action, message, user_id, comment, workstation) "
                        "SELECT time_us, sequence, alarm_id, tag, priority, from_state, "
                        "to_state, action, message, user_id, comment, workstation "
                        "FROM alarm_events WHERE action = 'acknowledge'"
                    ))  # fmt: skip
            finally:
                engine.dispose()
            await within(lambda: b.share.refused == 1, 5, "the copy refused")
            assert b.share.applied == 1

    asyncio.run(main())
    [record] = refusals(station_url)
    assert "backs journal row" in record.error, record.error


class StationProcess:
    """``tests/runtime/alarm_station.py`` in a process of its own: what it shows, as it
    prints it; ``send`` a command; ``close`` ends it."""

    def __init__(self, url: str, name: str, server: PlantServer) -> None:
        import subprocess
        import sys
        import threading
        from pathlib import Path

        self.states: dict[str, str] = {}
        self.results: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.runtime.alarm_station", url, name, server.endpoint,
             server.node_id("Level")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).parents[2],
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            word, _, rest = line.strip().partition(" ")
            if word == "ready":
                self.ready.set()
            elif word == "result":
                self.results.append(rest)
            else:
                self.states[word] = rest

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def test_three_stations_one_in_a_process_of_its_own_share_one_picture(
    station_url: str, plant: PlantServer
) -> None:
    """CR-03 runs as a separate process; an acknowledge on CR-01 shows on CR-03 and a shelve
    on CR-03 on CR-01 and CR-02 within a second; each transition is journalled once."""
    other = StationProcess(station_url, "CR-03", plant)

    async def main() -> None:
        async with (
            station(station_url, "CR-01", plant) as a,
            station(station_url, "CR-02", plant) as b,
        ):
            assert await asyncio.to_thread(other.ready.wait, 30), "CR-03 did not start"
            await asyncio.to_thread(plant.write, "Level", 95.0)
            await within(
                lambda: a.state() is b.state() is S.UNACK
                and other.states.get("Level.Hi") == "unack", 10, "alarm on all three",
            )  # fmt: skip
            await a.act(A.ACKNOWLEDGE, "seen")
            took = await within(lambda: other.states.get("Level.Hi") == "acked", 1.0, "ack")
            print(f"ack on CR-01 shown by the CR-03 process after {took * 1000:.0f} ms")
            other.send("shelve Level.Hi 60")
            await within(lambda: a.state() is b.state() is S.SHELVED, 1.5, "shelve on CR-03")
            assert other.results and other.results[0].startswith("True"), other.results

    try:
        asyncio.run(main())
    finally:
        assert other.close() == 0
    journal = rows(station_url)
    assert [r[1] for r in journal if r[1] == "activate"] == ["activate"], journal
    assert [(r[1], r[4]) for r in journal if r[1] in ("acknowledge", "shelve")] == [
        ("acknowledge", "CR-01"), ("shelve", "CR-03"),
    ]  # fmt: skip
