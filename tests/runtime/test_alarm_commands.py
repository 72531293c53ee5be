"""Alarm actions go through the command service like writes: permission, validation, the
engine's action, a durable audit record with who, which alarm, from which state to which, why.
Real engine, broker, local:// driver, sessions and a SQLite audit trail."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from pydantic import TypeAdapter

from hmi.drivers.defaults import default_registry
from hmi.model.alarms.definitions import AlarmDefinition
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.alarm_journal import AlarmJournalWriter
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import AlarmRequest, CommandResult, CommandService, Outcome
from hmi.runtime.session import PermissionGuard, SessionService
from hmi.storage.alarm_journal import AlarmJournal, AlarmQuery
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.trail import AuditTrail
from hmi.storage.users import UserStore

HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Correct-Horse-42"
TAGS = {
    "Level": TagConfig(
        name="Level", address="local://level?type=float&initial=10", write=WritePolicy()
    )
}
ALARMS = TypeAdapter(tuple[AlarmDefinition, ...]).validate_python(
    [{"id": "Level.Hi", "tag": "Level", "kind": "hi", "limit": 80, "priority": "high"}]
)


@dataclass
class Station:
    service: CommandService
    sessions: SessionService
    alarms: AlarmEngineService


def run(tmp_path: Path, scenario: Callable[[Station], Awaitable[None]]) -> list[AuditRecord]:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    users = UserStore(make_engine(url), hasher=HASHER)
    users.add("op", "Olga Operator", "operator", PASSWORD)
    users.add("sup", "Sam Supervisor", "supervisor", PASSWORD)
    users.add("view", "Vic Viewer", "viewer", PASSWORD)

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-01", app_version="1.0", tags=TAGS)
        sessions = SessionService(users, trail, recorder)
        broker = TagBroker(TAGS, default_registry(), {})
        alarms = AlarmEngineService(broker, ALARMS)
        await broker.start()
        await alarms.start()
        service = CommandService(
            broker, guard=PermissionGuard(sessions), recorder=recorder, alarms=alarms
        )
        await scenario(Station(service, sessions, alarms))
        await alarms.stop()
        await broker.stop()
        await trail.aclose()

    asyncio.run(main())
    return [r for r in AuditStore.open(url).iter_records() if r.action.value.startswith("alarm_")]


async def raise_alarm(st: Station) -> None:
    result = await st.service.write("Level", 95, origin="test")
    assert result.ok, result.message
    for _ in range(200):
        if st.alarms.status("Level.Hi").state is AlarmState.UNACK:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the alarm did not come")


def test_acknowledge_is_recorded_with_user_states_and_alarm(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        await raise_alarm(st)
        result = await st.service.alarm(
            AlarmRequest(AlarmAction.ACKNOWLEDGE, "Level.Hi", origin="alarm summary")
        )
        assert result.ok, result.message
        assert st.alarms.status("Level.Hi").state is AlarmState.ACKED

    [record] = run(tmp_path, scenario)
    assert record.action is AuditAction.ALARM_ACK and record.result is AuditResult.DONE
    assert (record.user_id, record.role) == ("op", "operator")
    assert (record.target_tag, record.target_address) == ("Level", "alarm:Level.Hi")
    assert (record.old_value, record.new_value) == ("unack", "acked")
    assert record.origin == "alarm summary"


def test_shelving_needs_the_permission_and_a_reason(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)  # operators may not shelve
        await raise_alarm(st)
        denied = await st.service.alarm(
            AlarmRequest(AlarmAction.SHELVE, "Level.Hi", "sensor work", 600)
        )
        assert denied.outcome is Outcome.DENIED and "may not shelve alarm" in denied.message
        await st.sessions.logout()
        await st.sessions.login("sup", PASSWORD)
        no_reason = await st.service.alarm(AlarmRequest(AlarmAction.SHELVE, "Level.Hi", "  ", 600))
        assert no_reason.outcome is Outcome.DENIED and "needs a reason" in no_reason.message
        shelved = await st.service.alarm(
            AlarmRequest(AlarmAction.SHELVE, "Level.Hi", "sensor work", 600)
        )
        assert shelved.ok, shelved.message
        assert st.alarms.status("Level.Hi").state is AlarmState.SHELVED

    denied, no_reason, shelved = run(tmp_path, scenario)
    assert (denied.user_id, denied.result) == ("op", AuditResult.DENIED)
    assert no_reason.result is AuditResult.DENIED
    assert (shelved.user_id, shelved.result, shelved.reason) == (
        "sup",
        AuditResult.DONE,
        "sensor work",
    )
    assert shelved.new_value == "shelved"


def test_an_action_that_does_not_apply_is_denied_and_recorded(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        result = await st.service.alarm(AlarmRequest(AlarmAction.ACKNOWLEDGE, "Level.Hi"))
        assert result.outcome is Outcome.DENIED  # it is normal: nothing to acknowledge

    [record] = run(tmp_path, scenario)
    assert record.result is AuditResult.DENIED and record.error


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_shelve_records_its_duration_and_expiry_in_the_audit_record_and_the_journal(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    users = UserStore(make_engine(url), hasher=HASHER)
    users.add("sup", "Sam Supervisor", "supervisor", PASSWORD)
    clock = Clock(1_800_000_000.25)
    journal = AlarmJournal.open(url)

    async def main() -> list[CommandResult]:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-01", app_version="1.0", tags=TAGS)
        sessions = SessionService(users, trail, recorder)
        broker = TagBroker(TAGS, default_registry(), {})
        alarms = AlarmEngineService(broker, ALARMS, clock=clock)
        writer = AlarmJournalWriter(journal, workstation="ST-01")
        writer.attach(alarms)
        await broker.start()
        await alarms.start()
        service = CommandService(
            broker, guard=PermissionGuard(sessions), recorder=recorder, alarms=alarms
        )
        st = Station(service, sessions, alarms)
        await sessions.login("sup", PASSWORD)
        await raise_alarm(st)
        results = [
            await service.alarm(AlarmRequest(AlarmAction.SHELVE, "Level.Hi", "sensor work", 900)),
            await service.alarm(AlarmRequest(AlarmAction.SHELVE, "Level.Hi", "again", 99_999)),
        ]
        clock.now += 60
        results.append(
            await service.alarm(AlarmRequest(AlarmAction.SHELVE, "Level.Hi", "till it clears"))
        )
        await writer.flush()
        await writer.aclose()
        await alarms.stop()
        await broker.stop()
        await trail.aclose()
        return results

    timed, too_long, one_shot = asyncio.run(main())
    assert timed.ok and one_shot.ok and too_long.outcome is Outcome.DENIED
    shelves = [
        r for r in AuditStore.open(url).iter_records() if r.action is AuditAction.ALARM_SHELVE
    ]
    assert [json.loads(r.details) for r in shelves] == [
        {"duration_s": 900, "one_shot": False, "shelved_until": "2027-01-15T08:15:00.250000Z"},
        {"duration_s": 99_999, "one_shot": False},  # refused: what was asked for
        {"duration_s": None, "one_shot": True, "shelved_until": "2027-01-15T16:01:00.250000Z"},
    ]  # the one-shot shelve ends with the condition, at the 8 h maximum at the latest
    assert datetime.fromisoformat(json.loads(shelves[0].details)["shelved_until"]) == (
        datetime.fromtimestamp(clock.now - 60 + 900, UTC)
    )
    page = journal.page(AlarmQuery(actions=(AlarmAction.SHELVE,)), newest_first=False)
    assert [(e.shelve_s, e.shelved_until_us) for e in page.events] == [
        (900.0, 1_800_000_900_250_000),
        (None, 1_800_000_060_250_000 + 8 * 3600 * 1_000_000),
    ]
    assert timed.event.shelved_until == 1_800_000_900.25 and timed.event.shelve_s == 900
