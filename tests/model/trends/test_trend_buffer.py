"""The live ring buffer of a trend pen: capacity, wrap-around, views, summaries."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmi.model.quality import GOOD, Quality, QualityLevel, QualityReason
from hmi.model.trends.buffer import LEVELS, TrendBuffer, sample_of, value_at
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


def brute_force_columns(
    t: np.ndarray, v: np.ndarray, t0: float, t1: float, columns: int
) -> list[tuple[float | None, float | None, bool]]:
    """Per non-empty pixel column, by a plain loop over every sample: (min, max, has a NaN),
    with the neighbour just outside each end counted in the first and last column."""
    edges = np.linspace(t0, t1, columns + 1).tolist()
    inside = [i for i in range(len(t)) if t0 <= t[i] <= t1]
    lo = max((inside[0] if inside else int(np.searchsorted(t, t0))) - 1, 0)
    hi = min((inside[-1] + 2) if inside else int(np.searchsorted(t, t1, side="right")) + 1, len(t))
    found: dict[int, list[float]] = {}
    c = 0
    for i in range(lo, hi):
        while c + 1 < columns and t[i] >= edges[c + 1]:
            c += 1
        found.setdefault(c, []).append(float(v[i]))
    out = []
    for c in sorted(found):
        real = [x for x in found[c] if not math.isnan(x)]
        out.append((min(real, default=None), max(real, default=None), len(real) < len(found[c])))
    return out


def drawn_columns(
    t_out: np.ndarray, v_out: np.ndarray, t0: float, t1: float, columns: int
) -> list[tuple[float | None, float | None, bool]]:
    edges = np.linspace(t0, t1, columns + 1)
    column = np.clip(np.searchsorted(edges[1:-1], t_out, side="right"), 0, columns - 1)
    out = []
    for c in np.unique(column):
        here = v_out[column == c]
        real = here[~np.isnan(here)]
        out.append(
            (
                float(real.min()) if len(real) else None,
                float(real.max()) if len(real) else None,
                bool(np.isnan(here).any()),
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2_000, 60_000),
    capacity=st.integers(4_096, 40_000),
    columns=st.integers(1, 300),
    decimals=st.integers(0, 2),
    nan_share=st.sampled_from([0.0, 0.0005, 0.01]),
)
def test_live_decimation_keeps_every_column_extreme_like_brute_force(
    seed: int, n: int, capacity: int, columns: int, decimals: int, nan_share: float
) -> None:
    """Random walks with one-sample spikes (two in one block, too), ties, Bad samples and
    repeated times, appended in random chunks across the ring's wrap: the live path's
    columns hold exactly the true min, max and break of a plain loop over the samples, and
    its points are exactly ``minmax_decimate``'s over the raw samples."""
    rng = np.random.default_rng(seed)
    t = T0 + np.cumsum(rng.choice([0.0, 0.1, 0.25], n, p=[0.05, 0.8, 0.15]))
    v = np.round(np.cumsum(rng.normal(0, 1, n)), decimals)
    spikes = rng.integers(0, n, 12)
    v[spikes] += rng.choice([-80.0, 80.0, 40.0], 12)
    v[spikes[:6] + 1 - (spikes[:6] == n - 1)] -= 60.0  # a second, smaller spike next to it
    v[rng.random(n) < nan_share] = np.nan
    buffer = TrendBuffer(capacity)
    at = 0
    while at < n:
        step = int(rng.integers(1, 9_000))
        buffer.extend(t[at : at + step], v[at : at + step])
        at += step
        if rng.random() < 0.3:  # summaries brought up to date part way
            buffer.decimate(buffer.first_time, buffer.last_time, columns)
    held_t, held_v = buffer.times(), buffer.values()
    span = held_t[-1] - held_t[0]
    for x0, x1 in (
        (held_t[0], held_t[-1]),
        (held_t[0] + span * rng.random() / 2, held_t[-1] - span * rng.random() / 3),
        (held_t[0] - 5.0, held_t[0] + span * 0.9),
    ):
        t_out, v_out = buffer.decimate(x0, x1, columns)
        exact_t, exact_v = minmax_decimate(held_t, held_v, x0, x1, columns)
        assert np.array_equal(t_out, exact_t)
        assert np.array_equal(v_out, exact_v, equal_nan=True)
        if len(held_t) > 2 * columns:
            assert drawn_columns(t_out, v_out, x0, x1, columns) == brute_force_columns(
                held_t, held_v, x0, x1, columns
            )
