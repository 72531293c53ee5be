"""The audit store: appends hash-chained records durably, pages and streams them, verifies.

Blocking: call it from one worker thread (``hmi.storage.trail.AuditTrail`` does), or from the
CLI. Every append runs in one write transaction that locks the chain head (``SELECT ... FOR
UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so any number of stations sharing one
database extend one chain and never fork it; the commit is durable before ``append`` returns.

Before its first append to a chain with records, a store checks that its key is the chain's
(``AuditKeyError`` if not; nothing is written): records with another key would fail verify.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures as pools  # its process pool is imported on first use, by name
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, bindparam, func, insert, or_, select, update

from hmi.model.audit.record import (
    GENESIS_HASH,
    JOINED_TEXTS,
    JOINED_VALUES,
    AuditRecord,
    canonical_row,
    chain_hash,
)
from hmi.model.audit.verify import ChainVerifier, VerifyResult
from hmi.storage import schema
from hmi.storage.audit_query import AuditPage, AuditQuery, audit_filter
from hmi.storage.db import StorageError, ensure_schema, make_engine, write_transaction

log = logging.getLogger(__name__)

__all__ = ["AuditKeyError", "AuditPage", "AuditQuery", "AuditStore", "ChainHead", "check_audit_key"]

Progress = Callable[[int, int], None]
"""``progress(done, total)`` during long walks (verify, export)."""

_KEY_PROBES = 16  # the chain's newest records (and its first) a key is tried on


class AuditKeyError(StorageError):
    """The audit key cannot extend the chain, so nothing was written. ``keyed``: the chain is
    keyed (HMAC-SHA256); ``given``: a key was given (both: it is not the chain's)."""

    def __init__(self, message: str, *, keyed: bool, given: bool) -> None:
        super().__init__(message)
        self.keyed = keyed
        self.given = given


@dataclass(frozen=True, slots=True)
class ChainHead:
    sequence: int
    hash: str
    scheme: str  # "" before the first record, then "sha256" or "hmac-sha256"


class AuditStore:
    """One hash chain in one table: ``audit`` (the chain of record) or, for a station's spool,
    ``audit_spool``. ``key`` is the site's HMAC key, if the site uses one; ``key_hint`` says,
    in the site's terms, what to check when the key is refused (added to ``AuditKeyError``).
    ``key_check``: refuse a key that is not the chain's (off for the spool, see there)."""

    def __init__(
        self,
        engine: Engine,
        *,
        key: bytes | None = None,
        key_hint: str = "",
        key_check: bool = True,
        migrate: bool = True,
        table: Table = schema.audit,
        chain: str = "audit",
    ) -> None:
        self.engine = engine
        self._key = key or None
        self._key_hint = key_hint
        self._key_check = key_check
        self._key_checked = False  # the key hashed right on this chain once: not tried again
        self._migrate = migrate
        self._table = table
        self.table_name = table.name  # for SQL sent outside SQLAlchemy (group_commit)
        self.chain = chain
        self._ready = False
        self._columns = [table.c[name] for name in schema.AUDIT_COLUMNS]
        head = schema.audit_head
        self._lock_head = (
            select(head.c.last_sequence, head.c.last_hash, head.c.scheme)
            .where(head.c.chain == bindparam("which"))
            .with_for_update()
        )  # built once: appends are the hot path
        self._insert = insert(table)
        self._last_stored = select(func.max(table.c.sequence))
        self._move_head = (
            update(head)
            .where(head.c.chain == bindparam("which"))
            .values(last_sequence=bindparam("seq"), last_hash=bindparam("hash"),
                    scheme=bindparam("scheme"))
        )  # fmt: skip

    @classmethod
    def open(
        cls, url: str, *, key: bytes | None = None, key_hint: str = "", migrate: bool = True
    ) -> AuditStore:
        """A store on ``url``; nothing connects until first use (the database may be away)."""
        return cls(make_engine(url), key=key, key_hint=key_hint, migrate=migrate)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def scheme(self) -> str:
        return "hmac-sha256" if self._key else "sha256"

    def close(self) -> None:
        self.engine.dispose()

    def ready(self) -> None:
        """Connect and bring the schema up to date (once; again after a failure)."""
        if not self._ready:
            ensure_schema(self.engine, migrate=self._migrate)
            self._ready = True

    # -- appending -----------------------------------------------------------------------------

    def append(self, record: AuditRecord) -> AuditRecord:
        """Chain ``record`` at the head and commit; returns it with sequence and hashes."""
        return self.append_many([record])[0]

    def append_many(
        self, records: Sequence[AuditRecord], *, skip_existing: bool = False
    ) -> list[AuditRecord]:
        """Chain and commit several records in one transaction, in the order given; durable on
        return. ``skip_existing`` leaves out records whose uuid the chain already holds (the
        idempotent forward of a spool), and the result holds only those appended."""
        if not records:
            return []
        self.ready()
        with write_transaction(self.engine) as connection:
            placed = self.place(connection, records, skip_existing=skip_existing)
            if placed:
                self.store_placed(connection, placed)
        return placed

    def place(
        self,
        connection: Connection,
        records: Sequence[AuditRecord],
        *,
        skip_existing: bool = False,
        gather: Callable[[], Sequence[AuditRecord]] = tuple,
        locked: tuple[Any, Any, Any, Any] | None = None,
        rows: list[tuple[Any, ...]] | None = None,
    ) -> list[AuditRecord]:
        """Lock the head in ``connection``'s write transaction (or take ``locked``: the head
        row and the highest stored sequence, read under the lock already) and chain
        ``records`` after it, then what ``gather`` returns (``group_commit``), unstored:
        ``store_placed`` stores them, or ``hmi.storage.user_seal`` with the user row (``rows``
        gets their ``stored()`` rows, made while chaining)."""
        if locked is None:
            row = connection.execute(self._lock_head, {"which": self.chain}).one()
            locked = (*row, connection.execute(self._last_stored).scalar())
        records = [*records, *gather()]
        sequence, prev_hash, scheme = int(locked[0]), str(locked[1]), str(locked[2])
        self._check_key(connection, sequence, scheme)
        last_stored = locked[3]  # a row slipped in past the head (INSERT on the table) must
        if last_stored is not None and int(last_stored) > sequence:  # not stop the trail
            log.error(
                "audit chain %s: record(s) %d..%d stored past the chain head %d, added "
                "outside the audit store; appending after them", self.chain,
                sequence + 1, int(last_stored), sequence,
            )  # fmt: skip
            sequence = int(last_stored)
        if skip_existing:
            present = self._present(connection, records)
            records = [r for r in records if r.uuid not in present]
            if not records:
                return []
        placed, made = [], ([] if rows is None else rows)
        for record in records:
            sequence += 1
            chained, stored = record.chained_row(sequence, prev_hash, self._key)
            prev_hash = chained.hash
            placed.append(chained)
            made.append(stored)
        return placed

    def store_placed(self, connection: Connection, placed: Sequence[AuditRecord]) -> None:
        """Insert records ``place`` chained, and move the head onto the last."""
        names = schema.AUDIT_COLUMNS
        connection.execute(
            self._insert, [dict(zip(names, r.stored(), strict=True)) for r in placed]
        )
        connection.execute(
            self._move_head,
            {"which": self.chain, "seq": placed[-1].sequence, "hash": placed[-1].hash,
             "scheme": self.scheme},
        )  # fmt: skip

    def _present(self, connection: Connection, records: Sequence[AuditRecord]) -> set[str]:
        """The uuids of ``records`` the chain holds already (a forward committed before the
        spool forgot it). One held with other content was planted to have the record skipped:
        refused (``StorageError``), so the record stays where it waits and nothing is lost."""
        by_uuid = {r.uuid: r for r in records}
        where = self._table.c.uuid.in_(list(by_uuid))
        found = [
            AuditRecord.from_stored(r)
            for r in connection.execute(select(*self._columns).where(where))
        ]
        for stored in found:
            if _content(stored) != _content(by_uuid[stored.uuid]):
                raise StorageError(
                    f"record {stored.uuid} is already in {self.url} as record {stored.sequence} "
                    "with other content, added outside the audit store; the real one is kept"
                )
        return {r.uuid for r in found}

    def check_key(self) -> None:
        """Refuse now (``AuditKeyError``), not at the first append, a key that cannot extend
        the chain (the CLI asks before it changes anything)."""
        self.ready()
        head = self.head()
        with self.engine.connect() as connection:
            self._check_key(connection, head.sequence, head.scheme)

    def _check_key(self, connection: Connection, sequence: int, scheme: str) -> None:
        """The scheme on every append (it is in the head row already read); whether the key
        hashes right, once. A key is the chain's when the first record or one of the newest
        ``_KEY_PROBES`` hash right with it, so one altered record does not lock a site out
        (verify names it). An empty chain takes any key: its first record sets the scheme."""
        if not self._key_check or not sequence or not scheme:
            return
        where = f"the audit chain in {self.url}"
        if scheme == "hmac-sha256" and not self._key:
            raise self._refusal(
                f"{where} is keyed (HMAC-SHA256) and no audit key was given; nothing was "
                "written", keyed=True, given=False,
            )  # fmt: skip
        if scheme != "hmac-sha256" and self._key:
            raise self._refusal(
                f"{where} was started without a site key (SHA-256) and an audit key was given; "
                "nothing was written", keyed=False, given=True,
            )  # fmt: skip
        if self._key_checked or not self._key:
            return
        c, seq = self._table.c, self._table.c.sequence
        probe = select(*(c[name] for name in schema.AUDIT_COLUMNS)).where(
            or_(seq == 1, seq > sequence - _KEY_PROBES), seq <= sequence
        )
        rows = connection.execute(probe).all()
        if not any(chain_hash(canonical_row(row), self._key) == row[24] for row in rows):
            raise self._refusal(
                f"the audit key given is not the one {where} was made with: neither its first "
                f"record nor any of its last {_KEY_PROBES} hashes right with it (if it is the "
                "right key, all of those records were altered); nothing was written",
                keyed=True, given=True,
            )  # fmt: skip
        self._key_checked = True

    def _refusal(self, message: str, *, keyed: bool, given: bool) -> AuditKeyError:
        hint = f"; {self._key_hint}" if self._key_hint else ""
        return AuditKeyError(message + hint, keyed=keyed, given=given)

    # -- reading -------------------------------------------------------------------------------

    def head(self) -> ChainHead:
        self.ready()
        head_table = schema.audit_head
        with self.engine.connect() as connection:
            row = connection.execute(
                select(head_table.c.last_sequence, head_table.c.last_hash, head_table.c.scheme)
                .where(head_table.c.chain == self.chain)
            ).one()  # fmt: skip
        return ChainHead(int(row[0]), str(row[1]), str(row[2]))

    def get(self, uuid: str) -> AuditRecord | None:
        self.ready()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*self._columns).where(self._table.c.uuid == uuid)
            ).first()
        return None if row is None else AuditRecord.from_stored(row)

    def count(self, query: AuditQuery | None = None) -> int:
        self.ready()
        where = audit_filter(self._table, query or AuditQuery())
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(self._table).where(and_(True, *where))
                ).scalar_one()
            )

    def page(
        self,
        query: AuditQuery | None = None,
        *,
        cursor: int | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> AuditPage:
        """One page, keyset-paged on sequence (stable while records are appended): pass the
        page's ``next_cursor`` back as ``cursor`` for the next one."""
        self.ready()
        query = query or AuditQuery()
        seq = self._table.c.sequence
        where = audit_filter(self._table, query)
        if cursor is not None:
            where.append(seq < cursor if newest_first else seq > cursor)
        statement = (
            select(*self._columns)
            .where(and_(True, *where))
            .order_by(seq.desc() if newest_first else seq.asc())
            .limit(limit + 1)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        records = [AuditRecord.from_stored(r) for r in rows[:limit]]
        more = len(rows) > limit
        return AuditPage(records, records[-1].sequence if more else None, newest_first, query)

    def iter_records(
        self, query: AuditQuery | None = None, *, batch: int = 2000
    ) -> Iterator[AuditRecord]:
        """Every matching record, oldest first, in constant memory (one keyset batch at a
        time, each in its own short transaction)."""
        cursor: int | None = None
        while True:
            found = self.page(query, cursor=cursor, limit=batch, newest_first=False)
            yield from found.records
            if found.next_cursor is None:
                return
            cursor = found.next_cursor

    def _joined_batches(
        self, first: int, last: int | None, batch: int = 5000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows for ``ChainVerifier.feed_joined``, oldest first, a keyset batch at a time,
        through the raw DBAPI cursor: 7 columns instead of 25 is most of verify's speed."""
        self.ready()
        if self.engine.dialect.name == "sqlite":  # printf: one allocation, not 17 for ||

            def joined(names: tuple[str, ...]) -> str:
                return f"printf('{chr(31).join(['%s'] * len(names))}', {', '.join(names)})"

        else:

            def joined(names: tuple[str, ...]) -> str:
                return f"concat_ws(chr(31), {', '.join(names)})"

        bound = "" if last is None else f" AND sequence <= {int(last)}"
        sql = (
            f"SELECT {joined(JOINED_TEXTS)}, {joined(JOINED_VALUES)}, sequence, spooled, "
            f"timestamp_us, prev_hash, hash FROM {self._table.name} "
            f"WHERE sequence >= {{after}}{bound} ORDER BY sequence LIMIT {int(batch)}"
        )  # integers written in: a bound Python int may not match the index's type
        after = first
        while True:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(sql.replace("{after}", str(int(after))))
                rows = cast(list[tuple[Any, ...]], cursor.fetchall())
                cursor.close()
                raw.rollback()
            finally:
                raw.close()
            if not rows:
                return
            yield rows
            after = rows[-1][2] + 1

    def _full_row(self, sequence: int) -> tuple[Any, ...]:
        with self.engine.connect() as connection:
            return tuple(
                connection.execute(
                    select(*self._columns).where(self._table.c.sequence == sequence)
                ).one()
            )

    def verify(
        self,
        *,
        progress: Progress | None = None,
        first: int | None = None,
        last: int | None = None,
        workers: int | None = 1,
        at: ChainHead | None = None,
    ) -> VerifyResult:
        """Walk the chain up to its head (``at``: one read before, an export's snapshot) or
        ``first``..``last`` (anchored on the record before), check every hash and link, and that
        it ends at that head. ``workers`` > 1 (None: per CPU, up to 4) splits the walk."""
        head = at if at is not None else self.head()
        if head.scheme == "hmac-sha256" and not self._key:
            raise StorageError(
                f"the audit chain in {self.url} is keyed (HMAC-SHA256): verifying it needs the "
                f"site's audit key"
            )
        start_seq: int | None = 1
        start_hash: str | None = GENESIS_HASH
        if first is not None and first > 1:
            before = self.page(AuditQuery(last_sequence=first - 1), limit=1).records
            start_seq, start_hash = first, (before[0].hash if before else GENESIS_HASH)
        begin = start_seq or 1
        end = head.sequence if last is None else last
        if self.chain == "spool":  # forwarded records leave the spool: anchor on what is left
            start_seq = start_hash = None
            begin = 1
        total = max(0, end - begin + 1)
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if total >= 400_000 else 1
        if self.engine.url.database in (None, "", ":memory:") or self.chain == "spool":
            workers = 1
        if workers <= 1 or total < 2 * workers:
            verifier = self._walk(begin, end, start_seq, start_hash, progress, total, 1)
        else:
            step = -(-total // workers)
            bounds = [(lo, min(lo + step - 1, end)) for lo in range(begin, end + 1, step)]
            url = self.engine.url.render_as_string(hide_password=False)
            context = multiprocessing.get_context("spawn")  # never fork a threaded process
            with pools.ProcessPoolExecutor(len(bounds) - 1, mp_context=context) as pool:
                futures = [
                    pool.submit(_walk_range, url, self._key, self._table.name, self.chain, lo, hi)
                    for lo, hi in bounds[1:]
                ]
                own = self._walk(begin, bounds[0][1], start_seq, start_hash, progress, total,
                                 len(bounds))  # fmt: skip
                parts = [(own.result(), own.first_link)] + [f.result() for f in futures]
            verifier = ChainVerifier.merged(parts, key=self._key)
        if progress is not None:
            progress(verifier.count, max(total, verifier.count))
        if last is None:
            verifier.check_head(head.sequence, head.hash, beyond=self._beyond_head())
        return verifier.result()

    def _walk(
        self, lo: int, hi: int, start_seq: int | None, start_hash: str | None,
        progress: Progress | None, total: int, share: int,
    ) -> ChainVerifier:  # fmt: skip
        verifier = ChainVerifier(key=self._key, start_sequence=start_seq, start_hash=start_hash)
        for rows in self._joined_batches(lo, hi):
            verifier.feed_joined(rows, self._full_row)
            if progress is not None:
                progress(min(verifier.count * share, total), total)
        return verifier

    def _beyond_head(self) -> int:
        """The highest sequence stored past the head, 0 if none; one statement (one snapshot:
        a concurrent append is not mistaken for one)."""
        head_table, seq = schema.audit_head, self._table.c.sequence
        newest = select(func.coalesce(func.max(seq), 0)).scalar_subquery()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(head_table.c.last_sequence, newest).where(head_table.c.chain == self.chain)
            ).one()
        return int(row[1]) if int(row[1]) > int(row[0]) else 0


def _content(record: AuditRecord) -> AuditRecord:  # what it says, not where a chain put it
    return replace(record, sequence=0, prev_hash="", hash="", spooled=False)


def check_audit_key(store: AuditStore, key: bytes | None) -> None:
    """Refuse (``AuditKeyError``) unless ``key`` can extend ``store``'s chain: what the store
    checks before its first append, asked for ahead of time with a key of the caller's."""
    if (key or None) == store._key:
        store.check_key()
        return
    AuditStore(store.engine, key=key, key_hint=store._key_hint, migrate=store._migrate,
               table=store._table, chain=store.chain).check_key()  # fmt: skip


def _walk_range(
    url: str, key: bytes | None, table: str, chain: str, lo: int, hi: int
) -> tuple[VerifyResult, tuple[str, str] | None]:
    """One process's share of a parallel verify."""
    store = AuditStore(
        make_engine(url), key=key, migrate=False, table=schema.metadata.tables[table], chain=chain
    )
    store._ready = True
    try:
        walked = store._walk(lo, hi, lo, None, None, 0, 1)
        return walked.result(), walked.first_link
    finally:
        store.close()
