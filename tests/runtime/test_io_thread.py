"""Network drivers on the I/O thread: calls go over in order, values and health come back in
order and in bounded chunks, and the real OPC UA and Modbus drivers work through it against
real servers (loss, recovery and writes included)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any

import pytest

from hmi.drivers.base import (
    ConnectionHealth,
    ConnectionState,
    DriverContext,
    DriverRegistry,
    ValueBatch,
)
from hmi.drivers.defaults import default_registry
from hmi.drivers.modbus import ModbusDriver
from hmi.model.address import TagAddress, parse_address
from hmi.model.errors import WriteFailed
from hmi.model.quality import NOT_CONNECTED, Quality
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.io_thread import IoLoop, ThreadedDriver
from tests.drivers.modbus.conftest import TestServer
from tests.drivers.modbus.conftest import connection as modbus_connection
from tests.drivers.opcua.opcua_plant import PlantServer, free_port
from tests.drivers.opcua.test_opcua_driver import connection as opcua_connection


def run(coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


async def until(condition: Any, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.005)


_EARLIER: set[int] = set()  # I/O threads left by tests that ran before this one


@pytest.fixture(autouse=True)
def _only_this_tests_threads() -> None:
    """Another module's failing test may leave its I/O thread behind (a daemon): each test
    here counts only the threads it made."""
    _EARLIER.clear()
    _EARLIER.update(id(t) for t in threading.enumerate() if t.name == "hmi-io")


def io_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name == "hmi-io" and t.is_alive() and id(t) not in _EARLIER
    ]


class Scripted:
    """A driver that, on its own loop, reports what ``script`` lists: value batches and
    health changes. It records the thread every call arrives on."""

    def __init__(self, context: DriverContext, script: list[Any]) -> None:
        self.key = "scripted"
        self._context = context
        self._script = script
        self.threads: set[int] = set()
        self.calls: list[tuple[str, Any]] = []
        self._health = ConnectionHealth("scripted", ConnectionState.STOPPED, "not started")

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    async def start(self) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append(("start", None))
        asyncio.get_running_loop().call_soon(self._play)

    def _play(self) -> None:
        self.threads.add(threading.get_ident())
        for step in self._script:
            if isinstance(step, ConnectionHealth):
                self._context.report_health(step)
            else:
                self._context.publish(step)

    async def stop(self) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append(("stop", None))

    def subscribe(self, addresses: Sequence[TagAddress]) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append(("subscribe", [a.raw for a in addresses]))

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append(("unsubscribe", [a.raw for a in addresses]))

    async def write(self, address: TagAddress, value: Any) -> TagValue | None:
        self.threads.add(threading.get_ident())
        if value == "slow":
            await asyncio.sleep(30)
        if value == "refuse":
            raise WriteFailed("BadUserAccessDenied")
        return TagValue.now(value)


ADDRESS = parse_address("local://x")


def batch(first: int, count: int) -> list[tuple[TagAddress, TagValue]]:
    return [(ADDRESS, TagValue.now(i)) for i in range(first, first + count)]


class Station:
    """The station's side of the context: everything it is handed, in order, and on which
    thread, with the size of every chunk."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.chunks: list[int] = []
        self.threads: set[int] = set()

    def publish(self, values: ValueBatch) -> None:
        self.threads.add(threading.get_ident())
        self.chunks.append(len(values))
        self.events.extend(value.value for _, value in values)

    def report_health(self, health: ConnectionHealth) -> None:
        self.threads.add(threading.get_ident())
        self.events.append(health.state)

    @property
    def context(self) -> DriverContext:
        return DriverContext(self.publish, self.report_health)


def test_values_and_health_arrive_in_order_in_chunks_on_the_station_loop() -> None:
    lost = ConnectionHealth("scripted", ConnectionState.DISCONNECTED, "lost")
    back = ConnectionHealth("scripted", ConnectionState.CONNECTED, "back")
    script = [batch(0, 2500), batch(2500, 10), lost, batch(2510, 5), back, batch(2515, 1)]
    station = Station()
    io = IoLoop()
    made: list[Scripted] = []

    def create(context: DriverContext) -> Scripted:
        made.append(Scripted(context, script))
        return made[0]

    async def main() -> None:
        driver = ThreadedDriver(create, io, station.context, chunk=1000)
        driver.subscribe([ADDRESS])
        driver.unsubscribe([ADDRESS])
        await driver.start()
        await until(lambda: len(station.events) == 2518, what="every report")
        assert driver.health is back  # the station's view follows the hand-over
        await driver.stop()

    try:
        run(main())
    finally:
        io.close()
    expected: list[Any] = list(range(2510))
    expected += [ConnectionState.DISCONNECTED, *range(2510, 2515), ConnectionState.CONNECTED, 2515]
    assert station.events == expected
    assert max(station.chunks) <= 1000  # a burst is handed over a chunk at a time
    assert station.threads == {threading.get_ident()}
    inner = made[0]
    assert threading.get_ident() not in inner.threads and len(inner.threads) == 1
    assert [name for name, _ in inner.calls] == ["subscribe", "unsubscribe", "start", "stop"]
    assert not io_threads()


def test_a_stopped_driver_holds_its_subscription_changes_for_the_next_start() -> None:
    """The window lets go of its tags after the station stopped: the unsubscribe waits for a
    start instead of starting an I/O thread and loop that nothing would stop (tests had
    twenty of them alive at once). A start sends what waited first, on the I/O thread."""
    station = Station()
    io = IoLoop()
    made: list[Scripted] = []

    def create(context: DriverContext) -> Scripted:
        made.append(Scripted(context, []))
        return made[0]

    async def main() -> None:
        driver = ThreadedDriver(create, io, station.context)
        driver.subscribe([ADDRESS])
        await driver.start()
        await driver.stop()
        await io.aclose()
        driver.unsubscribe([ADDRESS])  # after the stop: no thread for it
        driver.subscribe([ADDRESS])
        assert not io.running and not io_threads()
        await driver.start()
        await driver.stop()

    try:
        run(main())
    finally:
        io.close()
    inner = made[0]
    assert [name for name, _ in inner.calls] == [
        "subscribe", "start", "stop", "unsubscribe", "subscribe", "start", "stop"
    ]  # fmt: skip
    assert threading.get_ident() not in inner.threads
    assert not io_threads()


def test_a_burst_does_not_hold_the_station_loop() -> None:
    """Something that becomes due on the station's loop while a burst is being handed over
    runs before the rest of the burst: one chunk per loop callback."""
    seen_at: list[int] = []

    class Watching(Station):
        def publish(self, values: ValueBatch) -> None:
            super().publish(values)
            if len(self.chunks) == 1:
                asyncio.get_running_loop().call_soon(lambda: seen_at.append(len(self.events)))

    station = Watching()
    io = IoLoop()

    async def main() -> None:
        driver = ThreadedDriver(
            lambda context: Scripted(context, [batch(0, 10_000)]), io, station.context, chunk=500
        )
        await driver.start()
        await until(lambda: len(station.events) == 10_000, what="the whole burst")
        await driver.stop()

    try:
        run(main())
    finally:
        io.close()
    assert seen_at == [500]
    assert station.chunks == [500] * 20


def test_writes_return_results_and_errors_and_a_cancelled_write_is_cancelled() -> None:
    station = Station()
    io = IoLoop()

    async def main() -> None:
        driver = ThreadedDriver(lambda c: Scripted(c, []), io, station.context)
        await driver.start()
        readback = await driver.write(ADDRESS, 7)
        assert readback is not None and readback.value == 7
        with pytest.raises(WriteFailed, match="BadUserAccessDenied"):
            await driver.write(ADDRESS, "refuse")
        slow = asyncio.ensure_future(driver.write(ADDRESS, "slow"))
        await asyncio.sleep(0.05)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow

        def pending_on_io() -> int:
            return len([t for t in asyncio.all_tasks(io.loop) if not t.done()])

        await until(lambda: pending_on_io() == 0, what="the write's task to end on the I/O loop")
        await driver.stop()

    try:
        run(main())
    finally:
        io.close()


def test_opcua_on_the_io_thread_loses_and_regains_the_server_and_writes() -> None:
    server = PlantServer(free_port(), None)
    tags = {
        "level": TagConfig(address=f"opcua://plant/{server.node_id('Level')}"),
        "count": TagConfig(address=f"opcua://plant/{server.node_id('Count')}"),
    }

    async def main() -> None:
        conn = opcua_connection(server.endpoint)
        broker = TagBroker(tags, default_registry(), {"plant": conn})
        broker.subscribe("level")
        broker.subscribe("count")
        await broker.start()
        try:
            driver = broker.pool.drivers["opcua://plant"]
            assert isinstance(driver, ThreadedDriver)
            await until(lambda: broker.latest("level").value == 1.5, timeout=10, what="value")
            assert len(io_threads()) == 1

            readback = await driver.write(broker.tag("count").address, 12)
            assert readback is not None and readback.value == 12
            await until(lambda: broker.latest("count").value == 12, what="the new value")

            await asyncio.to_thread(server.stop)
            await until(lambda: broker.latest("level").quality == NOT_CONNECTED, what="loss")
            assert broker.latest("level").value == 1.5
            assert driver.health.state is ConnectionState.DISCONNECTED
            with pytest.raises(WriteFailed, match="not connected"):
                await driver.write(broker.tag("count").address, 13)

            server.write("Level", 4.5)
            await asyncio.to_thread(server.start)
            await until(
                lambda: (
                    broker.latest("level").value == 4.5 and broker.latest("level").quality.is_good
                ),
                timeout=10,
                what="a fresh Good value after the restart",
            )
            assert driver.health.state is ConnectionState.CONNECTED
        finally:
            await broker.stop()

    try:
        run(main(), timeout=60)
    finally:
        server.close()
    assert not io_threads()


def test_modbus_on_the_io_thread_reads_writes_and_marks_a_dropped_device() -> None:
    server = TestServer()
    tags = {
        "a": TagConfig(address="modbus://plc/1/holding/0"),
        "b": TagConfig(address="modbus://plc/1/holding/1?type=int16"),
    }

    async def main() -> None:
        await server.start()
        server.set_registers(1, "holding", 0, [321, 0xFFFF])
        broker = TagBroker(tags, default_registry(), {"plc": modbus_connection(server)})
        broker.subscribe("a")
        broker.subscribe("b")
        await broker.start()
        try:
            driver = broker.pool.drivers["modbus://plc"]
            assert isinstance(driver, ThreadedDriver)
            await until(lambda: broker.latest("a").value == 321, what="a")
            assert broker.latest("b").value == -1

            readback = await driver.write(broker.tag("a").address, 777)
            assert readback is not None and readback.value == 777
            assert server.registers(1, "holding", 0, 1) == [777]

            await server.stop()
            await until(lambda: not broker.latest("a").quality.is_good, what="the device lost")
            assert broker.latest("a").value == 777
            assert broker.latest("a").quality != Quality.good()
        finally:
            await broker.stop()

    run(main())
    assert not io_threads()


def test_only_schemes_registered_for_the_io_thread_go_there() -> None:
    defaults = default_registry()
    assert defaults.on_io_thread("opcua") and defaults.on_io_thread("modbus")
    assert not defaults.on_io_thread("local") and not defaults.on_io_thread("sim")
    address = parse_address("modbus://p/1/coil/0")
    registry = DriverRegistry()
    registry.register("modbus", defaults.factory(address))  # io_thread not asked for
    tags = {"c": TagConfig(address=str(address))}
    server = TestServer()
    broker = TagBroker(tags, registry, {"p": modbus_connection(server)})
    assert isinstance(broker.pool.driver_for(address), ModbusDriver)
    threaded = TagBroker(tags, defaults, {"p": modbus_connection(server)})
    assert isinstance(threaded.pool.driver_for(address), ThreadedDriver)
    assert not io_threads()  # made, not started: no thread until a call needs one


def test_a_driver_that_does_not_stop_is_left_to_the_loop_closing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """stop() is bounded: a driver hanging in its stop is cancelled when the I/O loop closes."""
    import hmi.runtime.io_thread as io_thread

    monkeypatch.setattr(io_thread, "STOP_TIMEOUT_S", 0.2)

    class Stuck(Scripted):
        async def stop(self) -> None:
            await asyncio.sleep(3600)

    station = Station()
    io = IoLoop()

    async def main() -> float:
        driver = ThreadedDriver(lambda c: Stuck(c, []), io, station.context)
        await driver.start()
        started = time.monotonic()
        await driver.stop()
        await io.aclose()
        return time.monotonic() - started

    assert run(main()) < 3
    assert not io_threads()
