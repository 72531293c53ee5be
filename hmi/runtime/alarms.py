"""The alarm service: an ``AlarmEngine`` fed by the tag broker, with a timer for delays and
shelves, the figures the banner and summary show, and the operator actions.

The engine sees every value change (a broker listener), not the UI's batched latest. Operator
actions go through the command service, which checks permission and writes the audit record;
``AlarmCommands`` is what it calls. Events reach listeners (alarm journal, banner) in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.model.alarm_engine import AlarmEngine
from hmi.model.alarm_states import (
    AlarmActionDenied,
    AlarmCounts,
    AlarmEvent,
    AlarmSnapshot,
    AlarmState,
    AlarmStatus,
)
from hmi.model.alarms import AlarmDefinition, AlarmSettings
from hmi.runtime.broker import TagBroker

__all__ = ["AlarmActionDenied", "AlarmCommands", "AlarmEngineService"]

log = logging.getLogger(__name__)

_LOST = {
    ConnectionState.CONNECTED: False,
    ConnectionState.DISCONNECTED: True,
    ConnectionState.FAILED: True,
}

Clock = Callable[[], float]


class AlarmCommands(Protocol):
    """Operator actions on alarms, called by the command service once it has checked that
    ``user`` may act (and recorded why). Each returns the resulting event, or raises
    ``AlarmActionDenied`` saying why the action does not apply (nothing is changed then).
    ``shelve`` takes ``duration_s`` seconds, or None for a one-shot shelve: always explicit."""

    def acknowledge(self, alarm_id: str, *, user: str, comment: str = "") -> AlarmEvent: ...

    def reset(self, alarm_id: str, *, user: str, comment: str = "") -> AlarmEvent: ...

    def shelve(
        self, alarm_id: str, *, user: str, reason: str, duration_s: float | None
    ) -> AlarmEvent: ...

    def unshelve(self, alarm_id: str, *, user: str, reason: str = "") -> AlarmEvent: ...

    def set_out_of_service(self, alarm_id: str, *, user: str, reason: str) -> AlarmEvent: ...

    def return_to_service(self, alarm_id: str, *, user: str, reason: str = "") -> AlarmEvent: ...

    def comment(self, alarm_id: str, *, user: str, text: str) -> AlarmEvent: ...


class AlarmEngineService:
    """Runs the alarms of a project on the broker's loop. Implements ``AlarmCommands``."""

    def __init__(
        self,
        broker: TagBroker,
        definitions: Sequence[AlarmDefinition],
        *,
        settings: AlarmSettings | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._broker = broker
        self._settings = settings or AlarmSettings()
        self._clock = clock
        self.engine = AlarmEngine(definitions, settings=self._settings)
        self._subscribed: list[str] = []
        self._ticker: asyncio.Task[None] | None = None

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self, snapshot: AlarmSnapshot | None = None) -> None:
        """Restore ``snapshot`` (see ``AlarmEngine.restore``), then subscribe to every tag the
        alarms read, make the driver of every connection a communication-loss alarm watches
        (so the station watches it even while no screen shows its tags), and start the timer.
        The broker may be started before or after."""
        if self._ticker is not None:
            raise RuntimeError("the alarm service is already running")
        tags = sorted(self.engine.tags)
        for tag in tags:
            self._broker.tag(tag)  # an unknown tag is a ConfigError before anything starts
        if snapshot is not None:
            self.engine.restore(snapshot, self._clock())
        self._broker.add_listener(self.engine.update)
        self._broker.add_health_listener(self._on_health)
        self._watch_connections()
        for health in list(self._broker.health.values()):
            self._on_health(health)
        for tag in tags:
            current = self._broker.subscribe(tag)
            self._subscribed.append(tag)
            self.engine.update(tag, current)  # Initial (Bad) until the driver has a value
        self._ticker = asyncio.create_task(self._tick_forever(), name="alarm-tick")
        log.info("alarm service: %d alarms on %d tags", len(self.engine.alarm_ids), len(tags))

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        with contextlib.suppress(ValueError):
            self._broker.remove_listener(self.engine.update)
        with contextlib.suppress(ValueError):
            self._broker.remove_health_listener(self._on_health)
        for tag in self._subscribed:
            self._broker.unsubscribe(tag)
        self._subscribed.clear()

    def _watch_connections(self) -> None:
        """A connection's driver is made by its first tag's subscription; one that only a
        comm-loss alarm watches is made here, from the address of any tag it serves (a
        connection that serves no tag has nothing to lose)."""
        addresses = {tag.address.connection: tag.address for tag in self._broker.tags.values()}
        for connection in sorted(self.engine.connections):
            address = addresses.get(connection)
            if address is not None and address.scheme not in ("sim", "local"):
                self._broker.pool.driver_for(address)

    def _on_health(self, health: ConnectionHealth) -> None:
        """A connection's state: lost while disconnected or failed, back once connected;
        connecting (or stopping) changes nothing. The key is ``scheme://connection``."""
        lost = _LOST.get(health.state)
        if lost is not None:
            connection = health.key.partition("://")[2]
            self.engine.update_connection(connection, lost, health.since)

    async def _tick_forever(self) -> None:
        period = self._settings.tick_s
        while True:
            await asyncio.sleep(period)
            try:
                self.engine.tick(self._clock())
            except Exception:  # keep the timer alive: delays and shelves depend on it
                log.exception("alarm tick failed")

    def tick(self) -> None:
        """Run the timer's work now (tests, and after the clock jumped)."""
        self.engine.tick(self._clock())

    # -- what the banner, summary and journal use ---------------------------------------------

    def add_listener(self, listener: Callable[[AlarmEvent], None]) -> None:
        """``listener(event)`` for every alarm event, in order (``event.sequence``)."""
        self.engine.add_listener(listener)

    def remove_listener(self, listener: Callable[[AlarmEvent], None]) -> None:
        self.engine.remove_listener(listener)

    def counts(self) -> AlarmCounts:
        return self.engine.counts()

    def summary(self) -> list[AlarmStatus]:
        """Annunciated alarms by priority (most urgent first), then newest first."""
        return self.engine.summary()

    def statuses(self, states: Iterable[AlarmState]) -> list[AlarmStatus]:
        """E.g. the shelved, suppressed or out-of-service lists."""
        return self.engine.statuses(states)

    def status(self, alarm_id: str) -> AlarmStatus:
        return self.engine.status(alarm_id)

    def snapshot(self) -> AlarmSnapshot:
        """To keep across a restart (the journal stores it; ``start(snapshot)`` takes it)."""
        return self.engine.snapshot(self._clock())

    # -- AlarmCommands -------------------------------------------------------------------------

    def acknowledge(self, alarm_id: str, *, user: str, comment: str = "") -> AlarmEvent:
        return self.engine.acknowledge(alarm_id, now=self._clock(), user=user, comment=comment)

    def reset(self, alarm_id: str, *, user: str, comment: str = "") -> AlarmEvent:
        return self.engine.reset(alarm_id, now=self._clock(), user=user, comment=comment)

    def shelve(
        self, alarm_id: str, *, user: str, reason: str, duration_s: float | None
    ) -> AlarmEvent:
        return self.engine.shelve(
            alarm_id, now=self._clock(), user=user, reason=reason, duration_s=duration_s
        )

    def unshelve(self, alarm_id: str, *, user: str, reason: str = "") -> AlarmEvent:
        return self.engine.unshelve(alarm_id, now=self._clock(), user=user, reason=reason)

    def set_out_of_service(self, alarm_id: str, *, user: str, reason: str) -> AlarmEvent:
        return self.engine.set_out_of_service(alarm_id, now=self._clock(), user=user, reason=reason)

    def return_to_service(self, alarm_id: str, *, user: str, reason: str = "") -> AlarmEvent:
        return self.engine.return_to_service(alarm_id, now=self._clock(), user=user, reason=reason)

    def comment(self, alarm_id: str, *, user: str, text: str) -> AlarmEvent:
        return self.engine.comment(alarm_id, now=self._clock(), user=user, text=text)
