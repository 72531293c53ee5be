"""The historian's tables and its SQL: bucket aggregation, roll-ups, purge. Migration 0003
creates the tables; a change here needs a new migration there.

Roll-ups: per tag, min, max, first, last, count and worst quality of every block of 10 s,
1 min, 10 min, 1 h, 6 h and 1 d (UTC, each block size divides the next). A query reads the
coarsest level with at least two blocks per bucket and the raw samples only at both ends, so
the rows it reads follow the number of buckets, not the length of the history.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

__all__ = [
    "LAST_SQL",
    "LEVELS",
    "PRIOR_SQL",
    "RAW_BUCKETS_SQL",
    "ROLLED_BUCKETS_SQL",
    "insert_sql",
    "rollup_sql",
    "rollups",
    "samples",
    "stations",
    "tags",
]

metadata = MetaData()

tags = Table(
    "historian_tags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("rolled_us", BigInteger, nullable=False),  # roll-ups complete before this time
)

samples = Table(
    "historian_samples",
    metadata,
    Column("tag_id", Integer, primary_key=True),
    Column("time", BigInteger, primary_key=True),
    Column("value", Double),
    Column("quality", SmallInteger, nullable=False),
)

rollups = Table(
    "historian_rollups",
    metadata,
    Column("tag_id", Integer, primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    Column("time", BigInteger, primary_key=True),
    Column("v_first", Double),
    Column("v_last", Double),
    Column("v_min", Double),
    Column("v_max", Double),
    Column("n", Integer, nullable=False),
    Column("quality", SmallInteger, nullable=False),
)

stations = Table(
    "historian_stations",
    metadata,
    Column("station", Text, primary_key=True),
    Column("alive_us", BigInteger, nullable=False),  # migration 0004_historian_alive
    Column("stopped_us", BigInteger),
)

S = 1_000_000
LEVELS: tuple[tuple[int, int], ...] = (
    (1, 10 * S),
    (2, 60 * S),
    (3, 600 * S),
    (4, 3600 * S),
    (5, 6 * 3600 * S),
    (6, 86400 * S),
)
"""``(level, block width in µs)``, finest first."""


RAW_BUCKETS_SQL = """
SELECT g.b, g.lo, g.hi, g.c, g.q, f.value, l.value
FROM (SELECT (time - :s) * :n / :w AS b, MIN(value) AS lo, MAX(value) AS hi, COUNT(*) AS c,
             MIN(quality) AS q, MIN(time) AS tf, MAX(time) AS tl
      FROM historian_samples WHERE tag_id = :id AND time >= :s AND time < :e
      GROUP BY b) AS g
JOIN historian_samples AS f ON f.tag_id = :id AND f.time = g.tf
JOIN historian_samples AS l ON l.tag_id = :id AND l.time = g.tl
ORDER BY g.b"""
"""Per bucket ``b`` of ``[:s, :e)`` in ``:n`` buckets (``:w = :e - :s``): min, max, count,
worst quality code, first and last value, from raw samples; first and last by joining back
on the bucket's smallest and largest time (the key, so one row each)."""

_RAW_PART = """
    SELECT (time - :s) * :n / :w AS b, time AS tf, value AS f, time AS tl, value AS l,
           value AS lo, value AS hi, 1 AS c, quality AS q
    FROM historian_samples WHERE tag_id = :id AND time >= {lo} AND time < {hi}"""

ROLLED_BUCKETS_SQL = f"""
WITH parts AS (
    SELECT (time + :half - :s) * :n / :w AS b, time AS tf, v_first AS f, time + :span AS tl,
           v_last AS l, v_min AS lo, v_max AS hi, n AS c, quality AS q
    FROM historian_rollups
    WHERE tag_id = :id AND level = :level AND time >= :b0 AND time < :b1
    UNION ALL {_RAW_PART.format(lo=":s", hi=":b0")}
    UNION ALL {_RAW_PART.format(lo=":b1", hi=":e")}
), ranked AS (
    SELECT b, lo, hi, c, q,
           CASE WHEN ROW_NUMBER() OVER (PARTITION BY b ORDER BY tf) = 1 THEN f END AS f1,
           CASE WHEN ROW_NUMBER() OVER (PARTITION BY b ORDER BY tl DESC) = 1 THEN l END AS l1
    FROM parts
)
SELECT b, MIN(lo), MAX(hi), SUM(c), MIN(q), MAX(f1), MAX(l1)
FROM ranked GROUP BY b ORDER BY b"""
"""The same columns from roll-up blocks of ``:level`` in ``[:b0, :b1)`` (each counted in the
bucket of its middle, ``:half`` after its start; ``:span`` is its width less 1 µs) and raw
samples for the rest of ``[:s, :e)``; first and last by window functions over the parts, so a
bucket mixing blocks and samples stays right."""


LAST_SQL = """
SELECT time, quality FROM historian_samples WHERE tag_id = :id ORDER BY time DESC LIMIT 1"""

PRIOR_SQL = """
SELECT value FROM historian_samples WHERE tag_id = :id AND time < :s ORDER BY time DESC LIMIT 1"""


def rollup_sql(level: int, ids: str, dialect: str) -> str:
    """Upsert the blocks of ``level`` in ``[:t0, :t1)`` for the tag ids listed
    in ``ids`` (trusted integers), from raw samples (level 1) or the level below; first and
    last by joining back on the smallest and largest time of each block (keys, so one row)."""
    w = dict(LEVELS)[level]
    if level == LEVELS[0][0]:
        source, f_on, l_on = "historian_samples", "", ""
        cols = "MIN(value) AS lo, MAX(value) AS hi, COUNT(*) AS c"
        first, last = "f.value", "l.value"
        where = ""
    else:
        source = "historian_rollups"
        where = f" AND level = {level - 1}"
        f_on, l_on = f" AND f.level = {level - 1}", f" AND l.level = {level - 1}"
        cols = "MIN(v_min) AS lo, MAX(v_max) AS hi, SUM(n) AS c"
        first, last = "f.v_first", "l.v_last"
    select = f"""
SELECT g.tag_id, {level}, g.block, {first}, {last}, g.lo, g.hi, g.c, g.q
FROM (SELECT tag_id, (time / {w}) * {w} AS block, {cols}, MIN(quality) AS q,
             MIN(time) AS tf, MAX(time) AS tl
      FROM {source}
      WHERE tag_id IN ({ids}){where} AND time >= :t0 AND time < :t1
      GROUP BY tag_id, block) AS g
JOIN {source} AS f ON f.tag_id = g.tag_id{f_on} AND f.time = g.tf
JOIN {source} AS l ON l.tag_id = g.tag_id{l_on} AND l.time = g.tl"""
    columns = "(tag_id, level, time, v_first, v_last, v_min, v_max, n, quality)"
    if dialect == "sqlite":
        return f"INSERT OR REPLACE INTO historian_rollups {columns} {select}"
    return (
        f"INSERT INTO historian_rollups {columns} {select}\n"
        "ON CONFLICT (tag_id, level, time) DO UPDATE SET v_first = EXCLUDED.v_first, "
        "v_last = EXCLUDED.v_last, v_min = EXCLUDED.v_min, v_max = EXCLUDED.v_max, "
        "n = EXCLUDED.n, quality = EXCLUDED.quality"
    )


def insert_sql(dialect: str) -> str:
    """Samples in bulk; a row already stored (another station recording the same tag, a
    batch retried after a lost commit) is skipped. PostgreSQL takes one array per column."""
    if dialect == "sqlite":
        return "INSERT OR IGNORE INTO historian_samples VALUES (?, ?, ?, ?)"
    return (
        "INSERT INTO historian_samples (tag_id, time, value, quality) "
        "SELECT * FROM unnest(%(ids)s::integer[], %(times)s::bigint[], "
        "%(values)s::double precision[], %(qualities)s::smallint[]) "
        "ON CONFLICT DO NOTHING"
    )
