"""Three stations appending at once keep one verifiable order (issue 21, item 5): three
processes, each with its own engine and group-committing ``AuditTrail``, append to one chain
on the real PostgreSQL; nothing is lost or doubled, verify passes, and each station's records
are in the chain in the order that station made them."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

from hmi.storage.audit import AuditStore

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_stations.py"


def test_three_station_processes_keep_one_verifiable_order(pg_database: str) -> None:
    import json
    import time

    AuditStore.open(pg_database).ready()
    start_at = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(BENCH),
                "--worker",
                pg_database,
                f"ST-{n}",
                str(start_at),
                "2",
                "4",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    counts = {f"ST-{n}": json.loads(p.communicate(timeout=90)[0])["count"] for n, p in
              enumerate(procs)}  # fmt: skip
    store = AuditStore.open(pg_database)
    try:
        result = store.verify()
        records = list(store.iter_records())
    finally:
        store.close()
    assert result.ok, result
    assert result.count == len(records) == sum(counts.values())
    assert all(counts.values()), counts  # every station appended, concurrently
    assert len({r.uuid for r in records}) == len(records)
    for station, made in counts.items():
        for producer in range(4):  # each producer's values 0, 1, 2, ... in chain order
            values = [
                r.old_value for r in records
                if r.workstation == station and r.user_id == f"op{producer}"
            ]  # fmt: skip
            assert values == list(range(len(values))), (station, producer)
        assert sum(1 for r in records if r.workstation == station) == made
    stations = [r.workstation for r in records]
    switches = sum(1 for a, b in itertools.pairwise(stations) if a != b)
    assert switches >= 3, "the stations did not interleave: not a concurrency test"
