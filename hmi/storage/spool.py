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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import delete, func, select

from hmi.model.audit.record import AuditRecord, chain_hash
from hmi.storage import schema
from hmi.storage.audit import AuditStore
from hmi.storage.db import default_spool_path, make_engine, write_transaction

__all__ = ["SpoolStore"]


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
