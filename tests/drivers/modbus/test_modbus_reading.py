"""Reading from real pymodbus servers: every type and order, over TCP, RTU over TCP and RTU
on a serial line (socat pty pair); several units on one line; request counts; block splitting
on exception answers."""

from __future__ import annotations

import asyncio
import math
import struct
from typing import Any

import pytest

from hmi.model import QualityReason

# (type, value, {order: wire registers as hex}), written by hand from the byte orders' definition.
KNOWN: list[tuple[str, Any, dict[str, str]]] = [
    ("int16", -2, {"ABCD": "fffe", "CDAB": "fffe", "BADC": "feff", "DCBA": "feff"}),
    ("uint16", 0x1234, {"ABCD": "1234", "CDAB": "1234", "BADC": "3412", "DCBA": "3412"}),
    ("int32", -2, {"ABCD": "fffffffe", "CDAB": "fffeffff", "BADC": "fffffeff", "DCBA": "feffffff"}),
    ("uint32", 0x12345678,
     {"ABCD": "12345678", "CDAB": "56781234", "BADC": "34127856", "DCBA": "78563412"}),
    ("int64", -(2**40), {"ABCD": "ffffff0000000000", "CDAB": "00000000ff00ffff",
                         "BADC": "ffff00ff00000000", "DCBA": "0000000000ffffff"}),
    ("uint64", 0x0102030405060708, {"ABCD": "0102030405060708", "CDAB": "0708050603040102",
                                    "BADC": "0201040306050807", "DCBA": "0807060504030201"}),
    ("float32", 1.0, {"ABCD": "3f800000", "CDAB": "00003f80", "BADC": "803f0000", "DCBA": "0000803f"}),
    ("float64", -2.5, {"ABCD": "c004000000000000", "CDAB": "000000000000c004",
                       "BADC": "04c0000000000000", "DCBA": "00000000000004c0"}),
    ("string&length=3", "ABC",
     {"ABCD": "41424300", "CDAB": "43004142", "BADC": "42410043", "DCBA": "00434241"}),
]  # fmt: skip

TRANSPORTS = ["tcp", "rtu-over-tcp", "serial"]


def registers(hex_text: str) -> list[int]:
    data = bytes.fromhex(hex_text)
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def make_server(kit: Any, kind: str, request: pytest.FixtureRequest, units: tuple[int, ...]) -> Any:
    if kind == "serial":
        ours, theirs = request.getfixturevalue("pty_pair")
        server = kit.TestServer(units, kind="serial", serial_port=theirs)
        server.serial_port_for_driver = ours
        return server
    return kit.TestServer(units, kind=kind)


def driver_connection(kit: Any, server: Any, **settings: Any) -> Any:
    conn = kit.connection(server, **settings)
    if server.kind == "serial":
        conn = conn.model_copy(update={"serial_port": server.serial_port_for_driver})
    return conn


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_every_type_and_order(kit: Any, kind: str, request: pytest.FixtureRequest) -> None:
    server = make_server(kit, kind, request, (1,))
    sink = kit.Sink()
    expected: dict[Any, Any] = {}

    async def main() -> None:
        offset = 0
        async with kit.running(server, sink, driver_connection(kit, server)) as driver:
            for kind_, value, orders in KNOWN:
                for order, wire in orders.items():
                    server.set_registers(1, "holding", offset, registers(wire))
                    (address,) = kit.addresses(
                        f"modbus://plc/1/holding/{offset}?type={kind_}&order={order}"
                    )
                    expected[address] = value
                    offset += len(wire) // 4
            server.set_registers(1, "input", 7, [0x0008, 1234])
            server.set_bits(1, "coil", 3, [True, False, True])
            server.set_bits(1, "discrete", 60, [True])
            more = kit.addresses(
                "modbus://plc/1/input/7?bit=3", "modbus://plc/1/input/7?bit=2",
                "modbus://plc/1/input/8?type=int16&scale=0.1&bias=-100",
                "modbus://plc/1/coil/3", "modbus://plc/1/coil/4", "modbus://plc/1/coil/5",
                "modbus://plc/1/discrete/60",
            )  # fmt: skip
            values = [True, False, pytest.approx(23.4), True, False, True, True]
            expected.update(zip(more, values, strict=True))
            driver.subscribe(list(expected))
            await kit.until(lambda: sink.good(*expected), what="every address Good")
            assert {a: sink.value(a).value for a in expected} == expected
            assert len(driver.plan.blocks) == 4  # holding, input, coils, discrete inputs

    asyncio.run(main())


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_several_units_on_one_line(kit: Any, kind: str, request: pytest.FixtureRequest) -> None:
    server = make_server(kit, kind, request, (1, 2, 3))
    sink = kit.Sink()

    async def main() -> None:
        async with kit.running(server, sink, driver_connection(kit, server)) as driver:
            for unit in (1, 2, 3):
                server.set_registers(unit, "holding", 10, [unit * 100])
            tags = kit.addresses(*(f"modbus://plc/{u}/holding/10" for u in (1, 2, 3)))
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            assert [sink.value(t).value for t in tags] == [100, 200, 300]
            server.set_registers(2, "holding", 10, [222])
            await kit.until(lambda: sink.value(tags[1]).value == 222, what="the new value")
            assert {u for u, *_ in server.requests} == {1, 2, 3}

    asyncio.run(main())


def test_requests_per_poll_cycle(kit: Any) -> None:
    """34 tags in the planned set: 3 requests per cycle on TCP (whose default bridges any gap
    that fits in one read), 4 with ``max_gap: 8``, counted on the server."""
    server = kit.TestServer((1, 2))
    sink = kit.Sink()
    raw = (
        [f"modbus://plc/1/holding/{o}?poll=60000" for o in range(10)]
        + [
            "modbus://plc/1/holding/12?poll=60000",
            "modbus://plc/1/holding/20?type=float32&poll=60000",
        ]
        + ["modbus://plc/1/holding/60?poll=60000"]  # 38 unused registers away
        + [f"modbus://plc/1/coil/{o}?poll=60000" for o in range(16)]
        + [f"modbus://plc/2/holding/{o}?poll=60000" for o in range(5)]
    )
    tags = kit.addresses(*raw)

    async def main(max_gap: int | None, expected: list[tuple[int, int, int, int]]) -> None:
        server.requests.clear()
        async with kit.running(server, sink, max_gap=max_gap) as driver:
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            assert len(tags) == 34
            assert driver.plan.requests_per_cycle == len(expected)
            assert sorted(server.requests) == expected
            assert driver.requests_sent == len(expected)

    asyncio.run(main(None, [(1, 1, 0, 16), (1, 3, 0, 61), (2, 3, 0, 5)]))
    sink = kit.Sink()
    asyncio.run(main(8, [(1, 1, 0, 16), (1, 3, 0, 22), (1, 3, 60, 1), (2, 3, 0, 5)]))


@pytest.mark.parametrize("kind", ["tcp", "serial"])
def test_a_refused_block_is_split_and_the_neighbours_stay_good(
    kit: Any, kind: str, request: pytest.FixtureRequest
) -> None:
    """Registers 100..109 do not exist on the test device: the tags there go
    Bad(ConfigError) naming the exception, their neighbours in the same block stay Good."""
    server = make_server(kit, kind, request, (1,))
    sink = kit.Sink()
    good = kit.addresses(
        *(f"modbus://plc/1/holding/{o}" for o in (95, 96, 97, 98, 99, 110, 111, 115))
    )
    bad = kit.addresses("modbus://plc/1/holding/100", "modbus://plc/1/holding/105?type=float32")

    async def main() -> None:
        async with kit.running(server, sink, driver_connection(kit, server, max_gap=10)) as driver:
            server.set_registers(1, "holding", 95, [1, 2, 3, 4, 5])
            server.set_registers(1, "holding", 110, [6, 7, 0, 0, 0, 8])
            driver.subscribe(good + bad)
            await kit.until(lambda: sink.good(*good), what="the neighbours Good")
            await kit.until(lambda: all(a in driver.problems for a in bad), what="refusals")
            assert [sink.value(a).value for a in good] == [1, 2, 3, 4, 5, 6, 7, 8]
            for address in bad:
                assert sink.value(address).quality.reason is QualityReason.CONFIG_ERROR
                assert "IllegalDataAddress (0x02)" in driver.problems[address]
                assert "IllegalDataAddress (0x02)" in sink.value(address).detail, "tooltip"
            # The split is learned: later cycles read the planned blocks only, none refused.
            learned = len(server.requests)
            await kit.until(lambda: len(server.requests) > learned + 5 * len(driver.plan.blocks))
            later = server.requests[learned:]
            assert all(not (a < 110 and a + n > 100) for _, _, a, n in later)
            assert {(a, n) for _, _, a, n in later} == {
                (b.start, b.count) for b in driver.plan.blocks
            }
            assert len(driver.plan.blocks) == 2

    asyncio.run(main())


def words(fmt: str, value: float, order: str = "ABCD") -> list[int]:
    """The registers of ``value`` packed as ``fmt`` (``f`` or ``d``) in wire ``order``."""
    data = struct.pack(">" + fmt, value)
    regs = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return regs[::-1] if order == "CDAB" else regs


def test_a_float_that_is_not_a_number_is_a_sensor_failure(kit: Any) -> None:
    """NaN or infinity is what a failed transmitter sends: Bad(SensorFailure), the last good
    value kept, published once; Good again with the next number. The neighbours in the same
    block carry on."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    level, flow, temp, count, never = kit.addresses(
        "modbus://plc/1/holding/0?type=float32",
        "modbus://plc/1/holding/2?type=float64&order=CDAB",
        "modbus://plc/1/holding/6?type=float32&scale=0.5",
        "modbus://plc/1/holding/8",
        "modbus://plc/1/holding/9?type=float32",
    )

    def reason(address: Any) -> QualityReason | None:
        value = sink.value(address)
        return None if value is None else value.quality.reason

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            server.set_registers(
                1, "holding", 0,
                words("f", 1.5) + words("d", 2.5, "CDAB") + words("f", 4.0) + [7]
                + words("f", math.nan),
            )  # fmt: skip
            driver.subscribe([level, flow, temp, count, never])
            await kit.until(lambda: sink.good(level, flow, temp, count))
            await kit.until(lambda: reason(never) is QualityReason.SENSOR_FAILURE)
            assert len(driver.plan.blocks) == 1
            assert sink.value(never).value is None  # no good value yet
            assert sink.value(never).detail == "device sent NaN"

            server.set_registers(1, "holding", 0, words("f", math.nan))
            server.set_registers(1, "holding", 2, words("d", math.inf, "CDAB"))
            server.set_registers(1, "holding", 6, [*words("f", -math.inf), 8])
            bad = (level, flow, temp)
            await kit.until(lambda: all(reason(a) is QualityReason.SENSOR_FAILURE for a in bad))
            assert [sink.value(a).value for a in bad] == [1.5, 2.5, 2.0]  # last good values
            assert [sink.value(a).detail for a in bad] == [
                "device sent NaN", "device sent inf", "device sent -inf",
            ]  # fmt: skip
            assert all(sink.value(a).quality.is_bad for a in bad)
            await kit.until(lambda: sink.value(count).value == 8, what="the neighbour's change")
            assert sink.value(count).quality.is_good

            published = [len(sink.values(a)) for a in (*bad, never)]
            since = len(server.requests)
            await kit.until(lambda: len(server.requests) > since + 5, what="five more polls")
            assert [len(sink.values(a)) for a in (*bad, never)] == published, "published once"

            server.set_registers(1, "holding", 0, words("f", 3.0))
            await kit.until(lambda: sink.good(level), what="Good again")
            assert sink.value(level).value == 3.0
            assert sink.value(level).detail == ""
            assert reason(flow) is QualityReason.SENSOR_FAILURE

    asyncio.run(main())


def test_a_read_from_a_replaced_plan_publishes_only_what_is_still_subscribed(kit: Any) -> None:
    """An answer for a block of the previous plan (the plan changed while it was on the line):
    the address unsubscribed meanwhile is not published, the others are, and the blocks of
    the new plan do not take those values for what they published last."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    first, gone, third, later = kit.addresses(
        "modbus://plc/1/holding/0", "modbus://plc/1/holding/1", "modbus://plc/1/holding/2",
        "modbus://plc/1/holding/40",
    )  # fmt: skip

    async def main() -> None:
        async with kit.running(server, sink, max_gap=8) as driver:  # 40 apart: two reads
            server.set_registers(1, "holding", 0, [10, 11, 12])
            driver.subscribe([first, gone, third])
            await kit.until(lambda: sink.good(first, gone, third))
            old_plan = driver.plan
            (old_block,) = old_plan.blocks
            driver.unsubscribe([gone])
            driver.subscribe([later])
            await kit.until(lambda: driver.plan is not old_plan, what="the new plan")
            # One request at a time: the second read of 0..2 goes out once the first was
            # handled, so the new plan's block has published (and remembers) 10 and 12.
            since = len(server.requests)
            await kit.until(lambda: server.requests[since:].count((1, 3, 0, 3)) >= 2)
            count_gone = len(sink.values(gone))
            driver.on_data(old_block, bytes.fromhex("0065 0066 0067"))  # 101, 102, 103
            assert (sink.value(first).value, sink.value(third).value) == (101, 103)
            assert len(sink.values(gone)) == count_gone
            # The device still holds 10 and 12: the new plan's next reads publish them again.
            await kit.until(lambda: (sink.value(first).value, sink.value(third).value) == (10, 12))

    asyncio.run(main())


def test_the_next_request_is_on_the_line_while_an_answer_is_handled(kit: Any) -> None:
    """One request in flight, yet the line is not left idle while the driver decodes: the
    next due request goes out before the answer is handed to the driver."""
    server = kit.TestServer((1,))
    sink = kit.Sink()
    tags = kit.addresses(
        "modbus://plc/1/holding/0?poll=60000", "modbus://plc/1/holding/50?poll=60000"
    )

    async def main() -> None:
        async with kit.running(server, sink, max_gap=0) as driver:
            sent_before_handling: list[int] = []
            handle = driver.on_data

            def on_data(block: Any, data: bytes) -> None:
                sent_before_handling.append(driver.requests_sent)
                handle(block, data)

            driver.on_data = on_data  # the scheduler looks it up on each answer
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            assert len(driver.plan.blocks) == 2
            assert sent_before_handling == [2, 2]

    asyncio.run(main())
