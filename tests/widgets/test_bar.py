"""BarWidget: fill over the range, limit marks from the tag's limits."""

from __future__ import annotations

import pytest

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import BarSpec
from hmi.widgets.bar import BarWidget

from .conftest import Station


def bar(station: Station, qtbot, **kwargs) -> BarWidget:
    spec = BarSpec(type="bar", tag="Tank1.Level", rect=(0, 0, 40, 200), **kwargs)
    widget = BarWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.resize(40, 200)
    widget.show()
    return widget


def test_fill_follows_the_tag_range_and_clamps(station: Station, qtbot) -> None:
    widget = bar(station, qtbot)
    assert widget.fill_fraction() is None, "nothing to draw before data arrives"
    station.feed("Tank1.Level", 2.5)
    assert widget.fill_fraction() == pytest.approx(0.25)
    station.feed("Tank1.Level", 12.0)
    assert widget.fill_fraction() == 1.0
    station.feed("Tank1.Level", -3.0)
    assert widget.fill_fraction() == 0.0
    widget.grab()  # paints without error


def test_spec_range_overrides_the_tag_range(station: Station, qtbot) -> None:
    widget = bar(station, qtbot, range=(0, 5), orientation="horizontal")
    station.feed("Tank1.Level", 2.5)
    assert widget.fill_fraction() == pytest.approx(0.5)
    widget.grab()


def test_limit_marks_come_from_the_tag(station: Station, qtbot) -> None:
    widget = bar(station, qtbot)
    assert widget.limit_marks() == pytest.approx(
        {"lolo": 0.05, "lo": 0.10, "hi": 0.85, "hihi": 0.95}
    )
    assert bar(station, qtbot, show_limits=False).limit_marks() == {}
    assert set(bar(station, qtbot, range=(0.8, 9.0)).limit_marks()) == {"lo", "hi"}


def test_bad_keeps_the_fill_and_marks_the_widget(station: Station, qtbot) -> None:
    widget = bar(station, qtbot)
    station.feed("Tank1.Level", 5.0, Quality.bad(QualityReason.DEVICE_FAILURE))
    assert widget.fill_fraction() == pytest.approx(0.5)
    assert widget.property("quality") == "bad"
    assert widget.binding.badge.state == "bad"
    widget.release()
    assert station.broker.subscribers("Tank1.Level") == 0


def test_the_theme_paints_the_parts_and_greys_an_untrusted_fill(
    station: Station, qtbot, themed: None
) -> None:
    """Trough, fill and marks are frames the style sheet paints (no Python paintEvent): the
    fill is dark while Good and light grey once the value is no longer trusted."""
    widget = bar(station, qtbot)
    assert "paintEvent" not in vars(BarWidget)
    station.feed("Tank1.Level", 5.0)
    qtbot.wait(10)
    fill = widget.fill.geometry().translated(widget.trough.pos())
    assert fill.height() == pytest.approx(0.5 * (widget.trough.height() - 2), abs=1)
    probe = fill.center()
    assert widget.grab().toImage().pixelColor(probe).name() == "#565656"
    station.feed("Tank1.Level", 5.0, Quality.bad(QualityReason.COMM_FAILURE))
    qtbot.wait(10)
    assert widget.grab().toImage().pixelColor(probe).name() == "#a4a4a4"
    hihi = widget.marks["hihi"].geometry()
    assert widget.grab().toImage().pixelColor(hihi.center()).name() == "#1e1e1e"
