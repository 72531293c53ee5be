"""Historian throughput: inserts, and a month of history aggregated to one trend's width.

Measured on a SQLite file (WAL, synchronous=FULL) and, if reachable, on PostgreSQL (a database
made for the run and dropped after):

- **insert**: ``HistorianStore.write`` of ``--values`` samples (200 tags interleaved, as a
  recorder's batches are) in batches of 5,000, one transaction each, against the raw library
  doing the same inserts into a bare table of the same shape: ``sqlite3`` / psycopg
  ``executemany`` of the same rows, 5,000 per commit. Then the whole recorder path: the
  broker listener (``record``: rule + queue, on the loop) and the writer thread behind it.
- **query**: a 30-day, 1 Hz history of one tag (2,592,000 rows) reduced to 2,000 buckets by
  ``HistorianStore.query`` (median of 5), against the raw way: fetch every row of the range,
  then ``bucketize`` (numpy min/max per bucket) -- and against the same SQL GROUP BY over the
  raw samples without roll-ups. Also a day and an hour of the month, and the one-off roll-up
  of the month.

Run: ``.venv/bin/python bench/bench_historian.py [--values 500000] [--days 30]
[--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-pg] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import psycopg
from figures import figure
from sqlalchemy import update
from sqlalchemy.engine import make_url

from hmi.drivers.defaults import default_registry
from hmi.model.quality import GOOD
from hmi.model.tags import TagConfig
from hmi.model.trends.decimate import bucketize
from hmi.model.trends.historian import HistorianConfig, Sample
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.historian import HistorianRecorder
from hmi.storage import historian_sql as sql
from hmi.storage.historian import HistorianStore

TARGET_INSERT = 50_000  # values/s on SQLite
TARGET_QUERY_MS = 300  # 30 days at 1 Hz to 2,000 buckets on SQLite
PG_DEFAULT = os.environ.get("HMI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 5000
T0 = 1_700_006_400.0
RAW_TABLE = (
    "CREATE TABLE raw_samples (tag_id INTEGER NOT NULL, time BIGINT NOT NULL, "
    "value DOUBLE PRECISION, quality SMALLINT NOT NULL, PRIMARY KEY (tag_id, time))"
)


def samples(count: int, tags: int = 200) -> list[Sample]:
    """``count`` values of ``tags`` tags, round robin, 10 ms apart per tag."""
    return [
        (f"Area{i % tags // 20}.Tag{i % tags}", round((T0 + i // tags * 0.01) * 1e6), i * 0.5, 512)
        for i in range(count)
    ]


def timed(job: Callable[[], object]) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def bench_insert(url: str, count: int, label: str) -> float:
    store = HistorianStore.open(url)
    batch = samples(count)
    ours = timed(lambda: [store.write(batch[i : i + BATCH]) for i in range(0, count, BATCH)])
    ids = store.tag_ids({name for name, _, _, _ in batch[:1000]})
    rows = [(ids[name], t, v, q) for name, t, v, q in batch]
    if store.dialect == "sqlite":
        assert store.path is not None
        raw_db = sqlite3.connect(store.path.with_name("raw.sqlite"), isolation_level=None)
        raw_db.execute("PRAGMA journal_mode=WAL")
        raw_db.execute("PRAGMA synchronous=FULL")
        raw_db.execute(RAW_TABLE + " WITHOUT ROWID")

        def raw_inserts() -> None:
            for i in range(0, count, BATCH):
                raw_db.execute("BEGIN")
                raw_db.executemany(
                    "INSERT INTO raw_samples VALUES (?, ?, ?, ?)", rows[i : i + BATCH]
                )
                raw_db.execute("COMMIT")

        raw_name = "sqlite3 executemany"
    else:
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        raw_db = psycopg.connect(conninfo)
        raw_db.execute(RAW_TABLE)
        raw_db.commit()

        def raw_inserts() -> None:
            with raw_db.cursor() as cursor:
                for i in range(0, count, BATCH):
                    cursor.executemany(
                        "INSERT INTO raw_samples VALUES (%s, %s, %s, %s)", rows[i : i + BATCH]
                    )
                    raw_db.commit()

        raw_name = "psycopg executemany"
    raw = timed(raw_inserts)
    raw_db.close()
    print(
        f"{label} insert {count:,} values: ours {count / ours:,.0f}/s, {raw_name} "
        f"{count / raw:,.0f}/s, ours/raw {raw / ours:.2f}"
    )
    sqlite = label == "SQLite"
    figure("historian", f"{label}: insert", count / ours, "values/s",
           target=f">= {TARGET_INSERT:,}" if sqlite else "",
           met=count / ours >= TARGET_INSERT if sqlite else None,
           raw=count / raw, raw_name=raw_name)  # fmt: skip
    bench_recorder(store, count, label)
    store.close()
    return count / ours


def bench_recorder(store: HistorianStore, count: int, label: str) -> None:
    """The broker listener and the writer thread behind it, every value a change."""
    names = [f"Rec{i}" for i in range(200)]
    tags = {n: TagConfig(name=n, address=f"local://{n}?type=float") for n in names}
    broker = TagBroker(tags, default_registry(), {})
    config = HistorianConfig(tags=("Rec*",), queue_size=count, batch_interval_s=0.2)
    now = time.time()  # (values from long ago would make every tag's heartbeat due)
    values = [
        (names[i % 200], TagValue(float(i), GOOD, now + i * 1e-4, now + i * 1e-4))
        for i in range(count)
    ]

    async def run() -> tuple[float, float]:
        recorder = HistorianRecorder(broker, store, config)
        await recorder.start()
        start = time.perf_counter()
        record = recorder.record
        for name, value in values:
            record(name, value)
        listener = time.perf_counter() - start
        await asyncio.wrap_future(recorder.flush())
        total = time.perf_counter() - start
        assert recorder.status().written == count, recorder.status()
        await recorder.stop()
        return listener, total

    listener, total = asyncio.run(run())
    print(
        f"{label} recorder: record() {listener / count * 1e6:.2f} us/value on the loop, "
        f"end to end {count / total:,.0f} values/s"
    )


def bench_query(url: str, days: int, label: str) -> float:
    store = HistorianStore.open(url)
    n = days * 86400
    tag_id = store.tag_ids(["Month"])["Month"]
    t_us = np.arange(n, dtype=np.int64) * 1_000_000 + round(T0 * 1e6)
    v = np.sin(np.arange(n) / 5000.0) * 10
    v[n // 3] = 1000.0  # a one-sample spike
    rows = list(zip([tag_id] * n, t_us.tolist(), v.tolist(), [512] * n, strict=True))
    with store.engine.connect() as conn, conn.begin():
        load = timed(lambda: store.insert_rows(conn, rows))
    rows.clear()  # 2.6 M tuples: memory back before the queries
    start, end = T0, T0 + n
    with store.engine.begin() as conn:  # the SQL GROUP BY over every raw sample
        conn.execute(update(sql.tags).values(rolled_us=0))
    raw_sql = timed(lambda: store.query("Month", start, end, 2000))
    roll = timed(lambda: store.roll_up(end))
    times = [timed(lambda: store.query("Month", start, end, 2000)) for _ in range(5)]
    series = store.query("Month", start, end, 2000)
    assert np.nanmax(series.max) == 1000.0 and series.count.sum() == n
    ours = statistics.median(times)

    def fetch_all() -> None:
        """The raw way: every row through the driver's own cursor, then numpy."""
        connection = store.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                f"SELECT time, value, quality FROM historian_samples WHERE tag_id = {tag_id} "
                f"AND time >= {round(start * 1e6)} AND time < {round(end * 1e6)} ORDER BY time"
            )
            data = np.array(cursor.fetchall(), dtype=np.float64)
        finally:
            connection.close()
        levels = (data[:, 2].astype(np.int64) >> 8).astype(np.uint8)
        ref = bucketize(data[:, 0] / 1e6, data[:, 1], levels, start, end, 2000)
        assert np.nanmax(ref.max) == 1000.0

    raw = timed(fetch_all)
    day = statistics.median(
        timed(lambda: store.query("Month", T0 + 86400 * 7.3, T0 + 86400 * 8.3, 2000))
        for _ in range(5)
    )
    hour = statistics.median(
        timed(lambda: store.query("Month", T0 + 86400 * 9.1, T0 + 86400 * 9.1 + 3600, 2000))
        for _ in range(5)
    )
    print(
        f"{label} {n:,} rows (load {n / load:,.0f}/s, roll-up {roll:.1f} s once) -> 2,000 "
        f"buckets: ours {ours * 1000:.0f} ms, fetch all + numpy {raw * 1000:.0f} ms "
        f"({raw / ours:.0f}x ours); SQL over raw samples {raw_sql * 1000:.0f} ms; one day "
        f"{day * 1000:.0f} ms, one hour {hour * 1000:.0f} ms"
    )
    sqlite = label == "SQLite"
    figure("historian", f"{label}: {days} days at 1 Hz to 2,000 buckets", ours * 1000, "ms",
           target=f"<= {TARGET_QUERY_MS}" if sqlite else "",
           met=ours * 1000 <= TARGET_QUERY_MS if sqlite else None,
           raw=raw * 1000, raw_name="fetch every row + numpy")  # fmt: skip
    store.close()
    return ours


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pg", default=PG_DEFAULT, help="any database on the server to use")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        rate = bench_insert(f"sqlite:///{folder}/insert.sqlite", args.values, "SQLite")
        query = bench_query(f"sqlite:///{folder}/month.sqlite", args.days, "SQLite")
    print(
        f"targets (SQLite): insert >= {TARGET_INSERT:,}/s: {'met' if rate >= TARGET_INSERT else 'MISSED'}; "
        f"query <= {TARGET_QUERY_MS} ms: {'met' if query * 1000 <= TARGET_QUERY_MS else 'MISSED'}"
    )
    if not args.no_pg:
        admin = make_url(args.pg).set(drivername="postgresql").render_as_string(False)
        try:
            psycopg.connect(admin, connect_timeout=3).close()
        except psycopg.Error as exc:
            print(f"PostgreSQL skipped: {exc}".splitlines()[0])
        else:
            name = f"hmi_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(admin, autocommit=True) as pg:
                pg.execute(f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.pg).set(database=name).render_as_string(False)
                bench_insert(url, args.values, "PostgreSQL")
                bench_query(url, args.days, "PostgreSQL")
            finally:
                with psycopg.connect(admin, autocommit=True) as pg:
                    pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"total {time.perf_counter() - started:.0f} s")
    missed = rate < TARGET_INSERT or query * 1000 > TARGET_QUERY_MS
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
