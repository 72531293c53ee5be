"""Writing one point over a Modbus line, the driver's second job beside polling.

What goes out and what must come back: the payload (encoded and range-checked, so a bad value
is refused with ``WriteDenied`` before anything is sent), the request (a single or multiple
write, a read-modify-write for one bit of a register), the check of the device's echo, the
read-back, and its comparison with what was written. The driver publishes the read-back and
maps errors; this module keeps no state.
"""

from __future__ import annotations

import logging
from typing import Any

from hmi.model.errors import WriteDenied, WriteFailed

from . import pdu as fc
from .codec import Point
from .scheduler import Exchange

__all__ = ["check_read_back", "payload_for", "read_point", "write_point"]

log = logging.getLogger(__name__)


def payload_for(point: Point, value: Any) -> bytes | bool:
    """The bits or register bytes of ``value`` for ``point``; ``WriteDenied`` if it cannot be
    written (a read-only table, a value out of the type's range)."""
    if not point.writable:
        raise WriteDenied(
            f"{point.address}: {point.table} is read-only in Modbus; nothing was sent"
        )
    if point.bit is not None or point.is_bit:
        return point.encode_bool(value)
    return point.encode(value)


async def read_point(exchange: Exchange, point: Point) -> bytes:
    """The data of ``point`` alone, read on the write's own turn of the line."""
    function = fc.READ_FUNCTION[point.table]
    pdu = await exchange(point.unit, fc.read_request(function, point.offset, point.width))
    return fc.read_data(function, point.width, pdu)


async def write_point(
    exchange: Exchange, point: Point, payload: bytes | bool, value: Any, *, force_multiple: bool
) -> tuple[bytes, bytes | bool]:
    """Write ``payload`` and read the point back: (the data read back, what it must equal)."""
    unit, offset = point.unit, point.offset
    if point.is_bit:
        assert isinstance(payload, bool)
        request = (
            fc.write_multiple_coils(offset, [payload])
            if force_multiple
            else fc.write_single_coil(offset, payload)
        )
    else:
        if point.bit is not None:  # read-modify-write, inside this one write job
            register = await read_point(exchange, point)
            payload = point.with_bit(register, bool(payload))
        assert isinstance(payload, bytes)
        request = (
            fc.write_single_register(offset, payload)
            if len(payload) == 2 and not force_multiple
            else fc.write_multiple_registers(offset, payload)
        )
    echoed = fc.check_write_response(request, await exchange(unit, request))
    if not echoed and point.check_readback:
        log.warning("%s: the write answer echoes another value; reading back", point.address)
    data = await read_point(exchange, point)
    wrote_bit = point.is_bit or point.bit is not None
    return data, (payload if not wrote_bit else point.encode_bool(value))


def check_read_back(
    point: Point, value: Any, read_back: Any, data: bytes, written: bytes | bool
) -> None:
    """``WriteFailed`` unless the read-back equals what was written: the decoded value for a
    bit, the raw registers for a register write."""
    wrote_bit = point.is_bit or point.bit is not None
    if (read_back != written) if wrote_bit else (data != written):
        raise WriteFailed(f"{point.address}: wrote {value!r} but read back {read_back!r}")
