"""The historian store on a real SQLite file and a real PostgreSQL database: round trips,
buckets computed in SQL equal to ``bucketize`` over the same samples, roll-ups, late data,
duplicates, retention and the plain-table fallback where TimescaleDB is missing."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import inspect

from hmi.model.quality import GOOD, Quality, QualityLevel, QualityReason
from hmi.model.trends.decimate import BucketSeries, bucketize
from hmi.model.trends.historian import Sample, quality_code
from hmi.storage.db import StorageError
from hmi.storage.historian import HistorianStore
from hmi.storage.historian_sql import LEVELS

T0 = 1_700_006_400.0  # a UTC midnight: every roll-up block boundary
BAD = Quality.bad(QualityReason.COMM_FAILURE)
UNCERTAIN = Quality.uncertain(QualityReason.STALE)


@pytest.fixture
def store(db_url: str) -> Iterator[HistorianStore]:
    store = HistorianStore.open(db_url)
    yield store
    store.close()


def signal(
    hours: float = 6.0, every: float = 1.0, start: float = T0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ramp with a Bad stretch and an Uncertain one, as a recorder would store it."""
    t = start + np.arange(0, hours * 3600, every)
    v = np.sin((t - start) / 900.0) * 10 + (t - start) / 3600.0
    q = np.full(len(t), QualityLevel.GOOD, dtype=np.uint8)
    q[(t >= start + 1000) & (t < start + 1100)] = QualityLevel.BAD
    q[(t >= start + 5000) & (t < start + 5050)] = QualityLevel.UNCERTAIN
    v[q == QualityLevel.BAD] = np.nan
    return t, v, q


def as_samples(tag: str, t: np.ndarray, v: np.ndarray, q: np.ndarray) -> list[Sample]:
    code = {
        QualityLevel.GOOD: quality_code(GOOD),
        QualityLevel.UNCERTAIN: quality_code(UNCERTAIN),
        QualityLevel.BAD: quality_code(BAD),
    }
    return [
        (tag, round(ti * 1e6), None if np.isnan(vi) else float(vi), code[QualityLevel(int(qi))])
        for ti, vi, qi in zip(t, v, q, strict=True)
    ]


def load(store: HistorianStore, tag: str, t, v, q, batch: int = 5000) -> None:
    rows = as_samples(tag, t, v, q)
    for i in range(0, len(rows), batch):
        store.write(rows[i : i + batch])


def same(ours: BucketSeries, ref: BucketSeries) -> None:
    np.testing.assert_array_equal(ours.count, ref.count)
    np.testing.assert_array_equal(ours.quality, ref.quality)
    for name in ("first", "last", "min", "max"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), err_msg=name)
    np.testing.assert_allclose(ours.times, ref.times)
    assert ours.prior == pytest.approx(ref.prior, nan_ok=True)


def test_schema_is_compact_and_plain_without_timescale(store: HistorianStore) -> None:
    inspector = inspect(store.engine)
    assert {"historian_tags", "historian_samples", "historian_rollups"} <= set(
        inspector.get_table_names()
    )
    pk = inspector.get_pk_constraint("historian_samples")
    assert pk["constrained_columns"] == ["tag_id", "time"]
    assert [c["name"] for c in inspector.get_columns("historian_samples")] == [
        "tag_id", "time", "value", "quality",
    ]  # fmt: skip
    assert store.timescale is False  # not installed on the test server: a plain keyed table


def test_round_trip_at_raw_resolution_matches_bucketize(store: HistorianStore) -> None:
    t, v, q = signal(hours=2)
    load(store, "Tank1.Level", t, v, q)
    for start, end, buckets in [
        (T0 + 600.25, T0 + 1800.25, 600),  # Bad stretch inside, 2 s buckets
        (T0 - 100, T0 + 200, 7),  # starts before the first sample: no prior
        (T0 + 4000, T0 + 7200, 1000),  # Uncertain stretch, ends at the last sample
        (T0 + 1050, T0 + 1060, 3),  # all Bad, prior Bad too
    ]:
        ours = store.query("Tank1.Level", start, end, buckets)
        same(ours, bucketize(t, v, q, start, end, buckets))
    assert store.query("Tank1.Level", T0 + 1050, T0 + 1060, 3).quality.tolist() == [0, 0, 0]
    series = store.query("Tank1.Level", T0 + 7200, T0 + 7300, 10)  # after the last sample
    assert not series.count.any() and series.prior == pytest.approx(v[-1])
    empty = store.query("Nobody", T0, T0 + 100, 4)
    assert empty.buckets == 4 and not empty.count.any() and np.isnan(empty.prior)
    times, values, levels = store.samples("Tank1.Level", T0, T0 + 10)
    np.testing.assert_allclose(times, t[:10])
    np.testing.assert_allclose(values, v[:10])
    assert levels.tolist() == q[:10].tolist()


def test_rollups_answer_wide_ranges_exactly_when_buckets_align(store: HistorianStore) -> None:
    t, v, q = signal(hours=24)
    load(store, "Flow", t, v, q)
    store.roll_up(T0 + 86400 + 3600)
    for buckets in (144, 1440, 24):  # 10 min, 1 min and 1 h buckets: whole blocks
        ours = store.query("Flow", T0, T0 + 86400, buckets)
        same(ours, bucketize(t, v, q, T0, T0 + 86400, buckets))


def test_rollups_with_unaligned_buckets_keep_every_extreme(store: HistorianStore) -> None:
    t, v, q = signal(hours=24)
    v[33_333] = 500.0  # a one-sample spike
    v[55_555] = -500.0
    load(store, "Flow", t, v, q)
    store.roll_up(T0 + 86400 + 3600)
    start, end, buckets = T0 + 123.4, T0 + 80_000.7, 777
    ours = store.query("Flow", start, end, buckets)
    ref = bucketize(t, v, q, start, end, buckets)
    assert ours.count.sum() == ref.count.sum()
    assert np.nanmax(ours.max) == 500.0 and np.nanmin(ours.min) == -500.0
    assert ours.quality.min() == QualityLevel.BAD
    # A block counts in the bucket of its middle: at most half a block from its own.
    width = (end - start) / buckets
    block = max(w for _, w in LEVELS if 2 * w / 1e6 <= width) / 1e6
    for i in np.flatnonzero(ours.count):
        near = (t >= ours.times[i] - block / 2) & (t < ours.times[i] + width + block / 2)
        assert np.nanmin(v[near]) <= ours.min[i] and ours.max[i] <= np.nanmax(v[near])
    assert ours.prior == pytest.approx(ref.prior)


def test_a_spike_in_a_month_of_seconds_reaches_the_drawn_curve(sqlite_url: str) -> None:
    """2.6 million rows at 1 Hz, one sample of them a spike: buckets -> points -> decimation."""
    from hmi.model.trends.decimate import minmax_decimate

    store = HistorianStore.open(sqlite_url)
    n = 30 * 86400
    t_us = np.arange(n, dtype=np.int64) * 1_000_000 + round(T0 * 1e6)
    v = np.sin(np.arange(n) / 5000.0)
    v[1_234_567] = 42.0
    ids = [store.tag_ids(["Spiky"])["Spiky"]] * n
    rows = list(zip(ids, t_us.tolist(), v.tolist(), [512] * n, strict=True))
    with store.engine.connect() as conn, conn.begin():
        store.insert_rows(conn, rows)
    store.roll_up(T0 + n)
    series = store.query("Spiky", T0, T0 + n, 2000)
    assert series.count.sum() == n and np.nanmax(series.max) == 42.0
    x, y = series.points()
    _, drawn = minmax_decimate(x, y, T0, T0 + n, 900)
    assert 42.0 in drawn
    store.close()


def test_late_samples_recompute_their_blocks(store: HistorianStore) -> None:
    t, v, q = signal(hours=3)
    load(store, "Late", t, v, q)
    store.roll_up(T0 + 3 * 3600)
    store.write([("Late", round((T0 + 4321.5) * 1e6), 99.0, 512)])  # after its block was rolled
    ours = store.query("Late", T0, T0 + 3 * 3600, 18)  # 10 min buckets from 1 min blocks
    assert ours.count.sum() == len(t) + 1 and ours.max[7] == 99.0


def test_rewritten_batches_and_a_second_station_store_each_row_once(db_url: str) -> None:
    first, second = HistorianStore.open(db_url), HistorianStore.open(db_url)
    batch: list[Sample] = [("Shared", (10 + i) * 1_000_000, float(i), 512) for i in range(10)]
    first.write(batch)
    first.write(batch[5:])  # a retried batch whose commit was in fact done
    second.write(batch)  # another station recording the same tag
    assert second.tag_ids(["Shared"]) == first.tag_ids(["Shared"])
    assert first.query("Shared", 0, 100, 1).count.tolist() == [10]
    assert second.tag_names() == ["Shared"]
    first.close()
    second.close()


def test_purge_removes_old_samples_and_blocks_in_small_steps(store: HistorianStore) -> None:
    t, v, q = signal(hours=2)
    load(store, "Old", t, v, q)
    load(store, "Other", t, v, q)
    store.roll_up(T0 + 7200)
    cut = T0 + 3600
    assert store.purge(cut, chunk=500) == 2 * 3600
    for tag in ("Old", "Other"):
        assert store.query(tag, T0, cut, 1).count.tolist() == [0]
        assert store.query(tag, cut, T0 + 7200, 1).count.tolist() == [3600]
        assert store.query(tag, T0, T0 + 7200, 12).count.sum() == 3600  # from roll-ups
    with store.engine.connect() as conn:
        oldest = conn.exec_driver_sql(
            "SELECT level, MIN(time) FROM historian_rollups GROUP BY level"
        ).all()
    widths = dict(LEVELS)
    assert all(time + widths[level] > round(cut * 1e6) for level, time in oldest)


def test_an_empty_range_gives_the_prior_and_absurd_ones_are_refused(
    store: HistorianStore,
) -> None:
    store.write([("T", 5_000_000, 1.5, 512), ("T", 20_000_000, 2.5, 512)])
    series = store.query("T", 10.0, 10.0, 4)
    assert series.prior == 1.5 and not series.count.any()
    with pytest.raises(StorageError, match="too many"):
        store.query("T", 0.0, 1e12, 10_000)
