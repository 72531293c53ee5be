"""Faults on a Modbus link, with the station's runtime (the driver on the I/O thread, the tag
broker on this loop) and a real pymodbus server behind a real gateway that drops every Nth
connection and cuts the others after some answers, or stalls. Each asserts the right quality
within 2 s, recovery without a restart, and nothing duplicated or resurrected."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hmi.drivers.defaults import default_registry
from hmi.model.project import ModbusConnection
from hmi.model.quality import QualityReason
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.io_thread import ThreadedDriver
from tests.drivers.modbus.conftest import TestServer
from tests.drivers.modbus.gateway import FlakyGateway

TAGS = {
    "Count": TagConfig(address="modbus://plc/1/holding/0", datatype="int"),
    "Total": TagConfig(address="modbus://plc/1/holding/20?type=uint32", datatype="int"),
}


async def until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.005)


class Station:
    """The broker with every tag subscribed, and what it heard: (time, tag, value)."""

    def __init__(self, broker: TagBroker) -> None:
        self.broker = broker
        self.heard: list[tuple[float, str, TagValue]] = []
        broker.add_listener(lambda name, value: self.heard.append((time.monotonic(), name, value)))

    def good(self) -> bool:
        return all(self.broker.latest(name).quality.is_good for name in TAGS)

    def stream(self, name: str) -> list[tuple[float, TagValue]]:
        return [(t, v) for t, n, v in self.heard if n == name]


@contextlib.asynccontextmanager
async def station(gateway: FlakyGateway, server: TestServer) -> AsyncIterator[Station]:
    await server.start()
    await gateway.start()
    conn = ModbusConnection(
        driver="modbus", host="127.0.0.1", port=gateway.port, timeout_s=0.3, poll_ms=50,
    )  # fmt: skip
    broker = TagBroker(TAGS, default_registry(), {"plc": conn})
    assert isinstance(broker.pool.driver_for(TAGS["Count"].address), ThreadedDriver)
    watch = Station(broker)
    for name in TAGS:
        broker.subscribe(name)
    await broker.start()
    counting = asyncio.get_running_loop().create_task(count(server))
    try:
        await until(watch.good, 5, "every tag Good")
        yield watch
    finally:
        counting.cancel()
        await broker.stop()
        await gateway.stop()
        await server.stop()


async def count(server: TestServer) -> None:
    """The device's counters go up every 20 ms, so any old value published late shows."""
    n = 0
    while True:
        n += 1
        server.set_registers(1, "holding", 0, [n % 65536])
        server.set_registers(1, "holding", 20, [n >> 16, n & 0xFFFF])
        await asyncio.sleep(0.02)


def check_stream(watch: Station) -> None:
    """Only changes are published (a new value, quality or reason text), and a counter never
    goes back (a late answer taken for a newer one would show here)."""
    for name in TAGS:
        stream = [v for _, v in watch.stream(name)]
        for before, after in itertools.pairwise(stream):
            old, new = (before.value, before.quality, before.detail), (
                after.value, after.quality, after.detail,
            )  # fmt: skip
            assert old != new, f"{name} published twice: {new}"
        values = [v.value for v in stream if v.quality.is_good]
        assert values == sorted(values), f"{name} went back"


def test_a_gateway_dropping_every_3rd_connection_and_cutting_the_others() -> None:
    server = TestServer((1,))
    gateway = FlakyGateway(server.port, close_after=40, drop_every=3)

    async def main() -> None:
        async with station(gateway, server) as watch:
            driver = watch.broker.pool.drivers["modbus://plc"]
            start = time.monotonic()
            await until(lambda: gateway.dropped >= 2 and watch.good(), 30, "two dropped")
            assert watch.broker.pool.drivers["modbus://plc"] is driver  # never restarted
            bad_spans: list[tuple[float, float]] = []
            for name in TAGS:
                went_bad: float | None = None
                for at, value in watch.stream(name):
                    if at < start:
                        continue
                    if not value.quality.is_good and went_bad is None:
                        assert value.quality.reason is QualityReason.NOT_CONNECTED
                        went_bad = at
                    elif value.quality.is_good and went_bad is not None:
                        bad_spans.append((went_bad, at))
                        went_bad = None
                assert went_bad is None
            assert bad_spans, "no loss was seen"
            assert max(end - begin for begin, end in bad_spans) < 2.0  # back within 2 s
            for cut in gateway.closed_at:  # each cut: Bad within 2 s (most recover at once)
                assert any(cut - 0.01 <= begin <= cut + 2.0 for begin, _ in bad_spans), cut
            check_stream(watch)
            good_time = time.monotonic() - start - sum(e - b for b, e in bad_spans) / len(TAGS)
            print(
                f"{gateway.accepted} connections, {gateway.dropped} dropped, {gateway.closed} "
                f"cut; Good {good_time / (time.monotonic() - start):.1%} of the time"
            )

    asyncio.run(main())


def test_a_stalled_gateway_is_comm_failure_within_2_s_and_recovers() -> None:
    server = TestServer((1,))
    gateway = FlakyGateway(server.port)

    async def main() -> None:
        async with station(gateway, server) as watch:
            driver = watch.broker.pool.drivers["modbus://plc"]
            gateway.stalled = True
            stalled = time.monotonic()
            await until(
                lambda: all(
                    watch.broker.latest(n).quality.reason is QualityReason.COMM_FAILURE
                    for n in TAGS
                ),
                2.0,
                "Bad(CommFailure) within 2 s of the stall",
            )
            print(f"Bad(CommFailure) {time.monotonic() - stalled:.2f} s after the stall")
            held = [watch.broker.latest(n).value for n in TAGS]
            assert all(v is not None for v in held)  # the last values stay, marked
            await asyncio.sleep(1.0)
            gateway.stalled = False
            resumed = time.monotonic()
            await until(watch.good, 5, "Good again after the stall")
            print(f"Good {time.monotonic() - resumed:.2f} s after the stall ended")
            assert watch.broker.pool.drivers["modbus://plc"] is driver
            assert [watch.broker.latest(n).value for n in TAGS] >= held
            check_stream(watch)

    asyncio.run(main())
