"""The driver registry a station starts with: every scheme this build can serve."""

from __future__ import annotations

from hmi.drivers.base import DriverRegistry
from hmi.drivers.local import LocalDriver
from hmi.drivers.modbus import modbus_driver
from hmi.drivers.opcua import opcua_driver
from hmi.drivers.sim import SimDriver

__all__ = ["default_registry"]


def default_registry() -> DriverRegistry:
    """A new registry with every built-in driver; callers may register more (tests, plug-ins)."""
    registry = DriverRegistry()
    registry.register("sim", SimDriver)
    registry.register("local", LocalDriver)
    registry.register("opcua", opcua_driver, io_thread=True)
    registry.register("modbus", modbus_driver, io_thread=True)
    return registry
