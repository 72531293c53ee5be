"""LocalDriver: memory tags of every type, published on subscribe and on write."""

from __future__ import annotations

import asyncio

import pytest

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext, ValueBatch
from hmi.drivers.local import LocalDriver, coerce_local
from hmi.model import QualityReason, TagAddress, TagValue, WriteFailed, parse_address


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[tuple[TagAddress, TagValue]]] = []
        self.health: list[ConnectionHealth] = []
        self.context = DriverContext(self._publish, self.health.append)

    def _publish(self, batch: ValueBatch) -> None:
        self.batches.append(list(batch))

    def values(self, address: TagAddress) -> list[object]:
        return [v.value for batch in self.batches for a, v in batch if a == address]

    def latest(self, address: TagAddress) -> TagValue:
        return [v for batch in self.batches for a, v in batch if a == address][-1]


def local(sink: Sink) -> LocalDriver:
    return LocalDriver("local", None, sink.context)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("local://f", 0.0),
        ("local://f?type=float&initial=2.5", 2.5),
        ("local://i?type=int", 0),
        ("local://i?type=int&initial=7", 7),
        ("local://b?type=bool", False),
        ("local://b?type=bool&initial=true", True),
        ("local://s?type=str", ""),
        ("local://s?type=str&initial=hello", "hello"),
    ],
)
def test_initial_value_published_on_start_with_its_type(raw: str, expected: object) -> None:
    async def main() -> TagValue:
        sink = Sink()
        driver = local(sink)
        address = parse_address(raw)
        driver.subscribe([address])  # before start: start publishes it
        await driver.start()
        return sink.latest(address)

    value = asyncio.run(main())
    assert value.value == expected
    assert type(value.value) is type(expected)
    assert value.quality.is_good


def test_subscribe_while_running_publishes_the_current_value(until) -> None:
    async def main() -> None:
        sink = Sink()
        driver = local(sink)
        await driver.start()
        address = parse_address("local://sp?type=int&initial=3")
        driver.subscribe([address])
        await until(lambda: sink.values(address), what="the initial value")
        assert sink.values(address) == [3]
        assert driver.subscribed == {address}

    asyncio.run(main())


def test_write_coerces_publishes_and_reads_back(until) -> None:
    async def main() -> None:
        sink = Sink()
        driver = local(sink)
        address = parse_address("local://sp?type=float")
        driver.subscribe([address])
        await driver.start()
        read_back = await driver.write(address, "12.5")
        assert read_back is not None
        assert read_back.value == 12.5
        assert read_back.quality.is_good
        assert sink.values(address)[-1] == 12.5
        assert driver.value("sp") == 12.5

    asyncio.run(main())


@pytest.mark.parametrize(
    ("kind", "written", "stored"),
    [
        ("float", 3, 3.0),
        ("float", "-1e3", -1000.0),
        ("int", "4", 4),
        ("int", 5.0, 5),
        ("int", True, 1),
        ("bool", "on", True),
        ("bool", "0", False),
        ("bool", 1, True),
        ("str", 42, "42"),
        ("str", "text", "text"),
    ],
)
def test_write_stores_the_address_type(kind: str, written: object, stored: object) -> None:
    driver = local(Sink())
    read_back = asyncio.run(driver.write(parse_address(f"local://x?type={kind}"), written))
    assert read_back is not None
    assert read_back.value == stored
    assert type(read_back.value) is type(stored)


@pytest.mark.parametrize(
    ("kind", "written"),
    [("float", "abc"), ("float", float("nan")), ("int", 2.5), ("int", "x"), ("bool", "maybe")],
)
def test_write_of_a_value_not_of_the_type_fails_and_keeps_the_old_one(
    kind: str, written: object
) -> None:
    driver = local(Sink())
    address = parse_address(f"local://x?type={kind}")
    before = asyncio.run(driver.write(address, coerce_local(kind, "1")))
    with pytest.raises(WriteFailed, match=f"holds type {kind}"):
        asyncio.run(driver.write(address, written))
    assert before is not None
    assert driver.value("x") == before.value


def test_addresses_of_one_name_share_the_value() -> None:
    async def main() -> None:
        sink = Sink()
        driver = local(sink)
        plain = parse_address("local://level")
        typed = parse_address("local://level?type=float&initial=1")
        driver.subscribe([plain, typed])
        await driver.start()
        await driver.write(typed, 9)
        assert sink.values(plain)[-1] == 9.0
        assert sink.values(typed)[-1] == 9.0

    asyncio.run(main())


def test_another_type_for_the_same_name_is_a_config_error() -> None:
    async def main() -> None:
        sink = Sink()
        driver = local(sink)
        first = parse_address("local://mode?type=int")
        clash = parse_address("local://mode?type=str")
        driver.subscribe([first, clash])
        await driver.start()
        assert sink.latest(first).quality.is_good
        bad = sink.latest(clash)
        assert bad.quality.reason is QualityReason.CONFIG_ERROR
        assert bad.value is None
        with pytest.raises(WriteFailed, match="already holds type int, not str"):
            await driver.write(clash, "auto")
        bad_initial = parse_address("local://flag?type=bool&initial=perhaps")
        driver.subscribe([bad_initial])
        with pytest.raises(WriteFailed, match="initial='perhaps' is not a bool"):
            await driver.write(bad_initial, True)

    asyncio.run(main())


def test_unsubscribed_addresses_get_nothing_but_keep_their_memory() -> None:
    async def main() -> None:
        sink = Sink()
        driver = local(sink)
        address = parse_address("local://x?type=int")
        driver.subscribe([address])
        await driver.start()
        driver.unsubscribe([address])
        assert driver.subscribed == frozenset()
        count = len(sink.batches)
        await driver.write(address, 8)
        assert sink.batches[count:] == []
        assert driver.value("x") == 8

    asyncio.run(main())


def test_health_connected_on_start_and_stopped_on_stop() -> None:
    async def main() -> None:
        sink = Sink()
        driver = local(sink)
        assert driver.health.state is ConnectionState.CONNECTING
        await driver.start()
        assert driver.health.ok
        await driver.stop()
        assert [h.state for h in sink.health] == [
            ConnectionState.CONNECTED,
            ConnectionState.STOPPED,
        ]

    asyncio.run(main())
