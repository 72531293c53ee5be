"""Alarm states (ISA-18.2 / IEC 62682), the events a transition produces, and what the banner,
summary and restart need to know. Pure data: the machine is ``hmi.model.alarms.engine``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hmi.model.alarms.definitions import Priority
from hmi.model.audit.record import AuditAction
from hmi.model.errors import HmiError

__all__ = [
    "ANNUNCIATED",
    "UNACKNOWLEDGED",
    "AlarmAction",
    "AlarmActionDenied",
    "AlarmCounts",
    "AlarmEvent",
    "AlarmMemory",
    "AlarmSnapshot",
    "AlarmState",
    "AlarmStatus",
]


class AlarmActionDenied(HmiError):
    """An operator action that does not apply to the alarm as it is now (acknowledging a normal
    alarm, shelving beyond the maximum, resetting an alarm whose condition is still there)."""


class AlarmState(StrEnum):
    """What the operator sees; letters are those of the ISA-18.2 state diagram."""

    NORMAL = "normal"  # A
    UNACK = "unack"  # B: active, unacknowledged
    ACKED = "acked"  # C: active, acknowledged
    RTN_UNACK = "rtn_unack"  # D: returned to normal, unacknowledged
    LATCHED_UNACK = "latched_unack"  # E: latching, returned to normal, unacknowledged
    LATCHED_ACKED = "latched_acked"  # F: latching, acknowledged, waiting for a reset
    SHELVED = "shelved"  # G
    SUPPRESSED = "suppressed"  # H: suppressed by design
    OUT_OF_SERVICE = "out_of_service"  # I


ANNUNCIATED = frozenset(
    {
        AlarmState.UNACK,
        AlarmState.ACKED,
        AlarmState.RTN_UNACK,
        AlarmState.LATCHED_UNACK,
        AlarmState.LATCHED_ACKED,
    }
)
"""States shown in the alarm summary and counted on the banner."""

UNACKNOWLEDGED = frozenset({AlarmState.UNACK, AlarmState.RTN_UNACK, AlarmState.LATCHED_UNACK})


class AlarmAction(StrEnum):
    """Why a transition happened."""

    ACTIVATE = "activate"  # the condition came (after the on-delay)
    CLEAR = "clear"  # the condition went (after the off-delay)
    ACKNOWLEDGE = "acknowledge"
    RESET = "reset"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELVE_ENDED = "shelve_ended"  # timed expiry, one-shot return to normal, dropped on restart
    SUPPRESS = "suppress"  # by design: the suppression condition became true
    UNSUPPRESS = "unsuppress"
    OUT_OF_SERVICE = "out_of_service"
    RETURN_TO_SERVICE = "return_to_service"
    COMMENT = "comment"
    RESTORE = "restore"  # state carried over a restart


OPERATOR_ACTIONS = frozenset(
    {
        AlarmAction.ACKNOWLEDGE,
        AlarmAction.RESET,
        AlarmAction.SHELVE,
        AlarmAction.UNSHELVE,
        AlarmAction.OUT_OF_SERVICE,
        AlarmAction.RETURN_TO_SERVICE,
        AlarmAction.COMMENT,
    }
)

AUDITED_AS = {
    AlarmAction.ACKNOWLEDGE: AuditAction.ALARM_ACK,
    AlarmAction.RESET: AuditAction.ALARM_RESET,
    AlarmAction.SHELVE: AuditAction.ALARM_SHELVE,
    AlarmAction.UNSHELVE: AuditAction.ALARM_UNSHELVE,
    AlarmAction.OUT_OF_SERVICE: AuditAction.ALARM_OUT_OF_SERVICE,
    AlarmAction.RETURN_TO_SERVICE: AuditAction.ALARM_IN_SERVICE,
    AlarmAction.COMMENT: AuditAction.ALARM_COMMENT,
}
"""The audit action each operator action is recorded as: what the command service writes
(``hmi.runtime.audit``) and what another station looks for before it applies the action
(``hmi.storage.shared.alarm_seal``)."""


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One transition of one alarm (or an operator's comment, where from and to are equal).
    ``sequence`` orders every event of an engine; ``time`` is POSIX seconds: the value's source
    time, when a delay ran out, or when the operator acted."""

    sequence: int
    alarm_id: str
    tag: str
    priority: Priority
    from_state: AlarmState
    to_state: AlarmState
    action: AlarmAction
    time: float
    value: Any
    message: str
    user: str | None = None
    comment: str = ""
    shelved_until: float | None = None  # a shelve (or a restored one): when it ends at the latest
    shelve_s: float | None = None  # a shelve: the duration asked for (None: one-shot)
    origin: str | None = None  # another station's action applied here (its name); None: ours


@dataclass(frozen=True, slots=True)
class AlarmStatus:
    """One alarm as the summary shows it. ``active``: the process condition is there now
    (after delays); ``activated_at``: when it last came; ``since``: when ``state`` was entered.
    ``shelved_until`` is set while shelved (one-shot shelves end sooner if the alarm clears)."""

    alarm_id: str
    tag: str
    kind: str
    priority: Priority
    state: AlarmState
    active: bool
    since: float
    activated_at: float | None
    message: str
    value: Any
    cause: str
    consequence: str
    action: str
    latching: bool
    shelved_until: float | None = None
    one_shot: bool = False
    by: str | None = None  # who shelved it or took it out of service
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AlarmCounts:
    """Banner figures. ``active`` counts alarms whose state is annunciated and not cleared
    (UNACK, ACKED); ``unacknowledged`` counts UNACK, RTN_UNACK and LATCHED_UNACK; both are keyed
    by priority. ``annunciated`` is the length of the summary list."""

    active: dict[Priority, int]
    unacknowledged: dict[Priority, int]
    annunciated: int
    shelved: int
    suppressed: int
    out_of_service: int


class AlarmMemory(BaseModel):
    """What survives a restart of one alarm: see ``AlarmEngine.restore`` for the rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: AlarmState  # the annunciation state under any shelve/suppression/out-of-service
    active: bool
    shelve: Literal["timed", "one_shot"] | None = None
    shelved_until: float | None = None
    out_of_service: bool = False
    by: str | None = None
    reason: str = ""


class AlarmSnapshot(BaseModel):
    """Every alarm that is not plain normal, at ``taken_at``; JSON-able for the journal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    taken_at: float
    alarms: dict[str, AlarmMemory] = {}
