"""The journal writer between the alarm service and the database: real broker, local://
driver, alarm service and command service, the journal on a SQLite file; and a sink that fails
on purpose for the retry and overflow policy."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from hmi.drivers.defaults import default_registry
from hmi.model.alarms.definitions import AlarmDefinition, Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmAction, AlarmEvent, AlarmSnapshot, AlarmState
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.alarm_journal import AlarmJournalWriter, JournalBehind
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import AlarmRequest, CommandService
from hmi.storage.alarm_journal import AlarmJournal, AlarmQuery

Until = Callable[..., Awaitable[None]]
S, A = AlarmState, AlarmAction
ALARMS = TypeAdapter(tuple[AlarmDefinition, ...]).validate_python(
    [{"id": "Level.Hi", "tag": "Level", "kind": "hi", "limit": 80, "priority": "high",
      "message": "Level high: {value:.1f}"}]
)  # fmt: skip


def tags() -> dict[str, TagConfig]:
    return {
        "Level": TagConfig(
            name="Level", address="local://jlevel?type=float&initial=10", write=WritePolicy()
        )
    }


def test_events_reach_the_journal_and_the_snapshot_survives_a_restart(
    tmp_path: Path, until: Until
) -> None:
    journal = AlarmJournal.open(f"sqlite:///{tmp_path}/hmi.sqlite")

    async def first_run() -> None:
        broker = TagBroker(tags(), default_registry(), {})
        alarms = AlarmEngineService(broker, ALARMS)
        writer = AlarmJournalWriter(journal, workstation="ST-01")
        commands = CommandService(broker, alarms=alarms)
        assert await writer.last_snapshot() is None
        writer.attach(alarms)
        await broker.start()
        await alarms.start(None)
        assert (await commands.write("Level", 95.5)).ok
        await until(lambda: alarms.status("Level.Hi").state is S.UNACK, what="the alarm")
        result = await commands.alarm(AlarmRequest(A.ACKNOWLEDGE, "Level.Hi", "seen"))
        assert result.ok, result.message
        await writer.flush()
        assert writer.status.written == 2 and writer.status.pending == 0
        await writer.aclose()  # saves the last snapshot
        await alarms.stop()
        await broker.stop()

    asyncio.run(first_run())
    page = journal.page(newest_first=False)
    assert [(e.action, e.from_state, e.to_state) for e in page.events] == [
        (A.ACTIVATE, S.NORMAL, S.UNACK),
        (A.ACKNOWLEDGE, S.UNACK, S.ACKED),
    ]
    activation, ack = page.events
    assert (activation.value, activation.message, activation.priority) == (
        "95.5", "Level high: 95.5", Priority.HIGH,
    )  # fmt: skip
    assert (ack.comment, ack.workstation, ack.tag) == ("seen", "ST-01", "Level")
    snapshot = journal.last_snapshot("ST-01")
    assert snapshot is not None and snapshot.alarms["Level.Hi"].state is S.ACKED

    async def second_run() -> None:
        broker = TagBroker(tags(), default_registry(), {})
        alarms = AlarmEngineService(broker, ALARMS)
        writer = AlarmJournalWriter(journal, workstation="ST-01")
        restored = await writer.last_snapshot()
        writer.attach(alarms)
        await broker.start()
        await alarms.start(restored)
        commands = CommandService(broker, alarms=alarms)
        assert (await commands.write("Level", 96.0)).ok
        await until(lambda: alarms.status("Level.Hi").state is S.ACKED, what="restored ack")
        await writer.flush()
        await writer.aclose()
        await alarms.stop()
        await broker.stop()

    asyncio.run(second_run())
    restore = journal.page(AlarmQuery(actions=(A.RESTORE,))).events
    assert [(e.from_state, e.to_state) for e in restore] == [(S.NORMAL, S.ACKED)]
    journal.close()


def event(i: int) -> AlarmEvent:
    return AlarmEvent(
        i, f"A{i}", "T", Priority.LOW, S.NORMAL, S.UNACK, A.ACTIVATE, 1000.0 + i, i, f"m{i}"
    )


class FlakySink:
    """Refuses the first ``failures`` appends; records each stored batch and its thread."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.batches: list[list[JournalEvent]] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()

    def append_many(self, events: Sequence[JournalEvent]) -> int:
        self.gate.wait()
        self.threads.add(threading.current_thread().name)
        if self.failures:
            self.failures -= 1
            raise OSError("database is away")
        self.batches.append(list(events))
        return len(events)

    def save_snapshot(self, workstation: str, snapshot: AlarmSnapshot) -> None:
        raise AssertionError("not used")

    def last_snapshot(self, workstation: str) -> AlarmSnapshot | None:
        return None

    @property
    def stored(self) -> list[int]:
        return [e.sequence for batch in self.batches for e in batch]


def test_events_are_written_in_batches_on_the_worker_thread() -> None:
    sink = FlakySink()
    writer = AlarmJournalWriter(sink, workstation="ST-01", batch_max=100)

    async def main() -> None:
        sink.gate.clear()  # hold the worker so that events gather
        writer.record(event(0))
        await asyncio.sleep(0.05)
        for i in range(1, 1000):
            writer.record(event(i))
        sink.gate.set()
        await writer.flush()
        await writer.aclose()

    asyncio.run(main())
    assert sink.stored == list(range(1000))
    assert sink.threads == {"alarm-journal"}
    assert len(sink.batches) <= 12 and max(len(b) for b in sink.batches) == 100


def test_a_refusing_database_keeps_events_in_order_and_retries(until: Until) -> None:
    sink = FlakySink(failures=3)
    statuses = []
    writer = AlarmJournalWriter(sink, workstation="ST-01", retry_s=0.02, on_status=statuses.append)

    async def main() -> None:
        for i in range(5):
            writer.record(event(i))
        await until(lambda: writer.status.failing, what="the first refusal")
        with pytest.raises(JournalBehind, match="5 alarm event"):
            await writer.flush()
        writer.record(event(5))
        await until(lambda: writer.status.written == 6, what="the retry")
        await writer.flush()
        await writer.aclose()

    asyncio.run(main())
    assert sink.stored == list(range(6))
    assert not writer.status.failing and statuses[-1].pending == 0


def test_beyond_the_bound_the_oldest_waiting_events_are_dropped(until: Until) -> None:
    sink = FlakySink(failures=1_000_000)
    writer = AlarmJournalWriter(sink, workstation="ST-01", max_pending=5, retry_s=10)

    async def main() -> None:
        writer.record(event(0))
        await until(lambda: writer.status.failing, what="the refusal")
        for i in range(1, 8):
            writer.record(event(i))
        with pytest.raises(JournalBehind):
            await writer.flush()
        assert (writer.status.pending, writer.status.dropped) == (5, 3)
        sink.failures = 0
        await writer.aclose()  # one last attempt on stop

    asyncio.run(main())
    assert sink.stored == [3, 4, 5, 6, 7]


def test_a_trickle_of_events_is_written_in_few_transactions() -> None:
    """500 events/s, one every 2 ms (a flood as the alarm service sends it): the worker waits
    ``linger_s`` for the events behind the first, so it writes one batch per linger, not one
    per event (with ``linger_s=0`` this is some 200 transactions)."""
    sink = FlakySink()
    writer = AlarmJournalWriter(sink, workstation="ST-01", linger_s=0.05)

    async def main() -> None:
        for i in range(200):
            writer.record(event(i))
            await asyncio.sleep(0.002)  # the producer's pace, not a wait for a result
        await writer.flush()
        await writer.aclose()

    asyncio.run(main())
    assert sink.stored == list(range(200))
    assert len(sink.batches) <= 30, len(sink.batches)  # 0.4 s of events at 50 ms: about 9
