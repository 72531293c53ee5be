"""Witnesses of the chain's head outside the database: checkpoints and the station's own.

``chain_problem`` says whether the chain in a store still extends a checkpoint (its record is
there with the same hash, on the same chain). ``make_checkpoint`` writes down the head after
verifying up to it. ``HeadWitness`` is the station's own checkpoint: the highest head it has
seen or written, kept in its data folder (0600), checked at start, after every append it makes
and periodically, so a chain that went backwards (tail cut, table emptied and head reset,
rewritten) is noticed by every station that saw it longer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hmi.model.audit.checkpoint import Checkpoint
from hmi.model.audit.record import AuditRecord
from hmi.model.paths import user_data_dir
from hmi.storage import schema
from hmi.storage.audit import AuditStore
from hmi.storage.db import StorageError, os_user, private_file

log = logging.getLogger(__name__)

__all__ = ["HeadWitness", "chain_problem", "make_checkpoint"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _hashes_at(store: AuditStore, *sequences: int) -> dict[int, tuple[str, str]]:
    """{sequence: (uuid, hash)} of the central chain's records at ``sequences`` present."""
    audit = schema.audit
    store.ready()
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(audit.c.sequence, audit.c.uuid, audit.c.hash).where(
                audit.c.sequence.in_(sorted(set(sequences)))
            )
        ).all()
    return {int(row[0]): (str(row[1]), str(row[2])) for row in rows}


def chain_problem(
    store: AuditStore, checkpoint: Checkpoint, *, name: str = "checkpoint"
) -> str | None:
    """None when the chain in ``store`` still extends ``checkpoint``, else what happened."""
    if checkpoint.sequence <= 0:
        return None
    head = store.head()
    at = _hashes_at(store, 1, checkpoint.sequence)
    where = f"{name} ({checkpoint.describe()})"
    first = at.get(1)
    if first is not None and checkpoint.first_uuid and first[0] != checkpoint.first_uuid:
        return (
            f"{where}: record 1 of the chain is not the checkpoint's first record: the chain "
            f"was reset or rebuilt, or this is another database"
        )
    if head.sequence < checkpoint.sequence:
        return (
            f"{where}: the chain now ends at record {head.sequence}, before the checkpoint's "
            f"record {checkpoint.sequence}: records were cut off the end, or the chain was reset"
        )
    found = at.get(checkpoint.sequence)
    if found is None:
        return f"{where}: record {checkpoint.sequence} is missing from the chain: deleted"
    if found[1] != checkpoint.hash:
        return (
            f"{where}: record {checkpoint.sequence} has hash {found[1][:16]}..., not the "
            f"checkpoint's {checkpoint.hash[:16]}...: records up to it were cut off and written "
            f"again, or the chain was rewritten"
        )
    return None


def make_checkpoint(store: AuditStore, *, station: str = "", made_by: str = "") -> Checkpoint:
    """The head, read once, after verifying the chain up to it."""
    head = store.head()
    result = store.verify()
    at = _hashes_at(store, 1) if head.sequence else {}
    return Checkpoint(
        sequence=head.sequence, hash=head.hash, count=head.sequence,
        first_uuid=at.get(1, ("", ""))[0], scheme=head.scheme or store.scheme,
        verified=result.ok, made_at=_now(), station=station or socket.gethostname(),
        made_by=made_by or os_user(), database=store.url,
    )  # fmt: skip


class HeadWitness:
    """The highest head of one database's chain this station has seen, in its data folder."""

    def __init__(
        self,
        database: str,
        *,
        station: str = "",
        folder: Path | None = None,
        check_s: float = 60.0,
        save_s: float = 1.0,
    ) -> None:
        """``check_s``: how often the whole check runs; ``save_s``: how soon a new head
        reaches the file."""
        self.database = database
        self.check_s = check_s
        self.save_s = save_s
        self._next_check = 0.0
        tag = hashlib.sha256(database.encode("utf-8")).hexdigest()[:16]
        self.path = (folder or user_data_dir()) / f"audit-witness-{tag}.json"
        self._station = station
        self._seen: Checkpoint | None = None
        self._dirty = False
        self.load()

    @property
    def seen(self) -> Checkpoint | None:
        return self._seen

    @property
    def dirty(self) -> bool:
        return self._dirty

    def load(self) -> None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            self._seen = Checkpoint(**doc)
        except FileNotFoundError:
            self._seen = None
        except (ValueError, TypeError, OSError) as exc:  # kept as it is: it is evidence
            log.error("the audit head witness %s cannot be read (%s); starting a new one",
                      self.path, exc)  # fmt: skip
            self.path.replace(self.path.with_name(self.path.name + ".unreadable"))
            self._seen = None

    def problem_after_append(self, before_sequence: int, before_hash: str) -> str | None:
        """Check the head an append of ours started from (its first record's predecessor)."""
        seen = self._seen
        if seen is None or before_sequence > seen.sequence:
            return None
        if before_sequence < seen.sequence:
            return (
                f"this station's witness ({seen.describe()}): the chain's head went back to "
                f"record {before_sequence}: records were cut off the end, or the chain was reset"
            )
        if before_hash != seen.hash:
            return (
                f"this station's witness ({seen.describe()}): record {seen.sequence} now has "
                f"another hash: the chain was rewritten up to that record"
            )
        return None

    def advance(self, sequence: int, hash_: str, first_uuid: str = "") -> None:
        """A head seen or written: kept when it is higher than the one held."""
        seen = self._seen
        if seen is not None and sequence <= seen.sequence:
            return
        if seen is None:
            seen = Checkpoint(
                sequence=0, hash="", count=0, first_uuid=first_uuid, scheme="", verified=False,
                made_at="", station=self._station, made_by=os_user(), database=self.database,
            )  # fmt: skip
        self._seen = replace(
            seen, sequence=sequence, hash=hash_, count=sequence, made_at=_now(),
            first_uuid=seen.first_uuid or first_uuid,
        )  # fmt: skip
        self._dirty = True

    def after_append(self, placed: Sequence[AuditRecord]) -> str | None:
        """After an append of ours: the head it started from must not be behind the witness."""
        if not placed:
            return None
        first, last = placed[0], placed[-1]
        problem = self.problem_after_append(first.sequence - 1, first.prev_hash)
        self.advance(last.sequence, last.hash, first.uuid if first.sequence == 1 else "")
        return problem

    def wait_s(self) -> float:
        """How long the trail's worker may wait before ``check_if_due`` has work."""
        due = max(0.05, self._next_check - time.monotonic())
        return min(due, self.save_s) if self._dirty else due

    def check_if_due(self, store: AuditStore) -> str | None:
        """The whole check when it is due (a database away: tried again later); save."""
        problem = None
        if time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self.check_s
            try:
                problem = self.observe(store)
            except (SQLAlchemyError, StorageError) as exc:
                log.debug("audit head witness: cannot check now: %s", exc)
        self.save()
        return problem

    def observe(self, store: AuditStore) -> str | None:
        """Check the chain against the witness; then hold its head if higher."""
        seen = self._seen
        problem = chain_problem(store, seen, name="this station's witness") if seen else None
        if problem is None:
            head = store.head()
            first = self._seen.first_uuid if self._seen else ""
            if not first and head.sequence:
                first = _hashes_at(store, 1).get(1, ("", ""))[0]
            self.advance(head.sequence, head.hash, first)
        return problem

    def rebase(self, store: AuditStore) -> Path | None:
        """After a problem was recorded: keep the witnessed head as evidence beside the file
        (``.behind-<UTC time>.json``) and witness the chain as it is now, so one incident is
        reported once. Returns the evidence file."""
        kept = None
        if self.path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = self.path.with_name(f"{self.path.stem}.behind-{stamp}.json")
            os.replace(self.path, kept)
        self._seen = None
        self._dirty = False
        self.observe(store)
        self.save()
        return kept

    def save(self) -> None:
        if not self._dirty or self._seen is None:
            return
        private_file(self.path)
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            private_file(temporary)
            temporary.write_text(json.dumps(asdict(self._seen), indent=1), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:  # a full disk: kept in memory, saved at the next chance
            log.error("the audit head witness %s could not be saved: %s", self.path, exc)
            return
        self._dirty = False
