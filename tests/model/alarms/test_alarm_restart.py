"""Snapshot and restore across a restart: the condition comes from fresh values, what the
operator did (acknowledged, out of service, timed shelve) is kept, unknown shelve state is not."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.states import AlarmAction, AlarmEvent, AlarmSnapshot, AlarmState
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

S = AlarmState
A = AlarmAction
DEFINITIONS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])
HI = {"id": "L.Hi", "tag": "L", "kind": "hi", "limit": 80}


class Station:
    """One run of an engine; ``restart`` makes the next run from this one's snapshot."""

    def __init__(self, *definitions: dict[str, Any], max_shelve_s: float = 3600) -> None:
        self.definitions = definitions
        self.engine = AlarmEngine(
            DEFINITIONS.validate_python(list(definitions)),
            settings=AlarmSettings(max_shelve_s=max_shelve_s),
        )
        self.events: list[AlarmEvent] = []
        self.engine.add_listener(self.events.append)

    def at(self, t: float, value: Any, quality: Quality = GOOD, tag: str = "L") -> None:
        self.engine.update(tag, TagValue(value, quality, t, t))

    def state(self, alarm_id: str = "L.Hi") -> S:
        return self.engine.status(alarm_id).state

    def restart(self, down_at: float, up_at: float, **kwargs: Any) -> Station:
        saved = self.engine.snapshot(down_at).model_dump_json()
        station = Station(*kwargs.pop("definitions", self.definitions), **kwargs)
        station.engine.restore(AlarmSnapshot.model_validate_json(saved), up_at)
        return station

    def moves(self) -> list[tuple[S, S, A]]:
        return [(e.from_state, e.to_state, e.action) for e in self.events]


@pytest.mark.parametrize(
    ("setup", "fresh", "latching", "after"),
    [
        ("high ack", 90, False, S.ACKED),  # still active: the acknowledgement stands
        ("high ack", 70, False, S.NORMAL),
        ("high", 90, False, S.UNACK),
        ("high", 70, False, S.RTN_UNACK),  # gone, but nobody acknowledged it
        ("high normal", 70, False, S.RTN_UNACK),
        ("high normal", 90, False, S.UNACK),
        ("high ack normal", 70, True, S.LATCHED_ACKED),  # still waits for its reset
        ("high ack normal", 90, True, S.UNACK),
        ("high normal", 70, True, S.LATCHED_UNACK),
        ("high ack", 70, True, S.LATCHED_ACKED),
        ("", 90, False, S.UNACK),
    ],
)
def test_the_condition_is_re_derived_and_the_operators_part_is_kept(
    setup: str, fresh: float, latching: bool, after: S
) -> None:
    first = Station({**HI, "latching": latching})
    t = 100.0
    for step in setup.split():
        t += 1
        if step == "ack":
            first.engine.acknowledge("L.Hi", now=t, user="ann")
        else:
            first.at(t, 90 if step == "high" else 70)
    second = first.restart(t + 1, t + 60)
    assert second.state() is S.NORMAL  # nothing is known before the first fresh value
    second.at(t + 61, fresh)
    assert second.state() is after
    assert all(to is not S.UNACK for _, to, _ in second.moves()) or after is S.UNACK


def test_a_restored_active_alarm_does_not_wait_its_on_delay_again() -> None:
    first = Station({**HI, "on_delay_s": 30})
    first.at(100, 90)
    first.engine.tick(131)
    first.engine.acknowledge("L.Hi", now=132, user="ann")
    second = first.restart(140, 200)
    second.at(201, 90)
    assert second.moves() == [(S.NORMAL, S.ACKED, A.RESTORE)]

    third = second.restart(210, 300)  # taken while it was restored: the same again
    third.at(301, 70)
    assert third.state() is S.NORMAL


def test_an_alarm_that_owed_an_ack_keeps_owing_it_while_its_on_delay_runs() -> None:
    first = Station({**HI, "on_delay_s": 30})
    first.at(100, 90)
    first.engine.tick(131)
    first.at(140, 70)
    second = first.restart(150, 200)
    second.at(201, 90)  # was not active at the restart: a new occurrence, with its delay
    assert second.state() is S.RTN_UNACK
    second.engine.tick(232)
    assert second.state() is S.UNACK


def test_a_bad_first_value_leaves_the_state_to_the_first_good_one() -> None:
    first = Station(HI)
    first.at(100, 90)
    second = first.restart(110, 200)
    second.at(201, None, Quality.bad(QualityReason.INITIAL))
    assert second.state() is S.NORMAL
    assert second.engine.snapshot(202).alarms["L.Hi"].state is S.UNACK
    second.at(203, 95)
    assert second.state() is S.UNACK


def test_timed_shelve_is_kept_until_its_expiry() -> None:
    first = Station(HI)
    first.at(100, 90)
    first.engine.shelve("L.Hi", now=101, user="ann", reason="known", duration_s=600)
    second = first.restart(200, 300)
    assert second.moves() == [(S.NORMAL, S.SHELVED, A.RESTORE)]
    assert second.events[0].user == "ann" and second.events[0].comment == "known"
    second.at(301, 90)
    second.engine.tick(700)
    assert second.state() is S.SHELVED
    second.engine.tick(702)
    assert second.moves()[-1] == (S.SHELVED, S.UNACK, A.SHELVE_ENDED)
    assert second.events[-1].time == 701


@pytest.mark.parametrize(
    ("duration", "up_at", "max_after", "why"),
    [
        (None, 150, 3600, "one-shot state unknown"),
        (60, 200, 3600, "expired"),
        (600, 150, 300, "too long"),  # the maximum was lowered meanwhile
    ],
)
def test_a_shelve_whose_state_is_unknown_or_over_is_dropped(
    duration: float | None, up_at: float, max_after: float, why: str
) -> None:
    first = Station(HI)
    first.at(100, 90)
    first.engine.shelve("L.Hi", now=101, user="ann", reason="known", duration_s=duration)
    second = first.restart(120, up_at, max_shelve_s=max_after)
    assert second.moves() == [(S.NORMAL, S.NORMAL, A.SHELVE_ENDED)]
    assert why in second.events[0].comment
    second.at(up_at + 1, 90)
    assert second.state() is S.UNACK  # shown again: nobody shelved this occurrence


def test_out_of_service_is_kept_and_unknown_alarms_are_ignored() -> None:
    first = Station(HI, {"id": "Old", "tag": "L", "kind": "lo", "limit": 5})
    first.at(100, 1)
    first.engine.set_out_of_service("L.Hi", now=101, user="tech", reason="swap")
    second = first.restart(110, 200, definitions=(HI, {"id": "New", "tag": "L", "kind": "lo",
                                                       "limit": 5}))  # fmt: skip
    assert second.state() is S.OUT_OF_SERVICE
    assert second.engine.status("L.Hi").by == "tech"
    assert second.state("New") is S.NORMAL
    second.at(201, 1)  # "New" alarms; "L.Hi" would too, but is out of service
    assert [(e.alarm_id, e.to_state) for e in second.events] == [
        ("L.Hi", S.OUT_OF_SERVICE), ("New", S.UNACK)
    ]  # fmt: skip


def test_snapshot_holds_only_alarms_that_are_not_plain_normal_and_restore_comes_first() -> None:
    station = Station(HI, {"id": "Quiet", "tag": "L", "kind": "lo", "limit": 5})
    station.at(100, 90)
    snapshot = station.engine.snapshot(101)
    assert set(snapshot.alarms) == {"L.Hi"}
    assert AlarmSnapshot.model_validate_json(snapshot.model_dump_json()) == snapshot
    with pytest.raises(RuntimeError, match="before the first value"):
        station.engine.restore(snapshot, 102)


def test_a_comm_loss_alarm_waits_its_delay_again_since_every_tag_starts_bad() -> None:
    first = Station({"id": "L.Comm", "tag": "L", "kind": "bad_quality", "on_delay_s": 10})
    first.at(100, None, Quality.bad(QualityReason.COMM_FAILURE))
    first.engine.tick(111)
    first.engine.acknowledge("L.Comm", now=112, user="ann")
    second = first.restart(120, 200)
    second.at(200, None, Quality.bad(QualityReason.INITIAL))
    second.at(203, 5.0)  # the connection came up: no alarm, and nothing owed
    second.engine.tick(300)
    assert second.events == [] and second.state("L.Comm") is S.NORMAL
