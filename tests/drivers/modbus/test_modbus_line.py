"""The line under trouble: a dropped connection, a silent unit, a slow device (stale values),
a server not there at start, settings that cannot work."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from hmi.drivers.base import ConnectionState
from hmi.drivers.modbus import modbus_driver
from hmi.model import QualityLevel, QualityReason
from hmi.model.project import ModbusConnection


def reason(sink: Any, address: Any) -> QualityReason | None:
    value = sink.value(address)
    return None if value is None else value.quality.reason


def test_dropped_connection_then_good_again_without_restarting_the_driver(kit: Any) -> None:
    server = kit.TestServer((1, 2))
    sink = kit.Sink()
    tags = kit.addresses("modbus://plc/1/holding/0", "modbus://plc/2/holding/0?type=int32")

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            server.set_registers(1, "holding", 0, [11])
            server.set_registers(2, "holding", 0, [0, 22])
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            await server.stop()
            await kit.until(lambda: sink.state is ConnectionState.DISCONNECTED)
            await kit.until(
                lambda: all(reason(sink, t) is QualityReason.NOT_CONNECTED for t in tags)
            )
            assert [sink.value(t).value for t in tags] == [11, 22]  # last values kept
            assert driver.health.state is ConnectionState.DISCONNECTED
            server.set_registers(1, "holding", 0, [12])
            await server.start()
            await kit.until(lambda: sink.good(*tags), timeout=10, what="Good after reconnect")
            assert sink.value(tags[0]).value == 12
            assert driver.health.state is ConnectionState.CONNECTED

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["tcp", "serial"])
def test_a_silent_unit_goes_bad_alone_and_the_others_keep_their_rate(
    kit: Any, kind: str, request: pytest.FixtureRequest
) -> None:
    if kind == "serial":
        ours, theirs = request.getfixturevalue("pty_pair")
        server = kit.TestServer((1, 2), kind="serial", serial_port=theirs)
    else:
        server = kit.TestServer((1, 2))
    sink = kit.Sink()
    one, two = kit.addresses("modbus://plc/1/holding/0", "modbus://plc/2/holding/0")

    def reads(unit: int, since: int) -> int:
        return sum(1 for u, *_ in server.requests[since:] if u == unit)

    async def main() -> None:
        settings = {"poll_ms": 50, "timeout_s": 0.2, "backoff_max_s": 2.0}
        conn = kit.connection(server, **settings)
        if kind == "serial":
            conn = conn.model_copy(update={"serial_port": ours})
        async with kit.running(server, sink, conn) as driver:
            driver.subscribe([one, two])
            await kit.until(lambda: sink.good(one, two))
            server.silence(2)
            await kit.until(lambda: reason(sink, two) is QualityReason.COMM_FAILURE)
            assert sink.value(one).quality.is_good
            assert driver.health.state is ConnectionState.CONNECTED
            assert "unit 2 silent" in driver.health.detail
            # One second with unit 2 silent: unit 1 keeps most of its 20 reads a second, and
            # unit 2 gets a probe now and then, not one per cycle.
            start, since = time.monotonic(), len(server.requests)
            await kit.until(lambda: time.monotonic() - start > 1.0, what="a second")
            assert reads(1, since) >= 14
            assert reads(2, since) <= 2
            assert sink.value(one).quality.is_good
            server.silence(2, False)
            await kit.until(lambda: sink.good(two), timeout=5, what="unit 2 back")
            assert "silent" not in driver.health.detail

    asyncio.run(main())


def test_values_not_refreshed_in_time_turn_stale(kit: Any) -> None:
    """Ten blocks at 40 ms on a device that takes 80 ms per answer: each block is read every
    0.8 s, later than 3 periods plus the timeout allowance (0.42 s): Stale, then Good."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    tags = kit.addresses(*(f"modbus://plc/1/holding/{o}?poll=40" for o in range(0, 100, 10)))

    async def main() -> None:
        async with kit.running(server, sink, timeout_s=0.3, retries=0, max_gap=0) as driver:
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            assert driver.plan.requests_per_cycle == 10
            server.slow(1, 0.08)
            await kit.until(lambda: reason(sink, tags[0]) is QualityReason.STALE, what="Stale")
            stale = sink.value(tags[0])
            assert stale.quality.level is QualityLevel.UNCERTAIN
            assert stale.value == 0  # the value stays visible, marked
            await kit.until(lambda: sink.good(tags[0]), what="Good with the late answer")
            server.slow(1, 0)

    asyncio.run(main())


def test_no_server_at_start_then_it_comes(kit: Any) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/3")

    async def main() -> None:
        driver = modbus_driver("modbus://plc", kit.connection(server), sink.context)
        driver.subscribe([tag])
        await driver.start()
        try:
            await kit.until(lambda: sink.state is ConnectionState.DISCONNECTED)
            assert "cannot connect" in driver.health.detail
            await kit.until(lambda: reason(sink, tag) is QualityReason.NOT_CONNECTED)
            await server.start()
            await kit.until(lambda: sink.good(tag), timeout=5)
        finally:
            await driver.stop()
            await server.stop()
        assert driver.health.state is ConnectionState.STOPPED

    asyncio.run(main())


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        ({"transport": "tcp"}, "needs host"),
        ({"transport": "rtu-over-tcp"}, "needs host"),
        ({"transport": "rtu"}, "needs serial_port"),
    ],
)
def test_settings_that_cannot_work_fail_at_once(kit: Any, settings: dict, why: str) -> None:
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0")

    async def main() -> None:
        driver = modbus_driver("modbus://plc", ModbusConnection(driver="modbus", **settings),
                               sink.context)  # fmt: skip
        driver.subscribe([tag])
        await driver.start()
        assert driver.health.state is ConnectionState.FAILED
        assert why in driver.health.detail
        assert reason(sink, tag) is QualityReason.CONFIG_ERROR
        await driver.stop()

    asyncio.run(main())


def test_unsubscribe_stops_polling(kit: Any) -> None:
    units = (1, 2, 3)
    server = kit.TestServer(units)
    sink = kit.Sink()
    tags = kit.addresses(*(f"modbus://plc/{u}/input/{u}" for u in units))

    async def main() -> None:
        async with kit.running(server, sink, poll_ms=20) as driver:
            for unit in units:
                server.set_registers(unit, "input", unit, [unit])
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            assert [sink.value(t).value for t in tags] == list(units)
            driver.unsubscribe(tags[1:])
            await kit.until(lambda: driver.plan.requests_per_cycle == 1)
            since = len(server.requests) + 1  # one may have been in flight
            await kit.until(lambda: len(server.requests) > since + 10)
            assert {u for u, *_ in server.requests[since:]} == {1}

    asyncio.run(main())


def test_unit_0_cannot_be_read_on_a_serial_line(kit: Any) -> None:
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/0/holding/0")
    conn = ModbusConnection(driver="modbus", transport="rtu", serial_port="/dev/null-not-there")
    driver = modbus_driver("modbus://plc", conn, sink.context)
    driver.subscribe([tag])
    assert reason(sink, tag) is QualityReason.CONFIG_ERROR
    assert "broadcast" in driver.problems[tag]
