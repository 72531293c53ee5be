"""The alarm engine's rules one at a time: delays, deadband, quality, kinds, shelving,
suppression, out of service, latching, messages, summary order and counts."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest
from pydantic import TypeAdapter

from hmi.model.alarm_engine import AlarmEngine
from hmi.model.alarm_states import AlarmAction, AlarmActionDenied, AlarmEvent, AlarmState
from hmi.model.alarms import AlarmDefinition, AlarmSettings, Priority
from hmi.model.errors import ConfigError
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

S = AlarmState
A = AlarmAction
DEFINITIONS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])
BAD = Quality.bad(QualityReason.COMM_FAILURE)


class Rig:
    def __init__(self, *definitions: dict[str, Any], max_shelve_s: float = 100) -> None:
        self.engine = AlarmEngine(
            DEFINITIONS.validate_python(list(definitions)),
            settings=AlarmSettings(max_shelve_s=max_shelve_s),
        )
        self.events: list[AlarmEvent] = []
        self.engine.add_listener(self.events.append)
        self.t = 1000.0

    def at(self, t: float, tag: str, value: Any, quality: Quality = GOOD) -> None:
        self.t = t
        self.engine.update(tag, TagValue(value, quality, t, t))

    def tick(self, t: float) -> None:
        self.t = t
        self.engine.tick(t)

    def state(self, alarm_id: str) -> S:
        return self.engine.status(alarm_id).state

    def moves(self, alarm_id: str | None = None) -> list[tuple[float, S, A]]:
        return [
            (e.time, e.to_state, e.action)
            for e in self.events
            if alarm_id is None or e.alarm_id == alarm_id
        ]


def hi(**extra: Any) -> dict[str, Any]:
    return {"id": "L.Hi", "tag": "L", "kind": "hi", "limit": 80, **extra}


# -- delays ----------------------------------------------------------------------------------


def test_on_delay_completes_on_a_later_value_or_on_a_tick_at_its_due_time() -> None:
    rig = Rig(hi(on_delay_s=5))
    rig.at(100, "L", 85)
    rig.at(103, "L", 86)
    assert rig.events == []
    rig.at(106, "L", 87)  # held from 100 to 106: active since 105
    assert rig.moves() == [(105, S.UNACK, A.ACTIVATE)]

    rig = Rig(hi(on_delay_s=5))
    rig.at(100, "L", 85)
    rig.tick(104.9)
    assert rig.events == []
    rig.tick(106)
    assert rig.moves() == [(105, S.UNACK, A.ACTIVATE)]


def test_on_delay_restarts_when_the_condition_goes_away_before_it_ran_out() -> None:
    rig = Rig(hi(on_delay_s=5))
    rig.at(100, "L", 85)
    rig.at(103, "L", 70)
    rig.at(104, "L", 85)
    rig.tick(108.5)
    assert rig.events == []
    rig.tick(109)
    assert rig.moves() == [(109, S.UNACK, A.ACTIVATE)]


def test_off_delay_keeps_the_alarm_until_the_condition_has_been_gone_long_enough() -> None:
    rig = Rig(hi(off_delay_s=10))
    rig.at(100, "L", 90)
    rig.at(110, "L", 70)
    rig.at(115, "L", 90)  # back before the off-delay ran out: still the same alarm
    rig.at(116, "L", 70)
    rig.tick(125)
    assert rig.moves() == [(100, S.UNACK, A.ACTIVATE)]
    rig.tick(126)
    assert rig.moves()[-1] == (126, S.RTN_UNACK, A.CLEAR)


def test_a_change_that_held_through_its_delay_completes_before_the_next_change() -> None:
    rig = Rig(hi(on_delay_s=2))
    rig.at(100, "L", 90)
    rig.at(105, "L", 70)  # no tick came; the alarm was real from 102 to 105
    assert rig.moves() == [(102, S.UNACK, A.ACTIVATE), (105, S.RTN_UNACK, A.CLEAR)]


def test_the_on_delay_needs_the_raw_limit_exceeded_for_the_whole_delay() -> None:
    rig = Rig(hi(limit=90, deadband=5, on_delay_s=3))
    rig.at(100, "L", 91)
    rig.at(101, "L", 87)  # inside the deadband: no longer past the limit
    rig.tick(104)
    assert rig.events == []
    rig.at(105, "L", 91)
    rig.at(106, "L", 90.5)
    rig.tick(108)
    assert rig.moves() == [(108, S.UNACK, A.ACTIVATE)]


def test_the_off_delay_needs_the_value_back_past_the_deadband_for_the_whole_delay() -> None:
    rig = Rig(hi(limit=90, deadband=5, off_delay_s=3))
    rig.at(100, "L", 95)
    rig.at(110, "L", 80)
    rig.at(111, "L", 87)  # back inside the deadband: the alarm has not gone
    rig.tick(114)
    assert rig.moves() == [(100, S.UNACK, A.ACTIVATE)]
    rig.at(115, "L", 84)
    rig.at(116, "L", 89)  # still active, but nothing new: the alarm stays as it is
    rig.at(117, "L", 80)
    rig.tick(119.9)
    assert rig.moves() == [(100, S.UNACK, A.ACTIVATE)]
    rig.tick(120)
    assert rig.moves()[-1] == (120, S.RTN_UNACK, A.CLEAR)


@pytest.mark.parametrize(
    ("definition", "tag", "values"),
    [
        ({"id": "Lo", "tag": "L", "kind": "lo", "limit": 10, "deadband": 5}, "L", (9, 13)),
        ({"id": "Dev", "tag": "L", "kind": "deviation", "setpoint": "SP", "band": 10,
          "deadband": 5}, "L", (61, 57)),
    ],
)  # fmt: skip
def test_the_on_delay_of_lo_and_deviation_alarms_tests_the_raw_limit(
    definition: dict[str, Any], tag: str, values: tuple[float, float]
) -> None:
    rig = Rig({**definition, "on_delay_s": 3, "off_delay_s": 3})
    rig.at(99, "SP", 50)
    rig.at(100, tag, values[0])
    rig.at(101, tag, values[1])
    rig.tick(104)
    assert rig.events == []
    rig.at(105, tag, values[0])
    rig.tick(108)
    assert rig.moves() == [(108, S.UNACK, A.ACTIVATE)]
    rig.at(110, tag, 50 if definition["kind"] == "deviation" else 20)
    rig.at(111, tag, values[1])  # inside the deadband: not gone
    rig.tick(115)
    assert rig.moves() == [(108, S.UNACK, A.ACTIVATE)]


def test_the_on_delay_of_a_rate_alarm_tests_the_raw_rate() -> None:
    rig = Rig({"id": "R", "tag": "L", "kind": "rate", "rate": 1, "deadband": 0.5,
               "window_s": 2, "on_delay_s": 3})  # fmt: skip
    rig.at(100, "L", 0)
    rig.at(102, "L", 2.2)  # 1.1/s
    rig.at(103, "L", 1.6)  # (1.6 - 0) / 2 s is 0.8/s: in the deadband, not past the rate
    rig.tick(106)
    assert rig.moves("R") == []


# -- deadband and quality --------------------------------------------------------------------


def test_deadband_stops_chatter_from_noise_smaller_than_the_deadband() -> None:
    rig = Rig(hi(deadband=2), {"id": "L.Lo", "tag": "L", "kind": "lo", "limit": 20, "deadband": 2})
    noise = random.Random(7)
    t = 100.0
    for centre in (80, 20):
        for _ in range(500):
            t += 0.1
            rig.at(t, "L", centre + noise.uniform(-0.9, 0.9))
    assert [(e.alarm_id, e.to_state) for e in rig.events] == [
        ("L.Hi", S.UNACK), ("L.Hi", S.RTN_UNACK), ("L.Lo", S.UNACK)
    ]  # fmt: skip


def test_an_analog_alarm_clears_only_past_the_limit_less_the_deadband() -> None:
    rig = Rig(hi(deadband=2))
    rig.at(100, "L", 80)
    assert rig.state("L.Hi") is S.NORMAL  # at the limit is not past it
    rig.at(101, "L", 80.1)
    rig.at(102, "L", 78)
    assert rig.state("L.Hi") is S.UNACK
    rig.at(103, "L", 77.9)
    assert rig.state("L.Hi") is S.RTN_UNACK


def test_bad_values_neither_raise_nor_clear_a_limit_alarm_and_comm_loss_covers_them() -> None:
    rig = Rig(hi(on_delay_s=2), {"id": "L.Comm", "tag": "L", "kind": "bad_quality"})
    rig.at(100, "L", 90)
    rig.at(101, "L", 95, BAD)  # the pending on-delay is dropped: nothing is known now
    rig.tick(110)
    assert rig.moves("L.Hi") == []
    assert rig.moves("L.Comm") == []
    rig.tick(112)
    assert rig.moves("L.Comm") == [(111, S.UNACK, A.ACTIVATE)]  # Bad for 10 s (default)
    rig.at(113, "L", 90)
    rig.at(116, "L", 90)
    assert rig.moves("L.Hi") == [(115, S.UNACK, A.ACTIVATE)]
    assert rig.moves("L.Comm")[-1] == (113, S.RTN_UNACK, A.CLEAR)
    rig.at(120, "L", 10, BAD)  # a dead sensor reading low does not clear the alarm
    rig.tick(200)
    assert rig.state("L.Hi") is S.UNACK
    assert rig.engine.status("L.Hi").value == 10  # the last value is still shown


def test_uncertain_holds_the_alarm_state_by_default_and_nan_none_and_text_hold_too() -> None:
    last_usable = Quality.uncertain(QualityReason.LAST_USABLE)
    rig = Rig(hi(), {"id": "L.Lo", "tag": "L", "kind": "lo", "limit": 20})
    rig.at(100, "L", 90, last_usable)  # a stale value raises nothing ...
    assert rig.events == []
    rig.at(101, "L", 90)
    assert rig.state("L.Hi") is S.UNACK
    rig.at(102, "L", 10, last_usable)  # ... and clears nothing: all is well is not known
    assert rig.state("L.Hi") is S.UNACK and rig.state("L.Lo") is S.NORMAL
    for t, junk in enumerate((float("nan"), None, "n/a"), 103):
        rig.at(t, "L", junk)
        assert rig.engine.status("L.Hi").active
    rig.at(110, "L", 10)
    assert rig.state("L.Hi") is S.RTN_UNACK
    assert rig.state("L.Lo") is S.UNACK


def test_a_delay_that_ran_out_before_a_bad_value_came_completes_first() -> None:
    rig = Rig(hi(on_delay_s=2))
    rig.at(100, "L", 90)
    rig.at(105, "L", 90, BAD)  # no tick came between: it held from 100 to 105
    assert rig.moves() == [(102, S.UNACK, A.ACTIVATE)]


def test_uncertain_drops_a_running_delay_like_bad_quality() -> None:
    rig = Rig(hi(on_delay_s=3))
    rig.at(100, "L", 90)
    rig.at(101, "L", 90, Quality.uncertain(QualityReason.SUB_NORMAL))
    rig.tick(110)
    assert rig.events == []


def test_an_alarm_may_evaluate_uncertain_values() -> None:
    rig = Rig(hi(uncertain="evaluate"), {"id": "D", "tag": "S", "kind": "digital", "equals": 1})
    unsure = Quality.uncertain(QualityReason.LAST_USABLE)
    rig.at(100, "L", 90, unsure)
    rig.at(100, "S", 1, unsure)  # digital holds by default
    assert rig.state("L.Hi") is S.UNACK and rig.state("D") is S.NORMAL
    rig.at(101, "L", 10, unsure)
    assert rig.state("L.Hi") is S.RTN_UNACK


def test_the_deviation_setpoint_follows_its_alarms_uncertain_rule() -> None:
    dev = {"id": "Dev", "tag": "PV", "kind": "deviation", "setpoint": "SP", "band": 5}
    rig = Rig(dev)
    rig.at(100, "SP", 50)
    rig.at(100, "PV", 50)
    rig.at(101, "SP", 80, Quality.uncertain(QualityReason.LAST_USABLE))
    assert rig.state("Dev") is S.NORMAL
    rig.at(102, "SP", 80)
    assert rig.state("Dev") is S.UNACK


def test_time_never_runs_backwards_per_tag_and_source_time_falls_back_to_receive_time() -> None:
    rig = Rig(hi())
    rig.at(100, "L", 90)
    rig.engine.update("L", TagValue(70, GOOD, 50.0, 50.0))  # an old timestamp
    rig.engine.update("L", TagValue(90, GOOD, None, 200.0))
    assert [t for t, _, _ in rig.moves()] == [100, 100, 200]


# -- kinds -----------------------------------------------------------------------------------


def test_digital_alarms_on_equals_and_not_equals() -> None:
    rig = Rig(
        {"id": "P.Trip", "tag": "P", "kind": "digital", "equals": 1},
        {"id": "M.Mode", "tag": "M", "kind": "digital", "not_equals": "AUTO"},
    )
    rig.at(100, "P", True)
    rig.at(100, "M", "AUTO")
    rig.at(101, "P", 0)
    rig.at(101, "M", "MANUAL")
    assert [(e.alarm_id, e.to_state) for e in rig.events] == [
        ("P.Trip", S.UNACK), ("P.Trip", S.RTN_UNACK), ("M.Mode", S.UNACK)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("direction", "pv", "expected"),
    [("both", 39, True), ("both", 61, True), ("above", 39, False), ("below", 39, True)],
)
def test_deviation_from_a_setpoint_tag(direction: str, pv: float, expected: bool) -> None:
    rig = Rig({"id": "F.Dev", "tag": "F", "kind": "deviation", "setpoint": "F.SP", "band": 10,
               "deadband": 2, "direction": direction})  # fmt: skip
    rig.at(100, "F", pv)
    assert rig.events == []  # no setpoint yet
    rig.at(101, "F.SP", 50)
    assert rig.engine.status("F.Dev").active is expected


def test_deviation_follows_setpoint_changes_with_deadband_and_holds_on_a_bad_setpoint() -> None:
    rig = Rig({"id": "F.Dev", "tag": "F", "kind": "deviation", "setpoint": "F.SP", "band": 10,
               "deadband": 2, "message": "flow {value} vs {setpoint}, band {limit}"})  # fmt: skip
    rig.at(100, "F", 50)
    rig.at(100, "F.SP", 50)
    rig.at(101, "F.SP", 65)
    assert rig.events[-1].message == "flow 50 vs 65, band 10.0"
    rig.at(102, "F.SP", 41)  # deviation 9: inside the band but not past the deadband
    assert rig.state("F.Dev") is S.UNACK
    rig.at(103, "F.SP", 0, BAD)
    rig.at(104, "F", 44)  # no setpoint: no verdict
    assert rig.state("F.Dev") is S.UNACK
    rig.at(105, "F.SP", 45)
    assert rig.moves()[-1] == (105, S.RTN_UNACK, A.CLEAR)


def test_rate_of_change_over_a_window_clears_when_the_value_stops_moving() -> None:
    rig = Rig({"id": "T.Rate", "tag": "T", "kind": "rate", "rate": 1.0, "window_s": 10,
               "direction": "rising"})  # fmt: skip
    rig.at(100, "T", 0)
    rig.at(105, "T", 50)  # fast, but the samples do not span a window yet
    assert rig.events == []
    rig.at(110, "T", 51)  # 51 units over the last 10 s
    assert rig.moves() == [(110, S.UNACK, A.ACTIVATE)]
    rig.tick(114)  # still 51 - 0 over 10 s (0 held until 105)
    assert rig.state("T.Rate") is S.UNACK
    rig.tick(116)  # 51 - 50 over 10 s
    assert rig.moves()[-1] == (116, S.RTN_UNACK, A.CLEAR)
    rig.at(130, "T", 0)  # falling fast is not this alarm's direction
    rig.tick(135)
    assert rig.moves()[-1] == (116, S.RTN_UNACK, A.CLEAR)


def test_quality_alarm_needs_bad_for_longer_than_its_on_delay() -> None:
    rig = Rig({"id": "L.Comm", "tag": "L", "kind": "bad_quality", "on_delay_s": 30})
    rig.at(100, "L", None, Quality.bad(QualityReason.INITIAL))
    rig.at(120, "L", 5)
    rig.at(121, "L", 5, Quality.bad(QualityReason.NOT_CONNECTED))
    rig.tick(150)
    assert rig.events == []
    rig.tick(151)
    assert rig.moves() == [(151, S.UNACK, A.ACTIVATE)]


# -- shelving, suppression, out of service -----------------------------------------------------


def test_timed_shelve_expires_at_its_time_and_the_alarm_comes_back_if_still_active() -> None:
    rig = Rig(hi(), max_shelve_s=3600)
    rig.at(100, "L", 90)
    event = rig.engine.shelve("L.Hi", now=101, user="ann", reason="known fault", duration_s=60)
    assert (event.user, event.comment, event.to_state) == ("ann", "known fault", S.SHELVED)
    status = rig.engine.status("L.Hi")
    assert (status.shelved_until, status.by, status.reason) == (161, "ann", "known fault")
    rig.at(120, "L", 95)
    rig.tick(160)
    assert rig.state("L.Hi") is S.SHELVED
    rig.tick(170)
    assert rig.moves()[-1] == (161, S.UNACK, A.SHELVE_ENDED)
    assert rig.engine.status("L.Hi").by is None


def test_shelving_is_capped_by_the_project_maximum_and_the_alarms_own() -> None:
    rig = Rig(hi(), {"id": "Safety", "tag": "L", "kind": "hihi", "limit": 95, "max_shelve_s": 0},
              {"id": "Short", "tag": "L", "kind": "lo", "limit": 5, "max_shelve_s": 30},
              max_shelve_s=600)  # fmt: skip
    with pytest.raises(AlarmActionDenied, match="600 s"):
        rig.engine.shelve("L.Hi", now=0, user="a", reason="r", duration_s=601)
    rig.engine.shelve("L.Hi", now=0, user="a", reason="r", duration_s=600)
    with pytest.raises(AlarmActionDenied, match="may not be shelved"):
        rig.engine.shelve("Safety", now=0, user="a", reason="r", duration_s=1)
    with pytest.raises(AlarmActionDenied, match="30 s"):
        rig.engine.shelve("Short", now=0, user="a", reason="r", duration_s=31)


def test_one_shot_shelve_ends_when_the_alarm_returns_to_normal_or_at_the_maximum() -> None:
    rig = Rig(hi(off_delay_s=5), max_shelve_s=100)
    rig.at(100, "L", 90)
    rig.engine.shelve("L.Hi", now=101, user="a", reason="r", duration_s=None)
    assert rig.engine.status("L.Hi").one_shot
    rig.at(110, "L", 70)
    rig.tick(115)
    assert rig.moves()[-1] == (115, S.NORMAL, A.SHELVE_ENDED)
    rig.at(120, "L", 90)
    assert rig.state("L.Hi") is S.UNACK  # a new occurrence is shown again
    rig.engine.shelve("L.Hi", now=121, user="a", reason="r", duration_s=None)
    rig.tick(221)
    assert rig.moves()[-1] == (221, S.UNACK, A.SHELVE_ENDED)


def test_suppression_by_expression_and_by_a_plain_tag_unknown_means_not_suppressed() -> None:
    rig = Rig(hi(suppress_when="P.Running == 0 and not Maint"),
              {"id": "L.Lo", "tag": "L", "kind": "lo", "limit": 10, "suppress_when": "Maint"})  # fmt: skip
    rig.at(100, "L", 90)
    rig.at(100, "P.Running", 0)
    assert rig.state("L.Hi") is S.UNACK  # Maint unknown: the expression has no result
    rig.at(101, "Maint", False)
    assert rig.moves("L.Hi")[-1] == (101, S.SUPPRESSED, A.SUPPRESS)
    rig.at(102, "L", 5)
    rig.at(103, "Maint", True)
    assert rig.state("L.Lo") is S.SUPPRESSED
    assert rig.moves("L.Hi")[-1] == (103, S.NORMAL, A.UNSUPPRESS)  # cleared while hidden
    rig.at(104, "Maint", 1, BAD)
    assert rig.moves("L.Lo")[-1] == (104, S.UNACK, A.UNSUPPRESS)


def test_out_of_service_raises_no_events_until_it_returns() -> None:
    rig = Rig(hi(suppress_when="S"))
    rig.at(100, "S", 0)
    rig.engine.set_out_of_service("L.Hi", now=100, user="tech", reason="transmitter swap")
    seen = len(rig.events)
    for t, value in enumerate((90, 10, 95, 96), 101):
        rig.at(t, "L", value)
        rig.at(t, "S", t % 2)
    rig.tick(200)
    assert rig.events[seen:] == []
    assert rig.engine.counts().out_of_service == 1
    rig.at(201, "S", 0)
    event = rig.engine.return_to_service("L.Hi", now=202, user="tech")
    assert (event.from_state, event.to_state) == (S.OUT_OF_SERVICE, S.UNACK)


# -- messages, summary, counts, listeners ------------------------------------------------------


def test_message_renders_values_of_the_alarm_and_of_other_tags() -> None:
    rig = Rig(hi(message="Tank {tag} high: {value:.1f} % (limit {limit:g}), inlet {XV.Pos:.0f} %",
                 cause="inlet stuck", consequence="overflow", action="close XV"))  # fmt: skip
    rig.at(100, "L", 91.234)
    assert rig.events[-1].message == "Tank L high: 91.2 % (limit 80), inlet ---- %"
    rig.at(101, "XV.Pos", 42.4)
    rig.at(102, "L", 70)
    assert rig.events[-1].message == "Tank L high: 70.0 % (limit 80), inlet 42 %"
    status = rig.engine.status("L.Hi")
    assert (status.cause, status.consequence, status.action) == (
        "inlet stuck", "overflow", "close XV"
    )  # fmt: skip


def test_summary_is_by_priority_then_newest_and_counts_match() -> None:
    rig = Rig(
        {"id": "a", "tag": "T", "kind": "hi", "limit": 1, "priority": "low"},
        {"id": "b", "tag": "T", "kind": "hi", "limit": 2, "priority": "critical"},
        {"id": "c", "tag": "U", "kind": "hi", "limit": 1, "priority": "low"},
        {"id": "d", "tag": "U", "kind": "hi", "limit": 5, "priority": "high"},
    )
    rig.at(100, "T", 3)
    rig.at(101, "U", 3)
    rig.engine.acknowledge("a", now=102, user="u")
    assert [s.alarm_id for s in rig.engine.summary()] == ["b", "c", "a"]
    counts = rig.engine.counts()
    assert counts.active == {Priority.CRITICAL: 1, Priority.HIGH: 0, Priority.MEDIUM: 0,
                             Priority.LOW: 2}  # fmt: skip
    assert counts.unacknowledged[Priority.LOW] == 1 and counts.annunciated == 3


def test_a_failing_listener_is_logged_and_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig(hi())

    def broken(event: AlarmEvent) -> None:
        raise RuntimeError("journal down")

    rig.engine.add_listener(broken)
    late: list[AlarmEvent] = []
    rig.engine.add_listener(late.append)
    with caplog.at_level(logging.ERROR):
        rig.at(100, "L", 90)
    assert len(late) == 1 and rig.state("L.Hi") is S.UNACK
    assert "journal down" in caplog.text


def test_duplicate_ids_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"duplicate alarm id 'L\.Hi'"):
        Rig(hi(), hi())


# -- communication loss per connection --------------------------------------------------------


def test_a_connection_alarm_raises_after_its_delay_and_clears_when_connected_again() -> None:
    rig = Rig({"id": "ua.CommLoss", "kind": "comm_loss", "connection": "ua", "on_delay_s": 5})
    assert rig.engine.connections == frozenset({"ua"})
    assert rig.engine.tags == frozenset()  # it reads no tag
    engine = rig.engine
    engine.update_connection("ua", True, 100)
    engine.update_connection("ua", False, 103)  # back within the delay: nothing
    engine.tick(110)
    assert rig.events == []
    engine.update_connection("ua", True, 120)
    engine.update_connection("other", False, 121)  # not this one's connection
    engine.tick(125)
    assert rig.moves() == [(125, S.UNACK, A.ACTIVATE)]
    assert rig.events[0].tag == "ua"
    assert rig.events[0].message == "Communication lost with connection ua"
    engine.update_connection("ua", False, 130)
    assert rig.moves()[-1] == (130, S.RTN_UNACK, A.CLEAR)
    assert engine.status("ua.CommLoss").priority is Priority.HIGH
