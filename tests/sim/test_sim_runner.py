"""``serve()`` and ``hmi sim``: start, answer on both ports, stop cleanly and free them."""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

import pytest

from hmi.sim.runner import PlantStack, SimStartError, add_arguments, run, serve
from tests.conftest import Until
from tests.sim.conftest import free_port

pytestmark = pytest.mark.timeout(60)


async def accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def can_bind(port: int) -> bool:
    """Nothing listens on ``port`` any more (a closed connection's TIME_WAIT, left by the
    probe, does not count: SO_REUSEADDR, as every server here binds)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_serve_starts_and_stops_on_its_stop_event(until: Until) -> None:
    opcua_port, modbus_port = free_port(), free_port()

    async def main_() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(opcua_port=opcua_port, modbus_port=modbus_port, speed=50.0, stop_event=stop)
        )
        up = {"opcua": False, "modbus": False}

        async def probe() -> None:
            while not all(up.values()) and not task.done():
                up["opcua"] = await accepts(opcua_port)
                up["modbus"] = await accepts(modbus_port)
                await asyncio.sleep(0.05)

        prober = asyncio.create_task(probe())
        await until(
            lambda: all(up.values()) or task.done(), timeout=15, what="both ports listening"
        )
        prober.cancel()
        assert not task.done(), task.exception() if task.done() else None
        stop.set()
        await asyncio.wait_for(task, timeout=15)

    asyncio.run(main_())
    deadline = time.monotonic() + 3  # the servers' sockets close as their tasks end
    while not (can_bind(opcua_port) and can_bind(modbus_port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert can_bind(opcua_port) and can_bind(modbus_port)


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def start() -> None:
            await PlantStack(opcua_port=free_port(), modbus_port=port).start()

        with pytest.raises(SimStartError, match="--modbus-port"):
            asyncio.run(start())


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        PlantStack(speed=0)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args(["--speed", "0"])) == 2
    assert run(parser.parse_args(["--cert", "server.der"])) == 2
