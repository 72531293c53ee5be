"""The trend's date axis keeps its ticks while the view scrolls: at every frame the ticks it
draws (pyqtgraph draws none outside the view) and their labels are pyqtgraph's own date
axis's, worked out once per span instead of every frame; across the end of daylight saving
too."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QFont, QFontMetrics

from hmi.widgets.trend.axis import TimeAxis

T0 = 1_792_000_000.0  # 2026-10-14


@pytest.mark.parametrize("span", [2.0, 60.0, 3_600.0, 8 * 3_600.0, 86_400.0, 7 * 86_400.0])
def test_scrolling_ticks_and_labels_equal_pyqtgraphs(qapp: object, span: float) -> None:
    ours, theirs = TimeAxis(), pg.DateAxisItem(orientation="bottom", utcOffset=None)
    metrics = QFontMetrics(QFont())
    ours.fontMetrics = theirs.fontMetrics = metrics
    for frame in range(400):
        start = T0 + frame * span / 150  # ~150 frames a span: crosses ticks and whole spans
        end = start + span  # as a live view computes it: now - span, now
        mine = ours.tickValues(start, end, 1500)
        expected = theirs.tickValues(start, end, 1500)
        drawn = [(s, [x for x in v if start < x <= end]) for s, v in expected]
        if span < 10:  # sub-second ticks: pyqtgraph's own, per frame
            drawn = [(s, list(v)) for s, v in expected]
        assert [(s, list(v)) for s, v in mine] == drawn
        for spacing, values in mine:
            assert ours.tickStrings(values, 1.0, spacing) == theirs.tickStrings(
                values, 1.0, spacing
            )


def test_ticks_are_made_once_a_span_not_every_frame(qapp: object) -> None:
    axis = TimeAxis()
    axis.fontMetrics = QFontMetrics(QFont())
    calls = []
    real = axis.setZoomLevelForDensity

    def counting(density: float) -> None:
        calls.append(density)
        real(density)

    axis.setZoomLevelForDensity = counting  # type: ignore[method-assign]
    span = 3_600.0
    for frame in range(300):  # 2 spans of scrolling, 150 frames each
        start = T0 + frame * span / 150
        axis.tickValues(start, start + span, 1500)
    assert 1 <= len(calls) <= 3
    axis.tickValues(T0, T0 + span / 2, 1500)  # a zoom: made again
    assert len(calls) <= 4


@pytest.mark.parametrize("span", [3_600.0, 6 * 3_600.0, 2 * 86_400.0])
def test_across_the_end_of_daylight_saving(
    qapp: object, monkeypatch: pytest.MonkeyPatch, span: float
) -> None:
    """Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; hour ticks move with the offset."""
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        ours, theirs = TimeAxis(), pg.DateAxisItem(orientation="bottom", utcOffset=None)
        ours.fontMetrics = theirs.fontMetrics = QFontMetrics(QFont())
        switch = 1_792_890_000.0  # 2026-10-25 01:00 UTC
        for frame in range(300):
            start = switch - span + frame * span / 100
            end = start + span
            mine = ours.tickValues(start, end, 1500)
            drawn = [
                (s, [x for x in v if start < x <= end])
                for s, v in theirs.tickValues(start, end, 1500)
            ]
            assert [(s, list(v)) for s, v in mine] == drawn
            for spacing, values in mine:
                assert ours.tickStrings(values, 1.0, spacing) == theirs.tickStrings(
                    values, 1.0, spacing
                )
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
