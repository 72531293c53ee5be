"""Modbus benchmarks: (a) requests per poll cycle from the PollPlan, (b) registers per second
through the driver into a real TagBroker against a bare pymodbus client loop doing the same
block reads against the same local server (a separate process), in the same run.

Run: ``.venv/bin/python bench/bench_modbus.py`` (about 50 s).
"""

from __future__ import annotations

import asyncio
import logging
import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hmi.drivers.base import DriverContext, DriverRegistry, ValueBatch
from hmi.drivers.modbus import (
    Limits,
    ModbusDriver,
    Point,
    PollPlan,
    modbus_driver,
)
from hmi.model import parse_address
from hmi.model.project import ModbusConnection
from hmi.model.tags import TagConfig
from hmi.runtime.broker import TagBroker

REGISTERS = 1000  # served by the bench server, read as 8 blocks of 125
RUN_S = 2.5  # one measurement; each side is measured ROUNDS times, alternating
ROUNDS = 3

# A pymodbus server in its own process. With "bump", every read increments the registers it
# returns, so every value changes on every read and the driver publishes every one of them;
# with "steady" the values stay put, as most of a plant's do between two polls.
SERVER = textwrap.dedent(
    """
    import asyncio, logging, sys
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    N, BUMP = int(sys.argv[1]), sys.argv[2] == "bump"

    async def bump(fc, start, address, count, registers, values):
        if values is None:
            for i in range(address - start, address - start + count):
                registers[i] = (registers[i] + 1) & 0xFFFF

    async def main():
        blocks = [SimData(0, count=N, values=0, datatype=DataType.REGISTERS)]
        bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
        device = SimDevice(id=1, simdata=(bits, list(bits), blocks, list(blocks)),
                           action=bump if BUMP else None)
        server = ModbusTcpServer([device], address=("127.0.0.1", 0))
        await server.serve_forever(background=True)
        print(server.transport.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def points(raw: list[str]) -> list[Point]:
    return [Point.from_address(parse_address(r), 500) for r in raw]


def plan_figures() -> None:
    print("(a) requests per poll cycle, from the PollPlan (125 registers or 2000 bits a read)")
    kinds = ("uint16", "float32", "int32", "float64")  # 1, 2, 2 and 4 registers
    spread = [f"modbus://b/1/holding/{10 * i}?type={kinds[i % 4]}" for i in range(1000)]
    layouts = [
        (
            "10,000 registers in 1,000 tags of 10 registers each (string length=20)",
            [f"modbus://b/1/holding/{10 * i}?type=string&length=20" for i in range(1000)],
            10_000,
            8,
        ),
        ("1,000 tags of 1-4 registers, one every 10 registers (max_gap 8)", spread, 2_250, 8),
        ("the same with max_gap 9, bridging every gap", spread, 2_250, 9),
        (
            "1,000 tags in 2,000 registers (float64, uint32, float32, int16, uint16 packed)",
            [
                f"modbus://b/1/holding/{10 * (i // 5) + (0, 4, 6, 8, 9)[i % 5]}?type="
                + ("float64", "uint32", "float32", "int16", "uint16")[i % 5]
                for i in range(1000)
            ],
            2_000,
            8,
        ),
        ("1,000 one-register tags in a row", [f"modbus://b/1/holding/{i}" for i in range(1000)],
         1_000, 8),
        ("1,000 coils, one every 10 coils", [f"modbus://b/1/coil/{10 * i}" for i in range(1000)],
         1_000, 8),
    ]  # fmt: skip
    for name, raw, registers, gap in layouts:
        pts = points(raw)
        ours = PollPlan.build(pts, Limits(max_gap=gap)).requests_per_cycle
        bound = math.ceil(registers / (2000 if "coil" in name else 125))
        print(f"  {name}")
        print(
            f"    one request per tag {len(pts)}, per register {registers}, ours {ours} "
            f"(at least {bound}): {len(pts) / ours:.1f}x fewer than one per tag, "
            f"{registers / ours:.1f}x fewer than one per register"
        )
    print(
        "  Note: with 10 registers per tag, FC3's 125-register maximum bounds any plan at\n"
        "  12.5x fewer requests than one per tag; 50x needs at most 2.5 registers per tag."
    )


def start_server(mode: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(REGISTERS), mode], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


async def measure(driver: ModbusDriver, published: Callable[[], int]) -> tuple[float, int]:
    while driver.registers_read < 4 * REGISTERS:  # connected and warmed up
        await asyncio.sleep(0.01)
    regs, values, start = driver.registers_read, published(), time.perf_counter()
    await asyncio.sleep(RUN_S)
    elapsed = time.perf_counter() - start
    return (driver.registers_read - regs) / elapsed, published() - values


def connection(port: int) -> ModbusConnection:
    return ModbusConnection(driver="modbus", host="127.0.0.1", port=port, timeout_s=2)


async def through_broker(port: int) -> tuple[float, int]:
    """Registers per second read through the driver into a real TagBroker, and the values
    the broker accepted meanwhile."""
    registry = DriverRegistry({"modbus": modbus_driver})
    tags = {
        f"r{i}": TagConfig(name=f"r{i}", address=f"modbus://bench/1/holding/{i}?poll=1")
        for i in range(REGISTERS)
    }
    broker = TagBroker(tags, registry, {"bench": connection(port)})
    for name in tags:
        broker.subscribe(name)
    driver = broker.pool.drivers["modbus://bench"]
    assert isinstance(driver, ModbusDriver)
    await broker.start()
    try:
        return await measure(driver, lambda: broker.updates_accepted)
    finally:
        await broker.stop()


async def through_counter(port: int) -> tuple[float, int]:
    """The same through the driver into a sink that only counts the values."""
    count = [0]

    def publish(batch: ValueBatch) -> None:
        count[0] += len(batch)

    context = DriverContext(publish, lambda health: None)
    driver = modbus_driver("modbus://bench", connection(port), context)
    driver.subscribe(
        [parse_address(f"modbus://bench/1/holding/{i}?poll=1") for i in range(REGISTERS)]
    )
    await driver.start()
    try:
        return await measure(driver, lambda: count[0])
    finally:
        await driver.stop()


async def raw(port: int) -> float:
    """The same 8 block reads in a bare pymodbus client loop."""
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2)
    await client.connect()
    blocks = [(start, min(125, REGISTERS - start)) for start in range(0, REGISTERS, 125)]
    try:
        for start, count in blocks * 4:  # warm up
            await client.read_holding_registers(start, count=count, device_id=1)
        read, start_t = 0, time.perf_counter()
        while time.perf_counter() - start_t < RUN_S:
            for start, count in blocks:
                response = await client.read_holding_registers(start, count=count, device_id=1)
                read += len(response.registers)
        return read / (time.perf_counter() - start_t)
    finally:
        client.close()


def throughput() -> None:
    print(
        f"(b) registers per second, {REGISTERS} uint16 tags in 8 blocks of 125, one request in "
        f"flight, best of {ROUNDS} alternating runs of {RUN_S:g} s per side"
    )
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    scenarios = [
        ("steady values, driver -> TagBroker", "steady", through_broker),
        ("every value changes every read, driver -> counting sink", "bump", through_counter),
        ("every value changes every read, driver -> TagBroker", "bump", through_broker),
    ]
    for name, mode, ours_fn in scenarios:
        process, port = start_server(mode)
        try:
            ours_runs: list[float] = []
            raw_runs: list[float] = []
            values = 0
            for _ in range(ROUNDS):
                rate, values = asyncio.run(ours_fn(port))
                ours_runs.append(rate)
                raw_runs.append(asyncio.run(raw(port)))
            ours_rate, raw_rate = max(ours_runs), max(raw_runs)
            print(f"  {name} ({values:,} values published in the last run)")
            print(f"ours {ours_rate:,.0f}, raw {raw_rate:,.0f}, ratio {ours_rate / raw_rate:.2f}")
        finally:
            process.terminate()
            process.wait(timeout=5)


if __name__ == "__main__":
    plan_figures()
    throughput()
