"""The runtime (OPC UA driver on the I/O thread, tag broker, command service, audit trail on a
real SQLite file) against a real asyncua server that goes away and comes back on the same port:
the tags are Bad within 2 s and Good again without a restart, the station's loop is never held
for long, every write attempt is recorded exactly once, and the loss is one log line."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from hmi.drivers.base import ConnectionState
from hmi.drivers.defaults import default_registry
from hmi.model.audit.record import AuditAction
from hmi.model.project import OpcUaConnection
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService, Outcome
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail
from tests.drivers.opcua.opcua_plant import PlantServer, free_port


def connection(endpoint: str) -> OpcUaConnection:
    return OpcUaConnection.model_validate(
        {
            "driver": "opcua",
            "endpoint": endpoint,
            "keepalive_s": 0.5,
            "publishing_interval_ms": 50,
            "timeout_s": 1,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 0.5,
        }
    )


class LoopWatch:
    """The longest the loop was held: a 10 ms ticker notes how late it wakes."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - start - 0.01)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def test_server_killed_and_restarted_bad_within_2s_good_again_writes_recorded_once(
    tmp_path: Path, until: Any, caplog: Any
) -> None:
    server = PlantServer(free_port(), None)
    tags = {
        "level": TagConfig(
            name="level", address=f"opcua://plant/{server.node_id('Level')}", write=WritePolicy()
        ),
        "count": TagConfig(name="count", address=f"opcua://plant/{server.node_id('Count')}"),
    }
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    caplog.set_level(logging.INFO)
    outcomes: list[Outcome] = []
    timings: dict[str, float] = {}

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-1", app_version="test", tags=tags)
        broker = TagBroker(tags, default_registry(), {"plant": connection(server.endpoint)})
        service = CommandService(broker, recorder=recorder)
        watch = LoopWatch()
        await broker.start()
        watch.start()
        try:
            for name in tags:
                broker.subscribe(name)
            await until(lambda: broker.latest("level").value == 1.5, timeout=10, what="Good")
            outcomes.append((await service.write("level", 2.5)).outcome)
            # The write is done when the server accepted it; its notification can still be on
            # the way. The server must not stop before it arrives, or 1.5 is the last value.
            await until(lambda: broker.latest("level").value == 2.5, timeout=5, what="2.5 seen")

            for cycle in range(2):  # twice: the second loss behaves as the first
                lost = time.perf_counter()
                await asyncio.to_thread(server.stop)
                await until(
                    lambda: all(broker.latest(n).quality.is_bad for n in tags),
                    timeout=2,
                    what="Bad within 2 s",
                )
                timings[f"bad{cycle}"] = time.perf_counter() - lost
                assert broker.latest("level").value == 2.5 + cycle, "last value kept, marked"
                outcomes.append((await service.write("level", 9.0)).outcome)  # while away

                await asyncio.to_thread(server.start)
                back = time.perf_counter()
                await until(
                    lambda: all(broker.latest(n).quality.is_good for n in tags),
                    timeout=8,
                    what="Good again without a restart",
                )
                timings[f"good{cycle}"] = time.perf_counter() - back
                health = broker.health["opcua://plant"]
                assert health.state is ConnectionState.CONNECTED
                outcomes.append((await service.write("level", 3.5 + cycle)).outcome)
                await until(
                    lambda c=cycle: broker.latest("level").value == 3.5 + c,
                    timeout=5,
                    what="the written value",
                )
            timings["loop"] = watch.worst
        finally:
            await watch.stop()
            await broker.stop()
            await trail.aclose()

    try:
        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        server.close()

    done, failed = Outcome.DONE, Outcome.FAILED
    assert outcomes == [done, failed, done, failed, done], outcomes
    assert max(timings["bad0"], timings["bad1"]) < 2.0, timings
    assert timings["loop"] < 0.1, timings
    store = AuditStore.open(url)
    try:
        writes = [r for r in store.iter_records() if r.action is AuditAction.WRITE]
        assert store.verify().ok
    finally:
        store.close()
    assert [r.result.value for r in writes] == [o.value for o in outcomes], "none lost"
    assert len({r.uuid for r in writes}) == len(writes), "none twice"
    assert [r.new_value for r in writes] == [2.5, 9.0, 3.5, 9.0, 4.5]

    ours = [r for r in caplog.records if r.name.startswith("hmi.drivers.opcua")]
    losses = [r for r in ours if r.levelno >= logging.WARNING and "connection lost" in r.message]
    assert len(losses) == 2, [r.getMessage() for r in losses]  # one per loss, not per retry
    tracebacks = [
        r.getMessage()
        for r in caplog.records
        if r.exc_info and (r.name.startswith("hmi") or r.name.startswith("asyncua.client"))
    ]
    assert tracebacks == []
