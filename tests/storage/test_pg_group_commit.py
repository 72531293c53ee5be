"""The group commit (``hmi.storage.shared.group_commit``) on the real PostgreSQL: a batch
gathered under the head lock is one transaction, so a writer killed mid-batch leaves the whole
batch or none of it, and the chain verifies; records gathered under the lock join the batch."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.audit.verify import ProblemKind
from hmi.storage import schema
from hmi.storage.audit import AuditStore
from hmi.storage.shared.group_commit import append_gathered

BATCH = 400

_WRITER = f"""
import sys
from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.audit.verify import ProblemKind
from hmi.storage.audit import AuditStore
from hmi.storage.shared.group_commit import append_gathered

store = AuditStore.open(sys.argv[1], migrate=False)
batch = 0
while True:
    make = lambda i: AuditRecord.create(AuditAction.WRITE, user_id=f"b{{batch}}", old_value=i,
                                        workstation=sys.argv[2], origin="kill test")
    append_gathered(store, [make(0)], lambda: [make(i) for i in range(1, {BATCH})])
    print(batch, flush=True)
    batch += 1
"""


def _record(user: str, value: int) -> AuditRecord:
    return AuditRecord.create(AuditAction.WRITE, user_id=user, old_value=value, origin="test")


def test_records_gathered_under_the_lock_join_the_batch(pg_database: str) -> None:
    store = AuditStore.open(pg_database)
    try:
        placed = append_gathered(store, [_record("a", 0)], lambda: [_record("a", 1)])
        assert [r.sequence for r in placed] == [1, 2]
        assert store.head().sequence == 2
        assert store.verify().ok
    finally:
        store.close()


def test_a_writer_killed_mid_batch_leaves_whole_batches(pg_database: str) -> None:
    AuditStore.open(pg_database).ready()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, pg_database, f"ST-{n}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    try:
        for writer in writers:  # each has committed a batch: it is mid-way through later ones
            assert writer.stdout is not None
            writer.stdout.readline()
        time.sleep(0.7)
    finally:
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
    store = AuditStore.open(pg_database)
    try:
        result = store.verify()
        records = list(store.iter_records())
    finally:
        store.close()
    assert result.ok, result
    assert result.count == len(records) == store.head().sequence
    sizes = collections.Counter((r.workstation, r.user_id) for r in records)
    assert len(sizes) >= 4, sizes  # both writers committed batches
    assert set(sizes.values()) == {BATCH}, sizes  # no batch cut in two
    for (station, user), _ in sizes.items():  # each batch contiguous, in its order
        values = [r.old_value for r in records if r.workstation == station and r.user_id == user]
        assert values == list(range(BATCH))


@pytest.fixture
def station_url(station_database: tuple[str, str]) -> str:
    """The station role's URL on a database set up as IT does it (tests/storage/conftest.py)."""
    return station_database[0]


def test_the_station_role_cannot_interleave_a_batch(station_url: str) -> None:
    """While a batch holds the head lock, another connection with the station's grants tries
    to move the head (waits for the lock: refused by its timeout) and to slip a row in at the
    sequence the batch would take. The batch is chained after that row, whole, and verify
    finds the row (not the chain's)."""
    store = AuditStore.open(station_url, migrate=False)
    append_gathered(store, [_record("before", 0)])
    plain = make_url(station_url).set(drivername="postgresql").render_as_string(False)
    refused: list[str] = []

    def attack() -> list[AuditRecord]:
        with psycopg.connect(plain, autocommit=True) as attacker:
            attacker.execute("SET lock_timeout = '300ms'")
            try:
                attacker.execute("UPDATE audit_head SET last_sequence = last_sequence")
            except psycopg.errors.LockNotAvailable as exc:
                refused.append(str(exc))
            forged = _record("mallory", 0).chain(2, "0" * 64, None)
            names = ", ".join(schema.AUDIT_COLUMNS)
            marks = ", ".join(["%s"] * len(schema.AUDIT_COLUMNS))
            attacker.execute(f"INSERT INTO audit ({names}) VALUES ({marks})", forged.stored())
        return [_record("batch", i) for i in range(1, 5)]

    try:
        placed = append_gathered(store, [_record("batch", 0)], attack)
        result = store.verify()
        records = list(store.iter_records())
    finally:
        store.close()
    assert refused, "the head moved under another connection's lock"
    assert [r.sequence for r in placed] == [3, 4, 5, 6, 7]  # after the slipped-in row
    assert [r.user_id for r in records] == ["before", "mallory"] + ["batch"] * 5
    assert [r.old_value for r in records[2:]] == list(range(5))
    assert not result.ok and result.first_problem is not None  # the slipped-in row is found
    assert result.first_problem.kind is ProblemKind.FOREIGN, result
