"""Transports against scripted byte-level servers on loopback, for what a well-behaved server
never does: answers out of order, late answers, foreign frames, CRC errors, broken headers."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from hmi.drivers.modbus.errors import LineDown, NoResponse
from hmi.drivers.modbus.pdu import ProtocolError, crc16, read_data, read_request
from hmi.drivers.modbus.rtu import open_rtu_over_tcp
from hmi.drivers.modbus.tcp import open_tcp

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted(handler: Handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def read_mbap(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    tid, _, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
    return tid, unit, await reader.readexactly(length - 1)


def mbap(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def answer(address: int) -> bytes:
    """FC3 answer to a one-register read: the register holds its own address."""
    return bytes([3, 2]) + struct.pack(">H", address)


def rtu(unit: int, pdu: bytes) -> bytes:
    crc = crc16(bytes([unit]) + pdu)
    return bytes([unit]) + pdu + bytes((crc & 0xFF, crc >> 8))


def read(address: int) -> bytes:
    return read_request(3, address, 1)


def value(pdu: bytes) -> int:
    return int.from_bytes(read_data(3, 1, pdu), "big")


def test_tcp_answers_out_of_order_are_matched_by_transaction_id() -> None:
    async def reverse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got = [await read_mbap(reader) for _ in range(4)]
        for tid, unit, pdu in reversed(got):
            writer.write(mbap(tid, unit, answer(struct.unpack(">H", pdu[1:3])[0])))

    async def main() -> None:
        async with scripted(reverse) as port:
            link = await open_tcp(host="127.0.0.1", port=port, timeout=1, max_in_flight=4)
            answers = await asyncio.gather(
                *(link.request(unit=1, pdu=read(a), timeout=1) for a in (10, 20, 30, 40))
            )
            assert [value(a) for a in answers] == [10, 20, 30, 40]
            link.close()

    asyncio.run(main())


def test_tcp_a_late_answer_is_not_taken_for_the_next_one() -> None:
    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await read_mbap(reader)
        second = await read_mbap(reader)  # sent after the first timed out
        writer.write(mbap(first[0], 1, answer(111)))
        writer.write(mbap(second[0], 1, answer(222)))

    async def main() -> None:
        async with scripted(late) as port:
            link = await open_tcp(host="127.0.0.1", port=port, timeout=1)
            with pytest.raises(NoResponse):
                await link.request(unit=1, pdu=read(1), timeout=0.05)
            assert value(await link.request(unit=1, pdu=read(2), timeout=1)) == 222
            link.close()

    asyncio.run(main())


def test_tcp_an_answer_from_another_unit_is_a_protocol_error() -> None:
    async def wrong_unit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tid, _, _ = await read_mbap(reader)
        writer.write(mbap(tid, 9, answer(1)))

    async def main() -> None:
        async with scripted(wrong_unit) as port:
            link = await open_tcp(host="127.0.0.1", port=port, timeout=1)
            with pytest.raises(ProtocolError, match="unit 9"):
                await link.request(unit=1, pdu=read(1), timeout=1)
            link.close()

    asyncio.run(main())


def test_tcp_a_broken_header_or_a_closed_socket_is_line_down() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_mbap(reader)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_mbap(reader)
        writer.close()

    async def main() -> None:
        for handler in (garbage, hang_up):
            async with scripted(handler) as port:
                link = await open_tcp(host="127.0.0.1", port=port, timeout=1)
                with pytest.raises(LineDown):
                    await link.request(unit=1, pdu=read(1), timeout=1)
                assert link.lost.done()
                with pytest.raises(LineDown):
                    await link.request(unit=1, pdu=read(1), timeout=1)

    asyncio.run(main())


def test_rtu_skips_foreign_frames_and_rejects_bad_crc() -> None:
    async def noisy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(8)
        writer.write(rtu(9, answer(999)))  # another unit's answer on the bus
        writer.write(rtu(1, bytes([4, 2, 0, 1])))  # our unit, another function
        writer.write(rtu(1, answer(5)))
        await reader.readexactly(8)
        corrupted = bytearray(rtu(1, answer(6)))
        corrupted[4] ^= 0xFF
        writer.write(bytes(corrupted))

    async def main() -> None:
        async with scripted(noisy) as port:
            link = await open_rtu_over_tcp(host="127.0.0.1", port=port, timeout=1)
            assert value(await link.request(unit=1, pdu=read(5), timeout=1)) == 5
            with pytest.raises(ProtocolError, match="CRC"):
                await link.request(unit=1, pdu=read(6), timeout=1)
            link.close()

    asyncio.run(main())


def test_rtu_leftovers_never_shift_later_answers() -> None:
    """RTU has no transaction id: a late answer of the same unit, function and size as the
    next request's cannot be told from it (docs/modbus.md says so). What the transport does
    guarantee is that the leftovers are dropped, so later answers never shift by one."""

    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(8)
        await reader.readexactly(8)  # the client gave up on the first and asked again
        writer.write(rtu(1, answer(111))[:4])  # a late answer cut in two ...
        await writer.drain()
        await asyncio.sleep(0.05)  # a gap in the server's output, not a test wait
        writer.write(rtu(1, answer(111))[4:] + rtu(1, answer(222)))
        await reader.readexactly(8)
        writer.write(rtu(1, answer(333)))

    async def main() -> None:
        async with scripted(late) as port:
            link = await open_rtu_over_tcp(host="127.0.0.1", port=port, timeout=1)
            with pytest.raises(NoResponse):
                await link.request(unit=1, pdu=read(1), timeout=0.05)
            assert value(await link.request(unit=1, pdu=read(2), timeout=1)) == 111
            assert value(await link.request(unit=1, pdu=read(3), timeout=1)) == 333
            link.close()

    asyncio.run(main())
