"""Drivers: one per URI scheme, asyncio, no Qt. They push ``TagValue`` batches into a sink."""

from hmi.drivers.base import (
    ConnectionHealth,
    ConnectionState,
    Driver,
    DriverContext,
    DriverFactory,
    DriverRegistry,
)

__all__ = [
    "ConnectionHealth",
    "ConnectionState",
    "Driver",
    "DriverContext",
    "DriverFactory",
    "DriverRegistry",
]
