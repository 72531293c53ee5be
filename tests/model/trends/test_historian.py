"""The historian's recording rule and config, pure: deadband, heartbeat, quality, selection."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from hmi.model.quality import GOOD, NOT_CONNECTED, Quality, QualityLevel, QualityReason
from hmi.model.tags import TagConfig
from hmi.model.trends.historian import (
    HistorianConfig,
    RecordingFilter,
    RecordRule,
    quality_code,
    quality_of,
    to_us,
)

S = 1_000_000
STALE = Quality.uncertain(QualityReason.STALE)
COMM = Quality.bad(QualityReason.COMM_FAILURE)


def tag(name: str, datatype: str = "float", range_: tuple[float, float] | None = None) -> TagConfig:
    return TagConfig(
        name=name, address=f"local://{name}?type={datatype}", datatype=datatype, range=range_
    )  # type: ignore[arg-type]


def make(deadband: float = 0.0, heartbeat: float = 60.0) -> RecordingFilter:
    return RecordingFilter({"T": RecordRule(deadband=deadband, heartbeat_s=heartbeat)})


def offer(
    f: RecordingFilter, t: float, v: object, q: Quality = GOOD, received: float | None = None
):
    return f.offer("T", t, v, q, t if received is None else received)


def test_quality_codes_round_trip_and_order_worst_first() -> None:
    for level in QualityLevel:
        for reason in QualityReason:
            assert quality_of(quality_code(Quality(level, reason))) == Quality(level, reason)
    codes = sorted([quality_code(GOOD), quality_code(STALE), quality_code(COMM)])
    assert [c >> 8 for c in codes] == [QualityLevel.BAD, QualityLevel.UNCERTAIN, QualityLevel.GOOD]
    assert quality_code(GOOD) == 512 and to_us(1.5) == 1_500_000


def test_first_value_is_stored_then_every_change_without_deadband() -> None:
    f = make()
    assert offer(f, 10.0, 1.5) == (("T", 10 * S, 1.5, quality_code(GOOD)),)
    assert offer(f, 11.0, 1.5) == ()  # unchanged
    held = ("T", 11 * S, 1.5, 512)  # the value replaced, at the time it was last seen
    assert offer(f, 12.0, 1.6) == (held, ("T", 12 * S, 1.6, 512))
    assert offer(f, 13.0, True) == (("T", 13 * S, 1.0, 512),)  # booleans as numbers
    assert f.offer("Other", 13.0, 1.0, GOOD, 13.0) == ()  # not recorded


def test_absolute_deadband_compares_with_the_last_stored_value() -> None:
    f = make(deadband=0.5)
    assert offer(f, 0.0, 10.0) != ()
    assert offer(f, 1.0, 10.3) == ()
    assert offer(f, 2.0, 10.5) == ()  # exactly the deadband: not beyond it
    assert offer(f, 3.0, 9.6) == ()
    stored = offer(f, 4.0, 10.6)  # a slow drift is caught once it passes the band
    assert stored[-1][2] == 10.6
    assert offer(f, 5.0, 10.2) == ()
    assert offer(f, 6.0, 10.0) != ()


def test_percent_deadband_is_of_the_tag_range_and_groups_override() -> None:
    config = HistorianConfig(
        deadband_type="percent",
        deadband_value=1.0,
        heartbeat_s=300,
        groups=(
            {"match": "Pump*", "deadband_type": "absolute", "deadband_value": 2},
            {"match": "*.Flow", "heartbeat_s": 5},
            {"match": "Pump1.*", "heartbeat_s": 1},  # never reached for Pump1: first wins
        ),
    )
    assert config.rule_for(tag("Tank.Level", range_=(0, 200))) == RecordRule(2.0, 300)
    assert config.rule_for(tag("Tank.Flow", range_=(-50, 50))) == RecordRule(1.0, 5)
    assert config.rule_for(tag("Pump1.Speed", range_=(0, 1000))) == RecordRule(2.0, 300)
    assert config.rule_for(tag("Tank.Temp")) == RecordRule(0.0, 300)  # no range: every change


def test_selection_by_glob_and_trended_minus_exclusions_never_text() -> None:
    tags = {
        name: tag(name, kind)
        for name, kind in [
            ("Tank1.Level", "float"),
            ("Tank2.Level", "float"),
            ("Tank1.Name", "str"),
            ("Pump1.Running", "bool"),
            ("Pump1.Mode", "int"),
            ("Spare.Level", "float"),
        ]
    }
    config = HistorianConfig(tags=("Tank*", "Pump1.Running"), exclude=("Tank2.*",))
    assert config.selects(tags, trended={"Pump1.Mode"}) == [
        "Pump1.Mode", "Pump1.Running", "Tank1.Level",
    ]  # fmt: skip
    assert HistorianConfig(trended=False).selects(tags, trended={"Pump1.Mode"}) == []
    assert HistorianConfig(tags=("*",)).selects(tags) == [
        "Pump1.Mode", "Pump1.Running", "Spare.Level", "Tank1.Level", "Tank2.Level",
    ]  # fmt: skip


def test_config_rejects_what_makes_no_sense() -> None:
    with pytest.raises(ValidationError, match="heartbeat_s"):
        HistorianConfig(heartbeat_s=0)
    with pytest.raises(ValidationError, match="deadband_value"):
        HistorianConfig(deadband_value=-1)
    with pytest.raises(ValidationError, match="deadband_type"):
        HistorianConfig.model_validate({"deadband_type": "relative"})
    with pytest.raises(ValidationError, match="extra"):
        HistorianConfig.model_validate({"retention": 30})
    assert HistorianConfig.model_validate({"retention_days": None}).retention_days is None


def test_a_quality_change_is_always_stored_bad_without_a_value() -> None:
    f = make(deadband=100.0)
    offer(f, 0.0, 5.0)
    assert offer(f, 1.0, 5.0, STALE) == (("T", 1 * S, 5.0, quality_code(STALE)),)
    assert offer(f, 2.0, 5.0, COMM) == (("T", 2 * S, None, quality_code(COMM)),)
    assert offer(f, 3.0, 7.0, COMM) == ()  # still Bad: nothing new to store
    assert offer(f, 4.0, 5.0, NOT_CONNECTED) == (("T", 4 * S, None, quality_code(NOT_CONNECTED)),)
    assert offer(f, 5.0, 5.0) == (("T", 5 * S, 5.0, 512),)  # Good again, whatever the deadband
    assert offer(f, 6.0, None) == (("T", 6 * S, None, 512),)  # a value that is no number
    assert offer(f, 7.0, "text") == ()


def test_heartbeat_stores_an_unchanged_value_when_it_comes_or_when_due() -> None:
    f = make(deadband=1.0, heartbeat=60.0)
    offer(f, 100.0, 5.0)
    assert offer(f, 150.0, 5.2) == ()
    assert offer(f, 160.0, 5.3) == (("T", 160 * S, 5.3, 512),)  # 60 s since the last stored
    assert f.due(219.0) == []
    assert f.due(220.0) == [("T", 220 * S, 5.3, 512)]  # nothing came: the timer stores it
    assert f.due(221.0) == []
    assert offer(f, 230.0, 5.9) == ()
    assert f.due(280.5) == [("T", 280_500_000, 5.9, 512)]  # the latest value seen
    assert make().due(1e9) == []  # a tag never seen has nothing to repeat


def test_heartbeat_time_is_on_the_tags_clock() -> None:
    f = make(heartbeat=10.0)
    offer(f, 1000.0, 1.0, received=1003.0)  # the device's clock is 3 s behind ours
    assert f.due(1012.0) == []
    assert f.due(1013.0) == [("T", 1010 * S, 1.0, 512)]


def test_times_strictly_increase_per_tag() -> None:
    f = make()
    assert offer(f, 50.0, 1.0) == (("T", 50 * S, 1.0, 512),)
    assert offer(f, 50.0, 1.0, STALE) == (("T", 50 * S + 1, 1.0, quality_code(STALE)),)
    assert offer(f, 40.0, 2.0, STALE) == (("T", 50 * S + 2, 2.0, quality_code(STALE)),)
    held = ("T", 60 * S - 1, 2.0, quality_code(STALE))  # held quiet, until just before
    assert offer(f, 60.0, math.nan) == (held, ("T", 60 * S, None, 512))
    assert offer(f, 61.0, math.nan) == ()  # NaN again is no change


def test_a_step_after_a_quiet_stretch_is_stored_where_it_happened() -> None:
    """A setpoint at 60 for a quiet quarter of an hour (a source that reports changes only;
    the heartbeat stored 60 again at 600 s), changed to 65 at 900 s: 60 is stored once more
    1 µs before the change, so a line through the stored samples steps at 900 s instead of
    ramping from the heartbeat 300 s earlier."""
    f = make(heartbeat=600.0)
    assert offer(f, 0.0, 60.0) == (("T", 0, 60.0, 512),)
    assert f.due(600.0) == [("T", 600 * S, 60.0, 512)]
    assert offer(f, 900.0, 65.0) == (("T", 900 * S - 1, 60.0, 512), ("T", 900 * S, 65.0, 512))
    assert offer(f, 900.5, 66.0) == (("T", int(900.5 * S), 66.0, 512),)  # no stretch: no extra


def test_a_change_beyond_the_deadband_first_stores_the_value_it_replaces() -> None:
    """Noise inside the deadband is dropped, but the last of it is the value the change
    replaces: it is stored at its own time before the change (deadband historians)."""
    f = make(deadband=1.0)
    offer(f, 0.0, 10.0)
    assert offer(f, 0.5, 10.4) == ()
    assert offer(f, 1.0, 9.8) == ()
    assert offer(f, 1.5, 14.0) == (("T", 1 * S, 9.8, 512), ("T", int(1.5 * S), 14.0, 512))
    assert offer(f, 2.0, 14.5) == ()  # inside the band again: nothing
    assert offer(f, 2.5, 14.5, STALE) == (
        ("T", 2 * S, 14.5, 512),
        ("T", int(2.5 * S), 14.5, quality_code(STALE)),
    )  # a quality change is a change too
    assert offer(f, 3.0, None, COMM) == (("T", 3 * S, None, quality_code(COMM)),)
    assert offer(f, 10.0, 15.0) == (("T", 10 * S, 15.0, 512),)  # a Bad stretch ends: no extra
