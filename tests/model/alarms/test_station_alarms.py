"""The station's built-in alarms in the engine alone (no Qt): fed by condition, not by a tag,
high priority, acknowledged like any alarm, never shelved, and their ids reserved."""

from __future__ import annotations

import pytest

from hmi.model.alarms.definitions import DigitalAlarm, check_alarms
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.states import AlarmActionDenied, AlarmEvent, AlarmState
from hmi.model.alarms.station import station_alarms


def test_a_station_condition_raises_and_clears_its_alarm_with_what_was_found() -> None:
    engine = AlarmEngine(station_alarms())
    events: list[AlarmEvent] = []
    engine.add_listener(events.append)
    assert engine.station_conditions == {"audit_trail", "audit_spool", "alarm_share"}
    assert {engine.status(i).priority.value for i in engine.alarm_ids} == {"high"}
    engine.update_station("audit_spool", False, 10.0)
    assert events == []
    engine.update_station("audit_spool", True, 11.0, "the audit spool failed its check (x)")
    status = engine.status("station.audit_spool")
    assert status.state is AlarmState.UNACK and status.tag == "station"
    assert status.value == "the audit spool failed its check (x)"
    assert status.action and "hmi audit spool release" in status.action
    assert engine.counts().active[status.priority] == 1
    assert events[-1].value == "the audit spool failed its check (x)"
    with pytest.raises(AlarmActionDenied):
        engine.shelve("station.audit_spool", now=12.0, user="olga", reason="noise", duration_s=60)
    engine.acknowledge("station.audit_spool", now=13.0, user="olga")
    engine.update_station("audit_spool", False, 14.0)
    assert engine.status("station.audit_spool").state is AlarmState.NORMAL
    engine.update_station("no_such_condition", True, 15.0)  # ignored
    assert engine.status("station.audit_trail").state is AlarmState.NORMAL


def test_the_station_ids_are_reserved_in_the_project() -> None:
    mine = DigitalAlarm(kind="digital", id="station.audit_trail", tag="T", equals=True)
    problems = check_alarms([mine], {"T": None})
    assert [p.field for p in problems] == ["id"]
    assert "built-in alarms" in problems[0].message
