"""The peers of the latency bench, each a process of its own (``bench_latency.py --role ...``):
the servers that change every tag at a set rate, the value of each change being the time it
was made, and the bare library clients that receive the same changes.

Every change carries its own time: a tag's value is ``time.time() - base`` at the moment the
server changes it (``base`` is the orchestrator's clock reading, passed to every process, so
the values stay small: a float64 over OPC UA, a float32 over Modbus, exact to 15 us over a
three-minute run). A receiver's latency is ``time.time() - base - value``: one wall clock, one
machine. The tags change on their own phases (every ``TICK_S`` a slice of them, round robin),
so the samples cover every phase of the publishing interval, poll period and UI flush.

The protocol with every process: a ``READY ...`` line on stdout once set up; then the schedule
on stdin, one JSON line ``[[hz, start, end], ...]`` (wall-clock times); a receiver reports one
JSON line of latencies per phase (ms) once the last phase is over, the server its statistics
when told ``stop``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from asyncua import Client, Server, ua

NS_URI = "urn:hmi:bench:latency"
TICK_S = 0.01  # the servers change a slice of the tags every 10 ms
GRACE_S = 1.5  # a receiver waits this long after a phase for its last changes
BLOCK = 124  # registers a Modbus read: 62 float32 tags, none split (as the driver plans)

Schedule = list[tuple[float, float, float]]  # (hz, start, end)


def node_id(ns: int, i: int) -> ua.NodeId:
    return ua.NodeId(f"Lat.V{i}", ns)


def read_schedule() -> Schedule:
    return [(float(h), float(a), float(b)) for h, a, b in json.loads(sys.stdin.readline())]


async def sleep_until(t: float) -> None:
    """Short steps, so a coarse timer cannot oversleep by much; yields at least once, so a
    server that fell behind its changes still serves its clients between two of them."""
    await asyncio.sleep(0)
    while (left := t - time.time()) > 0:
        await asyncio.sleep(min(left, 0.05))


async def run_changes(
    schedule: Schedule, items: int, change: Callable[[list[int]], Any]
) -> dict[str, float]:
    """Call ``change(slice of tag indexes)`` every ``TICK_S`` through each phase, so that every
    tag changes ``hz`` times a second, each on its own phase. Says how far behind it fell."""
    behind, ticks, changed = 0.0, 0, 0
    for hz, start, end in schedule:
        per_tick = items * hz * TICK_S  # tags to change per tick (fractional carries over)
        owed, cursor, k = 0.0, 0, 0
        while (due := start + k * TICK_S) < end:
            await sleep_until(due)
            behind = max(behind, time.time() - due)
            owed += per_tick
            n, owed = int(owed), owed - int(owed)
            if n:
                outcome = change([(cursor + j) % items for j in range(n)])
                if asyncio.iscoroutine(outcome):
                    await outcome
            cursor = (cursor + n) % items
            changed += n
            ticks += 1
            k += 1
    return {"ticks": ticks, "changes": changed, "behind_max_ms": behind * 1000}


def summarize(samples: Sequence[tuple[float, float]], schedule: Schedule) -> list[list[float]]:
    """Latencies in ms per phase, from ``(change time, latency s)`` pairs."""
    phases: list[list[float]] = [[] for _ in schedule]
    for changed, latency in samples:
        for k, (_, start, end) in enumerate(schedule):
            if start <= changed < end:
                phases[k].append(round(latency * 1000, 3))
                break
    return phases


def report(samples: Sequence[tuple[float, float]], schedule: Schedule, **extra: Any) -> None:
    print(json.dumps({"phases": summarize(samples, schedule)} | extra), flush=True)


# -- OPC UA ----------------------------------------------------------------------------------


async def opcua_server(port: int, items: int, base: float) -> None:
    """``items`` Double variables; each change writes ``time.time() - base`` to one of them,
    with the same time as its SourceTimestamp, as a device server would stamp it."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    ns = await server.register_namespace(NS_URI)
    root = await server.nodes.objects.add_folder(ua.NodeId("Lat", ns), "Lat")
    ids = []
    for i in range(items):
        if i % 100 == 0:  # asyncua adds a child in time linear in its siblings: keep them few
            folder = await root.add_folder(ua.NodeId(f"Lat.F{i // 100}", ns), f"F{i // 100}")
        variant = ua.Variant(0.0, ua.VariantType.Double)
        ids.append((await folder.add_variable(node_id(ns, i), f"V{i}", variant)).nodeid)
    await server.start()
    print(f"READY {ns}", flush=True)
    schedule = await asyncio.to_thread(read_schedule)

    async def change(indexes: list[int]) -> None:
        for i in indexes:
            now = datetime.now(UTC)
            variant = ua.Variant(now.timestamp() - base, ua.VariantType.Double)
            await server.write_attribute_value(ids[i], ua.DataValue(variant, SourceTimestamp=now))

    stats = await run_changes(schedule, items, change)
    await asyncio.to_thread(sys.stdin.readline)  # stop
    print(json.dumps(stats), flush=True)
    await server.stop()


async def raw_opcua(endpoint: str, items: int, publish_ms: float, base: float) -> None:
    """A bare asyncua client: one subscription with the station's parameters (sampling 0,
    queue 1), items created 1,000 a call, latency taken in asyncua's publish callback."""
    samples: list[tuple[float, float]] = []

    def on_publish(result: ua.PublishResult) -> None:
        now = time.time() - base
        for notification in result.NotificationMessage.NotificationData or ():
            if type(notification) is ua.DataChangeNotification:
                for item in notification.MonitoredItems:
                    value = item.Value.Value.Value
                    if value:
                        samples.append((base + value, now - value))

    client = Client(endpoint, timeout=30, watchdog_intervall=5)
    await client.connect()
    ns = await client.get_namespace_index(NS_URI)
    session = client.uaclient.session
    params = ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=publish_ms,
        RequestedLifetimeCount=1000,
        RequestedMaxKeepAliveCount=10,
        MaxNotificationsPerPublish=0,
        PublishingEnabled=True,
    )
    result = await session.create_subscription(params, callback=on_publish)
    for start in range(0, items, 1000):
        requests = [
            ua.MonitoredItemCreateRequest(
                ItemToMonitor=ua.ReadValueId(
                    NodeId=node_id(ns, i), AttributeId=ua.AttributeIds.Value
                ),
                MonitoringMode=ua.MonitoringMode.Reporting,
                RequestedParameters=ua.MonitoringParameters(
                    ClientHandle=i + 1, SamplingInterval=0, QueueSize=1, DiscardOldest=True
                ),
            )
            for i in range(start, min(items, start + 1000))
        ]
        await session.create_monitored_items(
            ua.CreateMonitoredItemsParameters(
                SubscriptionId=result.SubscriptionId,
                ItemsToCreate=requests,
                TimestampsToReturn=ua.TimestampsToReturn.Both,
            )
        )
    print("READY", flush=True)
    schedule = await asyncio.to_thread(read_schedule)
    await sleep_until(schedule[-1][2] + GRACE_S)
    await client.disconnect()
    report(samples, schedule)


# -- Modbus ----------------------------------------------------------------------------------


def encode(value: float) -> tuple[int, int]:
    """float32, high word first (ABCD), as the driver's ``type=float32`` reads it."""
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return high, low


async def modbus_server(items: int, base: float) -> None:
    """Holding registers 0..2*items-1: tag i a float32 at offset 2i. A read copies the
    current values into the block it reads (as the demo plant's server does), so a change is
    seen by the first read after it."""
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    current = [0] * (2 * items)

    async def action(fc: int, start: int, address: int, count: int, registers: list[int],
                     values: Any) -> None:  # fmt: skip
        if values is None:
            registers[address - start : address - start + count] = current[
                address : address + count
            ]

    blocks = [SimData(0, count=2 * items, values=0, datatype=DataType.REGISTERS)]
    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    device = SimDevice(id=1, simdata=(bits, list(bits), blocks, list(blocks)), action=action)
    server = ModbusTcpServer([device], address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    print(f"READY {server.transport.sockets[0].getsockname()[1]}", flush=True)
    schedule = await asyncio.to_thread(read_schedule)

    def change(indexes: list[int]) -> None:
        high, low = encode(time.time() - base)
        for i in indexes:
            current[2 * i] = high
            current[2 * i + 1] = low

    stats = await run_changes(schedule, items, change)
    await asyncio.to_thread(sys.stdin.readline)  # stop
    print(json.dumps(stats), flush=True)
    await server.shutdown()


async def raw_modbus(port: int, items: int, poll_ms: float, base: float) -> None:
    """A bare pymodbus loop: every ``poll_ms`` (fixed rate) the same blocks of 125 registers
    the driver reads, one request in flight; latency taken when a tag's value changes."""
    from pymodbus.client import AsyncModbusTcpClient

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2)
    await client.connect()
    registers = 2 * items
    blocks = [(a, min(BLOCK, registers - a)) for a in range(0, registers, BLOCK)]
    last = [0.0] * items
    samples: list[tuple[float, float]] = []
    period = poll_ms / 1000

    async def poll() -> None:
        for start, count in blocks:
            response = await client.read_holding_registers(start, count=count, device_id=1)
            now = time.time() - base
            words = response.registers
            values = struct.unpack(f">{count // 2}f", struct.pack(f">{count}H", *words))
            for k, value in enumerate(values):
                i = start // 2 + k
                if value != last[i]:
                    last[i] = value
                    samples.append((base + value, now - value))

    await poll()
    print("READY", flush=True)
    schedule = await asyncio.to_thread(read_schedule)
    finish = schedule[-1][2] + GRACE_S
    due = time.time()
    while due < finish:
        await poll()
        due += period
        await asyncio.sleep(max(0.0, due - time.time()))
        due = max(due, time.time() - period)  # fell behind: poll now, do not catch up
    client.close()
    report(samples, schedule)
