"""The driver registry a station starts with: every scheme this build can serve.

The OPC UA and Modbus factories import their driver (asyncua, cryptography, the Modbus codec)
when the first connection of that scheme starts, not when the station starts: a station that
never speaks a protocol never pays its memory."""

from __future__ import annotations

from typing import Any

from hmi.drivers.base import Driver, DriverContext, DriverRegistry
from hmi.drivers.local import LocalDriver
from hmi.drivers.sim import SimDriver

__all__ = ["default_registry"]


def _opcua_driver(key: str, connection: Any, context: DriverContext) -> Driver:
    from hmi.drivers.opcua.driver import opcua_driver

    return opcua_driver(key, connection, context)


def _modbus_driver(key: str, connection: Any, context: DriverContext) -> Driver:
    from hmi.drivers.modbus.driver import modbus_driver

    return modbus_driver(key, connection, context)


def default_registry() -> DriverRegistry:
    """A new registry with every built-in driver; callers may register more (tests, plug-ins)."""
    registry = DriverRegistry()
    registry.register("sim", SimDriver)
    registry.register("local", LocalDriver)
    registry.register("opcua", _opcua_driver, io_thread=True)
    registry.register("modbus", _modbus_driver, io_thread=True)
    return registry
