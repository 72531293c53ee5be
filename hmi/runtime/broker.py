"""The tag broker: the latest value of every tag, reference-counted subscriptions, and the
batch of changes the UI takes on its own timer.

Drivers push every change into ``publish``; consumers that must see every change (alarm engine,
historian) register with ``add_listener``; the UI takes only the latest value per tag with
``take_changes`` at its bounded repaint rate. The broker lives on the station's (UI) loop; the
OPC UA and Modbus drivers run on the I/O thread and reach ``publish`` and ``report_health``
through ``hmi.runtime.io_thread.ThreadedDriver``, which hands their reports over in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from hmi.drivers.base import (
    ConnectionHealth,
    ConnectionState,
    DriverContext,
    DriverRegistry,
    ValueBatch,
)
from hmi.model.address import TagAddress
from hmi.model.errors import ConfigError
from hmi.model.quality import NOT_CONNECTED, Quality, QualityReason
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.pool import DriverPool

log = logging.getLogger(__name__)

_CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)

ValueListener = Callable[[str, TagValue], None]
HealthListener = Callable[[ConnectionHealth], None]


class TagBroker:
    def __init__(
        self,
        tags: Mapping[str, TagConfig],
        registry: DriverRegistry,
        connections: Mapping[str, Any],
    ) -> None:
        self._tags = dict(tags)
        # Keyed by the address text: str hashes are cached, TagAddress.__hash__ is Python code.
        self._names_by_address: dict[str, tuple[str, ...]] = {}
        for name, tag in self._tags.items():
            key = tag.address.raw
            self._names_by_address[key] = (*self._names_by_address.get(key, ()), name)
        self._latest: dict[str, TagValue] = {}
        self._dirty: set[str] = set()
        self._refs: dict[str, int] = {}
        self._address_refs: dict[TagAddress, int] = {}
        self._listeners: list[ValueListener] = []
        self._health_listeners: list[HealthListener] = []
        self._health: dict[str, ConnectionHealth] = {}
        self.updates_accepted = 0
        self.pool = DriverPool(
            registry, connections, DriverContext(self.publish, self.report_health)
        )

    @property
    def tags(self) -> Mapping[str, TagConfig]:
        return self._tags

    def add_tags(self, tags: Mapping[str, TagConfig]) -> list[str]:
        """Take on the tags of ``tags`` this broker does not know (the designer added them to
        project.yaml); a known name keeps its configuration (a change needs a restart).
        Returns the names added; they can be subscribed at once."""
        added = [name for name in tags if name not in self._tags]
        for name in added:
            tag = self._tags[name] = tags[name]
            key = tag.address.raw
            self._names_by_address[key] = (*self._names_by_address.get(key, ()), name)
        return added

    def tag(self, name: str) -> TagConfig:
        try:
            return self._tags[name]
        except KeyError:
            raise ConfigError(f"unknown tag {name!r}") from None

    # -- subscriptions -------------------------------------------------------------------------

    def subscribe(self, name: str) -> TagValue:
        """Add one subscriber to a tag; the first one makes the driver subscribe."""
        tag = self.tag(name)
        count = self._address_refs.get(tag.address, 0)
        if count == 0:
            # Before counting: a missing connection or driver must leave no subscription behind.
            self.pool.driver_for(tag.address).subscribe([tag.address])
        self._address_refs[tag.address] = count + 1
        self._refs[name] = self._refs.get(name, 0) + 1
        latest = self.latest(name)
        health = self._health.get(tag.address.driver_key)
        if (
            health is not None
            and health.state is ConnectionState.FAILED
            and (latest.quality, latest.detail) != (_CONFIG_ERROR, health.detail)
        ):
            # Subscribed after the connection failed: say why now, not Initial for ever.
            latest = latest.with_quality(_CONFIG_ERROR, health.detail)
            self.publish([(tag.address, latest)])
        return latest

    def unsubscribe(self, name: str) -> None:
        """Remove one subscriber; the last one makes the driver unsubscribe."""
        refs = self._refs.get(name, 0)
        if refs <= 0:
            log.warning("unsubscribe from %s without a subscription", name)
            return
        self._refs[name] = refs - 1
        address = self._tags[name].address
        left = self._address_refs[address] - 1
        self._address_refs[address] = left
        if left == 0:
            del self._address_refs[address]
            self.pool.driver_for(address).unsubscribe([address])
            # Nobody keeps it fresh any more: the next subscriber starts from Initial, not
            # from a value that may be hours old and still says Good.
            for other in self._names_by_address.get(address.raw, ()):
                self._latest.pop(other, None)
                self._dirty.discard(other)

    def subscribers(self, name: str) -> int:
        return self._refs.get(name, 0)

    def latest(self, name: str) -> TagValue:
        value = self._latest.get(name)
        if value is None:
            self.tag(name)
            value = self._latest[name] = TagValue.initial()
        return value

    # -- from drivers --------------------------------------------------------------------------

    def publish(self, batch: ValueBatch) -> None:
        """Accept values from a driver: keep the latest, mark dirty, tell every listener."""
        names_by_address = self._names_by_address
        latest = self._latest
        dirty = self._dirty
        listeners = self._listeners
        accepted = 0
        for address, value in batch:
            names = names_by_address.get(address.raw)
            if names is None:
                continue
            for name in names:
                latest[name] = value
                dirty.add(name)
                accepted += 1
                for listener in listeners:
                    listener(name, value)
        self.updates_accepted += accepted

    def report_health(self, health: ConnectionHealth) -> None:
        """A connection changed state. Leaving CONNECTED marks its tags Bad(NotConnected),
        keeping their last value; the driver republishes fresh values when it is back. FAILED
        (it will not work until someone changes something) marks them Bad(ConfigError) with
        the connection's message, whatever the state before."""
        previous = self._health.get(health.key)
        self._health[health.key] = health
        if health.state is ConnectionState.FAILED:
            if previous is None or (previous.state, previous.detail) != (
                health.state,
                health.detail,
            ):
                self._mark(self._of(health.key), _CONFIG_ERROR, health.detail)
        elif health.state is not ConnectionState.CONNECTED and (previous is None or previous.ok):
            self._mark(self._of(health.key), NOT_CONNECTED)
        for listener in self._health_listeners:
            listener(health)

    @staticmethod
    def _of(key: str) -> Callable[[str, TagConfig], bool]:
        return lambda name, tag: tag.address.driver_key == key

    def _mark(
        self, which: Callable[[str, TagConfig], bool], quality: Quality, detail: str = ""
    ) -> None:
        batch: list[tuple[TagAddress, TagValue]] = []
        seen: set[TagAddress] = set()
        for name, tag in self._tags.items():
            if tag.address in seen or name not in self._latest or not which(name, tag):
                continue
            seen.add(tag.address)
            batch.append((tag.address, self._latest[name].with_quality(quality, detail)))
        self.publish(batch)

    @property
    def health(self) -> Mapping[str, ConnectionHealth]:
        return self._health

    # -- consumers -----------------------------------------------------------------------------

    def take_changes(self) -> dict[str, TagValue]:
        """The latest value of every tag changed since the last call (the UI's batch)."""
        if not self._dirty:
            return {}
        latest = self._latest
        changes = {name: latest[name] for name in self._dirty}
        self._dirty = set()
        return changes

    def add_listener(self, listener: ValueListener) -> None:
        """``listener(name, value)`` for every change of every tag (alarms, historian)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ValueListener) -> None:
        self._listeners.remove(listener)

    def add_health_listener(self, listener: HealthListener) -> None:
        self._health_listeners.append(listener)

    def remove_health_listener(self, listener: HealthListener) -> None:
        self._health_listeners.remove(listener)

    async def start(self) -> None:
        await self.pool.start()

    async def stop(self) -> None:
        await self.pool.stop()
