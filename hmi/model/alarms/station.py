"""Alarms of the station itself, built in: the engineer neither writes nor can forget them.

A station condition is not read from a tag but reported by the station's own services; today
the audit trail's trust (``hmi.storage.trail.TrailStatus``):

* ``station.audit_trail``: the central chain no longer extends the head this station witnessed
  (records cut off the end, the chain reset or rewritten). The trail says so until the station
  restarts (its witness starts again from the chain as it is after the incident).
* ``station.audit_spool``: the spool failed its check before forwarding; it is kept as evidence
  and held. Clears when an administrator releases the hold (``hmi audit spool release``).
* ``station.alarm_share``: another station's journalled alarm action came without the audit
  record that backs it (``hmi.runtime.alarm_share``) and was refused, not applied. It stands
  until the station restarts, like the audit trail's: a forged row means someone holds the
  station role's credentials.

One more lives with its settings: ``station.forwarding`` (``hmi.model.forwarding``), forwarding
to the SIEM failing for ``forwarding.alarm_after_s``, present when a collector is configured.

They are high priority, journalled and acknowledged like any alarm, and never shelved: an
operator must not be able to hide them. They cannot be written in ``alarms:`` (the ids under
``station.`` are reserved), so every project has them, with the same meaning everywhere.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from hmi.model.alarms.definitions import MessageTemplate, Priority, _Alarm
from hmi.model.alarms.points import AlarmHub, AlarmPoint

__all__ = [
    "STATION_PREFIX",
    "StationAlarm",
    "StationCondition",
    "StationPoint",
    "station_alarm_id",
    "station_alarms",
]

StationCondition = Literal["audit_trail", "audit_spool", "alarm_share"]
STATION_PREFIX = "station."
STATION_TAG = "station"  # what the summary's tag column shows


def station_alarm_id(condition: str) -> str:
    return f"{STATION_PREFIX}{condition}"


class StationAlarm(_Alarm):
    """A condition of the station, reported by the station's services (not in ``alarms:``)."""

    kind: Literal["station"]
    condition: StationCondition
    tag: str = STATION_TAG
    priority: Priority = Priority.HIGH
    max_shelve_s: float | None = Field(default=0, ge=0, description="0: never shelved")

    @model_validator(mode="after")
    def _station_tag(self) -> StationAlarm:
        object.__setattr__(self, "tag", STATION_TAG)
        return self

    def referenced_tags(self) -> frozenset[str]:
        return frozenset(self.message.tags)


class StationPoint(AlarmPoint):
    """Active while the station reports its condition; the report's text is the alarm's value
    (so the journal keeps what was found)."""

    __slots__ = ("condition", "detail")

    def __init__(self, d: StationAlarm, index: int, hub: AlarmHub, max_shelve: float) -> None:
        super().__init__(d, index, hub, max_shelve)
        self.condition: str = d.condition
        self.detail = ""

    def value(self) -> Any:
        return self.detail or None

    def feed_station(self, active: bool, t: float, detail: str = "") -> None:
        if active:
            self.detail = detail
        if active is self.raw:
            if self.due is not None and t >= self.due:
                self.complete()
            return
        self._raw_changed(active, t)


_BUILT_IN: dict[StationCondition, dict[str, str]] = {
    "audit_trail": {
        "message": "Audit chain cut back: records this station saw are missing",
        "cause": "records were cut off the end of the audit chain, or the chain was reset or "
        "rewritten, by someone with the database owner's rights (recorded as "
        "audit_chain_behind, with what was found)",
        "consequence": "the audit trail of the site is no longer complete: records that this "
        "station saw are missing from the central database",
        "action": "tell IT security and the quality unit; keep the station running; compare the "
        "chain with the auditors' checkpoints (hmi audit verify --checkpoint FILE); the head "
        "this station saw is kept in its data folder (audit-witness-*.behind-*.json)",
    },
    "audit_spool": {
        "message": "Audit spool rejected: kept as evidence, not forwarded",
        "cause": "the records this station kept while the central database was away were "
        "changed, deleted or damaged on the station (recorded as audit_spool_rejected)",
        "consequence": "audited actions are refused on this station until an administrator "
        "decides (policy refuse), or go on with a warning (policy warn); the spool is kept as "
        "evidence",
        "action": "call an administrator: hmi audit spool show, then, once decided, "
        "hmi audit spool release --reason TEXT",
    },
    "alarm_share": {
        "message": "Shared alarm action refused: it has no audit record",
        "cause": "the shared alarm journal says an operator on another station acted on an "
        "alarm, but the central audit trail holds no sound record of that action: the row was "
        "written by hand with the station role's credentials, or its record was removed or "
        "altered (recorded as alarm_share_refused, with the row, alarm, user and station)",
        "consequence": "the action was not applied here: this station's state of that alarm "
        "may differ from the station named in the row; an alarm is not shelved, silenced or "
        "taken out of service by a row nobody is accountable for",
        "action": "tell IT security (whoever wrote the row holds the station role's "
        "credentials); compare the alarm with the station named in the row; the refusals are "
        "in the audit trail (action alarm_share_refused) and the station's log",
    },
}


def station_alarms() -> tuple[StationAlarm, ...]:
    """The station's built-in alarms, after the project's (their index comes last)."""
    return tuple(
        StationAlarm(
            kind="station",
            id=station_alarm_id(condition),
            condition=condition,
            message=MessageTemplate(texts["message"]),
            cause=texts["cause"],
            consequence=texts["consequence"],
            action=texts["action"],
        )
        for condition, texts in _BUILT_IN.items()
    )
