"""The contract between the runtime and a protocol driver."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from hmi.model.address import TagAddress
from hmi.model.errors import ConfigError
from hmi.model.value import TagValue

ValueBatch = Sequence[tuple[TagAddress, TagValue]]


class ConnectionState(Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # lost; the driver is trying again
    FAILED = "failed"  # will not work without a change (bad configuration, refused certificate)
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    """What the status bar shows for one connection."""

    key: str
    state: ConnectionState
    detail: str = ""
    since: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.state is ConnectionState.CONNECTED


@dataclass(frozen=True, slots=True)
class DriverContext:
    """What a driver is given: where to push values and where to report its health.
    Both callbacks run on the driver's event loop and must not block. A batch given to
    ``publish`` belongs to the receiver from then on (it may keep it without copying): build
    a new one for every call."""

    publish: Callable[[ValueBatch], None]
    report_health: Callable[[ConnectionHealth], None]


class Driver(Protocol):
    """A driver serves the addresses of one connection (or one scheme for sim/local).

    ``subscribe``/``unsubscribe`` are called with each address once per first/last subscriber
    (the broker reference-counts); they must return at once and do the work in the background.
    ``write`` sends one value and returns the value read back (None where the protocol cannot
    read back), or raises ``WriteFailed`` carrying the device's or server's status once
    something was sent, ``WriteDenied`` when it refuses the value before sending anything
    (the command service records the first ``failed``, the second ``denied``). ``read``
    reads one address from the device now, subscribed or not (the old value of a write nobody
    watches), through the same connection as writes; ``DriverError`` if it cannot.
    """

    key: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def subscribe(self, addresses: Sequence[TagAddress]) -> None: ...

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None: ...

    async def write(self, address: TagAddress, value: Any) -> TagValue | None: ...

    async def read(self, address: TagAddress) -> TagValue: ...

    @property
    def health(self) -> ConnectionHealth: ...


DriverFactory = Callable[[str, Any, DriverContext], Driver]
"""``factory(key, connection_config_or_None, context)``: sim/local take no connection config."""


class DriverRegistry:
    """Driver factories keyed by URI scheme; passed in at start-up, not a global.

    A scheme registered with ``io_thread=True`` (network protocols whose decoding is heavy)
    runs its drivers on the station's I/O thread rather than on the UI loop; the runtime does
    the hand-over, the driver is written as for any asyncio loop."""

    def __init__(
        self,
        factories: Mapping[str, DriverFactory] | None = None,
        *,
        io_thread: Iterable[str] = (),
    ) -> None:
        self._factories: dict[str, DriverFactory] = dict(factories or {})
        self._io_thread: set[str] = set(io_thread)

    def register(self, scheme: str, factory: DriverFactory, *, io_thread: bool = False) -> None:
        self._factories[scheme] = factory
        if io_thread:
            self._io_thread.add(scheme)
        else:
            self._io_thread.discard(scheme)

    def on_io_thread(self, scheme: str) -> bool:
        return scheme in self._io_thread

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def create(self, address: TagAddress, connection: Any, context: DriverContext) -> Driver:
        return self.factory(address)(address.driver_key, connection, context)

    def factory(self, address: TagAddress) -> DriverFactory:
        factory = self._factories.get(address.scheme)
        if factory is None:
            raise ConfigError(
                f"no driver for scheme {address.scheme!r} (address {address}); "
                f"this build has: {', '.join(self._factories) or 'none'}"
            )
        return factory
