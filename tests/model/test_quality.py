"""One quality model for every protocol."""

from __future__ import annotations

import time

from hmi.model.quality import (
    GOOD,
    INITIAL,
    NOT_CONNECTED,
    Quality,
    QualityLevel,
    QualityReason,
)
from hmi.model.value import TagValue


def test_levels_order_so_min_is_the_worst() -> None:
    assert min(QualityLevel.GOOD, QualityLevel.BAD, QualityLevel.UNCERTAIN) is QualityLevel.BAD
    assert min(QualityLevel.GOOD, QualityLevel.UNCERTAIN) is QualityLevel.UNCERTAIN


def test_predicates() -> None:
    assert GOOD.is_good and not GOOD.is_bad
    assert INITIAL.is_bad and not INITIAL.is_good
    stale = Quality.uncertain(QualityReason.STALE)
    assert not stale.is_good and not stale.is_bad


def test_css_names() -> None:
    assert GOOD.css_name == "good"
    assert Quality.uncertain(QualityReason.LAST_USABLE).css_name == "uncertain"
    assert INITIAL.css_name == "disconnected"
    assert NOT_CONNECTED.css_name == "disconnected"
    assert Quality.bad(QualityReason.COMM_FAILURE).css_name == "bad"


def test_text() -> None:
    assert str(GOOD) == "Good"
    assert str(Quality.bad(QualityReason.DEVICE_FAILURE)) == "Bad(DeviceFailure)"
    assert str(Quality.uncertain(QualityReason.STALE)) == "Uncertain(Stale)"
    assert str(Quality(QualityLevel.GOOD, QualityReason.LOCAL_OVERRIDE)) == "Good(LocalOverride)"


def test_constructors_and_equality() -> None:
    assert Quality.good() is GOOD
    assert Quality.bad(QualityReason.NOT_CONNECTED) == NOT_CONNECTED
    assert len({GOOD, Quality(QualityLevel.GOOD)}) == 1


def test_tag_value_keeps_the_last_value_when_quality_drops() -> None:
    before = time.time()
    value = TagValue.now(42.0, source_time=100.0)
    assert value.quality is GOOD and value.timestamp == 100.0
    dropped = value.with_quality(NOT_CONNECTED)
    assert dropped.value == 42.0 and dropped.quality == NOT_CONNECTED
    assert dropped.receive_time >= before
    initial = TagValue.initial()
    assert initial.value is None and initial.quality == INITIAL
    assert initial.timestamp == initial.receive_time
