"""Audit appends from several stations at once on one PostgreSQL (issue 21, item 5).

Each station is a separate process with its own engine and ``AuditTrail`` (group commit on
its worker thread), and ``--producers`` concurrent producers awaiting durable appends, as a
busy station's operators, alarm journal and user changes would. Run first with one station
alone, then with ``--stations`` together, on a database made for the run (dropped after);
the chain is verified after each run (one order, no fork, nothing lost).

Prints durable appends/s in all, each run's latency p50/p99/max (submit to durable), the
ratio of the stations together to one alone, and first a bare INSERT+COMMIT loop's p99 on the
same server (the raw floor: on a loaded machine a bare commit may itself exceed 20 ms). Targets: ratio >= 1.0, p99 <= 20 ms.

Run: ``.venv/bin/python bench/bench_stations.py [--stations 3] [--seconds 5] [--producers 4]
[--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from figures import figure
from sqlalchemy.engine import make_url

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail

PG_DEFAULT = os.environ.get("HMI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_RATIO = 1.0
TARGET_P99_MS = 20.0


def station(url: str, name: str, start_at: float, seconds: float, producers: int) -> None:
    """One station's run: print {"count", "latencies_ms"} as JSON."""
    latencies: list[float] = []

    async def run() -> None:
        trail = AuditTrail(AuditStore.open(url, migrate=False))
        trail.start()
        await trail.call(trail.store.ready)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        end = time.time() + seconds

        async def producer(k: int) -> None:
            n = 0
            while time.time() < end:
                record = AuditRecord.create(
                    AuditAction.WRITE, user_id=f"op{k}", workstation=name,
                    target_tag=f"Area1.Tank{k}.SP", old_value=n, new_value=n + 1,
                    origin="bench", app_version="bench",
                )  # fmt: skip
                began = time.perf_counter()
                await trail.append(record)
                latencies.append((time.perf_counter() - began) * 1000)
                n += 1

        await asyncio.gather(*(producer(k) for k in range(producers)))
        await trail.aclose()
        trail.store.close()

    asyncio.run(run())
    print(json.dumps({"count": len(latencies), "latencies_ms": latencies}))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def bare_commits(admin_url: str, seconds: float) -> list[float]:
    """The raw library figure: a bare INSERT + COMMIT loop on one psycopg connection (no
    chain, no lock), its latencies in ms; the floor under any durable append on this machine."""
    latencies: list[float] = []
    with psycopg.connect(admin_url) as connection:
        connection.execute("CREATE TABLE bare (id bigserial PRIMARY KEY, payload text)")
        connection.commit()
        end = time.time() + seconds
        while time.time() < end:
            began = time.perf_counter()
            connection.execute("INSERT INTO bare (payload) VALUES (%s)", ("x" * 200,))
            connection.commit()
            latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def run_stations(
    url: str, stations: int, seconds: float, producers: int
) -> tuple[float, list[float]]:
    start_at = time.time() + 3.0  # every process imported and connected by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                url,
                f"ST-{n + 1:02d}",
                str(start_at),
                str(seconds),
                str(producers),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(stations)
    ]
    outs = [json.loads(p.communicate(timeout=seconds + 60)[0]) for p in procs]
    count = sum(o["count"] for o in outs)
    latencies = [x for o in outs for x in o["latencies_ms"]]
    return count / seconds, latencies


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, url, name, start_at, seconds, producers = sys.argv
        station(url, name, float(start_at), float(seconds), int(producers))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--pg", default=PG_DEFAULT, help="any database on the server to use")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    server = make_url(args.pg)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    results = {}
    bare_p99 = 0.0
    for stations in (1, args.stations):
        name = f"hmi_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"'.encode())
        url = server.set(database=name).render_as_string(hide_password=False)
        try:
            if stations == 1:
                bare = bare_commits(server.set(drivername="postgresql", database=name)
                                    .render_as_string(hide_password=False), args.seconds)  # fmt: skip
                bare_p99 = percentile(bare, 0.99)
                print(f"bare INSERT+COMMIT loop (psycopg, one connection): {len(bare) / args.seconds:,.0f}"
                      f"/s; latency p50 {percentile(bare, 0.5):.1f} ms, p99 {bare_p99:.1f} ms")  # fmt: skip
            AuditStore.open(url).ready()  # the schema, once, before the stations start
            rate, latencies = run_stations(url, stations, args.seconds, args.producers)
            store = AuditStore.open(url)
            verified = store.verify()
            store.close()
            p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            print(f"{stations} station(s) x {args.producers} producers: {rate:,.0f} durable "
                  f"appends/s in all; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
                  f"{max(latencies):.1f} ms; chain {'verified' if verified.ok else 'BROKEN'} "
                  f"({verified.count:,} records)")  # fmt: skip
            results[stations] = (rate, p99, verified.ok)
        finally:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    ratio = results[args.stations][0] / results[1][0]
    p99 = results[args.stations][1]
    print(f"ratio {args.stations} stations / 1 alone: {ratio:.2f} (target >= {TARGET_RATIO}); "
          f"p99 together {p99:.1f} ms (target <= {TARGET_P99_MS} ms; a bare commit's p99 "
          f"in this run {bare_p99:.1f} ms)")  # fmt: skip
    missed = ratio < TARGET_RATIO or p99 > TARGET_P99_MS or not all(r[2] for r in results.values())
    figure("stations", f"{args.stations} stations on one PostgreSQL: durable appends",
           results[args.stations][0], "appends/s", target=f"ratio >= {TARGET_RATIO}",
           met=ratio >= TARGET_RATIO, raw=results[1][0], raw_name="one station alone")  # fmt: skip
    figure("stations", f"{args.stations} stations: append latency p99", p99, "ms",
           target=f"<= {TARGET_P99_MS:g}", met=p99 <= TARGET_P99_MS, raw=bare_p99,
           raw_name="bare INSERT+COMMIT p99")  # fmt: skip
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
