"""Audit trail throughput: durable chained appends, verify, export.

Measured, on a SQLite file (WAL, synchronous=FULL) and on PostgreSQL (a database made for the
run and dropped after):

- **append**: ``AuditStore.append`` one record per durable commit (head lock, chain, insert,
  head update, commit), against the raw library doing the least that is comparable: the same
  row as a plain ``INSERT`` + ``COMMIT`` through SQLAlchemy Core (no head, no hash) and, on
  PostgreSQL, through bare psycopg. Then ``AuditTrail.append`` from 32 concurrent producers
  (group commit: one transaction per batch, each caller answered after the commit).
- **verify**: ``AuditStore.verify`` over 1,000,000 records, bulk-loaded from precomputed
  chained rows (realistic content: 20 users, 500 tags, seconds apart).
- **export**: CSV of 100,000 of them (a sequence range), without and with the full verify.

Run: ``.venv/bin/python bench/bench_audit.py [--records 1000000] [--appends 2000]
[--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--no-pg] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from figures import figure
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from hmi.model.audit.record import GENESIS_HASH, AuditAction, AuditRecord, canonical, encode_value
from hmi.storage import schema
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.db import make_engine
from hmi.storage.export import export_csv
from hmi.storage.trail import AuditTrail

TARGET_VERIFY = 200_000  # records/s
PG_DEFAULT = os.environ.get("HMI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def record(n: int) -> AuditRecord:
    return AuditRecord.create(
        AuditAction.WRITE, user_id=f"op{n % 20}", user_name="Olga Operator", role="operator",
        workstation="ST-01", session_id="5f2c0d", target_tag=f"Area{n % 7}.Tank{n % 500}.SP",
        target_address=f"opcua://plc/ns=2;s=Tank{n % 500}.SP", old_value=n * 0.5,
        new_value=n * 0.5 + 1, read_back=n * 0.5 + 1, origin="overview/sp", app_version="0.1.0",
    )  # fmt: skip


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def bench_appends(url: str, appends: int, label: str) -> None:
    store = AuditStore.open(url)
    store.ready()
    records = [record(n) for n in range(appends)]
    start = time.perf_counter()
    for r in records:
        store.append(r)
    ours = time.perf_counter() - start

    raw_rows = [dict(zip(schema.AUDIT_COLUMNS, r.stored(), strict=True)) for r in records]
    for n, row in enumerate(raw_rows):  # another table, same row, no chain
        row["sequence"], row["uuid"] = n + 1, str(uuid.uuid4())
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(schema.audit_spool.delete())
    start = time.perf_counter()
    for row in raw_rows:
        with engine.connect() as conn:
            conn.execution_options(hmi_write=True)
            conn.execute(insert(schema.audit_spool), row)
            conn.commit()
    raw = time.perf_counter() - start
    print(
        f"{label} append: ours {rate(appends, ours)} ({ours / appends * 1e3:.2f} ms each), "
        f"raw SQLAlchemy INSERT+COMMIT {rate(appends, raw)}, ratio {raw / ours:.2f}"
    )
    figure("audit", f"{label}: durable append, one at a time", appends / ours, "records/s",
           raw=appends / raw, raw_name="SQLAlchemy INSERT+COMMIT, no chain")  # fmt: skip
    if url.startswith("postgresql"):
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as pg:
            pg.execute("DELETE FROM audit_spool")
            pg.commit()
            columns = ", ".join(schema.AUDIT_COLUMNS)
            marks = ", ".join(["%s"] * len(schema.AUDIT_COLUMNS))
            sql = f"INSERT INTO audit_spool ({columns}) VALUES ({marks})"
            start = time.perf_counter()
            for row in raw_rows:
                pg.execute(sql, list(row.values()))
                pg.commit()
            bare = time.perf_counter() - start
        print(f"{label} append: raw psycopg INSERT+COMMIT {rate(appends, bare)}, "
              f"ratio {bare / ours:.2f}")  # fmt: skip

    async def grouped() -> float:
        trail = AuditTrail(store)
        batch = [record(n) for n in range(appends)]
        start = time.perf_counter()

        async def producer(k: int) -> None:
            for r in batch[k::32]:
                await trail.append(r)

        await asyncio.gather(*(producer(k) for k in range(32)))
        elapsed = time.perf_counter() - start
        await trail.aclose()
        return elapsed

    elapsed = asyncio.run(grouped())
    figure("audit", f"{label}: durable append, 32 producers (group commit)",
           appends / elapsed, "records/s")  # fmt: skip
    print(f"{label} append: AuditTrail, 32 concurrent producers (group commit) "
          f"{rate(appends, elapsed)}")  # fmt: skip
    engine.dispose()
    store.close()


def chained_rows(count: int) -> list[tuple[object, ...]]:
    """Realistic chained rows, computed without the store (fast bulk load)."""
    rng = random.Random(7)
    prev, ts, rows = GENESIS_HASH, 1_700_000_000_000_000, []
    reasons = ["", "", "", "calibration drift", "operator request, shift B"]
    sha = hashlib.sha256
    for n in range(1, count + 1):
        ts += rng.randrange(200_000, 20_000_000)
        user = n % 20
        tank = rng.randrange(500)
        old = encode_value(round(rng.uniform(0, 100), 2))
        new = encode_value(round(rng.uniform(0, 100), 2))
        fields = (
            "write", "0.1.0", "", "", new, old, f"overview/tank{tank}", prev, new,
            reasons[n % 5], "done", "operator", n, f"s{user}-{n // 500}", False,
            f"opcua://plc/ns=2;s=Tank{tank}.SP", f"Area{tank % 7}.Tank{tank}.SP", ts,
            f"op{user}", f"Operator Number{user}", str(uuid.UUID(int=rng.getrandbits(128))),
            "", "", f"ST-{user % 4:02d}",
        )  # fmt: skip
        digest = sha(canonical(*fields)).hexdigest()  # type: ignore[arg-type]
        rows.append((*fields, digest, "", ""))  # details, old_source: empty, as most records
        prev = digest
    return rows


def load(url: str, rows: list[tuple[object, ...]]) -> AuditStore:
    store = AuditStore.open(url)
    store.ready()
    columns = ", ".join(schema.AUDIT_COLUMNS)
    if url.startswith("sqlite"):
        path = make_url(url).database
        conn = sqlite3.connect(str(path))
        conn.execute("PRAGMA synchronous=OFF")  # set-up only, not what is measured
        conn.execute("DROP TRIGGER audit_no_update")  # bulk load only; restored below
        conn.executemany(
            f"INSERT INTO audit ({columns}) VALUES ({', '.join('?' * len(rows[0]))})", rows
        )
        conn.execute(
            "UPDATE audit_head SET last_sequence = ?, last_hash = ?, scheme = 'sha256' "
            "WHERE chain = 'audit'", (rows[-1][12], rows[-1][24]),
        )  # fmt: skip
        conn.execute(
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
            "SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END"
        )
        conn.commit()
        conn.close()
    else:
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as pg, pg.cursor() as cur:
            with cur.copy(f"COPY audit ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                "UPDATE audit_head SET last_sequence = %s, last_hash = %s, scheme = 'sha256' "
                "WHERE chain = 'audit'", (rows[-1][12], rows[-1][24]),
            )  # fmt: skip
            pg.commit()
        with psycopg.connect(conninfo, autocommit=True) as pg:
            pg.execute("VACUUM (ANALYZE) audit")  # what autovacuum does after a load
    return store


def bench_verify_export(url: str, rows: list[tuple[object, ...]], label: str) -> float:
    start = time.perf_counter()
    store = load(url, rows)
    print(f"{label}: bulk load of {len(rows):,} rows {time.perf_counter() - start:.1f} s")
    verify_rate = 0.0
    for workers in (1, None):
        start, cpu = time.perf_counter(), time.process_time()
        result = store.verify(workers=workers)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert result.ok and result.count == len(rows), result
        verify_rate = max(verify_rate, len(rows) / elapsed)
        how = "1 process" if workers == 1 else f"auto ({min(os.cpu_count() or 1, 4)} processes)"
        print(f"{label} verify, {how}: {len(rows):,} records in {elapsed:.2f} s = "
              f"{len(rows) / elapsed:,.0f}/s (this process's CPU: {cpu:.2f} s; "
              f"target >= {TARGET_VERIFY:,}/s)")  # fmt: skip
    figure("audit", f"{label}: chain verify of {len(rows):,} records", verify_rate, "records/s",
           target=f">= {TARGET_VERIFY:,}", met=verify_rate >= TARGET_VERIFY)  # fmt: skip
    last = min(len(rows), 100_000)
    query = AuditQuery(first_sequence=len(rows) - last + 1)
    start = time.perf_counter()
    out = io.StringIO()
    summary = export_csv(store, out, query, verify=False)
    elapsed = time.perf_counter() - start
    print(f"{label} export: CSV of {summary.count:,} records in {elapsed:.2f} s "
          f"({out.tell() / 2**20:.0f} MB), {rate(summary.count, elapsed)}; "
          f"with the full verify first: {elapsed + len(rows) / verify_rate:.1f} s")  # fmt: skip
    store.close()
    return verify_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--pg", default=PG_DEFAULT, help="any database on the server to use")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    started = time.perf_counter()
    rates = []
    with tempfile.TemporaryDirectory() as folder:
        bench_appends(f"sqlite:///{folder}/append.sqlite", args.appends, "SQLite")
        start = time.perf_counter()
        rows = chained_rows(args.records)
        print(f"chained {len(rows):,} rows in {time.perf_counter() - start:.1f} s")
        rates.append(bench_verify_export(f"sqlite:///{folder}/verify.sqlite", rows, "SQLite"))
    if not args.no_pg:
        admin = make_url(args.pg).set(drivername="postgresql").render_as_string(False)
        name = f"hmi_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as pg:
            pg.execute(f'CREATE DATABASE "{name}"')
        url = make_url(args.pg).set(database=name).render_as_string(False)
        try:
            bench_appends(url, args.appends, "PostgreSQL")
            with psycopg.connect(admin, autocommit=True) as pg:
                pg.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                pg.execute(f'CREATE DATABASE "{name}"')
            rates.append(bench_verify_export(url, rows, "PostgreSQL"))
        finally:
            with psycopg.connect(admin, autocommit=True) as pg:
                pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"total {time.perf_counter() - started:.0f} s")
    return 1 if args.check and min(rates) < TARGET_VERIFY else 0


if __name__ == "__main__":
    sys.exit(main())
