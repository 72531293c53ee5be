"""The recorder with a real TagBroker and local:// memory tags, storing into a SQLite file:
what the rule passes reaches the database, off the loop, in order; overflow drops the oldest;
``SqlHistory`` answers trends up to the newest value."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.drivers.defaults import default_registry
from hmi.drivers.local import LocalDriver
from hmi.model.quality import GOOD, QualityLevel
from hmi.model.tags import TagConfig
from hmi.model.trends.historian import HistorianConfig
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.historian import HistorianRecorder, SqlHistory, StationHistory
from hmi.runtime.history import HistorySource, MemoryHistory
from hmi.storage.historian import HistorianStore

CONFIG = HistorianConfig(
    tags=("Tank.*", "Pump.*"),
    deadband_type="percent",
    deadband_value=1.0,  # of Tank.Level's 0..10 m: 0.1 m
    heartbeat_s=3600,
    hold_gap_s=3600,  # held values at the time they were seen, however slow the machine
    batch_interval_s=0.05,
)


def make_broker() -> TagBroker:
    tags = {
        "Tank.Level": TagConfig(
            name="Tank.Level", address="local://level?type=float&initial=1", range=(0, 10)
        ),
        "Tank.Name": TagConfig(name="Tank.Name", address="local://name?type=str", datatype="str"),
        "Pump.Running": TagConfig(
            name="Pump.Running", address="local://running?type=bool", datatype="bool"
        ),
        "Spare": TagConfig(name="Spare", address="local://spare?type=float"),
    }
    return TagBroker(tags, default_registry(), {})


def local(broker: TagBroker) -> LocalDriver:
    driver = broker.pool.drivers["local"]
    assert isinstance(driver, LocalDriver)
    return driver


async def write(broker: TagBroker, tag: str, value: object) -> None:
    await local(broker).write(broker.tag(tag).address, value)


def stored(store: HistorianStore, tag: str) -> list[tuple[float, int]]:
    _, values, levels = store.samples(tag, 0, 4e9)
    return [(float(v), int(q)) for v, q in zip(values, levels, strict=True)]


def test_recorder_stores_what_the_rule_passes(tmp_path: Path, until) -> None:
    async def main() -> None:
        broker = make_broker()
        store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
        recorder = HistorianRecorder(broker, store, CONFIG)
        assert recorder.tags == ["Pump.Running", "Tank.Level"]  # no text, nothing unselected
        await recorder.start()
        await broker.start()
        assert broker.subscribers("Tank.Level") == 1  # recorded with no screen showing it
        await until(lambda: broker.latest("Tank.Level").quality.is_good, what="first value")
        for value in (1.05, 1.09, 1.2, 1.25, 3.0):
            await write(broker, "Tank.Level", value)
        await write(broker, "Pump.Running", True)
        await write(broker, "Pump.Running", True)
        broker.report_health(ConnectionHealth("local", ConnectionState.DISCONNECTED, "test"))
        await asyncio.wrap_future(recorder.flush())

        good, bad = int(QualityLevel.GOOD), int(QualityLevel.BAD)
        level = stored(store, "Tank.Level")
        # 1.09 and 1.25 are inside the deadband, stored as the values 1.2 and 3.0 replace.
        assert level[:-1] == [(v, good) for v in (1.0, 1.09, 1.2, 1.25, 3.0)]
        assert math.isnan(level[-1][0]) and level[-1][1] == bad  # the gap a trend shows
        assert [v for v, _ in stored(store, "Pump.Running")][:2] == [0.0, 1.0]
        assert store.tag_names() == ["Pump.Running", "Tank.Level"]
        status = recorder.status()
        assert (status.tags, status.written, status.dropped, status.failing) == (2, 9, 0, False)

        await recorder.stop()
        assert broker.subscribers("Tank.Level") == 0
        await broker.stop()
        store.close()

    asyncio.run(main())


def test_heartbeat_repeats_an_unchanged_value(tmp_path: Path, until) -> None:
    async def main() -> None:
        broker = make_broker()
        store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
        recorder = HistorianRecorder(broker, store, CONFIG, tick_s=3600)
        await recorder.start()
        await broker.start()
        await until(lambda: recorder.status().written >= 2, what="first values stored")
        seen = broker.latest("Tank.Level")
        assert recorder.tick(seen.receive_time + 1800) == 0
        assert recorder.tick(seen.receive_time + 3600) == 2  # both tags, nothing changed
        await asyncio.wrap_future(recorder.flush())
        times, values, _ = store.samples("Tank.Level", 0, 4e9)
        assert values.tolist() == [1.0, 1.0]
        assert times[1] - times[0] == pytest.approx(3600, abs=1e-3)
        await recorder.stop()
        await broker.stop()
        store.close()

    asyncio.run(main())


def test_a_full_queue_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    async def main() -> None:
        broker = make_broker()
        store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
        config = CONFIG.model_copy(update={"queue_size": 5})
        recorder = HistorianRecorder(broker, store, config)
        for i in range(8):  # the writer is not running: nothing leaves the queue
            recorder.record("Tank.Level", TagValue(float(i), GOOD, 100.0 + i, 100.0 + i))
        status = recorder.status()
        assert (status.queued, status.dropped) == (5, 3)
        await recorder.start()
        await recorder.stop()  # writes what is queued
        assert [v for v, _ in stored(store, "Tank.Level")] == [3.0, 4.0, 5.0, 6.0, 7.0]
        store.close()

    asyncio.run(main())


def test_sql_history_answers_up_to_the_newest_value(tmp_path: Path) -> None:
    """The query makes the writer write what it holds first: nothing is missing at the join
    with live data, even with a long batch interval."""

    async def main() -> None:
        broker = make_broker()
        store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
        config = CONFIG.model_copy(update={"batch_interval_s": 60})
        recorder = HistorianRecorder(broker, store, config)
        history = SqlHistory(store, recorder=recorder)
        assert isinstance(history, HistorySource)
        await recorder.start()
        for i in range(100):
            recorder.record("Tank.Level", TagValue(float(i), GOOD, 1000.0 + i, 1000.0 + i))
        series = await history.query("Tank.Level", 1000.0, 1100.0, 10)
        assert series.count.tolist() == [10] * 10 and series.last[-1] == 99.0
        assert np.isnan(series.prior)
        later = await history.query("Tank.Level", 1050.0, 1100.0, 5)
        assert later.prior == 49.0 and later.first[0] == 50.0
        history.close()
        await recorder.stop()
        store.close()

    asyncio.run(main())


def test_station_history_falls_back_to_memory(tmp_path: Path) -> None:
    async def main() -> None:
        broker = make_broker()
        off = StationHistory.open(broker, HistorianConfig(enabled=False), trended={"Tank.Level"})
        assert isinstance(off.source, MemoryHistory) and off.recorder is None
        unreachable = HistorianConfig(url="postgresql+psycopg://postgres@127.0.0.1:1/none")
        down = StationHistory.open(broker, unreachable)
        assert isinstance(down.source, MemoryHistory)
        url = f"sqlite:///{tmp_path}/historian.sqlite"
        on = StationHistory.open(broker, HistorianConfig(url=url), trended={"Tank.Level"})
        assert isinstance(on.source, SqlHistory) and on.recorder is not None
        assert on.recorder.tags == ["Tank.Level"]
        await on.start()
        await on.stop()
        for history in (off, down):
            await history.stop()

    asyncio.run(main())


def test_a_clean_stop_ends_in_bad_and_a_crash_is_marked_at_the_next_start(
    tmp_path: Path, until
) -> None:
    """Stopping the broker first stores every tag Bad(NotConnected): the time the station is
    off is a gap, and the station's record says it stopped cleanly. After a stop that stored
    nothing (the record says the station was alive, and no clean stop), the next start adds
    that gap itself from the last-alive time, but not for a tag someone recorded since
    (another station sharing the database). A real SIGKILL is in
    tests/storage/test_historian_crash.py."""

    async def main() -> None:
        broker = make_broker()
        store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
        recorder = HistorianRecorder(broker, store, CONFIG, station="north")
        await recorder.start()
        await broker.start()
        await until(lambda: recorder.status().written == 2, what="first values")
        await broker.stop()  # drivers stop: their tags go Bad(NotConnected)
        await recorder.stop()
        assert [q for _, q in stored(store, "Tank.Level")] == [QualityLevel.GOOD, QualityLevel.BAD]
        last = store.last_alive("north")
        assert last is not None and last[1]  # stopped cleanly

        now = 2_000_000_000.0
        store.write(
            [
                ("Tank.Level", round((now - 7200) * 1e6), 4.0, 512),  # then a crash
                ("Pump.Running", round((now - 600) * 1e6), 1.0, 512),  # recorded elsewhere
            ]
        )
        store.alive("north", now - 7190)  # its last sign of life; no clean stop after it
        restarted = HistorianRecorder(
            make_broker(), store, CONFIG, clock=lambda: now, station="north"
        )
        await restarted.start()
        await asyncio.wrap_future(restarted.flush())
        await restarted.stop()
        times, values, levels = store.samples("Tank.Level", now - 7300, 4e9)
        assert levels.tolist() == [QualityLevel.GOOD, QualityLevel.BAD]
        assert times[1] - (now - 7190) == pytest.approx(1e-6, abs=1e-6) and math.isnan(values[1])
        assert store.samples("Pump.Running", now - 700, 4e9)[2].tolist() == [QualityLevel.GOOD]
        store.close()

    asyncio.run(main())


def test_a_flush_given_up_by_its_waiter_does_not_stop_the_writer(tmp_path: Path, until) -> None:
    """A caller that stops waiting (a timeout) cancels its flush future; the writer thread
    must shrug that off and keep storing, not die on an InvalidStateError."""

    async def main() -> None:
        broker = make_broker()
        store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
        recorder = HistorianRecorder(broker, store, CONFIG)
        await recorder.start()
        await broker.start()
        await until(lambda: recorder.status().written >= 2, what="first values stored")
        abandoned = recorder.flush()
        assert abandoned.cancel()
        await write(broker, "Tank.Level", 5.0)
        await asyncio.wrap_future(recorder.flush())
        assert recorder.running
        assert (5.0, int(QualityLevel.GOOD)) in stored(store, "Tank.Level")
        await recorder.stop()
        await broker.stop()
        store.close()

    asyncio.run(main())
