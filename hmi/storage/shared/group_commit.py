"""Group commit of audit appends on a shared chain (issue 21, item 5).

Stations sharing one PostgreSQL chain take turns at the head lock (``SELECT ... FOR UPDATE``
on ``audit_head``). While one station holds it, the others' records queue up. A station's
writer therefore gathers the records waiting *at the moment it gets the lock* and chains them
all under that one hold: one INSERT (its rows pipelined), one head update, one commit. The commit (the
WAL flush) is the cost that grows with the number of stations taking turns; paying it once per
batch instead of once per queued group keeps the total rate from falling as stations are added.

The order stays one and verifiable: the batch is chained from the head read under the lock,
in the order gathered, and it is one transaction, so a writer killed mid-batch leaves either
all of the batch or none of it (the head moves with the last record, in the same commit). On
SQLite ``BEGIN IMMEDIATE`` takes the write lock at the start, so the lock is had already.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from hmi.model.audit.record import AuditRecord
from hmi.storage.audit import AuditStore
from hmi.storage.db import write_transaction

__all__ = ["append_gathered", "settle"]


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
    with write_transaction(store.engine) as connection:
        placed = store.place(connection, records, skip_existing=skip_existing, gather=gather)
        if placed:
            store.store_placed(connection, placed)
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
