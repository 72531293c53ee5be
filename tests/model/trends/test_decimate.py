"""Min/max decimation per pixel column and history buckets: pure numpy, no Qt."""

from __future__ import annotations

import numpy as np
import pytest

from hmi.model.quality import QualityLevel
from hmi.model.trends.decimate import BucketSeries, bucketize, minmax_decimate

T0 = 1_700_000_000.0


def series(n: int, dt: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    t = T0 + np.arange(n) * dt
    return t, np.sin(np.arange(n) / 5000.0)


def test_single_sample_spike_among_millions_survives() -> None:
    t, v = series(2_600_000)
    v[1_234_567] = 40.0
    v[2_000_001] = -40.0
    t_out, v_out = minmax_decimate(t, v, t[0], t[-1], 1920)
    assert len(t_out) <= 2 * 1920 + 2
    assert v_out.max() == 40.0 and v_out.min() == -40.0
    assert t_out[np.argmax(v_out)] == t[1_234_567]  # at its own time
    assert np.all(np.diff(t_out) >= 0)


def test_min_and_max_keep_time_order_within_a_column() -> None:
    t = T0 + np.arange(8.0)
    v = np.array([0.0, 5.0, 1.0, -3.0, 0.0, -2.0, 7.0, 0.0])
    t_out, v_out = minmax_decimate(t, v, t[0], t[-1], 2)  # 4 samples per column
    # first column [0..3]: max 5 at t1 then min -3 at t3; second: min -2 at t5 then max 7 at t6
    assert list(v_out) == [5.0, -3.0, -2.0, 7.0]
    assert list(t_out - T0) == [1.0, 3.0, 5.0, 6.0]


def test_nan_in_a_column_breaks_the_line_between_extremes() -> None:
    t, v = series(10_000)
    v[5000:5100] = np.nan  # a Bad stretch
    t_out, v_out = minmax_decimate(t, v, t[0], t[-1], 100)
    gaps = np.flatnonzero(np.isnan(v_out))
    assert len(gaps) >= 1
    assert t[5000] <= t_out[gaps[0]] <= t[5099]
    assert np.all(np.diff(t_out) >= 0)
    finite = np.isfinite(v_out)
    assert finite[0] and finite[-1]


def test_all_nan_column_is_one_break() -> None:
    t = T0 + np.arange(30.0)
    v = np.arange(30.0)
    v[10:20] = np.nan
    _, v_out = minmax_decimate(t, v, t[0], t[-1], 3)
    assert np.isnan(v_out).sum() == 1
    assert list(v_out[np.isfinite(v_out)]) == [0.0, 9.0, 20.0, 29.0]


def test_empty_range_and_empty_input() -> None:
    t, v = series(1000)
    t_out, _ = minmax_decimate(t, v, T0 + 100, T0 + 200, 50)  # after the data
    assert len(t_out) == 1  # only the left neighbour, so the line reaches the edge
    t_out, v_out = minmax_decimate(np.empty(0), np.empty(0), T0, T0 + 1, 50)
    assert len(t_out) == len(v_out) == 0
    t_out, _ = minmax_decimate(t, v, T0 + 5, T0 + 5, 50)  # zero-width range
    assert len(t_out) == 0


def test_fewer_points_than_columns_are_returned_as_is() -> None:
    t, v = series(100)
    t_out, v_out = minmax_decimate(t, v, t[10], t[50], 400)
    assert np.shares_memory(t_out, t) and np.shares_memory(v_out, v)  # views, no copy
    assert t_out[0] == t[9] and t_out[-1] == t[51]  # one neighbour each side


def test_output_size_follows_columns_not_history() -> None:
    for n in (100_000, 1_000_000):
        t, v = series(n)
        t_out, _ = minmax_decimate(t, v, t[0], t[-1], 800)
        assert len(t_out) <= 1600 + 2


def test_bucketize_first_last_min_max_quality() -> None:
    t = T0 + np.arange(10.0)
    v = np.array([1.0, 3.0, 2.0, 0.0, np.nan, 5.0, 4.0, 6.0, 7.0, 8.0])
    q = np.full(10, QualityLevel.GOOD, dtype=np.uint8)
    q[4] = QualityLevel.BAD
    q[8] = QualityLevel.UNCERTAIN
    b = bucketize(t, v, q, T0 + 1, T0 + 9, 2)  # [1,5) and [5,9): sample 9 excluded
    assert b.buckets == 2 and b.width == 4.0
    assert list(b.first) == [3.0, 5.0] and list(b.last[1:]) == [7.0]
    assert np.isnan(b.last[0])  # the last sample of bucket 0 was Bad
    assert list(b.min) == [0.0, 4.0] and list(b.max) == [3.0, 7.0]
    assert list(b.count) == [4, 4]
    assert list(b.quality) == [QualityLevel.BAD, QualityLevel.UNCERTAIN]
    assert b.prior == 1.0


def test_bucket_points_break_at_bad_and_end_at_end() -> None:
    t = T0 + np.arange(100.0)
    v = np.linspace(0, 10, 100)
    q = np.full(100, QualityLevel.GOOD, dtype=np.uint8)
    v[40], q[40] = np.nan, QualityLevel.BAD
    b = bucketize(t, v, q, T0 + 0.5, T0 + 100, 10)
    pt, pv = b.points()
    assert pt[0] == T0 + 0.5 and pv[0] == v[0]  # prior value at the left edge
    assert pt[-1] == T0 + 100
    assert np.all(np.diff(pt) >= 0)
    gaps = pt[np.isnan(pv)]
    assert len(gaps) == 1 and T0 + 30 < gaps[0] <= T0 + 40.5  # the bucket holding sample 40
    v[40], q[40] = v[41], QualityLevel.GOOD
    v[35], q[35] = np.nan, QualityLevel.BAD  # inside a bucket: a break in its middle
    pt, pv = bucketize(t, v, q, T0 + 0.5, T0 + 100, 10).points()
    gaps = pt[np.isnan(pv)]
    assert len(gaps) == 1 and T0 + 30.35 < gaps[0] < T0 + 40.3


def test_empty_buckets_and_value_at() -> None:
    t = T0 + np.array([0.0, 50.0])
    v = np.array([1.0, 2.0])
    q = np.full(2, QualityLevel.GOOD, dtype=np.uint8)
    b = bucketize(t, v, q, T0 + 10, T0 + 100, 9)
    assert list(b.count) == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert b.value_at(T0 + 20) == 1.0  # prior, held
    assert b.value_at(T0 + 95) == 2.0
    assert np.isnan(b.value_at(T0 + 100))  # end is exclusive
    empty = BucketSeries.empty(T0, T0 + 10, 5)
    assert len(empty.points()[0]) == 0


@pytest.mark.parametrize("columns", [1, 7, 640])
def test_decimated_extremes_equal_true_extremes_per_column(columns: int) -> None:
    rng = np.random.default_rng(columns)
    t = np.sort(T0 + rng.uniform(0, 1000, 50_000))
    v = rng.normal(size=50_000)
    t_out, v_out = minmax_decimate(t, v, T0, T0 + 1000, columns)
    edges = np.linspace(T0, T0 + 1000, columns + 1)
    column = np.clip(np.searchsorted(edges, t_out, side="right") - 1, 0, columns - 1)
    for c in np.unique(column)[:20]:
        inside = (t >= edges[c]) & (t < edges[c + 1])
        assert v_out[column == c].max() == v[inside].max()
        assert v_out[column == c].min() == v[inside].min()
