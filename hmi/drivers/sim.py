"""Generated signals for ``sim://<function>?...`` addresses: demos, tests and screen design
without a plant.

Functions and their parameters (all optional):

- ``sine``      ``period`` (s, 10), ``min`` (0), ``max`` (100)
- ``ramp``      saw tooth from ``min`` to ``max`` over ``period``
- ``square``    ``max`` for the first ``duty`` (0.5) of each ``period``, ``min`` for the rest
- ``random``    random walk in [``min``, ``max``], at most ``step`` ((max - min) / 20) a tick,
  starting mid-range; ``seed`` (default: from the address) makes it repeatable
- ``counter``   ``min``, ``min + step``, ... up to ``max``, then ``min`` again; one step a tick
- ``constant``  ``value`` (0)

Every address also takes ``interval`` (s, 1.0), how often it is published. Values are functions
of the time (the random walk excepted), so every station shows the same sine at the same moment.
Sim values are read-only.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext
from hmi.model.address import TagAddress
from hmi.model.errors import DriverError, WriteFailed
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

__all__ = ["SimDriver"]

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 1.0
_CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)


class _Signal:
    """One address's generator: ``value(t)`` at POSIX time ``t``, called once per tick."""

    __slots__ = ("duty", "function", "high", "low", "period", "rng", "step", "walk")

    def __init__(self, address: TagAddress) -> None:
        self.function = address.connection
        self.low = address.float_param("min", 0.0)
        self.high = address.float_param("max", 100.0)
        self.period = address.float_param("period", 10.0)
        self.duty = address.float_param("duty", 0.5)
        span = self.high - self.low
        default_step = 1.0 if self.function == "counter" else span / 20
        self.step = address.float_param("step", default_step)
        if self.function == "constant":
            self.low = self.high = address.float_param("value", 0.0)
        elif not self.low < self.high:
            raise ValueError(f"min {self.low:g} must be below max {self.high:g}")
        if self.function == "square" and not 0 <= self.duty <= 1:
            raise ValueError(f"duty {self.duty:g} must be from 0 to 1")
        if self.function in ("counter", "random") and not self.step > 0:
            raise ValueError(f"step {self.step:g} must be greater than 0")
        seed_text = address.param("seed")
        seed = int(float(seed_text)) if seed_text is not None else zlib.crc32(address.raw.encode())
        self.rng = random.Random(seed)
        self.walk = (self.low + self.high) / 2

    def value(self, t: float, interval: float) -> float | int:
        f = self.function
        if f == "sine":
            phase = math.sin(2 * math.pi * t / self.period)
            return self.low + (self.high - self.low) * (0.5 + 0.5 * phase)
        if f == "ramp":
            return self.low + (self.high - self.low) * ((t / self.period) % 1.0)
        if f == "square":
            return self.high if (t / self.period) % 1.0 < self.duty else self.low
        if f == "random":
            self.walk += self.rng.uniform(-self.step, self.step)
            if self.walk > self.high:  # reflect at the bounds so the walk never sticks there
                self.walk = max(self.low, 2 * self.high - self.walk)
            elif self.walk < self.low:
                self.walk = min(self.high, 2 * self.low - self.walk)
            return self.walk
        if f == "counter":
            count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
            number = self.low + self.step * (math.floor(t / interval) % count)
            whole = all(float(x).is_integer() for x in (self.low, self.step))
            return int(number) if whole else number
        return self.low  # constant


@dataclass(slots=True)
class _Group:
    """The addresses published together at one interval, and the task that ticks them."""

    interval: float
    signals: dict[TagAddress, _Signal]
    task: asyncio.Task[None] | None = None


class SimDriver:
    """Serves every ``sim://`` address: one asyncio task per distinct ``interval``, publishing
    one batch per tick. ``clock`` gives the POSIX time the values are computed from."""

    def __init__(
        self,
        key: str,
        connection: object | None,
        context: DriverContext,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self._context = context
        self._clock = clock
        self._groups: dict[float, _Group] = {}
        self._invalid: set[TagAddress] = set()  # published Bad(ConfigError), never ticked
        self._started = False
        self._health = ConnectionHealth(key, ConnectionState.CONNECTING, "not started")

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    @property
    def subscribed(self) -> frozenset[TagAddress]:
        """Every address subscribed now (diagnostics and tests)."""
        return frozenset(self._invalid).union(*(g.signals for g in self._groups.values()))

    def _set_health(self, state: ConnectionState, detail: str = "") -> None:
        self._health = ConnectionHealth(self.key, state, detail)
        self._context.report_health(self._health)

    async def start(self) -> None:
        self._started = True
        self._set_health(ConnectionState.CONNECTED, "simulated signals")
        if self._invalid:
            self._context.publish(_refused(self._invalid))
        for group in self._groups.values():
            self._ensure_task(group)

    async def stop(self) -> None:
        self._started = False
        tasks = [g.task for g in self._groups.values() if g.task is not None]
        for group in self._groups.values():
            group.task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._set_health(ConnectionState.STOPPED)

    def subscribe(self, addresses: Sequence[TagAddress]) -> None:
        refused: list[TagAddress] = []
        added: dict[float, list[TagAddress]] = {}
        for address in addresses:
            interval = address.float_param("interval", DEFAULT_INTERVAL_S)
            try:
                signal = _Signal(address)
            except ValueError as exc:
                log.error("sim address %s: %s", address, exc)
                self._invalid.add(address)
                refused.append(address)
                continue
            group = self._groups.get(interval)
            if group is None:
                group = self._groups[interval] = _Group(interval, {})
            group.signals[address] = signal
            added.setdefault(interval, []).append(address)
        if not self._started:
            return  # start() publishes everything subscribed by then
        loop = asyncio.get_running_loop()
        if refused:
            loop.call_soon(self._context.publish, _refused(refused))
        for interval, new in added.items():
            group = self._groups[interval]
            if group.task is None or group.task.done():
                self._ensure_task(group)  # its first tick publishes at once
            else:
                loop.call_soon(self._tick, group, new)  # don't wait for the next tick

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None:
        for address in addresses:
            self._invalid.discard(address)
            interval = address.float_param("interval", DEFAULT_INTERVAL_S)
            group = self._groups.get(interval)
            if group is None or group.signals.pop(address, None) is None:
                continue
            if not group.signals:
                del self._groups[interval]
                if group.task is not None:
                    group.task.cancel()

    async def write(self, address: TagAddress, value: Any) -> TagValue | None:
        raise WriteFailed(
            f"{address} is a simulated signal and cannot be written; "
            "use a local:// tag for a value an operator sets"
        )

    async def read(self, address: TagAddress) -> TagValue:
        raise DriverError(f"{address} is a simulated signal: it has a value only while subscribed")

    # -- ticking -------------------------------------------------------------------------------

    def _ensure_task(self, group: _Group) -> None:
        if group.task is None or group.task.done():
            group.task = asyncio.get_running_loop().create_task(
                self._run(group), name=f"sim tick {group.interval:g}s"
            )

    async def _run(self, group: _Group) -> None:
        """Tick on a fixed grid of the interval from the first tick (loop clock, no drift); a
        late tick skips the ones it missed instead of bursting to catch up."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            self._tick(group)
            due += group.interval
            now = loop.time()
            if due < now:
                due = now + group.interval - (now - due) % group.interval
            await asyncio.sleep(due - now)

    def _tick(self, group: _Group, only: Sequence[TagAddress] | None = None) -> None:
        signals = group.signals
        addresses = signals if only is None else [a for a in only if a in signals]
        if not addresses:
            return
        t = self._clock()
        interval = group.interval
        batch = [
            (address, TagValue(signals[address].value(t, interval), GOOD, t, t))
            for address in addresses
        ]
        self._context.publish(batch)


def _refused(addresses: Iterable[TagAddress]) -> list[tuple[TagAddress, TagValue]]:
    return [(address, TagValue.now(None, _CONFIG_ERROR)) for address in addresses]
