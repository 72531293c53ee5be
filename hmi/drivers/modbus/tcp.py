"""Modbus TCP (MBAP framing, Modbus Messaging on TCP/IP Implementation Guide v1.0b).

Each request carries a transaction id; answers are matched by it, so several requests may be
outstanding (``max_in_flight``) and an answer that comes after its timeout is dropped instead
of being taken for the answer to the next request. A header that cannot be MBAP (protocol id
not 0, impossible length) means the byte stream is out of step: the connection is closed and
the scheduler reconnects, the only way to find the frame boundaries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct

from .errors import LineDown, NoResponse
from .pdu import ProtocolError

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">HHHB")  # transaction id, protocol id (0), length, unit id


class TcpTransport(asyncio.Protocol):
    """One TCP connection to a Modbus TCP server or gateway; every unit behind it shares it."""

    def __init__(self, *, max_in_flight: int = 1) -> None:
        self.max_in_flight = max_in_flight
        self._loop = asyncio.get_running_loop()
        self.lost: asyncio.Future[None] = self._loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._pending: dict[int, tuple[int, asyncio.Future[bytes]]] = {}
        self._next_tid = 0

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            _keepalive(sock)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 7:
            tid, protocol, length, unit = _HEADER.unpack_from(buffer)
            if protocol != 0 or not 2 <= length <= 254:
                self._abort(f"bad MBAP header {bytes(buffer[:7]).hex()}: stream out of step")
                return
            end = 6 + length
            if len(buffer) < end:
                return
            pdu = bytes(buffer[7:end])
            del buffer[:end]
            entry = self._pending.pop(tid, None)
            if entry is None:
                log.debug("dropped a late or unknown answer, transaction %d", tid)
                continue
            asked, waiter = entry
            if waiter.done():
                continue
            if unit != asked:  # the spec has the server echo the unit id
                waiter.set_exception(ProtocolError(f"answer from unit {unit}, asked {asked}"))
            else:
                waiter.set_result(pdu)

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"connection lost ({exc})" if exc else "connection closed by the server"
        self._fail_all(reason)

    # -- requests ------------------------------------------------------------------------------

    async def request(self, *, unit: int, pdu: bytes, timeout: float) -> bytes:
        """Send ``pdu`` to ``unit``; the answer's PDU, ``NoResponse`` after ``timeout`` s,
        ``LineDown`` if the connection goes."""
        if self.lost.done() or self._transport is None:
            raise LineDown("not connected")
        tid = self._take_tid()
        waiter: asyncio.Future[bytes] = self._loop.create_future()
        self._pending[tid] = (unit, waiter)
        self._transport.write(_HEADER.pack(tid, 0, len(pdu) + 1, unit) + pdu)
        timer = self._loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._pending.pop(tid, None)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._fail_all("closed")

    def _take_tid(self) -> int:
        tid = self._next_tid
        while True:
            tid = tid % 0xFFFF + 1  # 1..65535; 0 is left out, some servers treat it specially
            if tid not in self._pending:
                self._next_tid = tid
                return tid

    def _abort(self, why: str) -> None:
        log.warning("closing Modbus TCP connection: %s", why)
        if self._transport is not None:
            self._transport.abort()
        self._fail_all(why)

    def _fail_all(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for _, waiter in pending.values():
            if not waiter.done():
                waiter.set_exception(LineDown(why))
        if not self.lost.done():
            self.lost.set_result(None)


def _expire(waiter: asyncio.Future[bytes]) -> None:
    if not waiter.done():
        waiter.set_exception(NoResponse("no answer within the timeout"))


def _keepalive(sock: socket.socket) -> None:
    """Notice a half-open connection (cable pulled, gateway rebooted) within about 20 s,
    without reading device silence as a dead line."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 3), ("TCP_KEEPCNT", 3)):
        option = getattr(socket, name, None)
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


async def open_tcp(*, host: str, port: int, timeout: float, max_in_flight: int = 1) -> TcpTransport:
    """Connect to a Modbus TCP server; ``OSError``/``TimeoutError`` if it does not accept."""
    loop = asyncio.get_running_loop()
    _, protocol = await asyncio.wait_for(
        loop.create_connection(lambda: TcpTransport(max_in_flight=max_in_flight), host, port),
        timeout,
    )
    return protocol
