"""The trend on a real broker, bridge and local:// driver: pens, live values, pause, cursor,
legend, export, quality gaps, ad-hoc pens and release."""

from __future__ import annotations

import asyncio
import csv
import math
import re
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from datetime import time as dt_time
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import TrendSpec
from hmi.runtime.history import MemoryHistory
from hmi.widgets.trend.style import PALETTE
from hmi.widgets.trend.widget import TrendWidget
from tests.qt_probes import PaintCounter
from tests.views.text_fit import cut_texts
from tests.widgets.conftest import Station

TAGS = ("Tank1.Level", "Tank1.Setpoint", "Pump1.Running")
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def make_trend(station: Station, qtbot, **fields) -> TrendWidget:
    spec = TrendSpec(type="trend", tags=fields.pop("tags", TAGS), rect=(0, 0, 900, 420), **fields)
    widget = TrendWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.resize(900, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def curve_data(widget: TrendWidget, tag: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = widget.traces[tag].curve.getData()
    return np.asarray(x), np.asarray(y)


def test_pens_come_from_the_spec_with_their_styles(station: Station, qtbot) -> None:
    widget = make_trend(
        station,
        qtbot,
        pens=[{"tag": "Tank1.Setpoint", "color": "#123456", "style": "dash", "width": 2}],
    )
    assert list(widget.traces) == list(TAGS)
    level, setpoint, running = (widget.traces[t] for t in TAGS)
    assert level.style.color == PALETTE[0] and level.style.width == 1 and not level.style.step
    assert setpoint.curve.opts["pen"].color().name() == "#123456"
    assert setpoint.curve.opts["pen"].style() == Qt.PenStyle.DashLine
    assert running.style.step  # a bool tag holds its value
    assert setpoint.style.step  # a writable setpoint holds its value
    # y axes by units: level and setpoint share metres; the pump gets its own axis
    assert level.view is setpoint.view is widget.view and running.view is not widget.view
    assert set(widget.axes.axes) == {"units:m", "units:"}
    shared = make_trend(station, qtbot, y_axes="shared")
    assert len(shared.axes.axes) == 1
    assert {p.view for p in shared.traces.values()} == {shared.view}
    per_pen = make_trend(station, qtbot, y_axes="pen")
    assert len(per_pen.axes.axes) == 3
    assert per_pen.axes.axes["pen:Tank1.Level"].axis.labelText == "Tank1.Level [m]"
    # discrete tags read their state texts on the axis; the time axis is local time
    assert running.style.ticks == ((0.0, "Stopped"), (1.0, "Running"))
    assert widget.plot.getAxis("bottom").utcOffset is None
    for each in (widget, shared, per_pen):
        each.release()


def test_live_values_appear_and_scroll(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot, span_s=60)
    assert "trend" in widget.note.text() and widget.live
    for value in (1.0, 2.5, 4.0):
        station.feed("Tank1.Level", value)
    qtbot.waitUntil(lambda: 4.0 in curve_data(widget, "Tank1.Level")[1], timeout=2000)
    assert widget.pens["Tank1.Level"].text() == "4.00 m"
    assert widget.pens["Tank1.Level"].property("quality") == "good"
    x0, x1 = widget.visible_range()
    assert x1 - x0 == pytest.approx(60) and abs(x1 - time.time()) < 1.0
    t, _ = curve_data(widget, "Tank1.Level")
    assert t[-1] == pytest.approx(time.time(), abs=1.0)  # the last value held on to now
    widget.release()


def test_redraws_are_bounded_by_the_timer_not_the_values(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)
    frames = widget.frames
    for i in range(200):
        station.feed("Tank1.Level", float(i % 10))
    assert widget.frames == frames  # values only fill the buffer
    assert len(widget.traces["Tank1.Level"].buffer) >= 200
    qtbot.waitUntil(lambda: widget.frames > frames, timeout=2000)
    widget.release()


def test_pause_stops_scrolling_and_resume_continues(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot, span_s=30)
    widget.set_live(False)
    assert "Paused" in widget.note.text() and widget.toolbar.live_button.text() == "Live"
    frozen = widget.visible_range()
    ticks = widget.ticks
    station.feed("Tank1.Level", 3.0)
    qtbot.waitUntil(lambda: widget.ticks >= ticks + 3, timeout=2000)
    assert widget.visible_range() == frozen
    assert widget.traces["Tank1.Level"].buffer.last_value == 3.0  # data kept coming
    widget.toolbar.live_button.click()  # resume
    assert widget.live
    qtbot.waitUntil(lambda: widget.visible_range()[1] > frozen[1] + 0.15, timeout=2000)
    assert widget.visible_range()[1] - widget.visible_range()[0] == pytest.approx(30)
    widget.release()


@pytest.mark.parametrize("width", [1400, 900, 520, 300])
def test_a_paused_trend_says_so_whole_at_any_width(station: Station, qtbot, width: int) -> None:
    """The paused title gives way last and in shorter forms (the range without its date,
    then just "Paused"), never cut; buttons give way before it."""
    widget = make_trend(station, qtbot, span_s=900)
    widget.resize(width, 420)
    widget.set_live(False)
    noon = datetime.combine(date.today(), dt_time(12)).timestamp()
    widget.set_range(noon - 900, noon)  # within one day whatever the clock (not at 00:05)
    qtbot.waitUntil(lambda: widget.toolbar.width() > 0)
    note = widget.note
    assert note.isVisible() and note.text().startswith("Paused")
    qtbot.waitUntil(lambda: not cut_texts(widget.toolbar))  # once the layout has run
    if width >= 900:
        assert re.fullmatch(
            r"Paused · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d – .+ [+-]\d\d:\d\d", note.text()
        )
    if width >= 520:  # room for the range, at least without its date
        assert re.search(r"\d\d:\d\d:\d\d – \d\d:\d\d:\d\d [+-]\d\d:\d\d$", note.text()), (
            note.text()
        )
    widget.set_live(True)  # live, the note is the first to give way
    qtbot.waitUntil(lambda: not cut_texts(widget.toolbar))
    assert widget.note.isVisible() == (width >= 900)
    widget.release()


def test_a_paused_range_across_midnight_gives_both_ends_their_date_and_seconds(
    station: Station, qtbot
) -> None:
    widget = make_trend(station, qtbot, span_s=900)
    widget.resize(1400, 420)
    midnight = datetime.combine(date.today(), dt_time(0)).timestamp()
    widget.set_range(midnight - 600, midnight + 300)
    qtbot.waitUntil(lambda: not cut_texts(widget.toolbar))
    day = r"\d{4}-\d\d-\d\d"
    assert re.fullmatch(
        rf"Paused · {day} 23:50:00 – {day} 00:05:00 [+-]\d\d:\d\d", widget.note.text()
    ), widget.note.text()
    widget.release()


def test_presets_and_zoom_buttons(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)
    widget.toolbar.presets[3600.0].click()
    x0, x1 = widget.visible_range()
    assert widget.live and x1 - x0 == pytest.approx(3600)
    assert widget.toolbar.presets[3600.0].isChecked()
    assert widget.note.text() == "Live trend · last 1 h"
    widget.toolbar.zoom_in.click()  # live: span halves, right edge stays at now
    assert widget.span_s == 1800 and widget.live
    widget.set_live(False)
    x0, x1 = widget.visible_range()
    widget.toolbar.zoom_out.click()  # paused: about the middle
    y0, y1 = widget.visible_range()
    assert y1 - y0 == pytest.approx(2 * (x1 - x0)) and (y0 + y1) / 2 == pytest.approx((x0 + x1) / 2)
    widget.release()


def test_mouse_wheel_zooms_time_and_leaves_live(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)
    before = widget.visible_range()
    viewport = widget.plot.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    buttons, modifiers = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    angle = QPoint(0, 120)  # one notch away from the operator: zoom in
    phase = Qt.ScrollPhase.NoScrollPhase
    glob = viewport.mapToGlobal(centre)
    event = QWheelEvent(centre, glob, QPoint(0, 0), angle, buttons, modifiers, phase, False)
    QApplication.sendEvent(viewport, event)
    after = widget.visible_range()
    assert not widget.live
    assert after[1] - after[0] < before[1] - before[0]
    widget.release()


def drag(viewport, x0: float, x1: float, y: float) -> None:
    """A left-button drag in the plot's viewport, as the mouse sends it."""

    def event(kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> QMouseEvent:
        point = QPointF(x, y)
        glob, left, plain = viewport.mapToGlobal(point), Qt.MouseButton.LeftButton, NO_MODIFIER
        return QMouseEvent(kind, point, glob, left, buttons, plain)

    left = Qt.MouseButton.LeftButton
    QApplication.sendEvent(viewport, event(QEvent.Type.MouseButtonPress, x0, left))
    for step in range(1, 11):
        QApplication.sendEvent(
            viewport, event(QEvent.Type.MouseMove, x0 + (x1 - x0) * step / 10, left)
        )
    QApplication.sendEvent(
        viewport, event(QEvent.Type.MouseButtonRelease, x1, Qt.MouseButton.NoButton)
    )


def test_cursor_drags_through_the_extra_axis_views(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)  # the pump's axis is a view laid over the plot
    widget.set_cursor(True)
    before = widget.cursor.time
    x = widget.plot.mapFromScene(widget.view.mapViewToScene(QPointF(before, 5))).x()
    drag(widget.plot.viewport(), x, x + 100, widget.plot.viewport().height() / 2)
    assert widget.cursor.time > before
    assert widget.pens["Tank1.Level"].text() == "----"  # no value there yet
    widget.release()


def test_dragging_the_plot_pans_time(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)
    before = widget.visible_range()
    viewport = widget.plot.viewport()
    drag(viewport, viewport.width() / 2, viewport.width() / 2 - 100, viewport.height() / 2)
    after = widget.visible_range()
    assert not widget.live and after[0] > before[0]  # dragged left: later times
    assert after[1] - after[0] == pytest.approx(before[1] - before[0])
    widget.release()


def test_a_setpoint_step_is_drawn_at_the_moment_it_happened(station: Station, qtbot) -> None:
    """A setpoint held at 6.0 for a quiet minute, then changed to 6.5: the line stays at 6.0
    up to the change and rises vertically there (no ramp from the last sample), live and
    from history alike; a pen or tag ``step`` option decides where given."""
    t0 = time.time() - 90
    station.feed("Tank1.Setpoint", 6.0, source_time=t0)
    history = MemoryHistory()
    history.extend("Tank1.Setpoint", np.array([t0 - 600.0, t0 - 300.0]), np.array([6.0, 6.0]))
    widget = TrendWidget(
        TrendSpec(type="trend", tags=("Tank1.Setpoint",), span_s=900, rect=(0, 0, 900, 420)),
        station.ctx,
        history=history,
    )
    qtbot.addWidget(widget)
    station.feed("Tank1.Setpoint", 6.0, source_time=t0 + 1)
    station.feed("Tank1.Setpoint", 6.5, source_time=t0 + 61)
    widget.redraw()
    x, y = curve_data(widget, "Tank1.Setpoint")
    change = np.flatnonzero(y == 6.5)[0]
    assert x[change] == x[change - 1] == pytest.approx(t0 + 61) and y[change - 1] == 6.0
    assert np.all(y[:change] == 6.0)  # flat up to the moment of the change
    pen = widget.traces["Tank1.Setpoint"]
    pen.history = history_series = asyncio.run(history.query("Tank1.Setpoint", t0 - 900, t0, 300))
    assert history_series.count.sum() == 2
    t, v = pen.line(t0 - 900, t0 + 70, 300, t0 + 70)
    assert np.all(np.diff(t) >= 0) and set(v[np.isfinite(v)]) == {6.0, 6.5}
    assert v[np.flatnonzero(v == 6.5)[0] - 1] == 6.0  # history and live: vertical step
    widget.release()
    linear = make_trend(
        station, qtbot, tags=("Tank1.Setpoint",), pens=[{"tag": "Tank1.Setpoint", "step": False}]
    )
    assert not linear.traces["Tank1.Setpoint"].style.step  # the pen's own option wins
    linear.release()


def test_cursor_reads_every_pen_at_its_time(station: Station, qtbot) -> None:
    t0 = time.time() - 20
    station.feed("Tank1.Level", 2.0, source_time=t0)
    station.feed("Tank1.Setpoint", 5.0, source_time=t0)
    station.feed("Pump1.Running", True, source_time=t0)
    widget = make_trend(station, qtbot, span_s=60)
    station.feed("Tank1.Level", 4.0, source_time=t0 + 10)
    station.feed("Pump1.Running", False, source_time=t0 + 10)
    widget.toolbar.cursor_button.click()
    assert widget.cursor.active and not widget.live
    widget.cursor.place(t0 + 5)
    readings = widget.readings(t0 + 5)
    assert readings["Tank1.Level"] == pytest.approx(3.0)  # linear pen: interpolated
    assert readings["Tank1.Setpoint"] == 5.0  # held since
    assert readings["Pump1.Running"] == 1.0  # step pen: held
    assert widget.pens["Tank1.Level"].text() == "3.00 m"
    assert widget.pens["Tank1.Setpoint"].text() == "5.0 m"
    assert widget.pens["Pump1.Running"].text() == "Running"
    assert datetime.fromtimestamp(t0 + 5).strftime("%H:%M:%S") in widget.cursor.label.toPlainText()
    widget.cursor.place(t0 - 100)  # before anything: no value
    assert widget.pens["Tank1.Level"].text() == "----"
    widget.set_cursor(False)  # back to the live values
    assert widget.pens["Pump1.Running"].text() == "Stopped"
    widget.release()


def test_legend_toggle_hides_a_pen(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)
    entry = widget.traces["Tank1.Setpoint"].entry
    entry.check.click()
    assert not widget.traces["Tank1.Setpoint"].curve.isVisible()
    assert not widget.traces["Tank1.Setpoint"].shown
    entry.check.click()
    assert widget.traces["Tank1.Setpoint"].curve.isVisible()
    widget.release()


def test_bad_quality_breaks_the_line_and_marks_the_legend(station: Station, qtbot) -> None:
    t0 = time.time() - 10
    widget = make_trend(station, qtbot, span_s=60)
    station.feed("Tank1.Level", 1.0, source_time=t0)
    station.feed("Tank1.Level", 2.0, source_time=t0 + 1)
    station.feed("Tank1.Level", 9.9, Quality.bad(QualityReason.COMM_FAILURE), source_time=t0 + 2)
    assert widget.pens["Tank1.Level"].property("quality") == "bad"
    assert widget.pens["Tank1.Level"].text() == "9.90 m"  # last value kept, marked
    station.feed("Tank1.Level", 3.0, source_time=t0 + 4)
    widget.redraw()
    t, v = curve_data(widget, "Tank1.Level")
    gap = np.flatnonzero(np.isnan(v))
    assert len(gap) and t[gap[-1]] == pytest.approx(t0 + 2)
    assert 9.9 not in v  # a Bad value is never drawn
    assert widget.pens["Tank1.Level"].property("quality") == "good"
    widget.release()


def read_export(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    notes = [line for line in lines if line.startswith("#")]
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    return notes, rows


def test_export_csv_of_the_visible_range(
    station: Station, qtbot, tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    """Without a history, the samples the trend received, raw: one row each, with quality,
    its UTC time to the microsecond and the local time with its offset."""
    t0 = math.floor(time.time()) - 30
    station.feed("Tank1.Level", 1.25, source_time=t0 + 0.1234567)
    station.feed("Pump1.Running", False, source_time=t0 + 1)
    widget = make_trend(station, qtbot, tags=("Tank1.Level", "Pump1.Running"))
    station.feed("Pump1.Running", True, source_time=t0 + 2)
    station.feed("Tank1.Level", 2.5, source_time=t0 + 3)
    station.feed("Tank1.Level", 0.0, Quality.bad(QualityReason.STALE), source_time=t0 + 4)
    widget.set_range(t0 - 10, t0 + 5)
    rows = loop.run_until_complete(widget.export_csv(tmp_path / "trend.csv"))
    notes, table = read_export(tmp_path / "trend.csv")
    assert "not the drawn line" in notes[0] and "live buffer" in notes[2]
    assert rows == len(table) == 5
    level = [r for r in table if r["tag"] == "Tank1.Level"]
    assert [(r["value"], r["quality"], r["units"]) for r in level] == [
        ("1.25", "Good", "m"), ("2.5", "Good", "m"), ("", "Bad", "m"),  # live: level only
    ]  # fmt: skip
    first = datetime.fromisoformat(level[0]["utc"].replace("Z", "+00:00"))
    assert first.timestamp() == pytest.approx(t0 + 0.123457, abs=1e-6)  # to the microsecond
    local = datetime.fromisoformat(level[0]["local"])
    assert local.utcoffset() is not None and local == first  # the same instant, with offset
    pump = [(r["value"], r["quality"]) for r in table if r["tag"] == "Pump1.Running"]
    assert pump == [("0.0", "Good"), ("1.0", "Good")]
    widget.release()


def test_export_png(station: Station, qtbot, tmp_path: Path) -> None:
    widget = make_trend(station, qtbot)
    path = tmp_path / "trend.png"
    assert widget.export_png(path)
    assert path.stat().st_size > 1000
    widget.release()


def test_export_menu_asks_for_a_file(
    station: Station, qtbot, tmp_path: Path, monkeypatch, loop: asyncio.AbstractEventLoop
) -> None:
    widget = make_trend(station, qtbot)
    chosen = {"csv": tmp_path / "chosen.csv", "png": tmp_path / "chosen.png"}

    def ask(parent, title, name, filters):  # the operator picks a file
        return str(chosen[name.rsplit(".", 1)[1]]), filters

    monkeypatch.setattr("hmi.widgets.trend.toolbar.QFileDialog.getSaveFileName", ask)
    for action in widget.toolbar.export_menu.actions():
        action.trigger()
    loop.run_until_complete(asyncio.gather(*widget.exports))
    assert chosen["csv"].read_text(encoding="utf-8").startswith("# HMI trend export")
    assert chosen["png"].stat().st_size > 1000
    widget.release()


def test_add_and_remove_pens(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot, tags=("Tank1.Level",))
    pen = widget.add_pen("Pump1.Mode")
    assert widget.add_pen("Pump1.Mode") is pen
    assert station.broker.subscribers("Pump1.Mode") == 1
    assert "Pump1.Mode" in widget.legend.entries and pen.style.color == PALETTE[1]
    station.feed("Pump1.Mode", 2)
    assert widget.pens["Pump1.Mode"].text() == "2"
    widget.remove_pen("Pump1.Mode")
    assert station.broker.subscribers("Pump1.Mode") == 0
    assert "Pump1.Mode" not in widget.legend.entries and "Pump1.Mode" not in widget.traces
    assert len(widget.axes.axes) == 1  # its axis went with it
    widget.release()


def test_unknown_tag_is_a_marked_pen_not_a_crash(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot, tags=("Tank1.Level", "No.Such.Tag"))
    assert widget.pens["No.Such.Tag"].property("quality") == "bad"
    widget.redraw()
    widget.release()


def test_release_unbinds_and_is_idempotent(station: Station, qtbot) -> None:
    widget = make_trend(station, qtbot)
    assert all(station.broker.subscribers(tag) == 1 for tag in TAGS)
    widget.release()
    widget.release()
    assert all(station.broker.subscribers(tag) == 0 for tag in TAGS)
    ticks = widget.ticks
    qtbot.wait(250)
    assert widget.ticks == ticks  # no more frames


def test_placeholder_contract_still_holds(station: Station, qtbot) -> None:
    """What screens relied on before the plot: ``note`` and ``pens[tag]`` labels."""
    spec = TrendSpec(type="trend", tags=("Tank1.Level", "Pump1.Running"), rect=(0, 0, 240, 120))
    widget = TrendWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.apply_scale(0.5)
    level = widget.pens["Tank1.Level"]
    assert level.text() == "----" and level.property("quality") == "disconnected"
    station.feed("Pump1.Running", 1, Quality.bad(QualityReason.COMM_FAILURE))
    assert widget.pens["Pump1.Running"].text() == "Running"
    assert widget.pens["Pump1.Running"].property("quality") == "bad"
    widget.release()


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch):
    """Local time is Europe/Berlin (daylight saving ends 2026-10-25 03:00 -> 02:00)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_cursor_and_paused_note_tell_the_repeated_hour_apart(
    station: Station, qtbot, berlin: None
) -> None:
    """02:30 happens twice on 2026-10-25 in Berlin: first at +02:00, an hour later at
    +01:00. The cursor's label and the paused note carry the offset, so they differ."""
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp()  # 02:30 CEST
    second = first + 3600  # 02:30 CET
    widget = make_trend(station, qtbot)
    widget.resize(1400, 420)  # room for the whole note
    widget.set_range(first - 600, second)
    qtbot.waitUntil(lambda: not cut_texts(widget.toolbar))
    assert widget.note.text() == "Paused · 2026-10-25 02:20:00 +02:00 – 02:30:00 +01:00"
    widget.resize(600, 420)  # the short form keeps both offsets where they differ
    qtbot.waitUntil(lambda: widget.note.text() != "" and not cut_texts(widget.toolbar))
    assert widget.note.text() in (
        "Paused · 2026-10-25 02:20:00 +02:00 – 02:30:00 +01:00",
        "Paused · 02:20:00 +02:00 – 02:30:00 +01:00",
    )
    widget.set_cursor(True)
    widget.cursor.place(first)
    at_first = widget.cursor.label.toPlainText()
    widget.cursor.place(second)
    at_second = widget.cursor.label.toPlainText()
    assert at_first.strip() == "2026-10-25 02:30:00.000 +02:00"
    assert at_second.strip() == "2026-10-25 02:30:00.000 +01:00"
    widget.release()


def test_a_column_of_1_to_2_s_is_drawn_once(station: Station, qtbot) -> None:
    """A 15 min trend on some 600 px (1.5 s a column): new samples inside the newest column
    wait for its scroll (within 2 s), not for a frame of their own at 1 s, which made two
    frames a column for one pixel column's growth."""
    from hmi.widgets.trend.widget import LIVE_DRAW_S

    widget = make_trend(station, qtbot, span_s=900)
    widget.frame_timer.stop()
    widget.span_s = widget.columns() * 1.5  # 1.5 s a column, whatever the plot's width
    now = [time.time()]
    widget.clock = lambda: now[0]
    widget.set_live(True)
    widget.tick()
    column = widget.column_s()
    assert LIVE_DRAW_S < column <= 2 * LIVE_DRAW_S
    frames, edge = widget.frames, widget.visible_range()[1]
    for step in range(16):  # 1.6 s at ten ticks a second, a sample each
        now[0] += 0.1
        station.feed("Tank1.Level", 7.0 + step)
        widget.tick()
        if now[0] - edge < column:
            assert widget.frames == frames  # inside the column, past LIVE_DRAW_S too
    assert now[0] - edge >= column > LIVE_DRAW_S
    assert widget.frames == frames + 1  # drawn with the scroll
    assert widget.visible_range()[1] == pytest.approx(now[0])
    widget.release()


def test_a_live_frame_is_painted_once(station: Station, qtbot) -> None:
    """Each column's scroll and redraw is one paint of the plot: pyqtgraph moves its views
    (new range, y autorange) as a paint begins, which made every line's bounds change inside
    it and Qt paint the frame again at once (a second paint a second, on the idle station)."""
    widget = make_trend(station, qtbot, span_s=900, tags=("Tank1.Level", "Tank1.Setpoint"))
    widget.frame_timer.stop()
    now = [time.time()]
    widget.clock = lambda: now[0]
    for i in range(20):  # some history in view, rising, so the y autorange moves too
        station.feed("Tank1.Level", 5.0 + i, source_time=now[0] - 200 + 10 * i)
    widget.tick()
    qtbot.wait(100)
    paints = PaintCounter()
    widget.plot.viewport().installEventFilter(paints)
    frames = widget.frames
    for i in range(6):
        now[0] += widget.column_s() * 1.01
        station.feed("Tank1.Level", 30.0 + i)
        station.feed("Tank1.Setpoint", 2.0 * i)
        widget.tick()
        qtbot.wait(60)  # the frame is painted
    assert widget.frames == frames + 6
    assert paints.count == 6
    calls: Counter[str] = Counter()  # and no axis lays out its label's HTML again

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call":
            calls[getattr(arg, "__name__", "?")] += 1

    sys.setprofile(profile)
    try:
        for _ in range(3):
            now[0] += widget.column_s() * 1.01
            station.feed("Tank1.Level", 40.0)
            widget.tick()
            qtbot.wait(60)
    finally:
        sys.setprofile(None)
    assert widget.frames == frames + 9 and calls["setHtml"] == 0
    widget.release()


def test_a_live_view_scrolls_a_pixel_column_at_a_time(station: Station, qtbot) -> None:
    """An hour on the plot's width (4-5 s a column): between two columns' worth of time,
    ticks neither scroll nor repaint (the idle station's CPU); a new sample inside the newest
    column is drawn within LIVE_DRAW_S; a column later the view has moved to now."""
    from hmi.widgets.trend.widget import LIVE_DRAW_S

    widget = make_trend(station, qtbot, span_s=3600)
    widget.frame_timer.stop()
    now = [time.time()]
    widget.clock = lambda: now[0]
    widget.tick()  # scrolls to now and draws
    column = widget.column_s()
    assert 2 * LIVE_DRAW_S < column < 10  # 3,600 s on some 400-900 px
    frames, edge = widget.frames, widget.visible_range()[1]
    for _ in range(5):  # ten frames a second
        now[0] += 0.1
        widget.tick()
    assert (widget.frames, widget.visible_range()[1]) == (frames, edge)
    station.feed("Tank1.Level", 7.0)
    now[0] += LIVE_DRAW_S  # inside the same column: drawn, not scrolled
    widget.tick()
    assert (widget.frames, widget.visible_range()[1]) == (frames + 1, edge)
    widget.tick()  # nothing new since: no repaint
    assert widget.frames == frames + 1
    now[0] = edge + column
    widget.tick()
    assert widget.visible_range()[1] == pytest.approx(now[0]) and widget.frames == frames + 2
    widget.release()
