"""CommandService: the one write path, with the real local and sim drivers."""

from __future__ import annotations

import asyncio

import pytest

from hmi.drivers.defaults import default_registry
from hmi.drivers.local import LocalDriver
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandResult, CommandService, Outcome

TAGS = {
    "Setpoint": TagConfig(
        name="Setpoint",
        address="local://sp?type=float&initial=20",
        units="degC",
        write=WritePolicy(min=0, max=100),
    ),
    "Count": TagConfig(
        name="Count", address="local://count?type=int", datatype="int", write=WritePolicy()
    ),
    "Enable": TagConfig(
        name="Enable", address="local://enable?type=bool", datatype="bool", write=WritePolicy()
    ),
    "Limit": TagConfig(name="Limit", address="local://limit?type=float&initial=80"),
    "Wave": TagConfig(name="Wave", address="sim://sine", write=WritePolicy()),
}


def write(tag: str, value: object) -> tuple[CommandResult, LocalDriver]:
    """Write through a fresh broker and command service; give the result and the driver."""

    async def main() -> tuple[CommandResult, LocalDriver]:
        broker = TagBroker(TAGS, default_registry(), {})
        await broker.start()
        broker.subscribe(tag)
        for _ in range(500):  # the operator sees the current value before writing
            if broker.latest(tag).quality.is_good:
                break
            await asyncio.sleep(0.005)
        result = await CommandService(broker).write(tag, value, origin="test/panel")
        local = broker.pool.driver_for(TAGS["Setpoint"].address)
        await broker.stop()
        assert isinstance(local, LocalDriver)
        return result, local

    return asyncio.run(main())


def test_write_is_done_with_the_value_read_back() -> None:
    result, local = write("Setpoint", "42.5")
    assert result.outcome is Outcome.DONE, result.message
    assert result.ok
    assert result.written == 42.5
    assert result.read_back == 42.5
    assert result.request.origin == "test/panel"
    assert local.value("sp") == 42.5


@pytest.mark.parametrize(
    ("tag", "value", "stored"), [("Count", "7", 7), ("Enable", "on", True), ("Enable", 0, False)]
)
def test_write_coerces_to_the_tag_type(tag: str, value: object, stored: object) -> None:
    result, local = write(tag, value)
    assert result.outcome is Outcome.DONE, result.message
    name = TAGS[tag].address.connection
    assert local.value(name) == stored
    assert type(local.value(name)) is type(stored)


def test_read_only_tag_is_denied_and_nothing_is_sent() -> None:
    result, local = write("Limit", 10)
    assert result.outcome is Outcome.DENIED
    assert result.message == "Limit is read-only"
    assert local.value("limit") == 80.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (101, "Setpoint: 101.0 is above the write limit 100.0 degC"),
        (-0.5, "Setpoint: -0.5 is below the write limit 0.0 degC"),
    ],
)
def test_out_of_range_is_denied_before_sending(value: float, message: str) -> None:
    result, local = write("Setpoint", value)
    assert result.outcome is Outcome.DENIED
    assert result.message == message
    assert result.old_value == 20.0
    assert local.value("sp") == 20.0


@pytest.mark.parametrize(("tag", "value"), [("Setpoint", "abc"), ("Count", 1.5)])
def test_bad_type_is_denied_before_sending(tag: str, value: object) -> None:
    result, local = write(tag, value)
    assert result.outcome is Outcome.DENIED
    assert "is not a valid" in result.message
    assert local.value(TAGS[tag].address.connection) in (20.0, 0)


def test_sim_write_fails_with_the_driver_message() -> None:
    result, _ = write("Wave", 3)
    assert result.outcome is Outcome.FAILED
    assert result.written == 3.0
    assert result.message.startswith("sim://sine is a simulated signal and cannot be written")


def test_unknown_tag_is_denied() -> None:
    async def main() -> CommandResult:
        broker = TagBroker(TAGS, default_registry(), {})
        return await CommandService(broker).write("Nope", 1)

    result = asyncio.run(main())
    assert result.outcome is Outcome.DENIED
    assert result.message == "unknown tag 'Nope'"


def test_tag_without_a_driver_gives_a_result_not_an_exception() -> None:
    tags = {"Far": TagConfig(name="Far", address="opcua://nowhere/ns=2;s=X", write=WritePolicy())}

    async def main() -> CommandResult:
        broker = TagBroker(tags, default_registry(), {})
        return await CommandService(broker).write("Far", 1)

    result = asyncio.run(main())
    assert result.outcome is Outcome.DENIED, "refused before anything was sent"
    assert "nowhere" in result.message
