"""A station's spool: where audit records wait, durably and in order, while the central
database is unreachable.

The spool is a SQLite file in the user data folder holding a hash chain of its own (table
``audit_spool``, chain head ``spool``), so a spool tampered with on the station is noticed when
it is forwarded. Records leave it only after the central database has committed them.

The spool takes records whatever key its earlier records were hashed with: it is where
records go when nothing else will take them, so refusing would lose them. A key that is not
the site's is caught where it matters, by the central chain, which re-chains every forwarded
record with the key of the station that forwards it and refuses a wrong one
(``AuditKeyError``); the records then wait here until the station runs with the right key.
A key changed while records wait shows as a break in ``verify()`` where it changed.

When a record can be stored nowhere (the central database away and the spool unwritable: a
full disk, a file size limit), the trail holds an ``AuditBlocked``: the session guard refuses
audited actions until ``spool_writable`` finds room again (a probe written, synced and
removed beside the spool: the disk itself is asked, nothing guessed) or the central database
takes records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select

from hmi.model.audit.record import AuditRecord, chain_hash
from hmi.storage import schema
from hmi.storage.audit import AuditStore
from hmi.storage.db import default_spool_path, make_engine, write_transaction

__all__ = ["AuditBlocked", "SpoolStore", "spool_writable"]


class SpoolStore(AuditStore):
    def __init__(self, path: Path | None = None, *, key: bytes | None = None) -> None:
        self.path = path or default_spool_path()
        super().__init__(
            make_engine(f"sqlite:///{self.path}"),
            key=key,
            key_check=False,
            table=schema.audit_spool,
            chain="spool",
        )

    def written_with_another_key(self) -> bool:
        """True when the waiting records form an unbroken chain (sequence and links) of which
        not one hashes right with this spool's key: a station that ran with a wrong audit key
        spooled them (see the module's docstring). Their content cannot be checked with this
        key; the links can, and a record deleted or inserted still shows."""
        previous: AuditRecord | None = None
        for record in self.iter_records():
            if chain_hash(record.canonical(), self._key) == record.hash:
                return False
            if previous is not None and (
                record.sequence != previous.sequence + 1 or record.prev_hash != previous.hash
            ):
                return False
            previous = record
        return previous is not None

    def fresh(self) -> SpoolStore:
        """A new, empty spool at the same path with the same key (after ``quarantine``)."""
        return SpoolStore(self.path, key=self._key)

    def put(self, records: Sequence[AuditRecord]) -> list[AuditRecord]:
        """Spool records (marked ``spooled``), durably, after those already waiting."""
        return self.append_many([dataclasses.replace(r, spooled=True) for r in records])

    def pending(self) -> int:
        self.ready()
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(schema.audit_spool)
                ).scalar_one()
            )

    def peek(self, limit: int) -> list[AuditRecord]:
        """The oldest ``limit`` waiting records, in spool order."""
        return self.page(limit=limit, newest_first=False).records

    def remove(self, uuids: Sequence[str]) -> None:
        """Drop records the central database has committed."""
        if not uuids:
            return
        self.ready()
        with write_transaction(self.engine) as connection:
            connection.execute(
                delete(schema.audit_spool).where(schema.audit_spool.c.uuid.in_(list(uuids)))
            )


_PROBE_BYTES = 256 * 1024  # room for a group of records and SQLite's journal


@dataclass(frozen=True, slots=True)
class AuditBlocked:
    """Audit records can be stored nowhere: ``problem`` says why, ``spool`` where it failed."""

    problem: str
    spool: Path

    def describe(self) -> str:
        return (
            f"audit records can be stored nowhere: the central database is unreachable and "
            f"the spool {self.spool} cannot be written ({self.problem})"
        )

    def refusal(self) -> str:
        return (
            f"refused: its audit record could not be stored (the central database is "
            f"unreachable and the spool cannot be written: {self.problem}); free space "
            f"under {self.spool.parent} or restore the database"
        )


def spool_writable(spool: Path) -> bool:
    """True when a probe of ``_PROBE_BYTES`` can be written and synced beside ``spool``."""
    probe = spool.with_name(f".{spool.name}.space-probe")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if os.write(fd, b"\0" * _PROBE_BYTES) != _PROBE_BYTES:
                return False
            os.fsync(fd)
        finally:
            os.close(fd)
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
