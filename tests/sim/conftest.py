"""One demo plant (OPC UA + Modbus TCP on free loopback ports) shared by the server tests.

It runs on its own event loop in a thread, so each test drives bare asyncua / pymodbus clients
with ``asyncio.run``. asyncua takes about a second to start and another to stop, hence one
plant per session; tests that change plant state put it back.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from hmi.sim.process import Plant
from hmi.sim.runner import PlantStack

SPEED = 10.0  # plant seconds per second: a pump's 2 s start delay takes 0.2 s
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(
    read: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool],
    timeout: float = 5.0,
    what: str = "condition",
) -> T:
    """Poll ``await read()`` until ``predicate`` holds for the result; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what} (last: {value!r})")
        await asyncio.sleep(0.02)


@dataclass
class RunningPlant:
    stack: PlantStack
    loop: asyncio.AbstractEventLoop
    opcua_url: str
    modbus_port: int

    @property
    def plant(self) -> Plant:
        return self.stack.plant

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the plant's loop (the only thread that may touch the model)."""

        async def call() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=5)


@pytest.fixture(scope="session")
def running_plant() -> Iterator[RunningPlant]:
    opcua_port, modbus_port = free_port(), free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []
    stop: list[asyncio.Event] = []
    holder: list[PlantStack] = []

    async def main() -> None:
        stop.append(asyncio.Event())
        stack = PlantStack(opcua_port=opcua_port, modbus_port=modbus_port, speed=SPEED, seed=7)
        holder.append(stack)
        async with stack:
            ready.set()
            await stack.run(stop[0])

    def thread_main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            failure.append(exc)
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=thread_main, name="demo-plant", daemon=True)
    thread.start()
    assert ready.wait(30), "demo plant did not start within 30 s"
    if failure:
        raise failure[0]
    stack = holder[0]
    yield RunningPlant(stack, loop, stack.opcua.endpoint, modbus_port)
    loop.call_soon_threadsafe(stop[0].set)
    thread.join(30)
    assert not thread.is_alive(), "demo plant did not stop within 30 s"
