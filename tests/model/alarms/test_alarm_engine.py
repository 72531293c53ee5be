"""The alarm engine's rules one at a time: delays, deadband, quality, kinds, shelving,
suppression, out of service, latching, messages, summary order and counts."""

from __future__ import annotations

import logging
import random

import pytest

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction, AlarmActionDenied, AlarmEvent, AlarmState
from hmi.model.errors import ConfigError
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue
from tests.model.alarm_rig import BAD, Rig, hi

S = AlarmState
A = AlarmAction


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


# -- status objects --------------------------------------------------------------------------


def test_status_is_the_same_object_until_something_in_it_changes() -> None:
    rig = Rig(hi())
    rig.at(100, "L", 95)
    first = rig.engine.status("L.Hi")
    assert rig.engine.status("L.Hi") is first  # nothing changed: the summary skips it
    rig.at(101, "L", 96)  # the value moved: a new status, with the new value
    moved = rig.engine.status("L.Hi")
    assert moved is not first and moved.value == 96 and moved.state is S.UNACK
    rig.at(102, "L", 96)
    assert rig.engine.status("L.Hi") is moved  # the same value again: the same status
    rig.at(102.5, "L", 96.0)  # equal, but not the same type: shown as a float
    assert type(rig.engine.status("L.Hi").value) is float
    rig.engine.acknowledge("L.Hi", now=103, user="ann")
    acked = rig.engine.status("L.Hi")
    assert acked is not moved and acked.state is S.ACKED
    rig.engine.shelve("L.Hi", now=104, user="ann", reason="known fault", duration_s=60)
    shelved = rig.engine.status("L.Hi")
    assert shelved.shelved_until == 164 and shelved.by == "ann" and shelved.reason
    rig.at(105, "L", True)  # equal to 1 but not the same value: never taken for it
    rig.at(106, "L", 1)
    assert type(rig.engine.status("L.Hi").value) is int
