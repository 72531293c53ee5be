"""ValueWidget and the TagBinding behaviour every bound widget shares."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import ValueSpec
from hmi.model.value import TagValue
from hmi.widgets.value import ValueWidget
from tests.qt_probes import hover_tooltip, python_calls, qt_calls

from .conftest import Station


def value_widget(station: Station, qtbot, **kwargs) -> ValueWidget:
    spec = ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 30), **kwargs)
    widget = ValueWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.resize(120, 30)
    widget.show()
    return widget


def test_starts_disconnected_with_no_value(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot)
    assert widget.text() == "----"
    assert widget.property("quality") == "disconnected"
    assert widget.binding.badge.isVisible()
    assert widget.binding.badge.state == "disconnected"


def test_good_value_shows_format_and_units(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot)
    station.feed("Tank1.Level", 4.56789)
    assert widget.text() == "4.57 m"
    assert widget.property("quality") == "good"
    assert not widget.binding.badge.isVisible()


def test_format_override_and_no_units(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot, format=".0f", units=False)
    station.feed("Tank1.Level", 4.56789)
    assert widget.text() == "5"


def test_bad_keeps_the_last_value_and_marks_it(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot)
    station.feed("Tank1.Level", 3.0)
    last = station.broker.latest("Tank1.Level")
    address = station.broker.tag("Tank1.Level").address
    station.broker.publish([(address, last.with_quality(Quality.bad(QualityReason.COMM_FAILURE)))])
    station.bridge.flush()
    assert widget.text() == "3.00 m", "the last value stays visible"
    assert widget.property("quality") == "bad"
    assert widget.binding.badge.isVisible()
    assert widget.binding.badge.state == "bad"


def test_uncertain_is_marked(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot)
    station.feed("Tank1.Level", 2.5, Quality.uncertain(QualityReason.STALE))
    assert widget.text() == "2.50 m"
    assert widget.property("quality") == "uncertain"
    assert widget.binding.badge.state == "uncertain"
    assert widget.binding.badge.isVisible()


def test_lost_connection_keeps_value_marked_disconnected(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot)
    station.feed("Tank1.Level", 7.25)
    station.feed("Tank1.Level", 7.25, Quality.bad(QualityReason.NOT_CONNECTED))
    assert widget.text() == "7.25 m"
    assert widget.property("quality") == "disconnected"


def test_tooltip_names_tag_address_quality_and_time(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot, tooltip="Level in the buffer tank")
    source = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1)) + 0.123
    station.feed("Tank1.Level", 1.5, Quality.uncertain(QualityReason.SUB_NORMAL), source)
    tip = hover_tooltip(widget)
    assert tip.startswith("Level in the buffer tank\n")
    assert "Tank1.Level — Tank 1 level" in tip
    assert "local://tank1_level?type=float" in tip
    assert "Quality: Uncertain — SubNormal" in tip
    assert "Source time: 2024-05-06 07:08:09.123" in tip
    assert "Value: 1.50 m" in tip


def test_tooltip_tells_the_drivers_detail_of_a_bad_value(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot)
    address = station.broker.tag("Tank1.Level").address
    bad = TagValue.now(
        1.5, Quality.bad(QualityReason.CONFIG_ERROR), detail="IllegalDataAddress (0x02)"
    )
    station.broker.publish([(address, bad)])
    station.bridge.flush()
    assert "IllegalDataAddress (0x02)" in widget.binding.tooltip_text()


def test_unknown_tag_shows_bad_config_error_instead_of_failing(station: Station, qtbot) -> None:
    spec = ValueSpec(type="value", tag="No.Such.Tag", rect=(0, 0, 120, 30))
    widget = ValueWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    assert widget.text() == "----"
    assert widget.property("quality") == "bad"
    assert "unknown tag 'No.Such.Tag'" in widget.binding.tooltip_text()
    widget.release()


def test_release_unbinds_and_is_idempotent(station: Station, qtbot) -> None:
    first = value_widget(station, qtbot)
    second = value_widget(station, qtbot)
    assert station.broker.subscribers("Tank1.Level") == 2
    first.release()
    first.release()
    assert station.broker.subscribers("Tank1.Level") == 1
    station.feed("Tank1.Level", 5.0)
    assert first.text() == "----", "a released widget no longer updates"
    assert second.text() == "5.00 m"
    second.release()
    assert station.broker.subscribers("Tank1.Level") == 0


def test_apply_scale_sets_font_pixel_size(station: Station, qtbot) -> None:
    widget = value_widget(station, qtbot, font_size=20)
    widget.apply_scale(1.5)
    assert widget.font().pixelSize() == 30
    assert widget.binding.badge.width() == 21


def test_a_setpoint_that_stays_writable_is_not_restyled_at_every_value(
    station: Station, qtbot
) -> None:
    """Its ``writable`` property and hand cursor are set when writability changes, not again
    (nor read back) with each new value of the same quality."""
    spec = ValueSpec(type="value", tag="Tank1.Setpoint", rect=(0, 0, 120, 30))
    widget = ValueWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.show()
    station.feed("Tank1.Setpoint", 5.0)
    assert widget.writable and widget.cursor().shape() == Qt.CursorShape.PointingHandCursor
    with qt_calls() as calls:
        for value in (5.5, 6.0, 6.5):
            station.feed("Tank1.Setpoint", value)
    assert widget.text().startswith("6.5")
    assert (calls["setCursor"], calls["property"], calls["setProperty"]) == (0, 0, 0)
    station.feed("Tank1.Setpoint", 6.5, Quality.bad(QualityReason.COMM_FAILURE))
    assert not widget.writable and widget.cursor().shape() == Qt.CursorShape.ArrowCursor


def test_no_python_runs_for_a_bound_widget_s_events_but_its_own(station: Station, qtbot) -> None:
    """A binding hears its host's resizes and the mouse through the host's own handlers
    (``BoundHost``); it filters the host's events only while the mouse is over it, for the
    tooltip. A host that is no ``BoundHost`` is refused: its marks would never be placed."""
    from PySide6.QtWidgets import QLabel

    from hmi.widgets.base import TagBinding

    widget = value_widget(station, qtbot)
    qtbot.waitExposed(widget)
    with python_calls(TagBinding.eventFilter) as seen:
        station.feed("Tank1.Level", 2.5)
        widget.resize(140, 32)
        widget.repaint()
    assert seen == [], "no event of the host reached the binding's filter"
    assert widget.binding.badge.geometry().right() == 140 - 2, "the badge follows the resize"
    with python_calls(TagBinding.eventFilter) as seen:
        assert "Value: 2.50 m" in hover_tooltip(widget)
    assert seen, "the tooltip, while hovered"
    QApplication.sendEvent(widget, QEvent(QEvent.Type.Leave))
    with python_calls(TagBinding.eventFilter) as seen:
        widget.repaint()
    assert seen == [], "not filtered once the mouse has left"
    with pytest.raises(TypeError, match="QLabel binds a tag but is no BoundHost"):
        TagBinding(QLabel(), station.ctx, "Tank1.Level", lambda value: None)
