"""Modbus benchmarks: (a) requests per poll cycle from the PollPlan, (b) registers per second
through the driver into a real TagBroker against a bare pymodbus client loop doing the same
block reads against the same local server (a separate process), in the same run.

Run: ``.venv/bin/python bench/bench_modbus.py`` (about 65 s). Exit status 2 when a throughput
ratio is below its target.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure

from hmi.drivers.base import DriverContext, DriverRegistry, ValueBatch
from hmi.drivers.modbus import (
    Limits,
    ModbusDriver,
    Point,
    PollPlan,
    modbus_driver,
)
from hmi.drivers.modbus.cost import default_gap
from hmi.drivers.modbus.pdu import MAX_READ_BITS, MAX_READ_REGISTERS
from hmi.model import parse_address
from hmi.model.project import ModbusConnection
from hmi.model.tags import TagConfig
from hmi.runtime.broker import TagBroker

REGISTERS = 1000  # served by the bench server, read as 8 blocks of 125
RUN_S = 2.5  # one measurement; each side is measured ROUNDS times, alternating
ROUNDS = 3
TCP_GAP = default_gap(ModbusConnection(driver="modbus", host="127.0.0.1"))
RATIO_TARGET = 0.85  # registers/s through the driver against the bare pymodbus loop

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


def fewest_requests(pts: list[Point]) -> int:
    """A lower bound for any plan: the fewest reads of at most 125 registers (2000 bits) that
    cover every register (bit) the points use, reading what lies between them, and even
    splitting a value across two reads. Greedy from the lowest address is optimal here."""
    limit = MAX_READ_BITS if pts[0].is_bit else MAX_READ_REGISTERS
    used = sorted({a for p in pts for a in range(p.offset, p.end)})
    requests, covered_to = 0, -1
    for address in used:
        if address > covered_to:
            requests += 1
            covered_to = address + limit - 1
    return requests


def fewest_whole_requests(pts: list[Point]) -> int:
    """The same lower bound for a plan that tears no value: each point read whole by one
    request (greedy from the lowest address, each read taking the points that still fit in
    its 125 registers or 2000 bits, what lies between them included, is optimal)."""
    limit = MAX_READ_BITS if pts[0].is_bit else MAX_READ_REGISTERS
    requests, start = 0, None
    for point in sorted(pts, key=lambda p: (p.offset, p.end)):
        if start is None or point.end - start > limit:
            requests += 1
            start = point.offset
    return requests


def plan_figures() -> None:
    print("(a) requests per poll cycle, from the PollPlan (125 registers or 2000 bits a read)")
    kinds = ("uint16", "float32", "int32", "float64")  # 1, 2, 2 and 4 registers
    spread = [f"modbus://b/1/holding/{10 * i}?type={kinds[i % 4]}" for i in range(1000)]
    layouts = [
        (
            "10,000 registers in 1,000 tags of 10 registers each (string length=20)",
            [f"modbus://b/1/holding/{10 * i}?type=string&length=20" for i in range(1000)],
            8,
        ),
        ("1,000 tags of 1-4 registers, one every 10 registers (max_gap 8)", spread, 8),
        ("the same with max_gap 9, bridging every gap", spread, 9),
        ("the same with the TCP default (max_gap from cost.py)", spread, TCP_GAP),
        (
            "1,000 tags in 2,000 registers (float64, uint32, float32, int16, uint16 packed)",
            [
                f"modbus://b/1/holding/{10 * (i // 5) + (0, 4, 6, 8, 9)[i % 5]}?type="
                + ("float64", "uint32", "float32", "int16", "uint16")[i % 5]
                for i in range(1000)
            ],
            8,
        ),
        ("1,000 one-register tags in a row", [f"modbus://b/1/holding/{i}" for i in range(1000)], 8),
        ("1,000 coils, one every 10 coils", [f"modbus://b/1/coil/{10 * i}" for i in range(1000)], 8),
    ]  # fmt: skip
    for name, raw, gap in layouts:
        pts = points(raw)
        ours = PollPlan.build(pts, Limits(max_gap=gap)).requests_per_cycle
        bound = fewest_requests(pts)
        print(f"  {name}")
        print(
            f"    ours {ours}, fewest possible {bound}, one per tag {len(pts):,}: "
            f"{len(pts) / ours:.1f}x fewer than one per tag (at best {len(pts) / bound:.1f}x)"
        )
        if name == layouts[0][0]:
            figure("modbus", "requests a poll, 10,000 registers in 1,000 tags", ours,
                   "requests", target=f"<= {len(pts) // 50} (50x fewer than one per tag)",
                   met=ours * 50 <= len(pts), raw=bound,
                   raw_name="fewest possible (125 registers a read)")  # fmt: skip
            whole = fewest_whole_requests(pts)
            figure("modbus", "requests a poll, 10,000 registers in 1,000 tags, no value torn",
                   ours, "requests", target=f"<= {whole} (fewest that split no tag)",
                   met=ours <= whole, raw=whole,
                   raw_name="fewest reads that split no tag")  # fmt: skip
    print(
        "  The 50x target cannot be met for 10,000 registers in 1,000 tags: FC3/FC4 read at\n"
        "  most 125 registers, so 10,000 registers need at least 80 requests, i.e. at most 12.5x\n"
        "  fewer than one request per tag, whatever the plan. Ours takes 84 (11.9x): the extra 4\n"
        "  because a 10-register tag is never split across two requests, which would tear its\n"
        "  value (12 whole tags, 120 registers, per request). 50x fewer needs at most 2.5\n"
        "  registers per tag, as in the packed layout above."
    )


def start_server(mode: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(REGISTERS), mode], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


class Run(NamedTuple):
    rate: float
    """Registers per second."""
    cpu_us: float
    """CPU time of this process (every thread, system time included) per 125-register read:
    far less disturbed by other processes than the rate."""


async def measure(driver: ModbusDriver, published: Callable[[], int]) -> tuple[Run, int]:
    while driver.registers_read < 4 * REGISTERS:  # connected and warmed up
        await asyncio.sleep(0.01)
    regs, values = driver.registers_read, published()
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.sleep(RUN_S)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    read = driver.registers_read - regs
    return Run(read / elapsed, 125e6 * cpu / read), published() - values


def connection(port: int) -> ModbusConnection:
    return ModbusConnection(driver="modbus", host="127.0.0.1", port=port, timeout_s=2)


async def through_broker(port: int, io_thread: bool = True) -> tuple[Run, int]:
    """Registers per second read through the driver into a real TagBroker, and the values
    the broker accepted meanwhile. With ``io_thread`` the driver runs on the pool's I/O
    thread and its batches are handed to the broker's loop, as ``hmi run`` has it."""
    registry = DriverRegistry({"modbus": modbus_driver}, io_thread=["modbus"] if io_thread else [])
    tags = {
        f"r{i}": TagConfig(name=f"r{i}", address=f"modbus://bench/1/holding/{i}?poll=1")
        for i in range(REGISTERS)
    }
    broker = TagBroker(tags, registry, {"bench": connection(port)})
    for name in tags:
        broker.subscribe(name)
    # On the I/O thread the pool wraps the driver; count on the driver itself.
    pooled = broker.pool.drivers["modbus://bench"]
    driver = getattr(pooled, "inner", pooled)
    assert isinstance(driver, ModbusDriver)
    await broker.start()
    try:
        return await measure(driver, lambda: broker.updates_accepted)
    finally:
        await broker.stop()


async def through_broker_one_loop(port: int) -> tuple[Run, int]:
    """The same with the driver on the broker's loop."""
    return await through_broker(port, io_thread=False)


async def through_counter(port: int) -> tuple[Run, int]:
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


async def raw(port: int) -> Run:
    """The same 8 block reads in a bare pymodbus client loop."""
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2)
    await client.connect()
    blocks = [(start, min(125, REGISTERS - start)) for start in range(0, REGISTERS, 125)]
    try:
        for start, count in blocks * 4:  # warm up
            await client.read_holding_registers(start, count=count, device_id=1)
        read, start_t, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start_t < RUN_S:
            for start, count in blocks:
                response = await client.read_holding_registers(start, count=count, device_id=1)
                read += len(response.registers)
        elapsed, cpu = time.perf_counter() - start_t, time.process_time() - cpu
        return Run(read / elapsed, 125e6 * cpu / read)
    finally:
        client.close()


def throughput() -> bool:
    """Print the three scenarios; True when every ratio meets ``RATIO_TARGET``."""
    print(
        f"(b) registers per second, {REGISTERS} uint16 tags in 8 blocks of 125, one request in "
        f"flight, {ROUNDS} alternating runs of {RUN_S:g} s per side; ratio = ours / raw, "
        f"best run of each side (target >= {RATIO_TARGET})"
    )
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    scenarios = [
        ("steady values, driver (I/O thread) -> TagBroker", "steady", through_broker),
        ("every value changes every read, driver -> counting sink", "bump", through_counter),
        ("every value changes every read, driver -> TagBroker, one loop", "bump",
         through_broker_one_loop),
        ("every value changes every read, driver (I/O thread) -> TagBroker", "bump",
         through_broker),
    ]  # fmt: skip
    met = True
    for name, mode, ours_fn in scenarios:
        process, port = start_server(mode)
        try:
            ours_runs: list[Run] = []
            raw_runs: list[Run] = []
            values = 0
            for _ in range(ROUNDS):
                run, values = asyncio.run(ours_fn(port))
                ours_runs.append(run)
                raw_runs.append(asyncio.run(raw(port)))
        finally:
            process.terminate()
            process.wait(timeout=5)
        ours, bare = max(r.rate for r in ours_runs), max(r.rate for r in raw_runs)
        ratio = ours / bare
        met = met and ratio >= RATIO_TARGET
        rounds = ", ".join(
            f"{o.rate / r.rate:.2f}" for o, r in zip(ours_runs, raw_runs, strict=True)
        )
        ours_cpu, raw_cpu = min(r.cpu_us for r in ours_runs), min(r.cpu_us for r in raw_runs)
        print(f"  {name} ({values:,} values published in the last run)")
        print(
            f"    ours {ours:,.0f}/s, raw {bare:,.0f}/s: ratio {ratio:.2f} "
            f"({'met' if ratio >= RATIO_TARGET else 'MISSED'}); per round {rounds}"
        )
        print(
            f"    CPU per 125-register read (least of {ROUNDS}): ours {ours_cpu:.0f} us, "
            f"raw {raw_cpu:.0f} us, raw/ours {raw_cpu / ours_cpu:.2f}"
        )
        figure("modbus", f"registers read: {name}", ours, "registers/s",
               target=f"ratio >= {RATIO_TARGET}", met=ratio >= RATIO_TARGET, raw=bare,
               raw_name="bare pymodbus client loop")  # fmt: skip
    return met


if __name__ == "__main__":
    plan_figures()
    if not throughput():
        print(f"throughput target missed: a ratio is below {RATIO_TARGET}")
        sys.exit(2)
