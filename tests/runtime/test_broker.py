"""TagBroker with the real local and sim drivers on an asyncio loop."""

from __future__ import annotations

import asyncio

import pytest

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.drivers.defaults import default_registry
from hmi.drivers.local import LocalDriver
from hmi.model import ConfigError, QualityLevel, QualityReason
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.broker import TagBroker


def make_broker() -> TagBroker:
    tags = {
        "Setpoint": TagConfig(
            name="Setpoint", address="local://sp?type=float", write=WritePolicy()
        ),
        "SetpointCopy": TagConfig(name="SetpointCopy", address="local://sp?type=float"),
        "Mode": TagConfig(name="Mode", address="local://mode?type=int&initial=2", datatype="int"),
        "Wave": TagConfig(name="Wave", address="sim://sine?period=1&interval=0.02"),
    }
    return TagBroker(tags, default_registry(), {})


def local_driver(broker: TagBroker) -> LocalDriver:
    driver = broker.pool.drivers["local"]
    assert isinstance(driver, LocalDriver)
    return driver


def test_unknown_tag_is_a_config_error_naming_it() -> None:
    broker = make_broker()
    with pytest.raises(ConfigError, match="unknown tag 'Nope'"):
        broker.subscribe("Nope")
    with pytest.raises(ConfigError, match="unknown tag 'Nope'"):
        broker.latest("Nope")


def test_first_subscriber_subscribes_the_driver_and_the_last_unsubscribes(until) -> None:
    async def main() -> None:
        broker = make_broker()
        await broker.start()
        first = broker.subscribe("Mode")
        assert first.quality.reason is QualityReason.INITIAL
        driver = local_driver(broker)
        address = broker.tag("Mode").address
        assert driver.subscribed == {address}
        await until(lambda: broker.latest("Mode").value == 2, what="the initial value")

        broker.subscribe("Mode")
        assert broker.subscribers("Mode") == 2
        broker.unsubscribe("Mode")
        assert driver.subscribed == {address}, "one subscriber is left"
        broker.unsubscribe("Mode")
        assert driver.subscribed == frozenset()
        assert broker.subscribers("Mode") == 0

        await driver.write(address, 5)  # nobody subscribed: the broker hears nothing
        assert broker.latest("Mode").value is None
        await broker.stop()

    asyncio.run(main())


def test_two_tags_on_one_address_share_one_driver_subscription(until) -> None:
    async def main() -> None:
        broker = make_broker()
        await broker.start()
        broker.subscribe("Setpoint")
        broker.subscribe("SetpointCopy")
        driver = local_driver(broker)
        address = broker.tag("Setpoint").address
        assert driver.subscribed == {address}
        await until(lambda: broker.latest("SetpointCopy").quality.is_good, what="first values")
        broker.take_changes()

        await driver.write(address, 7.5)
        changes = broker.take_changes()
        assert set(changes) == {"Setpoint", "SetpointCopy"}
        assert changes["Setpoint"].value == changes["SetpointCopy"].value == 7.5

        broker.unsubscribe("Setpoint")
        assert driver.subscribed == {address}
        broker.unsubscribe("SetpointCopy")
        assert driver.subscribed == frozenset()
        await broker.stop()

    asyncio.run(main())


def test_take_changes_gives_the_latest_per_tag_and_listeners_see_every_change(until) -> None:
    async def main() -> None:
        broker = make_broker()
        heard: list[tuple[str, object]] = []
        broker.add_listener(lambda name, value: heard.append((name, value.value)))
        await broker.start()
        broker.subscribe("Mode")
        driver = local_driver(broker)
        address = broker.tag("Mode").address
        await until(lambda: broker.latest("Mode").quality.is_good, what="first value")
        assert broker.take_changes().keys() == {"Mode"}
        assert broker.take_changes() == {}, "nothing changed since"
        heard.clear()

        for value in (5, 6, 7):
            await driver.write(address, value)
        changes = broker.take_changes()
        assert list(changes) == ["Mode"]
        assert changes["Mode"].value == 7
        assert heard == [("Mode", 5), ("Mode", 6), ("Mode", 7)]
        await broker.stop()

    asyncio.run(main())


def test_sim_values_flow_into_the_broker(until) -> None:
    async def main() -> None:
        broker = make_broker()
        await broker.start()
        broker.subscribe("Wave")
        seen: set[float] = set()

        def changed() -> bool:
            value = broker.take_changes().get("Wave")
            if value is not None and value.quality.is_good:
                seen.add(value.value)
            return len(seen) >= 3

        await until(changed, what="three different sine values")
        assert all(0 <= v <= 100 for v in seen)
        before = broker.updates_accepted
        broker.unsubscribe("Wave")
        assert broker.pool.drivers["sim"].health.ok
        for _ in range(10):  # the sim group is gone: anything queued runs now
            await asyncio.sleep(0)
        assert broker.updates_accepted - before <= 1
        await broker.stop()

    asyncio.run(main())


def test_connection_lost_marks_bad_not_connected_keeping_the_value_then_good_again(
    until,
) -> None:
    async def main() -> None:
        broker = make_broker()
        health: list[ConnectionHealth] = []
        broker.add_health_listener(health.append)
        await broker.start()
        broker.subscribe("Setpoint")
        broker.subscribe("Mode")
        driver = local_driver(broker)
        await until(lambda: broker.latest("Mode").quality.is_good, what="first values")
        await driver.write(broker.tag("Setpoint").address, 4.0)
        broker.take_changes()

        broker.report_health(ConnectionHealth("local", ConnectionState.DISCONNECTED, "cable"))
        lost = broker.latest("Setpoint")
        assert lost.quality.level is QualityLevel.BAD
        assert lost.quality.reason is QualityReason.NOT_CONNECTED
        assert lost.value == 4.0, "the last value stays visible, marked"
        assert broker.latest("Mode").value == 2
        assert broker.take_changes().keys() == {"Setpoint", "SetpointCopy", "Mode"}
        assert broker.health["local"].state is ConnectionState.DISCONNECTED
        assert health[-1].detail == "cable"

        await driver.start()  # back: reports CONNECTED and republishes fresh values
        fresh = broker.latest("Setpoint")
        assert fresh.quality.is_good
        assert fresh.value == 4.0
        assert broker.health["local"].ok
        await broker.stop()
        assert broker.latest("Mode").quality.reason is QualityReason.NOT_CONNECTED

    asyncio.run(main())


def test_failed_connection_marks_bad_config_error() -> None:
    async def main() -> None:
        broker = make_broker()
        await broker.start()
        broker.subscribe("Mode")
        await local_driver(broker).start()
        broker.report_health(ConnectionHealth("local", ConnectionState.FAILED, "bad setup"))
        assert broker.latest("Mode").quality.reason is QualityReason.CONFIG_ERROR
        await broker.stop()

    asyncio.run(main())


def test_the_last_unsubscribe_forgets_the_value_so_nobody_sees_it_as_good_later(until) -> None:
    async def main() -> None:
        broker = make_broker()
        await broker.start()
        broker.subscribe("Mode")
        await until(lambda: broker.latest("Mode").quality.is_good, what="first value")
        broker.unsubscribe("Mode")
        assert broker.latest("Mode").quality.reason is QualityReason.INITIAL
        assert "Mode" not in broker.take_changes()
        await broker.stop()

    asyncio.run(main())


def test_a_subscribe_that_fails_leaves_no_subscriber_behind() -> None:
    tags = {"Far": TagConfig(name="Far", address="opcua://nowhere/ns=2;s=X")}
    broker = TagBroker(tags, default_registry(), {})
    for _ in range(2):
        with pytest.raises(ConfigError, match="nowhere"):
            broker.subscribe("Far")
    assert broker.subscribers("Far") == 0
