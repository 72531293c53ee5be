"""The old value of a write nobody watches: read from the device before the write, through the
driver on the I/O thread (as writes go), and recorded with where it came from. Real asyncua and
pymodbus servers on loopback, no widget and no subscription, a real SQLite audit trail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from hmi.drivers.defaults import default_registry
from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandResult, CommandService, Outcome
from hmi.runtime.io_thread import ThreadedDriver
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail
from tests.drivers.modbus.conftest import TestServer
from tests.drivers.modbus.conftest import connection as modbus_connection
from tests.drivers.opcua.opcua_plant import PlantServer, free_port
from tests.drivers.opcua.test_opcua_driver import connection as opcua_connection

Scenario = Callable[[TagBroker, CommandService], Awaitable[None]]


async def until(condition: Callable[[], object], timeout: float = 10, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.005)


def run(
    tmp_path: Path,
    tags: dict[str, TagConfig],
    connections: dict[str, Any],
    scenario: Scenario,
    before: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> list[AuditRecord]:
    """A broker and command service with an audit trail; every driver started but nothing
    subscribed; ``scenario`` runs once every connection is up. The write records, verified."""
    url = f"sqlite:///{tmp_path}/hmi.sqlite"

    async def main() -> None:
        if before is not None:
            await before()
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-01", app_version="1", tags=tags)
        broker = TagBroker(tags, default_registry(), connections)
        for tag in tags.values():
            assert isinstance(broker.pool.driver_for(tag.address), ThreadedDriver)
        await broker.start()
        try:
            keys = {tag.address.driver_key for tag in tags.values()}
            await until(
                lambda: all(k in broker.health and broker.health[k].ok for k in keys),
                what="the connections",
            )
            await scenario(broker, CommandService(broker, recorder=recorder))
        finally:
            await broker.stop()
            await trail.aclose()

    async def bounded() -> None:
        async with asyncio.timeout(60):
            await main()

    asyncio.run(bounded())
    store = AuditStore.open(url)
    try:
        assert store.verify().ok
        return [r for r in store.iter_records() if r.action is AuditAction.WRITE]
    finally:
        store.close()


def done(result: CommandResult) -> CommandResult:
    assert result.outcome is Outcome.DONE, result.message
    return result


def test_opcua_the_old_value_is_read_from_the_server_when_nobody_watches(tmp_path: Path) -> None:
    server = PlantServer(free_port(), None)
    tags = {
        "Level": TagConfig(address=f"opcua://plant/{server.node_id('Level')}", write=WritePolicy()),
        "Count": TagConfig(
            address=f"opcua://plant/{server.node_id('Count')}", datatype="int", write=WritePolicy()
        ),
    }
    server.write("Level", 7.25)

    async def scenario(broker: TagBroker, commands: CommandService) -> None:
        assert broker.subscribers("Level") == 0 and broker.latest("Level").value is None
        first = done(await commands.write("Level", 8.5))
        assert (first.old_value, first.old_source, first.read_back) == (7.25, "device", 8.5)
        second = done(await commands.write("Level", 9.0))  # still nobody watches: read again
        assert (second.old_value, second.old_source) == (8.5, "device")
        broker.subscribe("Count")  # a screen watches this one: the broker's value
        await until(lambda: broker.latest("Count").quality.is_good, what="Count")
        third = done(await commands.write("Count", 6))
        assert (third.old_value, third.old_source) == (5, "broker")

    try:
        records = run(tmp_path, tags, {"plant": opcua_connection(server.endpoint)}, scenario)
    finally:
        server.close()
    assert [(r.target_tag, r.old_value, r.old_source, r.new_value) for r in records] == [
        ("Level", 7.25, "device", 8.5),
        ("Level", 8.5, "device", 9.0),
        ("Count", 5, "broker", 6),
    ]


def test_modbus_the_old_value_is_read_from_the_registers_when_nobody_watches(
    tmp_path: Path,
) -> None:
    server = TestServer()
    tags = {
        "SP": TagConfig(
            address="modbus://plc/1/holding/10?type=float32&order=CDAB", write=WritePolicy()
        ),
        "Run": TagConfig(address="modbus://plc/1/coil/3", datatype="bool", write=WritePolicy()),
    }

    async def before() -> None:
        await server.start()
        server.set_registers(1, "holding", 10, [0x0000, 0x4148])  # 12.5, words swapped (CDAB)
        server.set_bits(1, "coil", 3, [True])

    async def scenario(broker: TagBroker, commands: CommandService) -> None:
        assert broker.subscribers("SP") == 0
        seen = len(server.requests)
        sp = done(await commands.write("SP", 20.0))
        assert (sp.old_value, sp.old_source, sp.read_back) == (12.5, "device", 20.0)
        assert server.requests[seen][1:] == (3, 10, 2)  # FC3 of the two registers, first
        run_ = done(await commands.write("Run", False))
        assert (run_.old_value, run_.old_source) == (True, "device")
        await server.stop()
        await until(lambda: not broker.health["modbus://plc"].ok, what="the device lost")
        lost = await commands.write("SP", 30.0)
        assert lost.outcome is Outcome.FAILED
        assert (lost.old_value, lost.old_source) == (None, "none")

    try:
        records = run(tmp_path, tags, {"plc": modbus_connection(server)}, scenario, before)
    finally:
        asyncio.run(server.stop())
    assert [(r.target_tag, r.old_value, r.old_source, r.result.value) for r in records] == [
        ("SP", 12.5, "device", "done"),
        ("Run", True, "device", "done"),
        ("SP", None, "none", "failed"),
    ]
