"""Modbus RTU framing (Modbus over Serial Line v1.02), over a serial port or a TCP socket.

A frame is unit address + PDU + CRC16 (low byte first). RTU is strictly one request at a time
on the line, so ``max_in_flight`` is 1 and a lock makes sure of it. The end of an answer is
found from its function code and byte count rather than from timing gaps, which a TCP link or
a USB adapter would blur. Before each request the line must have been quiet for 3.5
character times; bytes left from a late or foreign answer are thrown away, and an answer from
another unit or to another function is skipped, never taken for ours.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from .errors import LineDown, NoResponse
from .pdu import ProtocolError, crc16, rtu_response_length

log = logging.getLogger(__name__)


class RtuTransport(asyncio.Protocol):
    """RTU frames over any asyncio byte transport. ``char_time`` is the time of one character
    on a serial line (11 bits); 0 on TCP, where there is no line timing to respect."""

    max_in_flight = 1

    def __init__(self, *, char_time: float = 0.0) -> None:
        self._loop = asyncio.get_running_loop()
        self.lost: asyncio.Future[None] = self._loop.create_future()
        self._transport: asyncio.BaseTransport | None = None
        self.ready: asyncio.Future[None] = self._loop.create_future()
        self._lock = asyncio.Lock()
        self._buffer = bytearray()
        self._waiter: asyncio.Future[bytes] | None = None
        self._expect = (0, 0)  # unit, function of the request waiting for its answer
        self._char_time = char_time
        # Spec 2.5.1.1: 3.5 characters between frames, fixed at 1.75 ms above 19200 baud.
        self._gap = 0.0 if char_time == 0 else max(3.5 * char_time, 0.00175)
        self._quiet_from = 0.0

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        if not self.ready.done():
            self.ready.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._quiet_from = self._loop.time() + self._gap
        if self._waiter is None or self._waiter.done():
            return  # nobody asked: the tail of a late answer, or noise
        self._buffer += data
        self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(LineDown(f"link lost ({exc})" if exc else "link closed"))

    # -- requests ------------------------------------------------------------------------------

    async def request(self, *, unit: int, pdu: bytes, timeout: float) -> bytes:
        """Send ``pdu`` to ``unit`` and wait for its answer; ``NoResponse`` after ``timeout``
        seconds (counted from the end of sending), ``LineDown`` if the link goes."""
        async with self._lock:
            if self.lost.done() or self._transport is None:
                raise LineDown("not connected")
            wait = self._quiet_from - self._loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            frame = bytes([unit]) + pdu
            crc = crc16(frame)
            frame += bytes((crc & 0xFF, crc >> 8))
            self._buffer.clear()
            self._expect = (unit, pdu[0])
            waiter: asyncio.Future[bytes] = self._loop.create_future()
            self._waiter = waiter
            sending = len(frame) * self._char_time
            self._transport.write(frame)  # type: ignore[attr-defined]
            self._quiet_from = self._loop.time() + sending + self._gap
            timer = self._loop.call_later(sending + timeout, _expire, waiter)
            try:
                return await waiter
            finally:
                timer.cancel()
                self._waiter = None
                self._buffer.clear()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._fail(LineDown("closed"))

    def _parse(self) -> None:
        buffer = self._buffer
        waiter = self._waiter
        assert waiter is not None
        while buffer:
            try:
                length = rtu_response_length(buffer)
            except ProtocolError as exc:
                buffer.clear()
                waiter.set_exception(exc)
                return
            if length is None or len(buffer) < length:
                return
            frame = bytes(buffer[:length])
            del buffer[:length]
            if crc16(frame[:-2]) != frame[-2] | frame[-1] << 8:
                buffer.clear()
                waiter.set_exception(ProtocolError(f"CRC error in answer {frame.hex()}"))
                return
            unit, function = self._expect
            if frame[0] != unit or frame[1] & 0x7F != function:
                log.debug("skipped an RTU frame not ours: %s", frame.hex())
                continue
            waiter.set_result(frame[1:-2])
            return

    def _fail(self, exc: LineDown) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        if not self.lost.done():
            self.lost.set_result(None)


def _expire(waiter: asyncio.Future[bytes]) -> None:
    if not waiter.done():
        waiter.set_exception(NoResponse("no answer within the timeout"))


async def open_rtu_over_tcp(*, host: str, port: int, timeout: float) -> RtuTransport:
    """RTU frames through a TCP socket (serial device servers in transparent mode)."""
    loop = asyncio.get_running_loop()
    _, protocol = await asyncio.wait_for(
        loop.create_connection(lambda: RtuTransport(), host, port), timeout
    )
    return protocol


async def open_rtu_serial(
    *, port: str, baudrate: int, parity: Literal["N", "E", "O"] = "E", stopbits: int = 1
) -> RtuTransport:
    """Open a serial port for RTU (8 data bits, as RTU requires) through pymodbus's asyncio
    serial transport (pyserial underneath); ``OSError`` if the port cannot be opened."""
    import serial
    from pymodbus.transport.serialtransport import create_serial_connection

    loop = asyncio.get_running_loop()
    bits = 1 + 8 + (parity != "N") + stopbits
    char_time = max(bits, 11) / baudrate
    try:
        _, protocol = await create_serial_connection(
            loop,
            lambda: RtuTransport(char_time=char_time),
            port,
            baudrate=baudrate,
            bytesize=8,
            parity=parity,
            stopbits=stopbits,
            timeout=0,
        )
    except serial.SerialException as exc:
        raise OSError(str(exc)) from exc
    assert isinstance(protocol, RtuTransport)
    await protocol.ready  # the serial transport calls connection_made on the next loop turn
    return protocol
