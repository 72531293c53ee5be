"""The alarm engine: every alarm of a project, fed with every value change of the tags they
watch, with the operator actions on them. Pure and synchronous: no Qt, no asyncio; time comes
in with each value (its source timestamp) and with ``tick(now)`` and each action's ``now``.

Hot path (``update``): one dict look-up of the tag, then one ``feed`` per alarm watching it, a
comparison or two each; no allocation unless some alarm's condition changes. Transitions are
delivered to listeners as immutable ``AlarmEvent``s, in order (``sequence``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any, cast

from hmi.model.alarms.conditions import (
    ConnectionPoint,
    DeviationPoint,
    QualityPoint,
    RatePoint,
    ValuePoint,
    make_point,
)
from hmi.model.alarms.definitions import (
    AlarmDefinition,
    AlarmSettings,
    DeviationAlarm,
    DigitalAlarm,
    LimitAlarm,
    Priority,
    RateAlarm,
)
from hmi.model.alarms.points import AlarmHub, AlarmPoint, EventListener
from hmi.model.alarms.states import (
    ANNUNCIATED,
    UNACKNOWLEDGED,
    AlarmAction,
    AlarmActionDenied,
    AlarmCounts,
    AlarmEvent,
    AlarmSnapshot,
    AlarmState,
    AlarmStatus,
)
from hmi.model.alarms.station import StationAlarm, StationPoint
from hmi.model.errors import ConfigError
from hmi.model.expr import EvaluationError, Expression
from hmi.model.quality import QualityLevel
from hmi.model.value import TagValue

__all__ = ["AlarmEngine"]

log = logging.getLogger(__name__)

_BAD = QualityLevel.BAD
_UNCERTAIN = QualityLevel.UNCERTAIN


class _Watch:
    """Everything that depends on one tag; the hot path calls pre-bound methods."""

    __slots__ = (
        "digital", "feeds", "holds", "latest", "quality", "suppress", "time", "unsure",
    )  # fmt: skip

    def __init__(self) -> None:
        self.feeds: list[Callable[[float, float], None]] = []  # analog kinds: numbers only
        self.holds: list[Callable[[float], None]] = []  # the same points, on an unusable value
        self.unsure: list[bool] = []  # the same points: evaluate an Uncertain value (else hold)
        self.digital: list[ValuePoint] = []
        self.quality: list[QualityPoint] = []
        self.suppress: list[tuple[Expression, list[AlarmPoint]]] = []
        self.latest: TagValue | None = None
        self.time = float("-inf")  # latest timestamp seen: time never runs backwards per tag


class AlarmEngine:
    """Builds one point per definition; raises ``ConfigError`` on a duplicate id."""

    def __init__(
        self,
        definitions: Iterable[AlarmDefinition | StationAlarm],
        *,
        settings: AlarmSettings | None = None,
    ) -> None:
        self.settings = settings or AlarmSettings()
        self._hub = AlarmHub(self._fields, self._value)
        self._points: dict[str, AlarmPoint] = {}
        self._watch: dict[str, _Watch] = {}
        self._rate: list[RatePoint] = []
        self._connections: dict[str, list[ConnectionPoint]] = {}
        self._station: dict[str, StationPoint] = {}
        self._faults: dict[Expression, str] = {}  # suppress_when that cannot be evaluated
        suppress: dict[str, dict[Expression, list[AlarmPoint]]] = {}
        for index, definition in enumerate(definitions):
            if definition.id in self._points:
                raise ConfigError(f"duplicate alarm id {definition.id!r} (alarm {index})")
            point = make_point(definition, index, self._hub, self.settings.max_shelve_s)
            self._points[definition.id] = point
            for tag in definition.referenced_tags():
                self._watch.setdefault(tag, _Watch())
            if isinstance(point, StationPoint):  # fed by the station's own services
                self._station[point.condition] = point
            elif isinstance(point, ConnectionPoint):  # fed from the connection, not a tag
                self._connections.setdefault(point.tag, []).append(point)
            elif isinstance(point, QualityPoint):
                self._watch[definition.tag].quality.append(point)
            elif isinstance(definition, DigitalAlarm):
                self._watch[definition.tag].digital.append(point)  # type: ignore[arg-type]
            else:
                watch = self._watch[definition.tag]
                watch.feeds.append(point.feed)  # type: ignore[attr-defined]
                watch.holds.append(point.hold)
                watch.unsure.append(definition.uncertain == "evaluate")
            if isinstance(point, DeviationPoint) and isinstance(definition, DeviationAlarm):
                setpoint = self._watch[definition.setpoint]
                setpoint.feeds.append(point.feed_setpoint)
                setpoint.holds.append(point.hold_setpoint)
                setpoint.unsure.append(definition.uncertain == "evaluate")
            if isinstance(point, RatePoint):
                self._rate.append(point)
            condition = definition.suppress_when
            if condition is not None:
                for tag in condition.tags:
                    suppress.setdefault(tag, {}).setdefault(condition, []).append(point)
        for tag, groups in suppress.items():
            self._watch[tag].suppress = list(groups.items())

    # -- inputs --------------------------------------------------------------------------------

    @property
    def tags(self) -> frozenset[str]:
        """Every tag some alarm reads (to subscribe to)."""
        return frozenset(self._watch)

    @property
    def connections(self) -> frozenset[str]:
        """Every connection a communication-loss alarm watches (by name)."""
        return frozenset(self._connections)

    def update_connection(self, connection: str, lost: bool, t: float) -> None:
        """A connection was lost (disconnected, failed) or is back (connected) at ``t``."""
        for point in self._connections.get(connection, ()):
            point.feed_connection(lost, max(t, point.stamp))

    @property
    def station_conditions(self) -> frozenset[str]:
        """Every station condition an alarm watches (``hmi.model.alarms.station``)."""
        return frozenset(self._station)

    def update_station(self, condition: str, active: bool, t: float, detail: str = "") -> None:
        """The station reports ``condition`` as holding (with what was found) or gone at ``t``;
        a condition no alarm watches is ignored."""
        point = self._station.get(condition)
        if point is not None:
            point.feed_station(active, max(t, point.stamp), detail)

    @property
    def alarm_ids(self) -> tuple[str, ...]:
        return tuple(self._points)

    def update(self, name: str, value: TagValue) -> None:
        """One value change of one tag, in the order the tag's values came."""
        watch = self._watch.get(name)
        if watch is None:
            return
        level = value.quality.level
        bad = level is _BAD
        t = value.source_time
        if t is None or bad:  # a Bad mark keeps the last good value's source time
            t = value.receive_time
        if t < watch.time:
            t = watch.time
        else:
            watch.time = t
        watch.latest = value
        v = value.value
        feeds = watch.feeds
        if feeds:
            if bad or v is None:
                for hold in watch.holds:
                    hold(t)
            else:
                kind = type(v)
                if kind is not float and kind is not int and kind is not bool:
                    v = float(v) if isinstance(v, Real) else None
                if v is None or v != v:  # not a number, or NaN
                    for hold in watch.holds:
                        hold(t)
                elif level is _UNCERTAIN:  # a stale last value must not say all is well
                    for feed, hold, evaluate in zip(feeds, watch.holds, watch.unsure, strict=True):
                        if evaluate:
                            feed(v, t)
                        else:
                            hold(t)
                else:
                    for feed in feeds:
                        feed(v, t)
                v = value.value
        if watch.digital:
            if bad or v is None:
                for digital in watch.digital:
                    digital.hold(t)
            else:
                for digital in watch.digital:
                    if level is _UNCERTAIN and digital.definition.uncertain == "hold":
                        digital.hold(t)
                    else:
                        digital.feed(v, t)
        if watch.quality:
            for quality in watch.quality:
                quality.feed_quality(bad, t)
        if watch.suppress:
            for condition, points in watch.suppress:
                inputs = {tag: self._plain(tag) for tag in condition.tags}
                suppressed = self._suppressed(condition, inputs)
                for point in points:
                    point.set_suppressed(suppressed, t)

    def _suppressed(self, condition: Expression, inputs: dict[str, Any]) -> bool:
        """Unknown, or an expression that cannot be evaluated (logged once per message):
        not suppressed, so a faulty condition never hides an alarm."""
        try:
            result = condition.evaluate(inputs)
        except EvaluationError as exc:
            if self._faults.get(condition) != exc.message:
                self._faults[condition] = exc.message
                log.warning("suppress_when of alarms: %s; not suppressed", exc)
            return False
        self._faults.pop(condition, None)
        return bool(result)

    def tick(self, now: float) -> None:
        """Complete delays and end shelves whose time has come; re-evaluate rates."""
        hub = self._hub
        due: list[tuple[float, int, int, AlarmPoint]] = [
            (p.shelve_until, 0, p.index, p)
            for p in hub.shelved
            if p.shelve_until is not None and p.shelve_until <= now
        ]
        due.extend(
            (p.due, 1, p.index, p) for p in hub.pending if p.due is not None and p.due <= now
        )
        due.sort(key=lambda entry: entry[:3])
        for _, kind, _, point in due:
            if kind == 0:
                point.expire(now)
            else:
                point.complete()
        for rate in self._rate:
            rate.evaluate(now)

    # -- operator actions (through the command service: permission and audit) ------------------

    def _point(self, alarm_id: str) -> AlarmPoint:
        try:
            return self._points[alarm_id]
        except KeyError:
            raise AlarmActionDenied(f"there is no alarm {alarm_id!r}") from None

    def acknowledge(self, alarm_id: str, *, now: float, user: str, comment: str = "") -> AlarmEvent:
        return self._point(alarm_id).acknowledge(now, user, comment)

    def reset(self, alarm_id: str, *, now: float, user: str, comment: str = "") -> AlarmEvent:
        """Reset a latched alarm that is acknowledged and whose condition has cleared."""
        return self._point(alarm_id).reset(now, user, comment)

    def shelve(
        self, alarm_id: str, *, now: float, user: str, reason: str, duration_s: float | None
    ) -> AlarmEvent:
        """Timed shelve for ``duration_s`` (at most the maximum), or one-shot with None."""
        return self._point(alarm_id).shelve(now, user, reason, duration_s)

    def unshelve(self, alarm_id: str, *, now: float, user: str, reason: str = "") -> AlarmEvent:
        return self._point(alarm_id).unshelve(now, user, reason)

    def set_out_of_service(
        self, alarm_id: str, *, now: float, user: str, reason: str
    ) -> AlarmEvent:
        return self._point(alarm_id).set_out_of_service(now, user, reason)

    def return_to_service(
        self, alarm_id: str, *, now: float, user: str, reason: str = ""
    ) -> AlarmEvent:
        return self._point(alarm_id).return_to_service(now, user, reason)

    def comment(self, alarm_id: str, *, now: float, user: str, text: str) -> AlarmEvent:
        return self._point(alarm_id).comment(now, user, text)

    def apply_remote(
        self, action: AlarmAction, alarm_id: str, *, now: float, user: str, comment: str,
        shelve_s: float | None, origin: str,
    ) -> AlarmEvent:  # fmt: skip
        """Another station's operator action, through the same state machine as one of ours
        (``AlarmActionDenied`` when it does not apply here, e.g. an acknowledgement of an alarm
        this station has seen return to normal meanwhile). Its events carry ``origin``, so the
        journal does not store them again."""
        point = self._point(alarm_id)
        self._hub.origin = origin
        try:
            if action is AlarmAction.ACKNOWLEDGE:
                return point.acknowledge(now, user, comment)
            if action is AlarmAction.RESET:
                return point.reset(now, user, comment)
            if action is AlarmAction.SHELVE:
                return point.shelve(now, user, comment, shelve_s)
            if action is AlarmAction.UNSHELVE:
                return point.unshelve(now, user, comment)
            if action is AlarmAction.OUT_OF_SERVICE:
                return point.set_out_of_service(now, user, comment)
            if action is AlarmAction.RETURN_TO_SERVICE:
                return point.return_to_service(now, user, comment)
            if action is AlarmAction.COMMENT:
                return point.comment(now, user, comment)
            raise AlarmActionDenied(f"{action.value} is not an operator action")
        finally:
            self._hub.origin = None

    def evaluated(self, alarm_id: str) -> bool:
        """Whether the alarm's condition is known (a usable value came since the start)."""
        return self._point(alarm_id).raw is not None

    # -- outputs -------------------------------------------------------------------------------

    def add_listener(self, listener: EventListener) -> None:
        """``listener(event)`` for every transition, in order; exceptions are logged."""
        self._hub.listeners.append(listener)

    def remove_listener(self, listener: EventListener) -> None:
        self._hub.listeners.remove(listener)

    def definition(self, alarm_id: str) -> AlarmDefinition | StationAlarm:
        return cast("AlarmDefinition | StationAlarm", self._point(alarm_id).definition)

    def status(self, alarm_id: str) -> AlarmStatus:
        return self._point(alarm_id).status()

    def statuses(self, states: Iterable[AlarmState]) -> list[AlarmStatus]:
        """Alarms in these states, most urgent priority first, then newest first."""
        shown = self._hub.shown
        points = [p for state in set(states) for p in shown[state].values()]
        points.sort(key=_order)
        return [p.status() for p in points]

    def summary(self) -> list[AlarmStatus]:
        """The alarm summary: every annunciated alarm (active or awaiting acknowledgement)."""
        return self.statuses(ANNUNCIATED)

    def counts(self) -> AlarmCounts:
        shown = self._hub.shown
        active = dict.fromkeys(Priority, 0)
        unack = dict.fromkeys(Priority, 0)
        for state in (AlarmState.UNACK, AlarmState.ACKED):
            for point in shown[state].values():
                active[point.priority] += 1
        for state in UNACKNOWLEDGED:
            for point in shown[state].values():
                unack[point.priority] += 1
        return AlarmCounts(
            active=active,
            unacknowledged=unack,
            annunciated=sum(len(shown[s]) for s in ANNUNCIATED),
            shelved=len(shown[AlarmState.SHELVED]),
            suppressed=len(shown[AlarmState.SUPPRESSED]),
            out_of_service=len(shown[AlarmState.OUT_OF_SERVICE]),
        )

    # -- restart -------------------------------------------------------------------------------

    def snapshot(self, now: float) -> AlarmSnapshot:
        """What a restart needs, for every alarm that is not plain normal."""
        memories = {}
        for alarm_id, point in self._points.items():
            memory = point.remember()
            if memory is not None:
                memories[alarm_id] = memory
        return AlarmSnapshot(taken_at=now, alarms=memories)

    def restore(self, snapshot: AlarmSnapshot, now: float) -> None:
        """Carry a snapshot over a restart, before the first value: out of service stays; a
        timed shelve stays until its expiry (if within today's maximum); a one-shot shelve is
        dropped (whether its alarm cleared meanwhile is unknown); the condition is re-derived
        from fresh values, and an alarm found still active keeps its acknowledgement, one found
        cleared keeps what it still owes (acknowledgement, reset of a latch)."""
        if any(watch.latest is not None for watch in self._watch.values()):
            raise RuntimeError("restore() must come before the first value")
        for alarm_id, memory in snapshot.alarms.items():
            point = self._points.get(alarm_id)
            if point is None:
                log.info("alarm %s in the snapshot is no longer defined; dropped", alarm_id)
                continue
            point.restore(memory, now)

    # -- message fields ------------------------------------------------------------------------

    def _value(self, tag: str) -> Any:
        watch = self._watch.get(tag)
        latest = None if watch is None else watch.latest
        return None if latest is None else latest.value

    def _plain(self, tag: str) -> Any:
        """The value for an expression: None while Bad."""
        watch = self._watch.get(tag)
        latest = None if watch is None else watch.latest
        if latest is None or latest.quality.level is _BAD:
            return None
        return latest.value

    def _fields(self, point: AlarmPoint) -> dict[str, Any]:
        d = point.definition
        fields = {name: self._value(name) for name in d.message.tags}
        fields.update(value=self._value(point.tag), tag=point.tag, id=point.id)
        if isinstance(d, LimitAlarm):
            fields["limit"] = d.limit
        elif isinstance(d, DeviationAlarm):
            fields["limit"] = d.band
            fields["setpoint"] = self._value(d.setpoint)
        elif isinstance(d, RateAlarm):
            fields["limit"] = d.rate
        return fields


def _order(point: AlarmPoint) -> tuple[int, float, int]:
    when = point.activated_at if point.activated_at is not None else point.since
    return (point.priority.rank, -when, point.index)
