"""Tables, as SQLAlchemy Core objects for queries. The migrations in ``migrations/versions``
create them; a change here needs a new migration there."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

_SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY is the rowid


def _audit_columns() -> list[Column[Any]]:
    """The record's columns, in ``CANONICAL_FIELDS`` order (see ``hmi.model.audit.record``), then
    ``hash``, then ``ADDED_FIELDS`` (migration 0004): a row read in this order feeds the
    verifier as it is."""
    text = ("action", "app_version", "error", "meaning", "new_value", "old_value", "origin")
    return [
        *(Column(name, Text, nullable=False) for name in text),
        Column("prev_hash", String(64), nullable=False),
        Column("read_back", Text, nullable=False),
        Column("reason", Text, nullable=False),
        Column("result", String(16), nullable=False),
        Column("role", Text, nullable=False),
        Column("sequence", _SEQUENCE, primary_key=True, autoincrement=False),
        Column("session_id", Text, nullable=False),
        Column("spooled", Boolean, nullable=False),
        Column("target_address", Text, nullable=False),
        Column("target_tag", Text, nullable=False),
        Column("timestamp_us", BigInteger, nullable=False),
        Column("user_id", Text, nullable=False),
        Column("user_name", Text, nullable=False),
        Column("uuid", String(36), nullable=False, unique=True),
        Column("verifier_id", Text, nullable=False),
        Column("verifier_name", Text, nullable=False),
        Column("workstation", Text, nullable=False),
        Column("hash", String(64), nullable=False),
        Column("details", Text, nullable=False, server_default=""),
        Column("old_source", Text, nullable=False, server_default=""),
    ]


audit = Table("audit", metadata, *_audit_columns())
"""The chain of record: append-only (triggers refuse UPDATE, DELETE and TRUNCATE). Indexed
(migrations only) by time, user, tag, action and target; by target and time for the record
behind another station's alarm action (``audit_target_time``, migration 0005_audit)."""

audit_spool = Table("audit_spool", metadata, *_audit_columns())
"""A station's spool while the central database is away; rows leave once forwarded."""

audit_head = Table(
    "audit_head",
    metadata,
    Column("chain", String(16), primary_key=True),  # "audit" or "spool"
    Column("last_sequence", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("scheme", String(16), nullable=False),  # "", "sha256" or "hmac-sha256"
)
"""One row per chain: the lock appends serialise on, and the anchor for the chain's end."""

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("full_name", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until_us", BigInteger, nullable=True),
    Column("password_changed_us", BigInteger, nullable=False),
    Column("must_change_password", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("sealed_by", String(36), nullable=False, server_default=""),
)
"""A user's state; every change to it is sealed by an audit record (``hmi.storage.user_seal``):
``sealed_by`` is that record's uuid."""

AUDIT_COLUMNS = tuple(c.name for c in audit.columns)
