"""Writes against real pymodbus servers: each function code, the force-FC16 option, bit
read-modify-write, read-back, refusals before sending, exception answers, writes first."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hmi.model import QualityReason, WriteDenied, WriteFailed

FC5, FC6, FC15, FC16, FC3, FC1 = 5, 6, 15, 16, 3, 1


def functions(server: Any, since: int = 0) -> list[int]:
    return [f for _, f, _, _ in server.requests[since:]]


def make_server(kit: Any, kind: str, request: pytest.FixtureRequest) -> tuple[Any, Any]:
    if kind == "serial":
        ours, theirs = request.getfixturevalue("pty_pair")
        server = kit.TestServer((1,), kind="serial", serial_port=theirs)
        return server, kit.connection(server).model_copy(update={"serial_port": ours})
    server = kit.TestServer((1,), kind=kind)
    return server, kit.connection(server)


@pytest.mark.parametrize("kind", ["tcp", "rtu-over-tcp", "serial"])
def test_each_function_code_with_read_back(
    kit: Any, kind: str, request: pytest.FixtureRequest
) -> None:
    server, conn = make_server(kit, kind, request)
    sink = kit.Sink()
    reg, coil, floating, bit = kit.addresses(
        "modbus://plc/1/holding/3?type=int16", "modbus://plc/1/coil/5",
        "modbus://plc/1/holding/10?type=float32&order=CDAB", "modbus://plc/1/holding/20?bit=4",
    )  # fmt: skip

    async def main() -> None:
        async with kit.running(server, sink, conn) as driver:
            await kit.until(lambda: driver.health.ok)
            result = await driver.write(reg, -5)
            assert result is not None and result.value == -5 and result.quality.is_good
            assert server.registers(1, "holding", 3, 1) == [0xFFFB]
            assert functions(server) == [FC6, FC3]

            since = len(server.requests)
            assert (await driver.write(coil, True)).value is True
            assert server.bits(1, "coil", 5, 1) == [True]
            assert functions(server, since) == [FC5, FC1]

            since = len(server.requests)
            assert (await driver.write(floating, 12.5)).value == 12.5
            assert server.registers(1, "holding", 10, 2) == [0x0000, 0x4148]
            assert functions(server, since) == [FC16, FC3]

            server.set_registers(1, "holding", 20, [0x8001])
            since = len(server.requests)
            assert (await driver.write(bit, True)).value is True
            assert server.registers(1, "holding", 20, 1) == [0x8011]
            assert functions(server, since) == [FC3, FC6, FC3]  # read, modify, write, read back
            assert (await driver.write(bit, False)).value is False
            assert server.registers(1, "holding", 20, 1) == [0x8001]

    asyncio.run(main())


def test_force_multiple_write_uses_fc15_and_fc16(kit: Any) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    reg, coil = kit.addresses("modbus://plc/1/holding/7", "modbus://plc/1/coil/9")

    async def main() -> None:
        async with kit.running(server, sink, force_multiple_write=True) as driver:
            await kit.until(lambda: driver.health.ok)
            assert (await driver.write(reg, 4321)).value == 4321
            assert (await driver.write(coil, True)).value is True
            assert functions(server) == [FC16, FC3, FC15, FC1]
            assert server.registers(1, "holding", 7, 1) == [4321]
            assert server.bits(1, "coil", 9, 1) == [True]

    asyncio.run(main())


def test_a_write_publishes_the_read_back_value(kit: Any) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0?type=uint32&scale=0.01")

    async def main() -> None:
        async with kit.running(server, sink, poll_ms=60000) as driver:
            driver.subscribe([tag])
            await kit.until(lambda: sink.good(tag))
            result = await driver.write(tag, 1234.56)
            assert result.value == pytest.approx(1234.56)
            assert server.registers(1, "holding", 0, 2) == [123456 >> 16, 123456 & 0xFFFF]
            assert sink.value(tag) == result

    asyncio.run(main())


@pytest.mark.parametrize(
    ("raw", "value", "why"),
    [
        ("modbus://plc/1/holding/0?type=int16", 70000, "outside the int16 range"),
        ("modbus://plc/1/holding/0?type=uint16", -1, "outside the uint16 range"),
        ("modbus://plc/1/holding/0?type=string&length=2", "abc", "longer than"),
        ("modbus://plc/1/holding/0?bit=2", 5, "not a boolean"),
        ("modbus://plc/1/input/0", 1, "read-only"),
        ("modbus://plc/1/discrete/0", True, "read-only"),
        ("modbus://other/1/holding/0", 1, "not served by"),
    ],
)
def test_refused_before_anything_is_sent(kit: Any, raw: str, value: object, why: str) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses(raw)

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            await kit.until(lambda: driver.health.ok)
            with pytest.raises(WriteDenied, match=why):
                await driver.write(tag, value)
            assert server.requests == []

    asyncio.run(main())


def test_exception_answers_and_mismatched_read_back_fail_the_write(kit: Any) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    missing, clamped, wide = kit.addresses(
        "modbus://plc/1/holding/104",
        "modbus://plc/1/holding/0",
        "modbus://plc/1/holding/2?type=int32",
    )

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            await kit.until(lambda: driver.health.ok)
            with pytest.raises(WriteFailed, match=r"answered IllegalDataAddress \(0x02\) to FC6"):
                await driver.write(missing, 1)
            server.clamp(1, 1000)
            with pytest.raises(WriteFailed, match="wrote 5000 but read back 1000"):
                await driver.write(clamped, 5000)  # FC6: the echo carries 1000, read back too
            # FC16 echoes no values; the read-back shows [1, 4464] clamped per register.
            with pytest.raises(WriteFailed, match="wrote 70000 but read back 66536"):
                await driver.write(wide, 70000)

    asyncio.run(main())


def test_a_momentary_command_is_not_compared_with_its_read_back(kit: Any) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    checked, momentary = kit.addresses(
        "modbus://plc/1/coil/2", "modbus://plc/1/coil/2?readback=ignore"
    )

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            await kit.until(lambda: driver.health.ok)
            server.pulse(1, 2)
            with pytest.raises(WriteFailed, match="wrote True but read back False"):
                await driver.write(checked, True)
            result = await driver.write(momentary, True)
            assert result is None, "no read-back to compare: the command service must not"
            assert functions(server)[-2:] == [FC5, FC1]

    asyncio.run(main())


def test_writes_while_disconnected_fail_at_once(kit: Any) -> None:
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0")

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            await kit.until(lambda: driver.health.ok)
            await server.stop()
            await kit.until(lambda: not driver.health.ok)
            with pytest.raises(WriteFailed, match="not connected"):
                await driver.write(tag, 1)

    asyncio.run(main())


def test_writes_go_ahead_of_due_polls(kit: Any) -> None:
    """Twenty blocks always due (1 ms): a write waits at most for the read in flight."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    tags = kit.addresses(*(f"modbus://plc/1/holding/{o}?poll=1" for o in range(0, 200, 10)))
    (target,) = kit.addresses("modbus://plc/1/holding/1")

    async def main() -> None:
        async with kit.running(server, sink, max_gap=0) as driver:
            driver.subscribe([t for t in tags if t.path != "1/holding/100"])
            await kit.until(lambda: len(server.requests) > 50)
            for _ in range(5):
                queued_at = len(server.requests)
                await driver.write(target, queued_at)
                position = functions(server).index(FC6, queued_at)
                assert position - queued_at <= 1
                server.requests.clear()

    asyncio.run(main())


def test_a_read_back_that_is_not_a_number_is_a_sensor_failure(kit: Any) -> None:
    """A device that stores NaN instead of the value written: the write fails and the tag
    goes Bad(SensorFailure) keeping its last good value, as a polled NaN does."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    (tag,) = kit.addresses("modbus://plc/1/holding/0?type=float32")

    async def main() -> None:
        async with kit.running(server, sink, poll_ms=60000) as driver:
            server.set_registers(1, "holding", 0, [0x3FC0, 0])  # 1.5
            driver.subscribe([tag])
            await kit.until(lambda: sink.good(tag))
            server.clamp(1, 0x7FC0)  # -3e38 is stored as 7FC0 7FC0: NaN
            with pytest.raises(WriteFailed, match=r"wrote -3e\+38 but read back nan"):
                await driver.write(tag, -3e38)
            assert server.registers(1, "holding", 0, 2) == [0x7FC0, 0x7FC0]
            value = sink.value(tag)
            assert value.quality.reason is QualityReason.SENSOR_FAILURE
            assert (value.value, value.detail) == (1.5, "device sent NaN")

    asyncio.run(main())
