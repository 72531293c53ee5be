"""AlarmMark: the priority's shape as a cached picture Qt paints alone; a blink swaps two
cached pictures and draws nothing again. (With a real alarm engine: tests/views.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from PySide6.QtCore import QPoint

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmEvent, AlarmState, AlarmStatus
from hmi.model.screens.schema import ValueSpec
from hmi.widgets import alarm_mark
from hmi.widgets.alarm_mark import AlarmMark, AlarmMarks
from hmi.widgets.value import ValueWidget

from .conftest import Station


class Figures:
    """The alarm summary AlarmMarks reads: one alarm per tag, as set."""

    def __init__(self) -> None:
        self.alarms: dict[str, tuple[Priority, AlarmState]] = {}

    def add_listener(self, listener: Callable[[AlarmEvent], None]) -> None:
        pass

    def remove_listener(self, listener: Callable[[AlarmEvent], None]) -> None:
        pass

    def summary(self) -> list[AlarmStatus]:
        return [
            AlarmStatus(
                alarm_id=f"{tag}.Hi",
                tag=tag,
                kind="hi",
                priority=priority,
                state=state,
                active=True,
                since=0.0,
                activated_at=0.0,
                message="high",
                value=1.0,
                cause="",
                consequence="",
                action="",
                latching=False,
            )
            for tag, (priority, state) in self.alarms.items()
        ]

    def statuses(self, states: Iterable[AlarmState]) -> list[AlarmStatus]:
        return self.summary()

    def counts(self) -> None:  # not read by the marks
        raise NotImplementedError


def marked_value(station: Station, qtbot, figures: Figures) -> tuple[ValueWidget, AlarmMark]:
    marks = AlarmMarks(figures, refresh_ms=1, blink_ms=60_000)
    ctx = dataclasses.replace(station.ctx, alarms=marks)
    widget = ValueWidget(ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 30)), ctx)
    qtbot.addWidget(widget)
    widget.resize(120, 30)
    widget.show()
    qtbot.waitExposed(widget)
    mark = widget.binding.alarm_mark
    assert mark is not None
    return widget, mark


def pixel(host: ValueWidget, mark: AlarmMark, x: int, y: int) -> str:
    return host.grab().toImage().pixelColor(mark.geometry().topLeft() + QPoint(x, y)).name()


def test_the_mark_shows_the_priority_colour_and_blinks_hollow(
    station: Station, qtbot, themed: None
) -> None:
    assert "paintEvent" not in vars(AlarmMark)
    figures = Figures()
    figures.alarms["Tank1.Level"] = (Priority.CRITICAL, AlarmState.UNACK)
    widget, mark = marked_value(station, qtbot, figures)
    station.feed("Tank1.Level", 5.0)
    assert mark.isVisible() and mark.geometry().topLeft() == QPoint(1, 1)
    assert (mark.priority, mark.unacknowledged, mark.lit) == (Priority.CRITICAL, True, True)
    assert pixel(widget, mark, 3, 3) == "#e00000", "a red square"
    mark.show_alarm(Priority.CRITICAL, True, False)
    assert pixel(widget, mark, 3, 3) == "#f0f0f0", "off phase: hollow"
    assert pixel(widget, mark, 1, 6) == "#ac0000", "outlined in the darker colour"
    mark.show_alarm(Priority.HIGH, False, True)
    assert pixel(widget, mark, 3, 6) == "#ff8c00", "an orange diamond"
    assert pixel(widget, mark, 2, 2) == "#e0e0e0", "its corners are the value's background"


def test_a_blink_swaps_two_cached_pictures(station: Station, qtbot) -> None:
    figures = Figures()
    figures.alarms["Tank1.Level"] = (Priority.HIGH, AlarmState.UNACK)
    _, mark = marked_value(station, qtbot, figures)
    lit = mark.picture.cacheKey()
    mark.show_alarm(Priority.HIGH, True, False)
    dark = mark.picture.cacheKey()
    assert dark != lit
    pictures = len(alarm_mark._PIXMAPS)
    for phase in (True, False, True, False, True):
        mark.show_alarm(Priority.HIGH, True, phase)
        assert mark.picture.cacheKey() == (lit if phase else dark)
    assert len(alarm_mark._PIXMAPS) == pictures, "nothing drawn again"


def test_a_mark_on_a_disabled_widget_keeps_its_colour(
    station: Station, qtbot, themed: None
) -> None:
    figures = Figures()
    figures.alarms["Tank1.Level"] = (Priority.CRITICAL, AlarmState.ACKED)
    widget, mark = marked_value(station, qtbot, figures)
    widget.setEnabled(False)
    assert not mark.isEnabled()
    assert pixel(widget, mark, 3, 3) == "#e00000"


def test_the_theme_sets_the_priority_colours(station: Station, qtbot, qapp) -> None:
    qapp.setStyleSheet("AlarmMark { qproperty-criticalColor: #8000ff; }")
    try:
        figures = Figures()
        figures.alarms["Tank1.Level"] = (Priority.CRITICAL, AlarmState.ACKED)
        widget, mark = marked_value(station, qtbot, figures)
        assert pixel(widget, mark, 3, 3) == "#8000ff"
    finally:
        qapp.setStyleSheet("")
