"""The historian store: samples of numeric tags on SQLite or PostgreSQL (TimescaleDB where
installed), min/max/first/last per time bucket computed in SQL, roll-ups, retention.

Blocking. ``write``, ``roll_up`` and ``purge`` belong to one thread (the recorder's writer);
``query`` may run on any other thread at the same time (the engine gives each its own
connection; SQLite's WAL lets readers run beside the writer). Times are POSIX seconds at the
surface and integer microseconds in the tables.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, event, select, text, update

from hmi.model.paths import user_data_dir
from hmi.model.quality import QualityLevel
from hmi.model.trends.historian import Sample, to_us
from hmi.storage import historian_sql as sql
from hmi.storage.db import (
    StorageError,
    dialect_insert,
    ensure_schema,
    make_engine,
    write_transaction,
)

if TYPE_CHECKING:  # numpy loads with the first query (a trend's backfill), not with the store
    import numpy as np
    import numpy.typing as npt

    from hmi.model.trends.decimate import BucketSeries, FloatArray

log = logging.getLogger(__name__)

__all__ = ["HistorianStore", "Row", "default_historian_url"]

Row = tuple[int, int, float | None, int]
"""A stored sample: ``(tag id, time µs, value or None, quality code)``."""

_MAX_PRODUCT = 1 << 62  # (end - start) * buckets must stay in a signed 64-bit integer
_FINEST = sql.LEVELS[0][1]


def default_historian_url() -> str:
    """The station's own historian: ``<user data folder>/historian.sqlite``, beside (not in)
    the audit database, so trends' bulk writes never queue behind audit commits."""
    return f"sqlite:///{user_data_dir() / 'historian.sqlite'}"


def _sqlite_tuning(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA cache_size=-16384")  # 16 MB per connection: scans stay in memory
    cursor.execute("PRAGMA temp_store=MEMORY")  # GROUP BY and window sorts
    cursor.close()


class HistorianStore:
    def __init__(self, engine: Engine, *, migrate: bool = True) -> None:
        ensure_schema(engine, migrate=migrate)
        self.engine = engine
        self.dialect = engine.dialect.name
        self.timescale = self._is_hypertable()
        self._ids: dict[str, int] = {}
        self._rolled: dict[int, int] = {}  # tag id -> roll-ups complete before (µs)
        self._insert = sql.insert_sql(self.dialect)

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> HistorianStore:
        """A store on ``url`` (default: ``default_historian_url()``) with an engine of its own."""
        engine = make_engine(url or default_historian_url())
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_tuning)
        return cls(engine, migrate=migrate)

    def close(self) -> None:
        self.engine.dispose()

    def _is_hypertable(self) -> bool:
        if self.dialect != "postgresql":
            return False
        with self.engine.connect() as conn:
            if conn.exec_driver_sql(
                "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
            ).first() is None:  # fmt: skip
                return False
            return (
                conn.exec_driver_sql(
                    "SELECT 1 FROM timescaledb_information.hypertables "
                    "WHERE hypertable_name = 'historian_samples'"
                ).first()
                is not None
            )

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        database = self.engine.url.database
        return Path(database) if self.dialect == "sqlite" and database else None

    # -- tags ----------------------------------------------------------------------------------

    def tag_ids(self, names: Iterable[str]) -> dict[str, int]:
        """Ids of ``names``, created where missing (by any station: first one wins)."""
        wanted = set(names)
        missing = wanted - self._ids.keys()
        if missing:
            insert = dialect_insert(self.dialect)
            with write_transaction(self.engine) as conn:
                conn.execute(
                    insert(sql.tags).on_conflict_do_nothing(),
                    [{"name": name, "rolled_us": 0} for name in sorted(missing)],
                )
                found = conn.execute(
                    select(sql.tags.c.name, sql.tags.c.id, sql.tags.c.rolled_us).where(
                        sql.tags.c.name.in_(missing)
                    )
                ).all()
            for name, tag_id, rolled in found:
                self._ids[name] = tag_id
                self._rolled[tag_id] = rolled
        return {name: self._ids[name] for name in wanted}

    def tag_names(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(conn.scalars(select(sql.tags.c.name)))

    # -- writing -------------------------------------------------------------------------------

    def write(self, batch: Sequence[Sample]) -> int:
        """Store samples (any tags, any order) in one transaction; the number stored. Samples
        older than a tag's roll-ups (late, or re-sent after an outage) make the roll-ups of
        their blocks be computed again."""
        if not batch:
            return 0
        ids = self._ids
        if any(name not in ids for name, _, _, _ in batch):
            self.tag_ids(name for name, _, _, _ in batch)
        rows = [(ids[name], t, v, q) for name, t, v, q in batch]
        late: dict[int, int] = {}
        rolled = self._rolled
        for tag_id, t, _, _ in rows:
            if t < rolled.get(tag_id, 0) and t < late.get(tag_id, t + 1):
                late[tag_id] = t
        with write_transaction(self.engine) as conn:
            self.insert_rows(conn, rows)
            for tag_id, since in late.items():
                self._roll(conn, str(tag_id), since, rolled[tag_id])
        return len(rows)

    def insert_rows(self, conn: Connection, rows: Sequence[Row]) -> None:
        """The bulk insert itself: one ``executemany`` on SQLite, one statement of arrays
        (``unnest``) on PostgreSQL."""
        if self.dialect == "sqlite":
            conn.exec_driver_sql(self._insert, list(rows))
            return
        ids, times, values, qualities = (list(column) for column in zip(*rows, strict=True))
        conn.exec_driver_sql(
            self._insert, {"ids": ids, "times": times, "values": values, "qualities": qualities}
        )

    def mark_gaps(
        self, silent_since: Mapping[str, float], quality: int, *, after: float | None = None
    ) -> list[str]:
        """After a stop nobody saw (a crash, a power cut): for each tag whose newest sample is
        not Bad and older than ``silent_since[tag]`` (no recorder stored it since), a Bad
        sample 1 µs after it, or 1 µs after ``after`` (the station's last-alive time: the
        value held until then) if that is later, so trends show the time nothing was
        recorded as a gap rather than a line. The tags marked."""
        ids = self.tag_ids(silent_since)
        floor = -1 if after is None else to_us(after)
        marked: list[str] = []
        with write_transaction(self.engine) as conn:
            for name, tag_id in sorted(ids.items()):
                last = conn.execute(text(sql.LAST_SQL), {"id": tag_id}).first()
                if last is None or last.quality >> 8 == QualityLevel.BAD:
                    continue
                if last.time < to_us(silent_since[name]):
                    self.insert_rows(conn, [(tag_id, max(last.time, floor) + 1, None, quality)])
                    marked.append(name)
        return marked

    # -- stations ------------------------------------------------------------------------------

    def alive(self, station: str, at: float, *, stopped: bool = False) -> None:
        """``station`` is recording at ``at`` (POSIX s); ``stopped``: and stops cleanly now."""
        values = {"station": station, "alive_us": to_us(at), "stopped_us": None}
        if stopped:
            values["stopped_us"] = values["alive_us"]
        insert = dialect_insert(self.dialect)(sql.stations)
        statement = insert.values(values).on_conflict_do_update(
            index_elements=[sql.stations.c.station],
            set_={"alive_us": values["alive_us"], "stopped_us": values["stopped_us"]},
        )
        with write_transaction(self.engine) as conn:
            conn.execute(statement)

    def last_alive(self, station: str) -> tuple[float, bool] | None:
        """``(last-alive time, stopped cleanly)`` of ``station``, or None if it never
        recorded here (or only before this was kept)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sql.stations.c.alive_us, sql.stations.c.stopped_us).where(
                    sql.stations.c.station == station
                )
            ).first()
        if row is None:
            return None
        return row.alive_us / 1e6, row.stopped_us is not None and row.stopped_us >= row.alive_us

    def roll_up(self, until_s: float, names: Iterable[str] | None = None) -> None:
        """Complete the roll-ups of every level up to ``until_s`` (rounded down to whole
        blocks) for ``names`` (default: the tags this store has written)."""
        ids = list(self._ids.values()) if names is None else list(self.tag_ids(names).values())
        until = to_us(until_s) // _FINEST * _FINEST
        if not ids:
            return
        with write_transaction(self.engine) as conn:
            current = conn.execute(
                select(sql.tags.c.id, sql.tags.c.rolled_us).where(sql.tags.c.id.in_(ids))
            ).all()
            groups: dict[int, list[int]] = {}
            for tag_id, rolled in current:
                self._rolled[tag_id] = max(rolled, self._rolled.get(tag_id, 0))
                if rolled < until:
                    groups.setdefault(rolled, []).append(tag_id)
            for rolled, members in groups.items():
                self._roll(conn, ",".join(map(str, members)), rolled, until)
                conn.execute(
                    update(sql.tags)
                    .where(sql.tags.c.id.in_(members), sql.tags.c.rolled_us < until)
                    .values(rolled_us=until)
                )
                for tag_id in members:
                    self._rolled[tag_id] = until

    def _roll(self, conn: Connection, ids: str, since: int, until: int) -> None:
        """Recompute every level's blocks from the one holding ``since`` to ``until``."""
        for level, width in sql.LEVELS:
            t0, t1 = since // width * width, until // width * width
            if t1 > t0:
                conn.execute(text(sql.rollup_sql(level, ids, self.dialect)), {"t0": t0, "t1": t1})

    def purge(self, before_s: float, *, chunk: int = 20_000) -> int:
        """Delete samples older than ``before_s`` and roll-up blocks that end before it, at
        most ``chunk`` rows per transaction so the writer is never held up for long (on
        TimescaleDB, whole chunks are dropped first). The number of samples deleted."""
        cut = to_us(before_s)
        if self.timescale:
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        "SELECT drop_chunks('historian_samples', older_than => CAST(:cut AS BIGINT))"
                    ),
                    {"cut": cut},
                )
        with self.engine.connect() as conn:
            ids = list(conn.scalars(select(sql.tags.c.id)))
        deleted = 0
        for tag_id in ids:
            deleted += self._purge(f"historian_samples WHERE tag_id = {tag_id}", cut, chunk)
            for level, width in sql.LEVELS:
                where = f"historian_rollups WHERE tag_id = {tag_id} AND level = {level}"
                self._purge(where, cut - width + 1, chunk)
        if deleted:
            log.info("historian: purged %d samples older than %s", deleted, before_s)
        return deleted

    def _purge(self, where: str, cut: int, chunk: int) -> int:
        deleted = 0
        while True:
            with write_transaction(self.engine) as conn:
                edge = conn.execute(
                    text(
                        f"SELECT time FROM {where} AND time < :cut "
                        "ORDER BY time LIMIT 1 OFFSET :skip"
                    ),
                    {"cut": cut, "skip": chunk - 1},
                ).scalar()
                bound = cut if edge is None else edge + 1
                result = conn.execute(
                    text(f"DELETE FROM {where} AND time < :bound"), {"bound": bound}
                )
                deleted += result.rowcount
            if edge is None:
                return deleted

    # -- reading -------------------------------------------------------------------------------

    def query(self, tag: str, start: float, end: float, buckets: int) -> BucketSeries:
        """``tag`` over ``[start, end)`` in ``buckets`` equal buckets (see
        ``hmi.model.trends.decimate.BucketSeries``), aggregated by the database. Reads the coarsest
        roll-up level with at least two blocks per bucket (a block counts in the bucket of its
        middle, so a peak is drawn at most half a block, a quarter of a bucket, from its time)
        and raw samples for the rest; with no level fine enough, raw samples only (exact)."""
        from hmi.model.trends.decimate import BucketSeries

        n = max(1, buckets)
        series = BucketSeries.empty(start, end, n)
        s, e = to_us(start), to_us(end)
        if e - s >= _MAX_PRODUCT // n:
            raise StorageError(f"history of {tag}: {n} buckets over {end - start:g} s is too many")
        with self.engine.connect() as conn:
            found = conn.execute(
                select(sql.tags.c.id, sql.tags.c.rolled_us).where(sql.tags.c.name == tag)
            ).first()
            if found is None:
                return series
            tag_id, rolled = found
            prior = conn.execute(text(sql.PRIOR_SQL), {"id": tag_id, "s": s}).scalar()
            if not e > s:
                return replace(series, prior=_float(prior))
            binds: dict[str, int] = {"id": tag_id, "s": s, "e": e, "n": n, "w": e - s}
            width = (e - s) / n
            usable = [(lv, w) for lv, w in sql.LEVELS if 2 * w <= width]
            rolled_sql = False
            if usable:
                level, w = usable[-1]
                b0 = -(-s // w) * w
                b1 = min(e // w * w, rolled // w * w)
                if b1 > b0:
                    rolled_sql = True
                    binds.update(level=level, b0=b0, b1=b1, half=w // 2, span=w - 1)
            statement = sql.ROLLED_BUCKETS_SQL if rolled_sql else sql.RAW_BUCKETS_SQL
            rows = conn.execute(text(statement), binds).all()
        return _series(series, rows, n, _float(prior))

    def rows(
        self, tag: str, start_us: int, end_us: int
    ) -> tuple[npt.NDArray[np.int64], FloatArray, npt.NDArray[np.int64]] | None:
        """The stored samples of ``[start_us, end_us)`` exactly as stored: times (integer µs),
        values (NaN where none), quality codes; None if ``tag`` was never recorded here."""
        import numpy as np

        with self.engine.connect() as conn:
            tag_id = conn.execute(select(sql.tags.c.id).where(sql.tags.c.name == tag)).scalar()
            if tag_id is None:
                return None
            rows = conn.execute(
                select(sql.samples.c.time, sql.samples.c.value, sql.samples.c.quality)
                .where(
                    sql.samples.c.tag_id == tag_id,
                    sql.samples.c.time >= start_us,
                    sql.samples.c.time < end_us,
                )
                .order_by(sql.samples.c.time)
            ).all()
        times = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
        return times, values, np.array([r[2] for r in rows], dtype=np.int64)

    def samples(
        self, tag: str, start: float, end: float
    ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.uint8]]:
        """The raw samples of ``[start, end)``: times (s), values (NaN where none), quality
        levels. For exports and tests; trends use ``query``."""
        import numpy as np

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(sql.samples.c.time, sql.samples.c.value, sql.samples.c.quality)
                .join(sql.tags, sql.tags.c.id == sql.samples.c.tag_id)
                .where(
                    sql.tags.c.name == tag,
                    sql.samples.c.time >= to_us(start),
                    sql.samples.c.time < to_us(end),
                )
                .order_by(sql.samples.c.time)
            ).all()
        data = np.array(rows, dtype=np.float64).reshape(-1, 3)
        return data[:, 0] / 1e6, data[:, 1], (data[:, 2].astype(np.int64) >> 8).astype(np.uint8)


def _float(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _series(empty: BucketSeries, rows: Sequence[object], n: int, prior: float) -> BucketSeries:
    """Bucket rows ``(b, min, max, count, worst code, first, last)`` into full arrays."""
    import numpy as np

    from hmi.model.trends.decimate import BucketSeries

    low, high, first, last = (np.full(n, np.nan) for _ in range(4))
    count = np.zeros(n, dtype=np.int64)
    quality = np.full(n, QualityLevel.GOOD, dtype=np.uint8)
    if rows:
        data = np.array(rows, dtype=np.float64)
        b = data[:, 0].astype(np.int64)
        keep = (b >= 0) & (b < n)
        b, data = b[keep], data[keep]
        low[b], high[b], first[b], last[b] = data[:, 1], data[:, 2], data[:, 5], data[:, 6]
        count[b] = data[:, 3].astype(np.int64)
        quality[b] = (data[:, 4].astype(np.int64) >> 8).astype(np.uint8)
    return BucketSeries(
        empty.start, empty.end, empty.times, first, last, low, high, count, quality, prior
    )
