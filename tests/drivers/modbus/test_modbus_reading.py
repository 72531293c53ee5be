"""Reading from real pymodbus servers: every type and order, over TCP, RTU over TCP and RTU
on a serial line (socat pty pair); several units on one line; request counts; block splitting
on exception answers."""

from __future__ import annotations

import asyncio
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
    """34 tags in the planned set: 4 requests per cycle, counted on the server."""
    server = kit.TestServer((1, 2))
    sink = kit.Sink()
    raw = (
        [f"modbus://plc/1/holding/{o}?poll=60000" for o in range(10)]
        + [
            "modbus://plc/1/holding/12?poll=60000",
            "modbus://plc/1/holding/20?type=float32&poll=60000",
        ]
        + ["modbus://plc/1/holding/60?poll=60000"]  # 38 unused registers away: its own read
        + [f"modbus://plc/1/coil/{o}?poll=60000" for o in range(16)]
        + [f"modbus://plc/2/holding/{o}?poll=60000" for o in range(5)]
    )
    tags = kit.addresses(*raw)

    async def main() -> None:
        async with kit.running(server, sink) as driver:
            driver.subscribe(tags)
            await kit.until(lambda: sink.good(*tags))
            assert len(tags) == 34
            assert driver.plan.requests_per_cycle == 4
            assert sorted(server.requests) == [
                (1, 1, 0, 16), (1, 3, 0, 22), (1, 3, 60, 1), (2, 3, 0, 5),
            ]  # fmt: skip
            assert driver.requests_sent == 4

    asyncio.run(main())


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
