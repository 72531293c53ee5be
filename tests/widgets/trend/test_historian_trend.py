"""A trend backfilling from the SQL historian (``SqlHistory`` on a SQLite file): days of stored
history at roll-up resolution, panned back into, joined to live data without gap or duplicate;
and a station's own recorder feeding the history a trend opened later shows."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from hmi.model.quality import GOOD, Quality, QualityLevel, QualityReason
from hmi.model.screens.schema import TrendSpec
from hmi.model.trends.historian import HistorianConfig, quality_code
from hmi.runtime.historian import HistorianRecorder, SqlHistory
from hmi.storage.historian import HistorianStore
from hmi.widgets.trend.export import quality_text
from hmi.widgets.trend.widget import TrendWidget
from tests.widgets.conftest import Station

TAG = "Tank1.Level"
DAYS = 3
COMM_FAILURE = Quality.bad(QualityReason.COMM_FAILURE)
BAD = quality_code(COMM_FAILURE)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistorianStore]:
    store = HistorianStore.open(f"sqlite:///{tmp_path}/historian.sqlite")
    yield store
    store.close()


def level(t: np.ndarray, origin: float) -> np.ndarray:
    return (t - origin) / 3600.0


def fill(store: HistorianStore, now: float) -> float:
    """Three days at 1 Hz up to ``now`` (overlapping what the trend gets live), with a Bad
    stretch two days back; roll-ups done to a minute ago, as the recorder keeps them."""
    origin = now - DAYS * 86400
    t = np.arange(origin, now, 1.0)
    v = level(t, origin)
    bad = (t > now - 2 * 86400) & (t < now - 2 * 86400 + 600)
    tag_id = store.tag_ids([TAG])[TAG]
    rows = [
        (tag_id, round(ti * 1e6), None if b else float(vi), BAD if b else quality_code(GOOD))
        for ti, vi, b in zip(t, v, bad, strict=True)
    ]
    with store.engine.connect() as conn, conn.begin():
        store.insert_rows(conn, rows)
    store.roll_up(now - 60)
    return origin


def make_trend(station: Station, qtbot, history: SqlHistory, span_s: float = 120) -> TrendWidget:
    spec = TrendSpec(type="trend", tags=(TAG,), span_s=span_s, rect=(0, 0, 900, 400))
    widget = TrendWidget(spec, station.ctx, history=history)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def curve(widget: TrendWidget) -> tuple[np.ndarray, np.ndarray]:
    widget.redraw()
    x, y = (np.asarray(a) for a in widget.traces[TAG].curve.getData())
    return x, y


def test_pan_back_through_days_joins_live_without_gap_or_duplicate(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop, store: HistorianStore
) -> None:
    now = time.time()
    origin = fill(store, now)
    history = SqlHistory(store)
    live_start = now - 60
    station.feed(TAG, 99.0, source_time=live_start)
    widget = make_trend(station, qtbot, history)
    for i in range(1, 30):
        station.feed(TAG, 99.0 + i / 100, source_time=live_start + 2 * i)
    pen = widget.traces[TAG]
    first = pen.buffer.first_time
    loop.run_until_complete(widget.wait_history())

    widget.set_range(now - DAYS * 86400 + 3600, now)  # all of it: roll-ups, raw at both ends
    qtbot.waitUntil(lambda: bool(widget.backfill.tasks), timeout=2000)
    loop.run_until_complete(widget.wait_history())
    assert pen.history is not None and pen.history.end == first
    assert pen.history.count.sum() == pytest.approx(first - (now - DAYS * 86400 + 3600), abs=2)
    x, y = curve(widget)
    assert np.all(np.diff(x) >= 0)
    gaps = x[np.isnan(y)]
    assert len(gaps) >= 1 and np.all(np.abs(gaps - (now - 2 * 86400 + 300)) < 600)
    finite = np.isfinite(y)
    assert np.max(np.diff(x[finite])) <= 1200  # no hole but the Bad stretch
    at_join = np.flatnonzero(x == first)
    assert len(at_join) == 2
    assert y[at_join[0]] == pytest.approx(level(np.array(first - 1), origin), abs=1e-6)
    assert y[at_join[1]] == 99.0
    live_y = y[at_join[1] :]
    assert len(live_y) == len(np.unique(live_y)) + 1  # only the value held on to now repeats

    widget.set_range(now - 2.5 * 86400, now - 2.4 * 86400)  # pan back: stored history only
    qtbot.waitUntil(lambda: bool(widget.backfill.tasks), timeout=2000)
    loop.run_until_complete(widget.wait_history())
    x, y = curve(widget)
    inside = (x >= now - 2.5 * 86400) & (x <= now - 2.4 * 86400)
    assert inside.sum() > 100 and np.all(np.isfinite(y[inside]))
    np.testing.assert_allclose(y[inside], level(x[inside], origin), atol=60 / 3600)
    history.close()
    widget.release()


def test_the_recorder_fills_a_trend_opened_later(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop, store: HistorianStore
) -> None:
    """The station's chain: broker -> recorder -> SQLite -> SqlHistory -> trend backfill."""
    config = HistorianConfig(batch_interval_s=30)  # only a flush gets values out in time
    recorder = HistorianRecorder(station.broker, store, config, trended={TAG})
    history = SqlHistory(store, recorder=recorder)
    loop.run_until_complete(recorder.start())
    try:
        now = time.time()
        for i in range(50):  # the minute before the screen opened, with a Bad moment
            station.feed(TAG, float(i), source_time=now - 60 + i)
            if i == 29:
                station.feed(TAG, 7.0, COMM_FAILURE, source_time=now - 30.5)
        widget = make_trend(station, qtbot, history, span_s=120)
        pen = widget.traces[TAG]
        qtbot.waitUntil(lambda: bool(widget.backfill.tasks), timeout=2000)
        loop.run_until_complete(widget.wait_history())
        x, y = curve(widget)
        assert y[0] == 0.0 and x[0] == pytest.approx(now - 60, abs=0.5)  # its bucket
        assert 48.0 in y and pen.history is not None
        assert pen.history.quality.min() == QualityLevel.BAD
        assert np.all(np.isfinite(y[x < now - 31]))
        assert np.isnan(y[(x > now - 31) & (x < now - 30)]).any()  # the gap
        assert recorder.status().written == 51
        widget.release()
    finally:
        history.close()
        loop.run_until_complete(recorder.stop())  # its heartbeat task ends too


def test_csv_export_is_the_stored_samples_like_brute_force(
    station: Station, qtbot, loop: asyncio.AbstractEventLoop, store: HistorianStore, tmp_path: Path
) -> None:
    """An hour of a random walk with spikes, Bad and Uncertain stretches, at irregular
    microsecond times, stored in a SQLite historian; the trend shows part of it; the export
    holds exactly the stored samples of that range, checked row by row against a plain
    filter over what was written: same microsecond, same value to the last bit, same
    quality (so a lookup by an exported time finds that very sample)."""
    rng = np.random.default_rng(2026)
    now = time.time()
    n = 20_000
    t_us = round((now - 3600) * 1e6) + np.cumsum(rng.integers(1, 400_000, n))
    v = np.cumsum(rng.normal(0, 0.3, n)) + 50
    v[rng.integers(0, n, 15)] += rng.choice([-40.0, 40.0], 15)
    codes = np.full(n, quality_code(GOOD))
    codes[rng.random(n) < 0.01] = BAD
    codes[rng.random(n) < 0.01] = quality_code(Quality.uncertain(QualityReason.STALE))
    samples = [
        (TAG, int(t), None if c == BAD else float(x), int(c))
        for t, x, c in zip(t_us, v, codes, strict=True)
    ]
    store.write(samples)
    history = SqlHistory(store)
    widget = make_trend(station, qtbot, history, span_s=600)
    x0, x1 = (now - 3000.123456, now - 1200.5)
    widget.set_range(x0, x1)
    path = tmp_path / "export.csv"
    rows = loop.run_until_complete(widget.export_csv(path))

    lines = path.read_text(encoding="utf-8").splitlines()
    table = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    lo, hi = round(x0 * 1e6), round(x1 * 1e6)
    expected = [s for s in samples if lo <= s[1] <= hi]  # brute force: every stored sample
    assert rows == len(table) == len(expected) > 5000
    assert any("every sample the historian stored" in line for line in lines[:5])
    for row, (_, t, value, code) in zip(table, expected, strict=True):
        utc = datetime.fromisoformat(row["utc"].replace("Z", "+00:00"))
        assert (utc - EPOCH) // timedelta(microseconds=1) == t
        assert datetime.fromisoformat(row["local"]) == utc
        assert row["value"] == ("" if value is None else repr(value))
        assert row["quality"] == quality_text(code)
    history.close()
    widget.release()
