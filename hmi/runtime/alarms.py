"""The alarm service: an ``AlarmEngine`` fed by the tag broker, with a timer for delays and
shelves, the figures the banner and summary show, and the operator actions.

The engine sees every value change (a broker listener), not the UI's batched latest. Operator
actions go through the command service, which checks permission and writes the audit record;
``AlarmCommands`` is what it calls. Events reach listeners (alarm journal, banner) in order.

The views do not redraw per event: ``AlarmChanges`` gathers the events between two refreshes
of a view (a flood of 500 events is one refresh), and ``AlarmList`` keeps the alarms a view
shows in its order as they change, one bisect insertion per change instead of a re-sort.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.states import (
    AlarmActionDenied,
    AlarmCounts,
    AlarmEvent,
    AlarmSnapshot,
    AlarmState,
    AlarmStatus,
)
from hmi.model.alarms.station import StationAlarm
from hmi.runtime.broker import TagBroker

__all__ = [
    "FLOOD_BATCH",
    "AlarmActionDenied",
    "AlarmBatch",
    "AlarmChanges",
    "AlarmCommands",
    "AlarmEngineService",
    "AlarmList",
    "Descending",
]

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
        definitions: Sequence[AlarmDefinition | StationAlarm],
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
        self._conditions = dict.fromkeys(self.engine.station_conditions, (False, ""))

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
        for condition, (active, detail) in self._conditions.items():
            self.engine.update_station(condition, active, self._clock(), detail)
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

    def station_condition(self, condition: str, active: bool, detail: str = "") -> None:
        """A station condition (``hmi.model.alarms.station``) holds, with what was found, or
        is gone; kept until ``start`` when it comes earlier (after a restored snapshot)."""
        if condition in self._conditions:
            self._conditions[condition] = (active, detail)
            if self._ticker is not None:
                self.engine.update_station(condition, active, self._clock(), detail)

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


# -- what the views refresh from ---------------------------------------------------------------


class AlarmEvents(Protocol):
    """Where alarm events come from (``AlarmEngineService``)."""

    def add_listener(self, listener: Callable[[AlarmEvent], None]) -> None: ...

    def remove_listener(self, listener: Callable[[AlarmEvent], None]) -> None: ...


FLOOD_BATCH = 20
"""Events in one batch that make a flood: the views then refresh at their slower flood pace."""


@dataclass(frozen=True, slots=True)
class AlarmBatch:
    """The events since the previous ``AlarmChanges.take()``, in order. ``lost``: more came
    than the bound, the oldest were dropped: read every alarm again instead."""

    events: list[AlarmEvent]
    lost: bool = False

    @property
    def flood(self) -> bool:
        return self.lost or len(self.events) >= FLOOD_BATCH

    @property
    def alarm_ids(self) -> list[str]:
        """Each alarm that changed, once, in the order of its first event."""
        return list(dict.fromkeys(event.alarm_id for event in self.events))


class AlarmChanges:
    """The alarm events a view has not refreshed from yet. ``wake()`` is called for the first
    event after each ``take()`` only (on the thread the event came on), so a view schedules
    one refresh per batch of events, never one per event. At most ``max_events`` wait; beyond
    that the batch says ``lost`` (the view reloads everything), so memory stays bounded."""

    def __init__(
        self,
        alarms: AlarmEvents,
        wake: Callable[[], None],
        *,
        max_events: int = 20_000,
    ) -> None:
        self._alarms = alarms
        self._wake = wake
        self._max = max_events
        self._events: list[AlarmEvent] = []
        self._lost = False
        self._lock = threading.Lock()
        alarms.add_listener(self._on_event)

    def _on_event(self, event: AlarmEvent) -> None:
        with self._lock:
            first = not self._events and not self._lost
            if len(self._events) >= self._max:
                self._events.clear()
                self._lost = True
            self._events.append(event)
        if first:
            self._wake()

    @property
    def pending(self) -> bool:
        """Whether events wait for the next ``take()``."""
        with self._lock:
            return bool(self._events) or self._lost

    def take(self) -> AlarmBatch:
        with self._lock:
            batch = AlarmBatch(self._events, self._lost)
            self._events, self._lost = [], False
        return batch

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._alarms.remove_listener(self._on_event)


class Descending:
    """A sort key in reverse (for ``AlarmList``): only ``<`` and ``==`` are needed."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: Descending) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and bool(self.key == other.key)

    def __hash__(self) -> int:
        return hash(self.key)


class AlarmList:
    """The alarms that ``accept`` lets through, ordered by ``key``, kept in order as they
    change: ``put`` and ``remove`` cost a bisection and a list insert, not a sort. ``key``
    must be unique per alarm (end it with the alarm id) and need not be stable over time:
    an alarm is found again by the key it went in with."""

    def __init__(
        self,
        key: Callable[[AlarmStatus], Any],
        accept: Callable[[AlarmStatus], bool] = lambda _status: True,
    ) -> None:
        self.key = key
        self.accept = accept
        self.rows: list[AlarmStatus] = []
        self._keys: list[Any] = []
        self._key_of: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, alarm_id: object) -> bool:
        return alarm_id in self._key_of

    def reset(self, statuses: Iterable[AlarmStatus]) -> None:
        """Hold these (one sort)."""
        entries = [(self.key(s), s) for s in statuses if self.accept(s)]
        entries.sort(key=lambda entry: entry[0])
        self._keys = [key for key, _ in entries]
        self.rows = [status for _, status in entries]
        self._key_of = {status.alarm_id: key for key, status in entries}

    def put(self, status: AlarmStatus) -> None:
        """Add or replace ``status`` (by alarm id) where it belongs; drop it if not accepted."""
        self.remove(status.alarm_id)
        if not self.accept(status):
            return
        key = self.key(status)
        at = bisect_left(self._keys, key)
        self._keys.insert(at, key)
        self.rows.insert(at, status)
        self._key_of[status.alarm_id] = key

    def remove(self, alarm_id: str) -> bool:
        key = self._key_of.pop(alarm_id, None)
        if key is None:
            return False
        at = bisect_left(self._keys, key)
        if self.rows[at].alarm_id != alarm_id:  # a key that is not unique: a bug in ``key``
            raise RuntimeError(f"alarm list out of order at {alarm_id!r}: keys are not unique")
        del self._keys[at]
        del self.rows[at]
        return True

    def position(self, alarm_id: str) -> int | None:
        key = self._key_of.get(alarm_id)
        return None if key is None else bisect_left(self._keys, key)
