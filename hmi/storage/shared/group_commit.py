"""Group commit of audit appends on a shared chain (issue 21, item 5).

Stations sharing one PostgreSQL chain take turns at the head lock (``SELECT ... FOR UPDATE``
on ``audit_head``). While one station holds it, the others' records queue up. A station's
writer therefore gathers the records waiting *at the moment it gets the lock* and chains them
all under that one hold: one INSERT (its rows pipelined), one head update, one commit. The commit (the
WAL flush) is the cost that grows with the number of stations taking turns; paying it once per
batch instead of once per queued group keeps the total rate from falling as stations are added.

On PostgreSQL the hold is kept short: the batch is two round trips to the server, each a
psycopg pipeline on the connection's own transaction: the head lock and the highest stored
sequence (read once the lock is granted, so a row slipped in past the head is seen; one that
comes later makes the INSERT collide, and the batch is chained again after it); then the rows,
the head's move and the commit, in one. Through SQLAlchemy it was six statements, each with its own
round trip and compile-and-bind work, all while the other stations waited.

The order stays one and verifiable: the batch is chained from the head read under the lock,
in the order gathered, and it is one transaction, so a writer killed mid-batch leaves either
all of the batch or none of it (the head moves with the last record, in the same commit). On
SQLite ``BEGIN IMMEDIATE`` takes the write lock at the start, so the lock is had already.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from hmi.model.audit.record import AuditRecord
from hmi.storage import schema
from hmi.storage.audit import AuditStore
from hmi.storage.db import write_transaction

__all__ = ["append_gathered", "settle"]

log = logging.getLogger(__name__)


def append_gathered(
    store: AuditStore,
    records: Sequence[AuditRecord],
    gather: Callable[[], Sequence[AuditRecord]] = tuple,
    *,
    skip_existing: bool = False,
) -> list[AuditRecord]:
    """Append ``records`` and whatever ``gather`` returns once the head lock is held, in one
    transaction; durable on return. ``gather`` is called once, under the lock (it takes the
    records that queued while this writer waited for it); the result holds the placed records
    in order, ``records`` first."""
    store.ready()
    if store.engine.dialect.name == "postgresql" and not skip_existing:
        import psycopg

        taken: list[AuditRecord] = []

        def gather_once() -> Sequence[AuditRecord]:
            got = gather()
            taken.extend(got)
            return got

        try:
            return _append_pipelined(store, records, gather_once)
        except psycopg.errors.UniqueViolation as exc:  # a row slipped in since the lock
            log.error("audit chain %s: the batch collided with a row added outside the audit "
                      "store (%s); chained again after it", store.chain, exc)  # fmt: skip
            records, gather = [*records, *taken], tuple
    with write_transaction(store.engine) as connection:
        placed = store.place(connection, records, skip_existing=skip_existing, gather=gather)
        if placed:
            store.store_placed(connection, placed)
    return placed


def _append_pipelined(
    store: AuditStore, records: Sequence[AuditRecord], gather: Callable[[], Sequence[AuditRecord]]
) -> list[AuditRecord]:
    """``append_gathered`` on PostgreSQL: the same statements as ``place`` and
    ``store_placed``, sent in two psycopg pipelines, the second ending with the commit."""
    table, head = store.table_name, schema.audit_head.name
    columns = schema.AUDIT_COLUMNS
    with write_transaction(store.engine) as connection:
        pg: Any = connection.connection.driver_connection
        with pg.cursor() as lock, pg.cursor() as last:
            with pg.pipeline():
                lock.execute(
                    f"SELECT last_sequence, last_hash, scheme FROM {head} WHERE chain = %s "
                    "FOR UPDATE",
                    (store.chain,),
                )
                last.execute(f"SELECT max(sequence) FROM {table}")
            row, (highest,) = lock.fetchone(), last.fetchone()
        if row is None:
            raise RuntimeError(f"audit chain {store.chain}: no head row in {head}")
        rows: list[tuple[Any, ...]] = []
        placed = store.place(connection, records, gather=gather, locked=(*row, highest), rows=rows)
        if not placed:
            return placed
        end = placed[-1]
        with pg.cursor() as cursor, pg.pipeline():
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                rows,
            )
            cursor.execute(
                f"UPDATE {head} SET last_sequence = %s, last_hash = %s, scheme = %s "
                "WHERE chain = %s",
                (end.sequence, end.hash, store.scheme, store.chain),
            )
            pg.commit()  # in the same round trip (SQLAlchemy's commit after it has nothing left)
    return placed


def settle(
    future: concurrent.futures.Future[Any], result: Any = None, error: BaseException | None = None
) -> None:
    """Answer a caller; one who stopped waiting (cancelled) is skipped: the record is stored
    all the same, since the action it records happened."""
    if future.done():
        return
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
