"""The condition of each kind of alarm: from values to ``raw`` (with deadband hysteresis).

The deadband belongs to the *active* state, not to ``raw``: an inactive alarm (even one whose
on-delay runs) tests the raw limit, an active one (even one whose off-delay runs) the limit
less the deadband. So a delay completes only on a violation (or a return) that held for the
whole delay.

``feed`` is the hot path: one or two comparisons, and nothing else unless ``raw`` changes or a
delay has run out. The engine calls it only with usable values (numbers for analog kinds);
Bad quality or a missing value calls ``hold`` instead, which keeps the condition as it is.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from hmi.model.alarms.definitions import (
    AlarmDefinition,
    ConnectionAlarm,
    DeviationAlarm,
    DigitalAlarm,
    LimitAlarm,
    QualityAlarm,
    RateAlarm,
)
from hmi.model.alarms.points import AlarmHub, AlarmPoint
from hmi.model.alarms.station import StationAlarm, StationPoint

__all__ = [
    "ConnectionPoint",
    "DeviationPoint",
    "DigitalPoint",
    "HighPoint",
    "LowPoint",
    "QualityPoint",
    "RatePoint",
    "ValuePoint",
    "make_point",
]


class ValuePoint(AlarmPoint):
    """An alarm fed with the values of its tag."""

    __slots__ = ()

    def feed(self, v: Any, t: float) -> None:
        raise NotImplementedError


class HighPoint(ValuePoint):
    """HiHi/Hi: active above ``limit``, clear below ``limit - deadband``."""

    __slots__ = ("clear", "limit")

    def __init__(self, d: LimitAlarm, index: int, hub: AlarmHub, max_shelve: float) -> None:
        super().__init__(d, index, hub, max_shelve)
        self.limit = d.limit
        self.clear = d.limit - d.deadband

    def feed(self, v: float, t: float) -> None:
        if self.due is not None and t >= self.due:
            self.complete()
        raw = v >= self.clear if self.active else v > self.limit
        if raw is not self.raw:
            self._raw_changed(raw, t)


class LowPoint(ValuePoint):
    """Lo/LoLo: active below ``limit``, clear above ``limit + deadband``."""

    __slots__ = ("clear", "limit")

    def __init__(self, d: LimitAlarm, index: int, hub: AlarmHub, max_shelve: float) -> None:
        super().__init__(d, index, hub, max_shelve)
        self.limit = d.limit
        self.clear = d.limit + d.deadband

    def feed(self, v: float, t: float) -> None:
        if self.due is not None and t >= self.due:
            self.complete()
        raw = v <= self.clear if self.active else v < self.limit
        if raw is not self.raw:
            self._raw_changed(raw, t)


class DigitalPoint(ValuePoint):
    """Active while the value equals the state (or differs from it, ``not_equals``)."""

    __slots__ = ("negate", "state")

    def __init__(self, d: DigitalAlarm, index: int, hub: AlarmHub, max_shelve: float) -> None:
        super().__init__(d, index, hub, max_shelve)
        self.negate = d.equals is None
        self.state = d.not_equals if self.negate else d.equals

    def feed(self, v: Any, t: float) -> None:
        raw = bool(v == self.state) is not self.negate
        if raw is self.raw:
            if self.due is not None and t >= self.due:
                self.complete()
            return
        self._raw_changed(raw, t)


class DeviationPoint(ValuePoint):
    """Active while the value is more than ``band`` from the setpoint tag's value."""

    __slots__ = ("band", "clear", "direction", "pv", "sp")

    def __init__(self, d: DeviationAlarm, index: int, hub: AlarmHub, max_shelve: float) -> None:
        super().__init__(d, index, hub, max_shelve)
        self.band = d.band
        self.clear = d.band - d.deadband
        self.direction = {"both": 0, "above": 1, "below": -1}[d.direction]
        self.pv: float | None = None
        self.sp: float | None = None

    def feed(self, v: float, t: float) -> None:
        self.pv = v
        self._evaluate(t)

    def feed_setpoint(self, v: float, t: float) -> None:
        self.sp = v
        self._evaluate(t)

    def hold(self, t: float) -> None:
        self.pv = None
        super().hold(t)

    def hold_setpoint(self, t: float) -> None:
        self.sp = None
        super().hold(t)

    def _evaluate(self, t: float) -> None:
        if self.pv is None or self.sp is None:
            return
        d = self.pv - self.sp
        d = abs(d) if self.direction == 0 else d * self.direction
        if self.due is not None and t >= self.due:
            self.complete()
        raw = d >= self.clear if self.active else d > self.band
        if raw is not self.raw:
            self._raw_changed(raw, t)


class RatePoint(ValuePoint):
    """Active while the change over the last ``window_s`` (values held between samples),
    divided by the window, is beyond ``rate``. Unknown until the samples span a window."""

    __slots__ = ("clear", "direction", "history", "rate", "window")

    def __init__(self, d: RateAlarm, index: int, hub: AlarmHub, max_shelve: float) -> None:
        super().__init__(d, index, hub, max_shelve)
        self.rate = d.rate
        self.clear = d.rate - d.deadband
        self.window = d.window_s
        self.direction = {"both": 0, "rising": 1, "falling": -1}[d.direction]
        self.history: deque[tuple[float, float]] = deque()

    def feed(self, v: float, t: float) -> None:
        self.history.append((t, v))
        self.evaluate(t)

    def hold(self, t: float) -> None:
        self.history.clear()
        super().hold(t)

    def evaluate(self, now: float) -> None:
        """Also run on every tick: a rate falls back to zero when the value stops moving."""
        h = self.history
        if not h:
            return
        now = max(now, h[-1][0])
        cutoff = now - self.window
        while len(h) > 1 and h[1][0] <= cutoff:
            h.popleft()
        if h[0][0] > cutoff:
            return  # the samples do not span a whole window yet
        r = (h[-1][1] - h[0][1]) / self.window
        r = abs(r) if self.direction == 0 else r * self.direction
        if self.due is not None and now >= self.due:
            self.complete()
        raw = r >= self.clear if self.active else r > self.rate
        if raw is not self.raw:
            self._raw_changed(raw, now)


class QualityPoint(AlarmPoint):
    """Communication lost: active while the tag's quality is Bad (after the on-delay)."""

    __slots__ = ()
    RESTORED_AT_ONCE = False  # every tag starts Bad(Initial): that is no evidence of a loss

    def feed_quality(self, bad: bool, t: float) -> None:
        if bad is self.raw:
            if self.due is not None and t >= self.due:
                self.complete()
            return
        self._raw_changed(bad, t)


class ConnectionPoint(QualityPoint):
    """Communication lost with a connection: active while it is disconnected or failed (after
    the on-delay), fed from the connection's health rather than from a tag."""

    __slots__ = ()

    def feed_connection(self, lost: bool, t: float) -> None:
        self.feed_quality(lost, t)


def make_point(
    definition: AlarmDefinition | StationAlarm, index: int, hub: AlarmHub, max_shelve: float
) -> AlarmPoint:
    """The live point for a definition."""
    if isinstance(definition, StationAlarm):
        return StationPoint(definition, index, hub, max_shelve)
    if isinstance(definition, LimitAlarm):
        kind = HighPoint if definition.rising else LowPoint
        return kind(definition, index, hub, max_shelve)
    if isinstance(definition, DigitalAlarm):
        return DigitalPoint(definition, index, hub, max_shelve)
    if isinstance(definition, DeviationAlarm):
        return DeviationPoint(definition, index, hub, max_shelve)
    if isinstance(definition, RateAlarm):
        return RatePoint(definition, index, hub, max_shelve)
    if isinstance(definition, ConnectionAlarm):
        return ConnectionPoint(definition, index, hub, max_shelve)
    if isinstance(definition, QualityAlarm):
        return QualityPoint(definition, index, hub, max_shelve)
    raise TypeError(f"no alarm point for {type(definition).__name__}")
