"""A station killed with SIGKILL a few seconds after its last sample (far less than the
heartbeat) shows the outage as a gap at its next start: the recorder marks it from the
station's own last-alive time, on SQLite and on PostgreSQL. A clean stop marks nothing more,
and a tag another station kept recording is left alone."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hmi.drivers.defaults import default_registry
from hmi.model.quality import QualityLevel
from hmi.model.tags import TagConfig
from hmi.model.trends.historian import HistorianConfig
from hmi.runtime.broker import TagBroker
from hmi.runtime.historian import HistorianRecorder
from hmi.storage.historian import HistorianStore

RECORDER = Path(__file__).with_name("kill_recorder.py")
ROOT = Path(__file__).resolve().parents[2]
CONFIG = HistorianConfig(tags=("Tank.*",), heartbeat_s=600, batch_interval_s=0.05)


def broker() -> TagBroker:
    tags = {
        name: TagConfig(name=name, address=f"local://{name.lower()}?type=float")
        for name in ("Tank.Level", "Tank.Temp")
    }
    return TagBroker(tags, default_registry(), {})


def kill_a_recording_station(url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(RECORDER), url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = process.stdout.readline().strip()
        assert line == "alive", process.stderr.read() if process.stderr else line
        store = HistorianStore.open(url)
        first = store.last_alive("crash-test")
        assert first is not None and not first[1]
        deadline = time.monotonic() + 10
        while store.last_alive("crash-test") == first:  # the writer keeps saying it lives
            assert time.monotonic() < deadline, "the last-alive time never moved on"
            time.sleep(0.05)
        store.close()
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


async def restart(url: str, station: str) -> HistorianStore:
    store = HistorianStore.open(url)
    recorder = HistorianRecorder(broker(), store, CONFIG, station=station, alive_every_s=0.2)
    await recorder.start()
    await asyncio.wrap_future(recorder.flush())
    await recorder.stop()
    return store


def test_a_short_crash_is_a_gap_from_the_last_alive_time(db_url: str) -> None:
    kill_a_recording_station(db_url)
    store = HistorianStore.open(db_url)
    alive = store.last_alive("crash-test")
    assert alive is not None and not alive[1]  # killed: no clean stop recorded
    later = round((alive[0] + 60) * 1e6)  # another station records Tank.Temp after the crash
    store.write([("Tank.Temp", later, 21.0, 512)])
    store.close()

    store = asyncio.run(restart(db_url, "crash-test"))
    times, values, levels = store.samples("Tank.Level", 0, 4e9)
    assert levels.tolist() == [QualityLevel.GOOD, QualityLevel.BAD]
    assert values[0] == 4.0 and math.isnan(values[1])
    assert times[1] - times[0] < 60  # far under the heartbeat-based 910 s
    assert abs(times[1] - (alive[0] + 1e-6)) < 1e-6  # just after the last sign of life
    assert store.samples("Tank.Temp", 0, 4e9)[2].tolist() == [QualityLevel.GOOD]
    again = store.last_alive("crash-test")
    assert again is not None and again[1]  # this run stopped cleanly
    store.close()

    store = asyncio.run(restart(db_url, "crash-test"))  # after a clean stop: no new mark
    assert len(store.samples("Tank.Level", 0, 4e9)[0]) == 2
    store.close()
