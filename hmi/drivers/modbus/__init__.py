"""Modbus TCP, RTU and RTU-over-TCP: one driver per connection, one transaction queue per line.

``modbus://<connection>/<unit>/<table>/<offset>?type=...&order=...`` with 0-based offsets;
see docs/modbus.md. The registry wires ``modbus_driver`` as the ``modbus`` scheme's factory.
"""

from .codec import Point
from .driver import ModbusDriver, modbus_driver
from .plan import Block, Knowledge, Limits, PollPlan

__all__ = ["Block", "Knowledge", "Limits", "ModbusDriver", "Point", "PollPlan", "modbus_driver"]
