"""What each kind of condition does with its values: delays that need the raw limit held for
the whole delay, Uncertain values that hold the state, and the alarm per connection fed from
its health. A controlled clock throughout (values carry their timestamps)."""

from __future__ import annotations

from typing import Any

import pytest

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.quality import Quality, QualityReason
from tests.model.alarm_rig import BAD, Rig, hi

S = AlarmState
A = AlarmAction


# -- delays test the raw limit ----------------------------------------------------------------


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


# -- Uncertain quality ------------------------------------------------------------------------


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
