"""The one audited path for user rows: every change to a user is sealed by the audit record
that describes it, written in the same transaction, and the seal is checked at every sign-in.

A **seal** is the record's ``read_back``: ``users row sha256:<digest>`` of the row's sealed
fields (``SEALED_FIELDS``: all but the failure counter), and the row's ``sealed_by`` names
that record's uuid. So a row changed behind the station's back no longer matches its record,
and making a matching one means appending a record to the chain that says what was done
(hashed with the site key when there is one). ``seal_problem`` says why a row is refused:
unsealed, sealed by a record that is not there, not in the chain, not the user's newest, does
not hash right, or does not match the row.

Where the change is written: on SQLite by this process (the file's owner can do anything,
the seal is what shows it); on PostgreSQL by ``SECURITY DEFINER`` functions owned by the
schema owner (migration ``0004_users``), because the station role has no INSERT or UPDATE on
``users``: ``hmi_user_write`` stores the already-chained record (the caller holds the head
lock and the key) and the row, refusing a record that is not at the head or whose action
does not fit the change; ``hmi_user_failed`` counts a failed sign-in; ``hmi_user_signed_in``
clears the count of a user who is not locked. The counter is not sealed: it changes at every
failed attempt, and the lock it leads to is (a ``lockout`` record).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update

from hmi.model.audit.record import AuditRecord, canonical_row, chain_hash, decode_value
from hmi.storage import schema
from hmi.storage.audit import AuditStore

__all__ = [
    "PENDING",
    "SEALED_FIELDS",
    "SEAL_PREFIX",
    "USER_CHANNEL",
    "count_failure",
    "reset_failures",
    "seal_of",
    "seal_problem",
    "write_sealed",
]

SEALED_FIELDS = (
    "user_id", "full_name", "role", "password_hash", "disabled", "locked_until_us",
    "password_changed_us", "must_change_password", "created_us",
)  # fmt: skip
SEAL_PREFIX = "users row sha256:"
PENDING = "pending upgrade"
USER_CHANNEL = "hmi_users"
"""The PostgreSQL NOTIFY channel a user change is announced on (payload: the user id)."""
"""``sealed_by`` of the rows the upgrade to seals found, until they are sealed as they were."""
_STORED_SEAL = '["str","' + SEAL_PREFIX + "%"
_users, _audit = schema.users, schema.audit


def seal_of(row: Mapping[str, Any]) -> str:
    """The seal of a user row: its sealed fields as canonical JSON, hashed."""
    doc = {
        "user_id": str(row["user_id"]), "full_name": str(row["full_name"]),
        "role": str(row["role"]), "password_hash": str(row["password_hash"]),
        "disabled": bool(row["disabled"]),
        "locked_until_us": None if row["locked_until_us"] is None else int(row["locked_until_us"]),
        "password_changed_us": int(row["password_changed_us"]),
        "must_change_password": bool(row["must_change_password"]),
        "created_us": int(row["created_us"]),
    }  # fmt: skip
    body = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return SEAL_PREFIX + hashlib.sha256(body.encode("utf-8")).hexdigest()


def _is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def write_sealed(
    connection: Connection, chain: AuditStore, row: Mapping[str, Any], record: AuditRecord,
    *, new: bool, before: Sequence[AuditRecord] = (),
) -> AuditRecord:  # fmt: skip
    """Write ``row`` (every column of ``users``) and the record that seals it, in
    ``connection``'s write transaction, under the chain's head lock; the record as chained.
    ``before``: records chained ahead of it in the same transaction (the failed attempt that
    led to a lockout)."""
    values = {c.name: row[c.name] for c in _users.columns if c.name != "sealed_by"}
    values["sealed_by"] = record.uuid
    sealed = replace(record, read_back=seal_of(values))
    *ahead, placed = chain.place(connection, [*before, sealed])
    if ahead:
        chain.store_placed(connection, ahead)
    if _is_postgres(connection):
        stored = dict(zip(schema.AUDIT_COLUMNS, placed.stored(), strict=True))
        connection.execute(
            text("SELECT hmi_user_write(CAST(:u AS jsonb), CAST(:r AS jsonb), :scheme)"),
            {"u": json.dumps(values), "r": json.dumps(stored), "scheme": chain.scheme},
        )
        # every station's open sessions hear of it on commit (hmi.storage.shared.user_watch)
        connection.execute(
            text("SELECT pg_notify(:channel, :u)"),
            {"channel": USER_CHANNEL, "u": values["user_id"]},
        )
        return placed
    chain.store_placed(connection, [placed])
    if new:
        connection.execute(insert(_users).values(**values))
    else:
        connection.execute(
            update(_users).where(_users.c.user_id == values["user_id"]).values(**values)
        )
    return placed


def count_failure(connection: Connection, user_id: str) -> int:
    """One more failed sign-in for ``user_id``; the count now."""
    if _is_postgres(connection):
        found = connection.execute(text("SELECT hmi_user_failed(:u)"), {"u": user_id}).scalar()
        return int(found or 0)
    connection.execute(
        update(_users)
        .where(_users.c.user_id == user_id)
        .values(failed_attempts=_users.c.failed_attempts + 1)
    )
    count = connection.execute(
        select(_users.c.failed_attempts).where(_users.c.user_id == user_id)
    ).scalar()
    return int(count or 0)


def reset_failures(connection: Connection, user_id: str, now_us: int) -> None:
    """A good sign-in clears the count of failures, never a lock that still runs."""
    if _is_postgres(connection):
        connection.execute(
            text("SELECT hmi_user_signed_in(:u, :now)"), {"u": user_id, "now": now_us}
        )
        return
    connection.execute(
        update(_users)
        .where(_users.c.user_id == user_id)
        .where((_users.c.locked_until_us.is_(None)) | (_users.c.locked_until_us <= now_us))
        .values(failed_attempts=0)
    )


def seal_problem(
    connection: Connection, row: Any, key: bytes | None, *, keyless: bool = False
) -> str | None:
    """Why the user ``row`` was changed outside the audited path, or None if its seal holds.
    ``key``: the chain's HMAC key (None: SHA-256), to check the sealing record's own hash;
    ``keyless``: a reader without the key of a keyed chain (``hmi users list``) skips that
    one check rather than report every row (sign-in never does)."""
    uid, sealed_by = row.user_id, row.sealed_by
    if not sealed_by:
        return "sealed by no audit record (added or changed by hand)"
    if sealed_by == PENDING:
        return (
            "marked as from before seals and never sealed (run `hmi db upgrade`), or marked "
            "so by hand"
        )
    columns = [_audit.c[name] for name in schema.AUDIT_COLUMNS]
    record = connection.execute(select(*columns).where(_audit.c.uuid == sealed_by)).first()
    if record is None:
        return f"its seal names audit record {sealed_by}, which does not exist"
    sequence = int(record.sequence)
    where = f"its seal, audit record #{sequence}"
    if record.target_address != f"user:{uid}":
        return f"{where}, is about {record.target_address!r}"
    head = connection.execute(
        select(
            schema.audit_head.c.last_sequence, schema.audit_head.c.last_hash,
            schema.audit_head.c.scheme,
        ).where(schema.audit_head.c.chain == "audit")
    ).one()  # fmt: skip
    unknowable = keyless and key is None and head.scheme == "hmac-sha256"
    if not unknowable and chain_hash(canonical_row(tuple(record)), key) != record.hash:
        return f"{where}, does not hash right (forged or altered)"
    if sequence == int(head.last_sequence):
        linked = head.last_hash == record.hash
    else:
        following = connection.execute(
            select(_audit.c.prev_hash).where(_audit.c.sequence == sequence + 1)
        ).scalar()
        linked = sequence < int(head.last_sequence) and following == record.hash
    if not linked:
        return f"{where}, is not part of the chain (added outside the audit store)"
    newest = connection.execute(
        select(func.max(_audit.c.sequence)).where(
            _audit.c.target_address == f"user:{uid}",
            _audit.c.read_back.like(_STORED_SEAL),
            _audit.c.sequence <= int(head.last_sequence),
        )
    ).scalar()
    if newest is not None and int(newest) > sequence:
        return f"set back to the state of audit record #{sequence}; its newest seal is #{newest}"
    if decode_value(record.read_back) != seal_of(row._mapping):
        return f"it no longer matches its seal, audit record #{sequence}"
    return None
