"""One alarm's live state: the ISA-18.2 state machine, without the condition it watches.

A point has two layers. The *condition* comes from the process: ``raw`` is what the latest value
says (with deadband hysteresis), ``active`` is ``raw`` once the on- or off-delay has run
(``due`` is when a pending change completes). The *state* is what the operator sees: the
annunciation state (normal, unack, acked, rtn_unack, latched_*) unless a mask hides it (out of
service, then suppressed by design, then shelved). When the last mask comes off the annunciation
starts afresh: UNACK if the condition is active, else NORMAL. Subclasses in
``alarm_conditions`` turn values into ``raw``; every transition goes through ``_commit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hmi.model.alarms.definitions import _Alarm
from hmi.model.alarms.states import (
    ANNUNCIATED,
    AlarmAction,
    AlarmActionDenied,
    AlarmEvent,
    AlarmMemory,
    AlarmState,
    AlarmStatus,
)

log = logging.getLogger(__name__)

NORMAL = AlarmState.NORMAL
UNACK = AlarmState.UNACK
ACKED = AlarmState.ACKED
RTN_UNACK = AlarmState.RTN_UNACK
LATCHED_UNACK = AlarmState.LATCHED_UNACK
LATCHED_ACKED = AlarmState.LATCHED_ACKED
SHELVED = AlarmState.SHELVED
SUPPRESSED = AlarmState.SUPPRESSED
OUT_OF_SERVICE = AlarmState.OUT_OF_SERVICE

EventListener = Callable[[AlarmEvent], None]


class AlarmHub:
    """What points share: listeners, the event sequence, and the indexes the engine keeps so
    that ticks, counts and the summary never walk every alarm."""

    def __init__(
        self,
        fields: Callable[[AlarmPoint], dict[str, Any]],
        value: Callable[[str], Any],
    ) -> None:
        self.fields = fields  # the message fields of a point (values of the tags it names)
        self.value = value  # the last value of a tag (kept while its quality is Bad)
        self.listeners: list[EventListener] = []
        self.sequence = 0
        self.origin: str | None = None  # set while another station's action is applied
        self.pending: dict[AlarmPoint, None] = {}  # delay running (ordered set)
        self.shelved: dict[AlarmPoint, None] = {}
        self.shown: dict[AlarmState, dict[str, AlarmPoint]] = {s: {} for s in AlarmState}

    def emit(
        self,
        point: AlarmPoint,
        old: AlarmState,
        new: AlarmState,
        action: AlarmAction,
        time: float,
        user: str | None,
        comment: str,
    ) -> AlarmEvent:
        self.sequence += 1
        shelve = action is AlarmAction.SHELVE or (action is AlarmAction.RESTORE and point.shelved)
        event = AlarmEvent(
            self.sequence, point.id, point.tag, point.priority, old, new, action, time,
            point.value(), point.message, user, comment,
            point.shelve_until if shelve else None, point.shelve_s if shelve else None,
            self.origin,
        )  # fmt: skip
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # one broken consumer must not stop the alarm system
                log.exception("alarm event listener %r failed on %s", listener, event)
        return event


class AlarmPoint:
    """Live state of one alarm definition. ``index`` is its place in the project's list."""

    RESTORED_AT_ONCE = True  # after a restart, found still active: no second on-delay

    __slots__ = (
        "activated_at", "active", "ann", "by", "definition", "due", "hub", "id", "index",
        "latching", "max_shelve", "memory", "message", "off_delay", "on_delay", "one_shot", "oos",
        "priority", "raw", "reason", "shelve_s", "shelve_until", "shelved", "shown", "since",
        "stamp", "status_of",
        "suppressed", "tag",
    )  # fmt: skip

    def __init__(
        self,
        definition: _Alarm,  # a project's alarm, or the station's own (``station``)
        index: int,
        hub: AlarmHub,
        max_shelve: float,
    ) -> None:
        self.definition = definition
        self.index = index
        self.hub = hub
        self.id = definition.id
        self.tag = definition.tag
        self.priority = definition.priority
        self.latching = definition.latching
        self.on_delay = definition.on_delay_s
        self.off_delay = definition.off_delay_s
        cap = definition.max_shelve_s
        self.max_shelve = max_shelve if cap is None else min(cap, max_shelve)
        self.raw: bool | None = None  # None: no usable value since start
        self.active = False
        self.due: float | None = None
        self.ann = NORMAL
        self.shown = NORMAL
        self.since = 0.0  # when ``shown`` was entered
        self.stamp = 0.0  # time of the last event: an alarm's events never go back in time
        self.activated_at: float | None = None
        self.shelved = False
        self.one_shot = False
        self.shelve_until: float | None = None
        self.shelve_s: float | None = None  # the duration asked for; None: one-shot or restored
        self.oos = False
        self.suppressed = False
        self.by: str | None = None
        self.reason = ""
        self.message = ""
        self.memory: AlarmMemory | None = None
        self.status_of: tuple[tuple[Any, ...], AlarmStatus] | None = None  # the last status
        hub.shown[NORMAL][self.id] = self

    # -- condition -----------------------------------------------------------------------------

    def value(self) -> Any:
        """The alarm tag's last value, for events and messages."""
        return self.hub.value(self.tag)

    def hold(self, t: float) -> None:
        """No usable value at ``t`` (Bad or Uncertain quality, no value): keep the condition
        and drop a pending change, unless it held through its delay before ``t``."""
        if self.due is not None and t >= self.due:
            self.complete()
        if self.due is not None:
            self.due = None
            self.raw = self.active
            self.hub.pending.pop(self, None)

    def _raw_changed(self, raw: bool, t: float) -> None:
        """Slow path of every condition: ``raw`` differs from the last one seen."""
        if self.due is not None and t >= self.due:
            self.complete()  # the old change held long enough before this value came
        first = self.raw is None
        self.raw = raw
        if first and self.memory is not None:
            self._recall(raw, t)
        if raw is self.active:
            if self.due is not None:
                self.due = None
                self.hub.pending.pop(self, None)
            return
        delay = self.on_delay if raw else self.off_delay
        if delay <= 0:
            self._set_active(raw, t)
        else:
            self.due = t + delay
            self.hub.pending[self] = None

    def complete(self) -> None:
        """The pending change held for its whole delay."""
        due = self.due
        if due is None or self.raw is None:
            return
        self.due = None
        self.hub.pending.pop(self, None)
        self._set_active(self.raw, due)

    def _set_active(self, active: bool, t: float) -> None:
        self.active = active
        if active:
            self.activated_at = t
        if self.oos or self.suppressed or self.shelved:
            if not active and self.shelved and self.one_shot:
                self._end_shelve()
                why = "one-shot: returned to normal"
                self._commit(t, AlarmAction.SHELVE_ENDED, None, why, force=True)
            return
        if active:
            self.ann = UNACK
            self._commit(t, AlarmAction.ACTIVATE)
        else:
            self.ann = _CLEARED[self.latching][self.ann]
            self._commit(t, AlarmAction.CLEAR)

    def set_suppressed(self, suppressed: bool, t: float) -> None:
        if suppressed is self.suppressed:
            return
        self.suppressed = suppressed
        if suppressed:
            self._mask()
            self._commit(t, AlarmAction.SUPPRESS)
        else:
            self._unmask()
            self._commit(t, AlarmAction.UNSUPPRESS)

    # -- state ---------------------------------------------------------------------------------

    def _mask(self) -> None:
        self.ann = NORMAL

    def _unmask(self) -> None:
        if not (self.oos or self.suppressed or self.shelved):
            self.ann = UNACK if self.active else NORMAL

    def _end_shelve(self) -> None:
        self.shelved = self.one_shot = False
        self.shelve_until = self.shelve_s = None
        if not self.oos:
            self.by, self.reason = None, ""
        self.hub.shelved.pop(self, None)
        self._unmask()

    def _commit(
        self,
        t: float,
        action: AlarmAction,
        user: str | None = None,
        comment: str = "",
        force: bool = False,
    ) -> AlarmEvent | None:
        """Work out the shown state; emit an event if it changed (or ``force``: an operator
        action, or a hidden change such as a shelve ending under suppression)."""
        old = self.shown
        if self.oos:
            new = OUT_OF_SERVICE
        elif self.suppressed:
            new = SUPPRESSED
        elif self.shelved:
            new = SHELVED
        else:
            new = self.ann
        if new is old and not force:
            return None
        t = max(t, self.stamp)
        self.stamp = t
        if new is not old:
            self.shown = new
            self.since = t
            shown = self.hub.shown
            del shown[old][self.id]
            shown[new][self.id] = self
        self.message = self.definition.text.render(self.hub.fields(self))
        return self.hub.emit(self, old, new, action, t, user, comment)

    # -- operator actions ----------------------------------------------------------------------

    def _deny(self, what: str) -> AlarmActionDenied:
        return AlarmActionDenied(f"alarm {self.id!r} is {self.shown.value}: {what}")

    def acknowledge(self, t: float, user: str, comment: str = "") -> AlarmEvent:
        after = _ACKNOWLEDGED.get(self.shown)
        if after is None:
            raise self._deny("there is nothing to acknowledge")
        self.ann = after
        return self._forced(t, AlarmAction.ACKNOWLEDGE, user, comment)

    def reset(self, t: float, user: str, comment: str = "") -> AlarmEvent:
        if not self.latching:
            raise self._deny("it is not a latching alarm; acknowledge it instead")
        if self.shown is LATCHED_UNACK:
            raise self._deny("acknowledge it before resetting it")
        if self.shown in (UNACK, ACKED):
            raise self._deny("its condition is still active; reset it once it has cleared")
        if self.shown is not LATCHED_ACKED:
            raise self._deny("there is nothing to reset")
        self.ann = NORMAL
        return self._forced(t, AlarmAction.RESET, user, comment)

    def shelve(self, t: float, user: str, reason: str, duration_s: float | None) -> AlarmEvent:
        """Timed for ``duration_s`` seconds, or one-shot (None): until the condition clears,
        at most the maximum shelve time."""
        if self.oos or self.suppressed:
            raise self._deny("only an alarm in service and not suppressed can be shelved")
        if not reason.strip():
            raise self._deny("shelving needs a reason")
        if self.max_shelve <= 0:
            raise self._deny("this alarm may not be shelved")
        if duration_s is None:
            if not self.active:
                raise self._deny("one-shot shelving is for an active alarm; give a duration")
            until = t + self.max_shelve
        elif not 0 < duration_s <= self.max_shelve:
            raise self._deny(
                f"shelve duration {duration_s:g} s is outside 0 < duration <= "
                f"{self.max_shelve:g} s (the maximum)"
            )
        else:
            until = t + duration_s
        self.shelved, self.one_shot, self.shelve_until = True, duration_s is None, until
        self.shelve_s = duration_s
        self.by, self.reason = user, reason
        self.hub.shelved[self] = None
        self._mask()
        return self._forced(t, AlarmAction.SHELVE, user, reason)

    def unshelve(self, t: float, user: str, reason: str = "") -> AlarmEvent:
        if not self.shelved:
            raise self._deny("it is not shelved")
        self._end_shelve()
        return self._forced(t, AlarmAction.UNSHELVE, user, reason)

    def expire(self, now: float) -> None:
        """End a shelve whose time is up (stamped with its expiry)."""
        until = self.shelve_until
        if self.shelved and until is not None and until <= now:
            self._end_shelve()
            self._commit(until, AlarmAction.SHELVE_ENDED, None, "shelve time is up", True)

    def set_out_of_service(self, t: float, user: str, reason: str) -> AlarmEvent:
        if self.oos:
            raise self._deny("it is already out of service")
        if not reason.strip():
            raise self._deny("taking an alarm out of service needs a reason")
        if self.shelved:
            self._end_shelve()
        self.oos, self.by, self.reason = True, user, reason
        self._mask()
        return self._forced(t, AlarmAction.OUT_OF_SERVICE, user, reason)

    def return_to_service(self, t: float, user: str, reason: str = "") -> AlarmEvent:
        if not self.oos:
            raise self._deny("it is not out of service")
        self.oos, self.by, self.reason = False, None, ""
        self._unmask()
        return self._forced(t, AlarmAction.RETURN_TO_SERVICE, user, reason)

    def comment(self, t: float, user: str, text: str) -> AlarmEvent:
        if not text.strip():
            raise self._deny("a comment needs some text")
        return self._forced(t, AlarmAction.COMMENT, user, text)

    def _forced(self, t: float, action: AlarmAction, user: str, comment: str) -> AlarmEvent:
        event = self._commit(t, action, user, comment, force=True)
        assert event is not None
        return event

    # -- restart -------------------------------------------------------------------------------

    def remember(self) -> AlarmMemory | None:
        """What a restart keeps of this alarm; None when there is nothing to keep."""
        if self.memory is not None:
            return self.memory  # restored, not yet re-derived: carry it over again
        if not (self.oos or self.shelved or self.active or self.ann is not NORMAL):
            return None
        return AlarmMemory(
            state=self.ann,
            active=self.active,
            shelve=("one_shot" if self.one_shot else "timed") if self.shelved else None,
            shelved_until=self.shelve_until,
            out_of_service=self.oos,
            by=self.by,
            reason=self.reason,
        )

    def restore(self, memory: AlarmMemory, now: float) -> None:
        """Out of service and unexpired timed shelves are kept; the rest (acknowledgement, latch)
        waits for the first usable value, which re-derives the condition."""
        if memory.out_of_service:
            self.oos, self.by, self.reason = True, memory.by, memory.reason
            self._commit(now, AlarmAction.RESTORE, memory.by, memory.reason)
            return
        until = memory.shelved_until
        kept = memory.shelve == "timed" and until is not None and now < until
        if kept and until is not None and until <= now + self.max_shelve:
            self.shelved, self.shelve_until = True, until
            self.by, self.reason = memory.by, memory.reason
            self.hub.shelved[self] = None
            self._commit(now, AlarmAction.RESTORE, memory.by, memory.reason)
            return
        if memory.shelve is not None:
            why = "one-shot state unknown" if memory.shelve == "one_shot" else "expired or too long"
            self._commit(now, AlarmAction.SHELVE_ENDED, None, f"dropped on restart: {why}", True)
        if memory.state is not NORMAL or memory.active:
            self.memory = memory

    def _recall(self, raw: bool, t: float) -> None:
        """First usable value after a restore: keep what the operator already did."""
        memory, self.memory = self.memory, None
        assert memory is not None
        if raw and memory.active and self.RESTORED_AT_ONCE:
            self.active, self.activated_at = True, t
            self.ann = ACKED if memory.state in (ACKED, LATCHED_ACKED) else UNACK
        else:
            self.ann = _CLEARED[self.latching][memory.state]
        self._commit(t, AlarmAction.RESTORE, None, "re-derived after a restart")

    # -- views ---------------------------------------------------------------------------------

    def status(self) -> AlarmStatus:
        """The alarm as it is now; the same object again while nothing in it changed (a
        summary in a flood asks for thousands a second, and compares them)."""
        value = self.value()
        until = self.shelve_until if self.shelved else None
        now = (self.shown, self.active, self.since, self.activated_at, self.message, value,
               type(value), until, self.one_shot, self.by, self.reason)  # fmt: skip
        last = self.status_of
        if last is not None and last[0] == now:
            return last[1]
        d = self.definition
        status = AlarmStatus(
            self.id, self.tag, d.kind, self.priority, self.shown, self.active, self.since,
            self.activated_at, self.message, value, d.cause, d.consequence, d.action,
            self.latching, until, self.one_shot, self.by, self.reason,
        )  # fmt: skip
        self.status_of = (now, status)
        return status

    @property
    def annunciated(self) -> bool:
        return self.shown in ANNUNCIATED


# After the condition clears: [latching][state before]
_CLEARED = {
    False: {
        NORMAL: NORMAL, UNACK: RTN_UNACK, ACKED: NORMAL, RTN_UNACK: RTN_UNACK,
        LATCHED_UNACK: RTN_UNACK, LATCHED_ACKED: NORMAL,
    },
    True: {
        NORMAL: NORMAL, UNACK: LATCHED_UNACK, ACKED: LATCHED_ACKED, RTN_UNACK: LATCHED_UNACK,
        LATCHED_UNACK: LATCHED_UNACK, LATCHED_ACKED: LATCHED_ACKED,
    },
}  # fmt: skip
_ACKNOWLEDGED = {UNACK: ACKED, RTN_UNACK: NORMAL, LATCHED_UNACK: LATCHED_ACKED}
