"""Backfill from a HistorySource: a real in-memory history filled with generated data, joined to
the live buffer without gap or duplicate; debounced; stale answers dropped."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from hmi.model.quality import GOOD, QualityLevel
from hmi.model.screens.schema import TrendSpec
from hmi.model.value import TagValue
from hmi.runtime.history import HistorySource, MemoryHistory
from hmi.widgets.trend.backfill import covers
from hmi.widgets.trend.widget import TrendWidget
from tests.widgets.conftest import Station

TAG = "Tank1.Level"


def generated(now: float, *, every: float = 1.0, hours: float = 2.0) -> MemoryHistory:
    """A ramp with a Bad stretch, as a station's history would hold it, up to ``now`` (so it
    overlaps what the trend will receive live)."""
    history = MemoryHistory(capacity=100_000)
    t = np.arange(now - hours * 3600, now, every)
    v = (t - t[0]) / 3600.0
    q = np.full(len(t), QualityLevel.GOOD, dtype=np.uint8)
    q[(t > now - 5400) & (t < now - 5300)] = QualityLevel.BAD
    history.extend(TAG, t, v, q)
    return history


def make_trend(station: Station, qtbot, history: HistorySource, span_s: float = 120) -> TrendWidget:
    spec = TrendSpec(type="trend", tags=(TAG,), span_s=span_s, rect=(0, 0, 900, 400))
    widget = TrendWidget(spec, station.ctx, history=history)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_memory_history_is_a_history_source() -> None:
    history = MemoryHistory()
    assert isinstance(history, HistorySource)
    history.record(TAG, TagValue(1.5, GOOD, 50.0, 50.0))
    history.record(TAG, TagValue(2.5, GOOD, 250.0, 250.0))
    series = asyncio.run(history.query(TAG, 0.0, 300.0, 3))
    assert list(series.count) == [1, 0, 1] and series.last[2] == 2.5
    empty = asyncio.run(history.query("Other", 0.0, 300.0, 3))
    assert empty.buckets == 3 and not empty.count.any()
    assert history.span(TAG) == (50.0, 250.0) and history.span("Other") is None


def test_zoom_out_backfills_and_joins_without_gap_or_duplicate(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop
) -> None:
    now = time.time()
    history = generated(now)
    live_start = now - 60
    station.feed(TAG, 99.0, source_time=live_start)  # the broker's latest: first live sample
    widget = make_trend(station, qtbot, history)
    for i in range(1, 30):
        station.feed(TAG, 99.0 + i / 100, source_time=live_start + 2 * i)
    pen = widget.traces[TAG]
    first = pen.buffer.first_time
    assert first == live_start
    loop.run_until_complete(widget.wait_history())  # the live view's own backfill

    widget.set_range(now - 3600, now)  # zoom out to an hour: before the live buffer
    assert not widget.backfill.tasks  # debounced: nothing asked yet
    qtbot.waitUntil(lambda: bool(widget.backfill.tasks), timeout=2000)
    loop.run_until_complete(widget.wait_history())
    tag, start, end, buckets = history.queries[-1]
    assert (tag, start, end) == (TAG, pytest.approx(now - 3600), first)  # up to live, exclusive
    assert abs(buckets - widget.columns() * (first - start) / 3600) <= 1  # a bucket per column
    assert pen.history is not None and pen.history.end == first

    widget.redraw()
    x, y = (np.asarray(a) for a in pen.curve.getData())
    assert np.all(np.diff(x) >= 0)
    from_history = x < first
    assert from_history.sum() > 100 and (~from_history).sum() >= 2
    assert np.all(np.isfinite(y))  # no gap anywhere in the last hour
    assert np.max(np.diff(x)) <= 3 * 3600 / widget.columns()  # nor a hole in time
    at_join = np.flatnonzero(x == first)  # the history's last value ends where live begins
    assert len(at_join) == 2
    assert y[at_join[0]] == pytest.approx((first - 1 - (now - 7200)) / 3600, abs=1e-3)
    assert y[at_join[1]] == 99.0  # then the live samples, each once
    live_y = y[at_join[1] :]
    assert len(live_y) == len(np.unique(live_y)) + 1  # only the value held on to now repeats
    widget.release()


def test_bad_history_is_a_gap(station: Station, qtbot, loop: asyncio.AbstractEventLoop) -> None:
    now = time.time()
    widget = make_trend(station, qtbot, generated(now))
    widget.set_range(now - 7000, now - 4000)
    widget.ask_history()
    loop.run_until_complete(widget.wait_history())
    widget.redraw()
    x, y = (np.asarray(a) for a in widget.traces[TAG].curve.getData())
    gaps = x[np.isnan(y) & (x < now - 4000)]  # (the trend has had no live value: a gap at now)
    assert len(gaps) >= 1 and np.all((gaps > now - 5420) & (gaps < now - 5280))
    widget.release()


def test_requests_are_debounced_while_dragging(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop
) -> None:
    now = time.time()
    history = generated(now)
    widget = make_trend(station, qtbot, history)
    loop.run_until_complete(widget.wait_history())
    asked = len(history.queries)
    for step in range(10):  # a drag: the range moves on every mouse event
        widget.set_range(now - 3000 - step * 30, now - 1000 - step * 30)
    assert len(history.queries) == asked and not widget.backfill.tasks
    qtbot.waitUntil(lambda: bool(widget.backfill.tasks), timeout=2000)
    loop.run_until_complete(widget.wait_history())
    assert len(history.queries) == asked + 1  # one request, for where the drag stopped
    assert history.queries[-1][1] == pytest.approx(now - 3270)
    widget.release()


def test_stale_answer_is_dropped(station: Station, qtbot, loop: asyncio.AbstractEventLoop) -> None:
    now = time.time()
    history = generated(now)
    history.latency = 0.05
    widget = make_trend(station, qtbot, history)
    loop.run_until_complete(widget.wait_history())
    widget.set_range(now - 6000, now - 3000)
    widget.ask_history()
    widget.set_range(now - 2000, now - 1000)  # the operator moved on before the answer
    widget.ask_history()
    loop.run_until_complete(widget.wait_history())
    assert widget.backfill.dropped == 1
    series = widget.traces[TAG].history
    assert series is not None and series.start == pytest.approx(now - 2000)
    widget.release()


def test_covered_ranges_are_not_asked_again(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop
) -> None:
    now = time.time()
    history = generated(now)
    widget = make_trend(station, qtbot, history, span_s=3600)
    loop.run_until_complete(widget.wait_history())
    asked = len(history.queries)
    for _ in range(5):  # live scrolling within what was answered
        widget.ask_history()
    assert len(history.queries) == asked
    assert covers((0.0, 100.0, 100), 0.5, 100.0, 100)
    assert not covers((0.0, 100.0, 100), 0.0, 100.0, 400)  # too coarse for the new zoom
    assert not covers((50.0, 100.0, 50), 0.0, 100.0, 100)  # does not reach back far enough
    widget.release()


def test_answer_after_release_is_dropped(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop
) -> None:
    now = time.time()
    history = generated(now)
    history.latency = 0.02
    widget = make_trend(station, qtbot, history)
    widget.set_range(now - 3000, now - 1000)
    widget.ask_history()
    tasks = list(widget.backfill.tasks)
    widget.release()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    assert station.broker.subscribers(TAG) == 0


def test_history_fed_by_the_broker_fills_a_trend_opened_later(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop
) -> None:
    """The station's own history today: every change the broker sees, kept in memory."""
    history = MemoryHistory()
    station.broker.add_listener(history.record)
    now = time.time()
    for i in range(50):  # the minute before the screen opened
        station.feed(TAG, float(i), source_time=now - 60 + i)
    widget = make_trend(station, qtbot, history, span_s=120)
    pen = widget.traces[TAG]
    assert pen.buffer.first_time == pytest.approx(now - 11)  # the broker's latest, at bind
    qtbot.waitUntil(lambda: bool(widget.backfill.tasks), timeout=2000)  # asked on a frame
    loop.run_until_complete(widget.wait_history())
    widget.redraw()
    x, y = (np.asarray(a) for a in pen.curve.getData())
    assert y[0] == 0.0 and x[0] == pytest.approx(now - 60)  # from the history
    assert 48.0 in y and y[x >= pen.buffer.first_time][1] == 49.0
    assert np.all(np.isfinite(y))
    station.broker.remove_listener(history.record)
    widget.release()
