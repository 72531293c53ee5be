"""The byte link under the Modbus driver: one open connection or serial port, one line.

A transport sends one request PDU to one unit and returns the response PDU. It frames
(MBAP for Modbus TCP, address + CRC for RTU), matches answers to requests, and enforces its
timeout. It does not retry, reconnect or back off: the scheduler decides that, because only it
knows whether a silence means one dead device or a dead line.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from hmi.model.errors import ConfigError
from hmi.model.project import ModbusConnection

from .rtu import open_rtu_over_tcp, open_rtu_serial
from .tcp import open_tcp

DEFAULT_PORT = 502


class Transport(Protocol):
    max_in_flight: int
    lost: asyncio.Future[None]
    """Done when the link is gone; ``request`` then raises ``LineDown`` (``errors.py``)."""

    async def request(self, *, unit: int, pdu: bytes, timeout: float) -> bytes: ...

    def close(self) -> None: ...


def describe(connection: ModbusConnection) -> str:
    """Where the line goes, for health details and log lines."""
    if connection.transport == "rtu":
        return f"RTU {connection.serial_port} {connection.baudrate} {connection.parity}"
    name = "Modbus TCP" if connection.transport == "tcp" else "RTU over TCP"
    return f"{name} {connection.host}:{connection.port or DEFAULT_PORT}"


def check_connection(connection: ModbusConnection) -> None:
    """Refuse settings that cannot work, before trying: ``ConfigError`` saying what to add."""
    if connection.transport == "rtu":
        if not connection.serial_port:
            raise ConfigError("transport rtu needs serial_port, e.g. /dev/ttyUSB0 or COM3")
    elif not connection.host:
        raise ConfigError(f"transport {connection.transport} needs host, e.g. 192.168.0.10")


async def open_transport(connection: ModbusConnection) -> Transport:
    """Open the line the connection describes; ``OSError`` or ``TimeoutError`` if it cannot."""
    check_connection(connection)
    timeout = connection.timeout_s
    if connection.transport == "rtu":
        assert connection.serial_port is not None
        return await open_rtu_serial(
            port=connection.serial_port,
            baudrate=connection.baudrate,
            parity=connection.parity,
            stopbits=connection.stopbits,
        )
    assert connection.host is not None
    port = connection.port or DEFAULT_PORT
    if connection.transport == "rtu-over-tcp":
        return await open_rtu_over_tcp(host=connection.host, port=port, timeout=timeout)
    return await open_tcp(
        host=connection.host, port=port, timeout=timeout, max_in_flight=connection.max_in_flight
    )
