"""The bridge's 10 Hz tick delivers for a bounded time, then lets Qt paint before the next
slice; the newest value of a tag still waiting wins, and ``flush()`` delivers all at once."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from hmi.model.value import TagValue
from tests.widgets.conftest import Station

TAGS = ("Tank1.Level", "Tank1.Setpoint", "Pump1.Mode")


def bind_all(station: Station) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    for tag in TAGS:
        station.bridge.bind(tag, lambda value, tag=tag: seen.append((tag, value.value)))
    seen.clear()  # bind() calls back at once with the current value
    return seen


def publish(station: Station, tag: str, value: Any) -> None:
    station.broker.publish([(station.broker.tag(tag).address, TagValue.now(value))])


def test_a_tick_yields_between_slices_and_ends_with_one_flushed(
    qtbot: QtBot, station: Station
) -> None:
    seen = bind_all(station)
    flushed: list[int] = []
    station.bridge.flushed.connect(flushed.append)
    station.bridge.slice_s = 0.0  # one change per slice
    for i, tag in enumerate(TAGS):
        publish(station, tag, i + 1)
    between: list[int] = []
    QTimer.singleShot(0, lambda: between.append(len(seen)))  # due before the second slice

    station.bridge._tick()
    assert len(seen) == 1  # the first slice only (the broker's batch has no order)
    qtbot.waitUntil(lambda: bool(flushed), timeout=2000)
    assert between == [1]
    assert sorted(seen) == [("Pump1.Mode", 3), ("Tank1.Level", 1), ("Tank1.Setpoint", 2)]
    assert flushed == [3]


def test_the_newest_value_of_a_waiting_tag_wins(qtbot: QtBot, station: Station) -> None:
    seen = bind_all(station)
    station.bridge.slice_s = 0.0
    for tag in TAGS:
        publish(station, tag, 1)
    station.bridge._tick()  # one shown, two wait
    ((first, _),) = seen
    waiting = [tag for tag in TAGS if tag != first]
    publish(station, waiting[0], 2)  # changed again before it was shown
    station.bridge._tick()  # takes the new change while a slice is pending: merged
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=2000)
    qtbot.wait(20)
    assert sorted(seen) == sorted([(first, 1), (waiting[0], 2), (waiting[1], 1)])


def test_flush_delivers_everything_at_once(station: Station) -> None:
    seen = bind_all(station)
    station.bridge.slice_s = 0.0  # the timer's budget; flush() has none
    for i, tag in enumerate(TAGS):
        publish(station, tag, i)
    station.bridge.flush()
    assert sorted(tag for tag, _ in seen) == sorted(TAGS)
