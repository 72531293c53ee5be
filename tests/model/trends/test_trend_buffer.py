"""The live ring buffer of a trend pen: capacity, wrap-around, views, summaries."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmi.model.quality import GOOD, Quality, QualityLevel, QualityReason
from hmi.model.trends.buffer import LEVELS, TrendBuffer, sample_of, value_at
from hmi.model.trends.columns import grid_width
from hmi.model.trends.decimate import minmax_decimate
from hmi.model.value import TagValue

T0 = 1_700_000_000.0


def test_capacity_is_rounded_to_whole_summary_blocks() -> None:
    buffer = TrendBuffer(10_000)
    assert buffer.capacity % LEVELS[-1] == 0 and buffer.capacity >= 10_000
    assert len(buffer) == 0 and math.isinf(buffer.first_time)


def test_append_and_wrap_around_keeps_the_newest_in_order() -> None:
    buffer = TrendBuffer(4096)
    n = buffer.capacity * 2 + 123
    for i in range(n):
        buffer.append(T0 + i, float(i), QualityLevel.GOOD)
    assert len(buffer) == buffer.capacity and buffer.appended == n
    t, v = buffer.times(), buffer.values()
    assert t[0] == T0 + n - buffer.capacity and t[-1] == T0 + n - 1
    assert np.all(np.diff(v) == 1.0)  # contiguous and ordered across the wrap
    assert buffer.first_time == t[0] and buffer.last_time == t[-1]


def test_reads_are_views_not_copies() -> None:
    buffer = TrendBuffer(4096)
    buffer.extend(T0 + np.arange(5000.0), np.arange(5000.0))  # wrapped once
    t = buffer.times()
    assert t.base is not None and np.shares_memory(t, buffer.times())
    w_t, w_v, w_q = buffer.window(T0 + 4500, T0 + 4600)
    assert len(w_t) == 101 and w_v[0] == 4500.0 and np.shares_memory(w_t, t)
    assert w_q.dtype == np.uint8


def test_extend_across_the_wrap_and_beyond_capacity() -> None:
    buffer = TrendBuffer(4096)
    buffer.extend(T0 + np.arange(3000.0), np.arange(3000.0))
    buffer.extend(T0 + 3000 + np.arange(3000.0), 3000 + np.arange(3000.0))
    assert np.array_equal(buffer.values(), np.arange(6000.0 - 4096, 6000.0))
    buffer.extend(T0 + 6000 + np.arange(10_000.0), 6000 + np.arange(10_000.0))
    assert np.array_equal(buffer.values(), np.arange(16_000.0 - 4096, 16_000.0))


def test_bad_samples_are_nan_and_time_never_goes_back() -> None:
    buffer = TrendBuffer(4096)
    buffer.append(T0 + 10, 1.0)
    buffer.append(T0 + 5, 2.0)  # a late sample is moved up to the newest time
    buffer.append(T0 + 11, 3.0, QualityLevel.BAD)
    assert list(buffer.times() - T0) == [10.0, 10.0, 11.0]
    assert math.isnan(buffer.last_value)
    assert list(buffer.qualities()) == [2, 2, 0]


def test_sample_of_tag_values() -> None:
    assert sample_of(TagValue(True, GOOD, T0, T0 + 1)) == (T0, 1.0, 2)
    bad = sample_of(TagValue(4.0, Quality.bad(QualityReason.COMM_FAILURE), None, T0))
    assert bad[0] == T0 and math.isnan(bad[1]) and bad[2] == 0
    assert math.isnan(sample_of(TagValue("text", GOOD, None, T0))[1])
    assert sample_of(TagValue(2, Quality.uncertain(QualityReason.STALE), None, T0))[1:] == (2, 1)


def test_value_at_held_or_interpolated() -> None:
    t = np.array([0.0, 10.0, 20.0])
    v = np.array([0.0, 10.0, np.nan])
    assert value_at(t, v, 5.0, step=True) == 0.0
    assert value_at(t, v, 5.0, step=False) == 5.0
    assert value_at(t, v, 15.0, step=False) == 10.0  # next is Bad: held, not interpolated
    assert math.isnan(value_at(t, v, 25.0, step=False))
    assert math.isnan(value_at(t, v, -1.0, step=True))


def test_decimate_through_summaries_keeps_every_peak() -> None:
    n = 2_600_000
    buffer = TrendBuffer(n)
    t = T0 + np.arange(n) * 0.01
    v = np.sin(np.arange(n) / 3000.0)
    v[1_777_777] = 99.0
    v[42] = -99.0
    v[2_000_000:2_000_050] = np.nan
    buffer.extend(t, v)
    t_out, v_out = buffer.decimate(t[0], t[-1], 1920)
    assert v_out[np.isfinite(v_out)].max() == 99.0 and np.nanmin(v_out) == -99.0
    assert t_out[np.nanargmax(v_out)] == t[1_777_777]
    assert np.isnan(v_out).any()
    assert np.all(np.diff(t_out) >= 0)
    assert len(t_out) <= 3 * 1920
    # Same extremes as the exact reduction over the raw samples, column by column.
    _, exact_v = minmax_decimate(buffer.times(), buffer.values(), t[0], t[-1], 1920)
    assert np.nanmax(exact_v) == np.nanmax(v_out) and np.nanmin(exact_v) == np.nanmin(v_out)


def test_decimate_a_window_after_wrap_uses_only_held_samples() -> None:
    buffer = TrendBuffer(100_000)
    total = buffer.capacity + 50_000
    t = T0 + np.arange(total) * 0.1
    v = np.zeros(total)
    v[10] = 1000.0  # overwritten long ago: must not appear
    v[-10] = 500.0
    buffer.extend(t[:60_000], v[:60_000])
    for start in range(60_000, total, 7_001):
        buffer.extend(t[start : start + 7_001], v[start : start + 7_001])
    t_out, v_out = buffer.decimate(t[0], t[-1], 500)
    assert v_out.max() == 500.0
    assert t_out[0] >= buffer.first_time


def brute_force_grid(t: np.ndarray, v: np.ndarray, t0: float, t1: float, columns: int) -> list[int]:
    """The indices a live trend draws, by plain loops over every sample: where the samples of
    ``[t0, t1]`` and their two neighbours number at most two a column, those; else per column
    ``k`` of the grid (``k * width <= t < (k + 1) * width``) that ``[t0, t1]`` touches, its
    first minimum, first NaN and first maximum in time order (the maximum only where it is not
    the minimum, the minimum only where it is a number), and the sample just before the first
    column and the one just after the last."""
    n = len(t)
    inside = [i for i in range(n) if t0 <= t[i] <= t1]
    lo = max((inside[0] if inside else int(np.searchsorted(t, t0))) - 1, 0)
    hi = min((inside[-1] + 2) if inside else int(np.searchsorted(t, t1, side="right")) + 1, n)
    if hi - lo <= 2 * columns:
        return list(range(lo, hi))
    width = grid_width(t0, t1, columns)
    k0, k1 = math.floor(t0 / width), math.floor(t1 / width)
    members: dict[int, list[int]] = {}
    k = k0
    for i in range(n):  # times ascend: the column of each sample, walking the edges
        if t[i] < float(k0) * width:
            continue
        while k <= k1 and t[i] >= float(k + 1) * width:
            k += 1
        if k > k1:
            break
        members.setdefault(k, []).append(i)
    drawn: list[int] = []
    for k in sorted(members):
        here = members[k]
        real = [i for i in here if not math.isnan(v[i])]
        nans = [i for i in here if math.isnan(v[i])]
        picks = set(nans[:1])
        if real:
            low = min(v[i] for i in real)
            high = max(v[i] for i in real)
            picks.add(next(i for i in real if v[i] == low))
            picks.add(next(i for i in real if v[i] == high))
        drawn.extend(sorted(picks))
    first = next((i for i in range(n) if t[i] >= float(k0) * width), n)
    after = next((i for i in range(n) if t[i] >= float(k1 + 1) * width), n)
    return ([first - 1] if first > 0 else []) + drawn + ([after] if after < n else [])


def random_samples(rng: np.random.Generator, n: int, decimals: int, nan_share: float):
    """Random walks with one-sample spikes (two in one block, too), ties, Bad samples and
    repeated times."""
    t = T0 + np.cumsum(rng.choice([0.0, 0.1, 0.25], n, p=[0.05, 0.8, 0.15]))
    v = np.round(np.cumsum(rng.normal(0, 1, n)), decimals)
    spikes = rng.integers(0, n, 12)
    v[spikes] += rng.choice([-80.0, 80.0, 40.0], 12)
    v[spikes[:6] + 1 - (spikes[:6] == n - 1)] -= 60.0  # a second, smaller spike next to it
    v[rng.random(n) < nan_share] = np.nan
    return t, v


def assert_drawn_like_brute_force(buffer: TrendBuffer, x0: float, x1: float, columns: int) -> None:
    held_t, held_v = buffer.times(), buffer.values()
    t_out, v_out = buffer.decimate(x0, x1, columns)
    expected = brute_force_grid(held_t, held_v, x0, x1, columns)
    assert np.array_equal(t_out, held_t[expected])
    assert np.array_equal(v_out, held_v[expected], equal_nan=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2_000, 30_000),
    capacity=st.integers(4_096, 20_000),
    columns=st.integers(1, 200),
    decimals=st.integers(0, 2),
    nan_share=st.sampled_from([0.0, 0.0005, 0.01]),
)
def test_live_decimation_keeps_every_column_extreme_like_brute_force(
    seed: int, n: int, capacity: int, columns: int, decimals: int, nan_share: float
) -> None:
    """Samples appended in random chunks across the ring's wrap, decimated now and then part
    way (summaries and kept columns brought up to date then): every view's points are exactly
    a plain loop's over the held samples."""
    rng = np.random.default_rng(seed)
    t, v = random_samples(rng, n, decimals, nan_share)
    buffer = TrendBuffer(capacity)
    at = 0
    while at < n:
        step = int(rng.integers(1, 9_000))
        buffer.extend(t[at : at + step], v[at : at + step])
        at += step
        if rng.random() < 0.3:
            buffer.decimate(buffer.first_time, buffer.last_time, columns)
    held_t = buffer.times()
    span = held_t[-1] - held_t[0]
    for x0, x1 in (
        (held_t[0], held_t[-1]),
        (held_t[0] + span * rng.random() / 2, held_t[-1] - span * rng.random() / 3),
        (held_t[0] - 5.0, held_t[0] + span * 0.9),
    ):
        assert_drawn_like_brute_force(buffer, x0, x1, columns)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    capacity=st.integers(4_096, 12_000),
    columns=st.integers(20, 150),
    nan_share=st.sampled_from([0.0, 0.002]),
)
def test_a_scrolling_live_view_draws_like_brute_force_every_frame(
    seed: int, capacity: int, columns: int, nan_share: float
) -> None:
    """The live case the kept columns are for: a few samples a frame, the view scrolled to
    the newest over a fixed span (older samples leaving the ring under it), now and then a
    zoom or a pause on an older range and back. Every frame as a plain loop draws it."""
    rng = np.random.default_rng(seed)
    t, v = random_samples(rng, capacity * 3, 1, nan_share)
    buffer = TrendBuffer(capacity)
    buffer.extend(t[: capacity // 2], v[: capacity // 2])
    at = capacity // 2
    span = float(t[capacity] - t[0]) * rng.uniform(0.3, 1.2)
    for _ in range(30):
        step = int(rng.integers(1, capacity // 8))
        buffer.extend(t[at : at + step], v[at : at + step])
        at += step
        now = buffer.last_time + float(rng.uniform(0, 0.3))
        choice = rng.random()
        if choice < 0.15:
            span *= float(rng.choice([0.5, 2.0]))
        if choice > 0.9:
            x0 = buffer.first_time + (now - buffer.first_time) * float(rng.random()) / 2
            assert_drawn_like_brute_force(buffer, x0, x0 + span / 3, columns)
        assert_drawn_like_brute_force(buffer, now - span, now, columns)


def test_a_live_frame_reduces_only_the_new_columns() -> None:
    """With the view scrolled by a frame's samples, the columns seen before are not read
    again: the frame costs a few columns, not the history (counted through the kept grid)."""
    n = 400_000
    buffer = TrendBuffer(2 * n)
    t = T0 + np.arange(n) * 0.1
    buffer.extend(t, np.sin(np.arange(n) / 500.0))
    span, columns = n * 0.1, 1000
    buffer.decimate(buffer.last_time - span, buffer.last_time, columns)
    kept = buffer._columns.end - buffer._columns.first
    assert kept >= columns - 1
    reduced: list[int] = []
    original = buffer._reduce

    def counting(ka: int, kb: int, width: float):  # type: ignore[no-untyped-def]
        reduced.append(max(0, kb - ka))
        return original(ka, kb, width)

    buffer._reduce = counting  # type: ignore[method-assign]
    for i in range(20):
        buffer.extend(T0 + (n + i * 5 + np.arange(5)) * 0.1, np.zeros(5))
        buffer.decimate(buffer.last_time - span, buffer.last_time, columns)
    assert sum(reduced) <= 20 * 3  # the newest column, and one that a scroll completes
