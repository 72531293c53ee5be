"""A misbehaving Modbus TCP gateway on loopback, in front of a real pymodbus server: it
forwards whole MBAP frames both ways and, on purpose, closes each connection after its Nth
answer, drops every Nth connection it accepts, or stalls (holds every answer back)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _frame(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(7)
    (length,) = struct.unpack(">H", header[4:6])
    return header + await reader.readexactly(length - 1)


class FlakyGateway:
    """Listens on ``port`` and forwards to ``127.0.0.1:upstream``. ``close_after``: answers
    per connection before the gateway closes it (0: never). ``drop_every``: every Nth
    connection accepted is closed at once, before any request (0: never). ``stalled``: while
    True, answers are held back (the requests are forwarded), as a hung gateway does.
    ``garbled``: while True, answers carry another unit id than the request's."""

    def __init__(self, upstream: int, *, close_after: int = 0, drop_every: int = 0) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.close_after = close_after
        self.drop_every = drop_every
        self.stalled = False
        self.garbled = False
        self.accepted = 0
        self.dropped = 0
        self.closed = 0
        self.answers = 0
        self.closed_at: list[float] = []  # monotonic time of each connection it cut
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        except OSError:  # taken since it was picked (a busy machine): any free one
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.stalled = False
        for writer in list(self._writers):  # each relay then ends by itself: not cancelled,
            writer.close()  # which asyncio's start_server would log as an error
        for _ in range(200):
            if not self._tasks:
                break
            await asyncio.sleep(0.01)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.accepted += 1
        try:
            if self.drop_every and self.accepted % self.drop_every == 0:
                self.dropped += 1
                self.closed_at.append(time.monotonic())
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
            self._writers.add(up_writer)
            try:
                await self._relay(reader, writer, up_reader, up_writer)
            finally:
                up_writer.close()
                self._writers.discard(up_writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def _relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        async def requests() -> None:
            while True:
                up_writer.write(await _frame(reader))
                await up_writer.drain()

        forward = asyncio.get_running_loop().create_task(requests())
        try:
            answered = 0
            while not forward.done():
                answer = await _frame(up_reader)
                while self.stalled:
                    await asyncio.sleep(0.01)
                if self.garbled:
                    answer = answer[:6] + bytes([(answer[6] + 1) % 256]) + answer[7:]
                writer.write(answer)
                await writer.drain()
                self.answers += 1
                answered += 1
                if self.close_after and answered >= self.close_after:
                    self.closed += 1
                    self.closed_at.append(time.monotonic())
                    return
        finally:
            forward.cancel()
            with contextlib.suppress(BaseException):
                await forward
