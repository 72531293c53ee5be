"""Real pymodbus servers on loopback (TCP, RTU over TCP, RTU over a socat pty pair) and a sink
that records what the driver publishes. No mocks of our code."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext, ValueBatch
from hmi.drivers.modbus import ModbusDriver, modbus_driver
from hmi.model import TagAddress, TagValue, parse_address
from hmi.model.project import ModbusConnection

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

# Every unit of a test server: holding 0..99 and 110..199 (100..109 do not exist, so a read
# across them is answered IllegalDataAddress), input 0..99, 64 coils, 64 discrete inputs.
HOLDING = ((0, 100), (110, 90))
INPUT = ((0, 100),)
BITS = 64
_BLOCK = {"coil": "c", "discrete": "d", "holding": "h", "input": "i"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestServer:
    """A pymodbus server with one device per unit id. ``requests`` records every request
    received as (unit, function, address, count); ``silence(unit)`` makes a unit stop
    answering (its requests hang in the server) until ``silence(unit, False)``."""

    __test__ = False

    def __init__(
        self,
        units: tuple[int, ...] = (1,),
        *,
        kind: str = "tcp",
        serial_port: str = "",
        holding: tuple[tuple[int, int], ...] = HOLDING,
    ) -> None:
        self.units = units
        self.holding = holding
        self.kind = kind
        self.port = free_port() if kind != "serial" else 0
        self.serial_port = serial_port
        self.requests: list[tuple[int, int, int, int]] = []
        self._silent: set[int] = set()
        self._delay: dict[int, float] = {}
        self._clamp: dict[int, int] = {}
        self._pulse: set[tuple[int, int]] = set()
        self._hung: set[asyncio.Task[Any]] = set()
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._devices: dict[int, Any] = {}

    def _device(self, unit: int) -> SimDevice:
        def registers(ranges: tuple[tuple[int, int], ...]) -> list[SimData]:
            return [SimData(s, count=n, values=0, datatype=DataType.REGISTERS) for s, n in ranges]

        bits = [SimData(0, values=[False] * BITS, datatype=DataType.BITS)]
        return SimDevice(
            id=unit,
            simdata=(bits, list(bits), registers(self.holding), registers(INPUT)),
            action=functools.partial(self._action, unit),
        )

    async def _action(
        self, unit: int, function: int, _start: int, _address: int, _count: int,
        _registers: list[int], values: list[int] | list[bool] | None,
    ) -> None:  # fmt: skip
        if unit in self._silent:
            task = asyncio.current_task()
            if task is not None:
                self._hung.add(task)
            await asyncio.Event().wait()  # never answers; cancelled at stop()
        if unit in self._delay:
            await asyncio.sleep(self._delay[unit])  # a slow device, not a test waiting
        if values and unit in self._clamp and function in (6, 16):
            for i, value in enumerate(values):
                values[i] = min(int(value), self._clamp[unit])
        if values and function == 5 and (unit, _address) in self._pulse:
            values[0] = False  # acted on at once and reset, like a fault-reset command

    def _trace(self, sending: bool, pdu: Any) -> Any:
        if not sending:
            self.requests.append((pdu.dev_id, pdu.function_code, pdu.address, pdu.count))
        return pdu

    async def start(self) -> None:
        devices = [self._device(unit) for unit in self.units]
        if self.kind == "serial":
            self._server = ModbusSerialServer(
                devices, framer=FramerType.RTU, port=self.serial_port, baudrate=115200,
                parity="N", trace_pdu=self._trace,
            )  # fmt: skip
        else:
            framer = FramerType.RTU if self.kind == "rtu-over-tcp" else FramerType.SOCKET
            self._server = ModbusTcpServer(
                devices, framer=framer, address=("127.0.0.1", self.port), trace_pdu=self._trace
            )
        if self._devices:  # restarted: keep the data the test put there
            for unit, runtime in self._devices.items():
                self._server.context.devices[unit].block = runtime.block  # type: ignore[union-attr]
        await self._server.serve_forever(background=True)
        self._devices = dict(self._server.context.devices)  # type: ignore[union-attr]

    async def stop(self) -> None:
        for task in self._hung:
            task.cancel()
        self._hung.clear()
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    def silence(self, unit: int, silent: bool = True) -> None:
        if silent:
            self._silent.add(unit)
        else:
            self._silent.discard(unit)

    def slow(self, unit: int, seconds: float) -> None:
        """Answer ``unit``'s requests only after ``seconds``."""
        if seconds:
            self._delay[unit] = seconds
        else:
            self._delay.pop(unit, None)

    def clamp(self, unit: int, limit: int) -> None:
        """Store register writes to ``unit`` clamped at ``limit``, as some devices do."""
        self._clamp[unit] = limit

    def pulse(self, unit: int, coil: int) -> None:
        """Make ``coil`` a momentary command: written True, it reads back False."""
        self._pulse.add((unit, coil))

    def _block(self, unit: int, table: str) -> tuple[int, int, list[int], list[int]]:
        return self._devices[unit].block[_BLOCK[table]]

    def set_registers(self, unit: int, table: str, offset: int, values: list[int]) -> None:
        start, _, registers, _ = self._block(unit, table)
        registers[offset - start : offset - start + len(values)] = values

    def registers(self, unit: int, table: str, offset: int, count: int) -> list[int]:
        start, _, registers, _ = self._block(unit, table)
        return list(registers[offset - start : offset - start + count])

    def set_bits(self, unit: int, table: str, offset: int, values: list[bool]) -> None:
        start, _, registers, _ = self._block(unit, table)
        bits = SimUtils.registersToBits(registers[:-1])
        bits[offset - 16 * start : offset - 16 * start + len(values)] = values
        registers[:-1] = SimUtils.bitsToRegisters(bits)

    def bits(self, unit: int, table: str, offset: int, count: int) -> list[bool]:
        start, _, registers, _ = self._block(unit, table)
        first = offset - 16 * start
        return SimUtils.registersToBits(registers[:-1])[first : first + count]


class Sink:
    """Where the driver publishes: every batch and every health report, in order."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[TagAddress, TagValue]]] = []
        self.health: list[ConnectionHealth] = []
        self.latest: dict[TagAddress, TagValue] = {}
        self.context = DriverContext(self._publish, self.health.append)

    def _publish(self, batch: ValueBatch) -> None:
        self.batches.append(list(batch))
        self.latest.update(batch)

    def value(self, address: TagAddress) -> TagValue | None:
        return self.latest.get(address)

    def good(self, *addresses: TagAddress) -> bool:
        return all((v := self.latest.get(a)) is not None and v.quality.is_good for a in addresses)

    def values(self, address: TagAddress) -> list[TagValue]:
        return [v for batch in self.batches for a, v in batch if a == address]

    @property
    def state(self) -> ConnectionState | None:
        return self.health[-1].state if self.health else None


async def until(
    condition: Callable[[], object], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``condition`` on the running loop until it is true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.005)


def addresses(*raw: str) -> list[TagAddress]:
    return [parse_address(r) for r in raw]


def connection(server: TestServer, **settings: Any) -> ModbusConnection:
    """Settings for a driver talking to ``server``, fast timings unless overridden."""
    settings = {"timeout_s": 0.3, "backoff_max_s": 0.4, "poll_ms": 50, **settings}
    if server.kind == "serial":
        return ModbusConnection(
            driver="modbus", transport="rtu", serial_port=server.serial_port,
            baudrate=115200, parity="N", **settings,
        )  # fmt: skip
    return ModbusConnection(
        driver="modbus", transport=server.kind, host="127.0.0.1", port=server.port, **settings
    )


@contextlib.asynccontextmanager
async def running(
    server: TestServer, sink: Sink, conn: ModbusConnection | None = None, **settings: Any
) -> AsyncIterator[ModbusDriver]:
    """A started server and a started driver on it (connection name ``plc``); both stopped
    on the way out."""
    await server.start()
    driver = modbus_driver("modbus://plc", conn or connection(server, **settings), sink.context)
    try:
        await driver.start()
        yield driver
    finally:
        await driver.stop()
        await server.stop()


@pytest.fixture
def pty_pair() -> Iterator[tuple[str, str]]:
    """Two connected pseudo-terminals from socat: a serial line without hardware."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.skip("socat is not installed (apt-get install socat): no pty pair for RTU tests")
    process = subprocess.Popen(
        [socat, "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    ptys: list[str] = []
    deadline = time.monotonic() + 5
    while len(ptys) < 2 and time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"PTY is (\S+)", line)
        if match:
            ptys.append(match.group(1))
    if len(ptys) < 2:
        process.kill()
        pytest.fail("socat did not report two ptys")
    try:
        yield ptys[0], ptys[1]
    finally:
        process.terminate()
        process.wait(timeout=5)


class Kit:
    """The helpers above for test modules (with ``--import-mode=importlib`` a test cannot
    import its conftest)."""

    TestServer = TestServer
    Sink = Sink
    until = staticmethod(until)
    addresses = staticmethod(addresses)
    connection = staticmethod(connection)
    running = staticmethod(running)
    HOLDING = HOLDING
    BITS = BITS


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
