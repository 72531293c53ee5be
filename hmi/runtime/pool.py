"""Driver instances, created on first use and shared by every tag that needs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from hmi.drivers.base import Driver, DriverContext, DriverRegistry
from hmi.model.address import TagAddress
from hmi.model.errors import ConfigError
from hmi.runtime.io_thread import IoLoop, ThreadedDriver

log = logging.getLogger(__name__)


class DriverPool:
    """One driver per ``TagAddress.driver_key``: per connection for field protocols, per
    scheme for sim and local. Drivers made before ``start()`` start with it; later ones at once.

    Drivers of schemes the registry puts on the I/O thread run there, behind a
    ``ThreadedDriver``; ``io_thread=False`` keeps every driver on the caller's loop."""

    def __init__(
        self,
        registry: DriverRegistry,
        connections: Mapping[str, Any],
        context: DriverContext,
        *,
        io_thread: bool = True,
    ) -> None:
        self._registry = registry
        self._connections = connections
        self._context = context
        self._use_io_thread = io_thread
        self._io: IoLoop | None = None
        self._drivers: dict[str, Driver] = {}
        self._starting: set[asyncio.Task[None]] = set()
        self._started = False

    @property
    def drivers(self) -> Mapping[str, Driver]:
        return self._drivers

    def driver_for(self, address: TagAddress) -> Driver:
        driver = self._drivers.get(address.driver_key)
        if driver is None:
            connection = None
            if address.scheme not in ("sim", "local"):
                connection = self._connections.get(address.connection)
                if connection is None:
                    raise ConfigError(
                        f"address {address} names connection {address.connection!r}, which the "
                        f"project does not define (known: {', '.join(self._connections) or 'none'})"
                    )
            driver = self._create(address, connection)
            self._drivers[address.driver_key] = driver
            if self._started:
                self._start(driver)
        return driver

    def _create(self, address: TagAddress, connection: Any) -> Driver:
        if not (self._use_io_thread and self._registry.on_io_thread(address.scheme)):
            return self._registry.create(address, connection, self._context)
        factory = self._registry.factory(address)
        if self._io is None:
            self._io = IoLoop()
        return ThreadedDriver(
            lambda context: factory(address.driver_key, connection, context),
            self._io,
            self._context,
        )

    def _start(self, driver: Driver) -> None:
        task = asyncio.get_running_loop().create_task(driver.start(), name=f"start {driver.key}")
        self._starting.add(task)
        task.add_done_callback(self._started_one)

    def _started_one(self, task: asyncio.Task[None]) -> None:
        self._starting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("driver failed to start: %s", task.exception())

    async def start(self) -> None:
        if self._started:
            return  # a second start (hmi serve starts the pool before the station) is none
        self._started = True
        for driver in list(self._drivers.values()):
            self._start(driver)

    async def stop(self) -> None:
        self._started = False
        for task in list(self._starting):
            task.cancel()
        for driver in list(self._drivers.values()):
            try:
                await driver.stop()
            except Exception:
                log.exception("driver %s did not stop cleanly", driver.key)
        if self._io is not None:
            await self._io.aclose()
