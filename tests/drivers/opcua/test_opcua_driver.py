"""OpcUaDriver against a real asyncua server on loopback: values, refused items, groups,
batching, writes, connection loss and reconnection."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest
from asyncua import ua

from hmi.drivers.base import ConnectionState, DriverRegistry
from hmi.drivers.opcua import OpcUaDriver, opcua_driver
from hmi.model.address import parse_address
from hmi.model.errors import WriteDenied, WriteFailed
from hmi.model.project import OpcUaConnection
from hmi.model.quality import NOT_CONNECTED, Quality, QualityReason
from hmi.model.tags import TagConfig
from hmi.runtime.broker import TagBroker
from tests.drivers.opcua.opcua_plant import PlantServer, Sink, free_port

CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)


def run(coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connection(endpoint: str, **fields: Any) -> OpcUaConnection:
    """Short keep-alive and backoff so that loss and recovery take a second, not a minute."""
    base: dict[str, Any] = {
        "driver": "opcua",
        "endpoint": endpoint,
        "keepalive_s": 0.5,
        "publishing_interval_ms": 50,
        "sampling_interval_ms": 0,
        "timeout_s": 2,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
    }
    return OpcUaConnection.model_validate(base | fields)


def test_values_of_several_types_arrive_and_an_unknown_node_is_config_error(plant, addr, until):
    names = ["Level", "Count", "Running", "Name", "Total"]
    addresses = [addr(n) for n in names]
    unknown = parse_address("opcua://plant/ns=2;s=Plant.DoesNotExist")

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", connection(plant.endpoint), sink.context)
        driver.subscribe([*addresses, unknown])
        await driver.start()
        try:
            await until(lambda: len(sink.latest) == 6, timeout=10, what="first values")
            got = {n: sink.value(a) for n, a in zip(names, addresses, strict=True)}
            assert got == {"Level": 1.5, "Count": 5, "Running": True, "Name": "pump", "Total": 42}
            assert type(got["Count"]) is int and type(got["Running"]) is bool
            assert all(sink.latest[a].quality.is_good for a in addresses)
            assert sink.latest[addresses[0]].source_time is not None
            assert sink.latest[unknown].quality == CONFIG_ERROR
            assert sink.latest[unknown].detail.startswith("BadNodeIdUnknown")
            assert driver.health.state is ConnectionState.CONNECTED
            assert "1 refused" in driver.health.detail

            plant.write("Level", 7.25)
            await until(lambda: sink.value(addresses[0]) == 7.25, what="the change")
            assert all(len(batch) >= 1 for batch in sink.batches)

            driver.unsubscribe([addresses[1]])
            await until(lambda: "4 items" in driver.health.detail, what="unsubscribe")
        finally:
            await driver.stop()
            plant.write("Level", 1.5)
        assert driver.health.state is ConnectionState.STOPPED
        assert sink.states()[0] is ConnectionState.CONNECTING

    run(main())


def test_groups_apply_deadbands_and_a_refused_deadband_is_dropped(plant, addr, until):
    """Level gets an absolute deadband of 0.5; the Many.* items ask for a percent deadband,
    which this (strict) server refuses: they are created again without it."""
    conn = connection(
        plant.endpoint,
        groups=[
            {"match": "*Plant.Level", "deadband_type": "absolute", "deadband_value": 0.5},
            {"match": "*Plant.Many.*", "deadband_type": "percent", "deadband_value": 10},
        ],
    )
    level, count = addr("Level"), addr("Count")
    many = [addr(f"Many.V{i}") for i in range(3)]
    plant.strict.refuse_percent_deadband = True

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context)
        driver.subscribe([level, count, *many])
        await driver.start()
        try:
            await until(lambda: len(sink.latest) == 5, timeout=10, what="first values")
            assert all(sink.latest[a].quality.is_good for a in many)
            plant.write("Level", 1.7)  # within the deadband
            plant.write("Count", 6)
            await until(lambda: sink.value(count) == 6, what="count")
            plant.write("Level", 3.0)
            await until(lambda: sink.value(level) == 3.0, what="level past the deadband")
            levels = [v.value for batch in sink.batches for a, v in batch if a == level]
            assert 1.7 not in levels
            plant.write("Many.V1", 1.05)  # tiny change, no deadband left on it
            await until(lambda: sink.value(many[1]) == 1.05, what="unfiltered item")
        finally:
            await driver.stop()
            plant.strict.refuse_percent_deadband = False
            plant.write("Level", 1.5)
            plant.write("Count", 5)
            plant.write("Many.V1", 1.0)

    run(main())


def test_items_are_created_in_batches_within_the_servers_limits(plant, addr, until):
    """First the server reports MaxMonitoredItemsPerCall=4; then it reports nothing but
    refuses calls above 5 items with BadTooManyOperations, and the driver halves its batches."""
    addresses = [addr(f"Many.V{i}") for i in range(30)]

    async def subscribe_all() -> list[int]:
        sink = Sink()
        plant.strict.calls.clear()
        driver = OpcUaDriver("opcua://plant", connection(plant.endpoint), sink.context)
        driver.subscribe(addresses)
        await driver.start()
        try:
            await until(lambda: len(sink.latest) == 30, timeout=10, what="30 values")
            assert all(v.quality.is_good for v in sink.latest.values())
            assert {sink.value(a) for a in addresses} == {float(i) for i in range(30)}
        finally:
            await driver.stop()
        return list(plant.strict.calls)

    plant.set_operation_limit(4)
    plant.strict.max_items_per_call = 4
    try:
        calls = run(subscribe_all())
        assert max(calls) == 4 and sum(calls) == 30
        plant.set_operation_limit(0)
        plant.strict.max_items_per_call = 5
        calls = run(subscribe_all())
        assert calls[0] == 30  # refused, then smaller
        assert sum(c for c in calls if c <= 5) == 30
    finally:
        plant.set_operation_limit(0)
        plant.strict.max_items_per_call = 0


def test_a_full_subscription_overflows_into_another(plant, addr, until):
    """A server that takes at most 12 items per subscription (BadTooManyMonitoredItems for the
    rest): the driver opens more subscriptions until every item is served."""
    addresses = [addr(f"Many.V{i}") for i in range(30)]
    plant.strict.max_items_per_subscription = 12
    plant.strict.per_subscription.clear()

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", connection(plant.endpoint), sink.context)
        driver.subscribe(addresses)
        await driver.start()
        try:
            await until(lambda: len(sink.latest) == 30, timeout=10, what="30 values")
            assert all(v.quality.is_good for v in sink.latest.values())
            assert sorted(plant.strict.per_subscription.values()) == [6, 12, 12]
            plant.write("Many.V29", 290.0)  # the last subscription works like the first
            await until(lambda: sink.value(addresses[29]) == 290.0, what="a change")
        finally:
            await driver.stop()
            plant.strict.max_items_per_subscription = 0
            plant.write("Many.V29", 29.0)

    run(main())


def test_writes_coerce_read_back_and_report_the_servers_status(plant, addr, until):
    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", connection(plant.endpoint), sink.context)
        await driver.start()
        try:
            await until(lambda: driver.health.state is ConnectionState.CONNECTED, what="connected")
            back = await driver.write(addr("Level"), 3.25)
            assert back is not None and back.value == 3.25 and back.quality.is_good
            assert plant.read("Level") == 3.25
            back = await driver.write(addr("Count"), "12")  # an Int16 node gets an Int16
            assert back is not None and back.value == 12
            assert (await driver.write(addr("Running"), False)).value is False  # type: ignore[union-attr]
            assert (await driver.write(addr("Name"), "valve")).value == "valve"  # type: ignore[union-attr]

            with pytest.raises(WriteDenied, match=r"40000 is outside the range of Int16"):
                await driver.write(addr("Count"), 40000)
            with pytest.raises(WriteDenied, match=r"outside the range of Byte"):
                await driver.write(addr("Small"), -1)
            with pytest.raises(WriteDenied, match=r"not a valid Int16"):
                await driver.write(addr("Count"), "twelve")
            assert plant.read("Count") == 12 and plant.read("Small") == 3

            with pytest.raises(WriteFailed, match=r"^BadTypeMismatch"):
                await driver.write(addr("Stamp"), 3.5)  # a DateTime node
            with pytest.raises(WriteFailed, match=r"^Bad(UserAccessDenied|NotWritable)"):
                await driver.write(addr("Total"), 1)  # no CurrentWrite
            with pytest.raises(WriteFailed, match=r"^BadNodeIdUnknown"):
                await driver.write(parse_address("opcua://plant/ns=2;s=Plant.Nope"), 1)
        finally:
            await driver.stop()
            for name in ("Level", "Count", "Running", "Name"):
                plant.write(name, {"Level": 1.5, "Count": 5, "Running": True, "Name": "pump"}[name])

    run(main())


def test_no_server_retries_and_stops_at_once_and_writes_fail(until):
    conn = connection(f"opc.tcp://127.0.0.1:{free_port()}")

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context)
        await driver.start()
        await until(lambda: "attempt 3" in driver.health.detail, what="retries")
        assert driver.health.state is ConnectionState.CONNECTING
        assert "refuses connections" in driver.health.detail
        with pytest.raises(WriteFailed, match="not connected"):
            await driver.write(parse_address("opcua://plant/ns=2;s=X"), 1)
        await asyncio.wait_for(driver.stop(), 1)
        assert driver.health.state is ConnectionState.STOPPED

    run(main())


def test_quality_goes_not_connected_on_server_stop_and_good_after_restart(until):
    """Through a real TagBroker: the tag keeps its last value marked Bad(NotConnected), and is
    Good with the fresh value once the server is back on the same port, same driver."""
    server = PlantServer(free_port(), None)
    conn = connection(server.endpoint)
    tags = {"level": TagConfig(address=f"opcua://plant/{server.node_id('Level')}")}

    async def main() -> None:
        broker = TagBroker(tags, DriverRegistry({"opcua": opcua_driver}), {"plant": conn})
        await broker.start()
        broker.subscribe("level")
        try:
            await until(lambda: broker.latest("level").value == 1.5, timeout=10, what="value")
            driver = broker.pool.drivers["opcua://plant"]
            assert broker.latest("level").quality.is_good

            await asyncio.to_thread(server.stop)
            await until(
                lambda: broker.latest("level").quality == NOT_CONNECTED, timeout=3, what="loss"
            )
            assert broker.latest("level").value == 1.5  # last value kept, marked
            assert driver.health.state is ConnectionState.DISCONNECTED

            server.write("Level", 4.5)  # changed while we were away
            await asyncio.to_thread(server.start)
            await until(
                lambda: (
                    broker.latest("level").quality.is_good and broker.latest("level").value == 4.5
                ),
                timeout=8,
                what="fresh Good value after the restart",
            )
            assert driver.health.state is ConnectionState.CONNECTED
            assert driver.connects == 2  # type: ignore[attr-defined]
        finally:
            await broker.stop()

    try:
        run(main(), timeout=40)
    finally:
        server.close()


def test_a_silent_server_is_detected_by_the_keep_alive(plant, addr, until):
    """The server stops answering but keeps the socket open (its loop is frozen): the driver
    notices within about two keep-alive periods and reconnects when it answers again."""
    level = addr("Level")

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", connection(plant.endpoint), sink.context)
        driver.subscribe([level])
        await driver.start()
        try:
            await until(lambda: level in sink.latest, timeout=10, what="value")
            frozen = threading.Event()
            plant._loop.call_soon_threadsafe(lambda: (frozen.set(), time.sleep(2.5)))
            await asyncio.to_thread(frozen.wait, 5)
            started = time.monotonic()
            await until(
                lambda: ConnectionState.DISCONNECTED in sink.states(), timeout=4, what="loss"
            )
            assert time.monotonic() - started < 2.0  # keep-alive 0.5 s
            await until(
                lambda: driver.health.state is ConnectionState.CONNECTED,
                timeout=10,
                what="reconnected",
            )
            assert driver.connects == 2
            transports = plant.server.iserver.asyncio_transports
            await until(lambda: len(transports) == 1, what="the silent connection closed")
        finally:
            await driver.stop()

    run(main())


def test_max_notifications_per_publish_is_asked_of_the_server(plant, addr, until):
    """The connection's figure travels in CreateSubscription (0 when left out): servers that
    honour it split a burst of changes over smaller Publish responses."""
    service = plant.server.iserver.subscription_service
    original = service.create_subscription
    asked: list[int] = []

    async def create(params: ua.CreateSubscriptionParameters, *args: Any, **kw: Any) -> Any:
        asked.append(params.MaxNotificationsPerPublish)
        return await original(params, *args, **kw)

    async def main(conn: OpcUaConnection) -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context)
        driver.subscribe([addr("Level")])
        await driver.start()
        try:
            await until(lambda: sink.value(addr("Level")) == 1.5, timeout=10, what="a value")
        finally:
            await driver.stop()

    service.create_subscription = create  # type: ignore[method-assign]
    try:
        run(main(connection(plant.endpoint, max_notifications_per_publish=250)))
        run(main(connection(plant.endpoint)))
    finally:
        service.create_subscription = original  # type: ignore[method-assign]
    assert asked == [250, 0]
