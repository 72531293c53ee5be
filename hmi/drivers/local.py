"""Memory tags for ``local://<name>?type=float|int|bool|str&initial=...`` addresses.

A local tag is a variable of this station: always Good, writable, lost when the station stops.
The memory is keyed by name, so every address naming ``x`` shares one value; the first address
that names it sets its type and initial value, and an address giving another type for the same
name is a configuration error (Bad(ConfigError), writes refused).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext
from hmi.model.address import TagAddress
from hmi.model.errors import DriverError, WriteFailed
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

__all__ = ["LocalDriver", "coerce_local"]

LocalScalar = bool | int | float | str

_ZERO: dict[str, LocalScalar] = {"float": 0.0, "int": 0, "bool": False, "str": ""}
_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")
_CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)


def coerce_local(kind: str, value: Any) -> LocalScalar:
    """``value`` as a ``kind`` (float, int, bool, str); ``ValueError`` if it is not one."""
    if kind == "str":
        return value if isinstance(value, str) else str(value)
    if kind == "bool":
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise ValueError(f"{value!r} is not a bool (true/false, on/off, 1/0)")
        if isinstance(value, (bool, int)) or (isinstance(value, float) and value in (0.0, 1.0)):
            return bool(value)
        raise ValueError(f"{value!r} is not a bool")
    if isinstance(value, bool):
        number = float(value)
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if kind == "int":
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return number


@dataclass(slots=True)
class _Memory:
    kind: str
    value: LocalScalar
    time: float


class LocalDriver:
    """Serves every ``local://`` address. Values are published on subscribe and on write."""

    def __init__(self, key: str, connection: object | None, context: DriverContext) -> None:
        self.key = key
        self._context = context
        self._memory: dict[str, _Memory] = {}
        self._subscribed: dict[str, dict[TagAddress, None]] = {}  # by name, in order
        self._started = False
        self._health = ConnectionHealth(key, ConnectionState.CONNECTING, "not started")

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    @property
    def subscribed(self) -> frozenset[TagAddress]:
        """Every address subscribed now (diagnostics and tests)."""
        return frozenset(a for addresses in self._subscribed.values() for a in addresses)

    def _set_health(self, state: ConnectionState, detail: str = "") -> None:
        self._health = ConnectionHealth(self.key, state, detail)
        self._context.report_health(self._health)

    async def start(self) -> None:
        self._started = True
        self._set_health(ConnectionState.CONNECTED, "memory tags")
        self._context.publish(self._values(a for s in self._subscribed.values() for a in s))

    async def stop(self) -> None:
        self._started = False
        self._set_health(ConnectionState.STOPPED)

    def subscribe(self, addresses: Sequence[TagAddress]) -> None:
        for address in addresses:
            self._memory_for(address)  # the first address to name it sets the type
            self._subscribed.setdefault(address.connection, {})[address] = None
        if self._started:
            asyncio.get_running_loop().call_soon(self._publish_now, list(addresses))

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None:
        for address in addresses:
            subscribed = self._subscribed.get(address.connection)
            if subscribed is not None:
                subscribed.pop(address, None)
                if not subscribed:
                    del self._subscribed[address.connection]

    async def write(self, address: TagAddress, value: Any) -> TagValue | None:
        memory = self._memory_for(address)
        if memory is None:
            raise WriteFailed(f"{address}: {self._conflict(address)}")
        try:
            memory.value = coerce_local(memory.kind, value)
        except ValueError as exc:
            raise WriteFailed(f"{address} holds type {memory.kind}: {exc}") from None
        memory.time = time.time()
        read_back = TagValue(memory.value, GOOD, memory.time, memory.time)
        subscribed = self._subscribed.get(address.connection)
        if subscribed:
            self._context.publish(self._values(subscribed))
        return read_back

    async def read(self, address: TagAddress) -> TagValue:
        memory = self._memory_for(address)
        if memory is None:
            raise DriverError(f"{address}: {self._conflict(address)}")
        return TagValue(memory.value, GOOD, memory.time, time.time())

    def value(self, name: str) -> LocalScalar | None:
        """The value held under ``name``, or None if no address has named it yet."""
        memory = self._memory.get(name)
        return None if memory is None else memory.value

    # -- internals -----------------------------------------------------------------------------

    def _memory_for(self, address: TagAddress) -> _Memory | None:
        """The memory ``address`` names, made on first use; None if it disagrees on type or
        its initial value is not of its type."""
        kind = address.param("type", "float") or "float"
        memory = self._memory.get(address.connection)
        if memory is None:
            initial = address.param("initial")
            try:
                value = _ZERO[kind] if initial is None else coerce_local(kind, initial)
            except ValueError:
                return None
            memory = self._memory[address.connection] = _Memory(kind, value, time.time())
        return memory if memory.kind == kind else None

    def _conflict(self, address: TagAddress) -> str:
        kind = address.param("type", "float")
        memory = self._memory.get(address.connection)
        if memory is not None:
            return (
                f"local tag {address.connection!r} already holds type {memory.kind}, "
                f"not {kind}; give every address of it the same type="
            )
        return f"initial={address.param('initial')!r} is not a {kind}"

    def _values(self, addresses: Iterable[TagAddress]) -> list[tuple[TagAddress, TagValue]]:
        """Current values; ``source_time`` is when the value was set, ``receive_time`` now."""
        now = time.time()
        batch = []
        for address in addresses:
            memory = self._memory_for(address)
            if memory is None:
                batch.append((address, TagValue(None, _CONFIG_ERROR, None, now)))
            else:
                batch.append((address, TagValue(memory.value, GOOD, memory.time, now)))
        return batch

    def _publish_now(self, addresses: list[TagAddress]) -> None:
        still = [a for a in addresses if a in self._subscribed.get(a.connection, ())]
        if still:
            self._context.publish(self._values(still))
