"""What one more request costs against what one more register costs, per transport.

The default ``max_gap`` (how many unused registers one read may bridge) is where the two
meet: bridging a gap of ``g`` registers costs ``g`` register times and saves one request, so
it pays while ``g`` register times are less than one request's time. The figures are the
cheapest a device plausibly is, so the gap errs on the side of reading less:

- **TCP**: a request costs at least a LAN round trip and the device's turnaround (1 ms; PLCs
  and gateways take 1-20 ms), a register its 2 bytes at 100 Mbit/s (0.16 us): a request is
  worth thousands of registers, so any gap that fits in one read is bridged.
- **RTU** at ``baudrate``: a character is 1 start, 8 data, parity and stop bits (11 at 19200
  E 1). A read costs its 8-character request, the 5 fixed characters of its answer (address,
  function, byte count, CRC), the 3.5-character silence after each frame (1.75 ms above
  19200 baud) and a fast device's turnaround (2 ms); a register costs 2 characters. That is
  10 registers at 9600 baud (and below), 11 at 19200 E 1, 38 at 115200 N 1.
- **RTU over TCP**: the serial side as RTU at ``baudrate`` (set it to the device server's
  serial rate), plus the TCP round trip to the device server.
"""

from __future__ import annotations

from dataclasses import dataclass

from hmi.model.project import ModbusConnection

from .pdu import MAX_READ_REGISTERS

__all__ = ["RequestCost", "default_gap", "request_cost"]

TCP_REQUEST_S = 1e-3
"""A LAN round trip plus a fast device's turnaround."""
TCP_REGISTER_S = 16 / 100e6
"""Two bytes at 100 Mbit/s."""
RTU_TURNAROUND_S = 2e-3
"""A fast serial device's time from the end of a request to the start of its answer."""
RTU_FRAME_CHARS = 8 + 5
"""A read request, and the part of its answer that does not depend on the count."""


@dataclass(frozen=True, slots=True)
class RequestCost:
    """Seconds of line time: one request's fixed part, and one register more in a read."""

    request_s: float
    register_s: float

    @property
    def gap(self) -> int:
        """Most unused registers worth reading to save one request (within one read)."""
        return min(MAX_READ_REGISTERS, int(self.request_s / self.register_s))


def _serial(baudrate: int, parity: str, stopbits: int) -> RequestCost:
    char = (1 + 8 + (parity != "N") + stopbits) / baudrate
    silence = 3.5 * char if baudrate <= 19200 else 1.75e-3
    return RequestCost(RTU_FRAME_CHARS * char + 2 * silence + RTU_TURNAROUND_S, 2 * char)


def request_cost(connection: ModbusConnection) -> RequestCost:
    """The cost model of ``connection``'s transport (see the module's docstring)."""
    if connection.transport == "tcp":
        return RequestCost(TCP_REQUEST_S, TCP_REGISTER_S)
    serial = _serial(connection.baudrate, connection.parity, connection.stopbits)
    if connection.transport == "rtu":
        return serial
    return RequestCost(serial.request_s + TCP_REQUEST_S, serial.register_s)


def default_gap(connection: ModbusConnection) -> int:
    """``max_gap`` as configured, else from the cost of ``connection``'s transport."""
    if connection.max_gap is not None:
        return connection.max_gap
    return request_cost(connection).gap
