"""Issue 14, Modbus: merged reads by default (counted at the server), reconnects that do not
grow across outages, and a log that says each change once. Real pymodbus servers, and a real
gateway in front of one that closes connections or garbles answers on purpose."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from hmi.drivers.base import ConnectionState
from hmi.drivers.modbus import ModbusDriver
from hmi.drivers.modbus.cost import request_cost
from hmi.drivers.modbus.pdu import MAX_READ_REGISTERS
from hmi.model.project import ModbusConnection
from tests.drivers.modbus.gateway import FlakyGateway


def fewest_reads(offsets: list[int], width: int = 1) -> int:
    """The fewest reads of at most 125 registers covering every register used (greedy from
    the lowest is optimal), reading what lies between: the lower bound of any plan."""
    reads, covered_to = 0, -1
    for address in sorted({o + i for o in offsets for i in range(width)}):
        if address > covered_to:
            reads, covered_to = reads + 1, address + MAX_READ_REGISTERS - 1
    return reads


@pytest.mark.parametrize("baudrate", [1200, 9600, 19200, 38400, 115200])
@pytest.mark.parametrize("transport", ["rtu", "rtu-over-tcp"])
def test_serial_cost_model_bridges_a_stride_of_ten(transport: str, baudrate: int) -> None:
    """At every usual baud rate a request costs at least ten registers' time on the wire."""
    connection = ModbusConnection(driver="modbus", transport=transport, baudrate=baudrate)
    cost = request_cost(connection)
    assert 10 <= cost.gap <= MAX_READ_REGISTERS
    assert cost.gap * cost.register_s <= cost.request_s  # bridging never costs more than it saves


@pytest.mark.parametrize("kind", ["tcp", "rtu-over-tcp"])
def test_1000_tags_on_every_10th_register_take_at_most_81_requests(kit: Any, kind: str) -> None:
    """Counted at the server, one cycle, default settings: 77 reads, the lower bound."""
    offsets = [10 * i for i in range(1000)]
    server = kit.TestServer((1,), kind=kind, holding=((0, 10000),))
    sink = kit.Sink()
    tags = kit.addresses(*(f"modbus://plc/1/holding/{o}?poll=60000" for o in offsets))
    conn = ModbusConnection(
        driver="modbus", transport=kind, host="127.0.0.1", port=server.port, timeout_s=2
    )

    async def main() -> None:
        async with kit.running(server, sink, conn) as driver:
            server.set_registers(1, "holding", 0, list(range(10000)))
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags), timeout=20, what="1,000 tags Good")
            assert [sink.value(t).value for t in tags] == offsets
            reads = [r for r in server.requests if r[1] == 3]
            assert len(reads) == driver.requests_sent == driver.plan.requests_per_cycle
            assert len(reads) <= 81
            assert len(reads) == fewest_reads(offsets) == 77
            assert max(count for *_, count in reads) <= MAX_READ_REGISTERS

    asyncio.run(main())


def _gateway_connection(gateway: FlakyGateway, **settings: Any) -> ModbusConnection:
    settings = {"timeout_s": 0.3, "poll_ms": 20, **settings}
    return ModbusConnection(driver="modbus", host="127.0.0.1", port=gateway.port, **settings)


def test_a_gateway_closing_every_50_requests_keeps_tags_good(
    kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The default backoff (10 s cap): a link that answered reconnects at once, so the tags
    are Good nearly all the time, and the log says the first loss only."""
    caplog.set_level(logging.INFO, logger="hmi.drivers.modbus")
    server = kit.TestServer((1,))
    gateway = FlakyGateway(server.port, close_after=50)
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0")
    fraction = [0.0]

    async def main() -> None:
        await gateway.start()
        try:
            async with kit.running(server, sink, _gateway_connection(gateway)) as driver:
                driver.subscribe([tag])
                await kit.until(lambda: sink.good(tag))
                good = samples = 0
                end = time.monotonic() + 6
                while time.monotonic() < end:
                    samples += 1
                    good += sink.good(tag)
                    await asyncio.sleep(0.005)
                fraction[0] = good / samples
        finally:
            await gateway.stop()

    asyncio.run(main())
    print(f"gateway closed {gateway.closed} connections; tag Good {fraction[0]:.1%} of the time")
    assert gateway.closed >= 4
    assert fraction[0] >= 0.95, f"Good only {fraction[0]:.1%} of the time"
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1


def test_separate_outages_do_not_grow_the_recovery_time(kit: Any) -> None:
    """Three outages of 1 s, the default backoff cap: each recovers as fast as the first."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0")
    recoveries: list[float] = []

    async def main() -> None:
        async with kit.running(server, sink, backoff_max_s=10, poll_ms=20) as driver:
            driver.subscribe([tag])
            await kit.until(lambda: sink.good(tag))
            for _ in range(3):
                await server.stop()
                await kit.until(lambda: not sink.good(tag), timeout=2, what="Bad after loss")
                await asyncio.sleep(1.0)  # the outage
                await server.start()
                back = time.monotonic()
                await kit.until(lambda: sink.good(tag), timeout=15, what="Good again")
                recoveries.append(time.monotonic() - back)
                await asyncio.sleep(0.3)  # up and answering for a while

    asyncio.run(main())
    print("recovery after each outage: " + ", ".join(f"{r:.2f} s" for r in recoveries))
    assert max(recoveries) < 1.3, recoveries
    assert recoveries[-1] < recoveries[0] + 0.5, recoveries


def _lines(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == level and r.name.startswith("hmi.drivers.modbus") and text in r.getMessage()
    ]


def test_a_lost_connection_is_logged_once_with_a_summary_while_it_stays_down(
    kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hmi.drivers.modbus")
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0")

    async def main() -> None:
        await server.start()
        conn = kit.connection(server, backoff_max_s=0.05, poll_ms=20)
        driver = ModbusDriver("modbus://plc", conn, sink.context, log_summary_s=0.5)
        await driver.start()
        try:
            driver.subscribe([tag])
            await kit.until(lambda: sink.good(tag))
            await server.stop()
            await kit.until(lambda: sink.state is ConnectionState.DISCONNECTED)
            await asyncio.sleep(2.0)  # ~40 failed reconnects
            await server.start()
            await kit.until(lambda: sink.good(tag), timeout=5)
        finally:
            await driver.stop()
            await server.stop()

    asyncio.run(main())
    lost = _lines(caplog, logging.WARNING, "connection lost")
    assert len(lost) == 1 and "modbus://plc" in lost[0], lost
    summaries = _lines(caplog, logging.WARNING, "still bad: not connected")
    assert 2 <= len(summaries) <= 5, summaries
    assert "failed attempts, last: cannot connect" in summaries[-1]
    restored = _lines(caplog, logging.INFO, "connection restored after")
    assert len(restored) == 1, restored
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 + len(summaries)


def test_a_failing_poll_is_logged_once_with_a_summary_not_per_poll(
    kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Answers from the wrong unit for 1.5 s at 20 ms a poll: one WARNING, summaries every
    0.5 s, one INFO when the block reads again, and the tag Bad(CommFailure) meanwhile."""
    caplog.set_level(logging.INFO, logger="hmi.drivers.modbus")
    server = kit.TestServer((1,))
    gateway = FlakyGateway(server.port)
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0")

    async def main() -> None:
        await server.start()
        await gateway.start()
        conn = _gateway_connection(gateway, retries=0)
        driver = ModbusDriver("modbus://plc", conn, sink.context, log_summary_s=0.5)
        await driver.start()
        try:
            driver.subscribe([tag])
            await kit.until(lambda: sink.good(tag))
            gateway.garbled = True
            await kit.until(lambda: not sink.good(tag), timeout=2)
            assert sink.value(tag).quality.reason.name == "COMM_FAILURE"
            failed = driver.requests_sent
            await asyncio.sleep(1.5)
            assert driver.requests_sent - failed >= 20
            gateway.garbled = False
            await kit.until(lambda: sink.good(tag), timeout=2)
        finally:
            await driver.stop()
            await gateway.stop()
            await server.stop()

    asyncio.run(main())
    first = _lines(caplog, logging.WARNING, "unit 1 holding 0..0: answer from unit 2")
    assert len(first) == 1, first
    summaries = _lines(caplog, logging.WARNING, "still bad: unit 1 holding 0..0 failing")
    assert 1 <= len(summaries) <= 4, summaries
    assert len(_lines(caplog, logging.INFO, "unit 1 holding 0..0 read again after")) == 1
