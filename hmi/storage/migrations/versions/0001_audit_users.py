"""Audit chain, chain heads, spool and users; append-only triggers on the audit table.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _audit_columns() -> list[sa.Column]:  # a frozen copy of schema._audit_columns
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    text = ("action", "app_version", "error", "meaning", "new_value", "old_value", "origin")
    return [
        *(sa.Column(name, sa.Text, nullable=False) for name in text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("read_back", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("sequence", seq, primary_key=True, autoincrement=False),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("spooled", sa.Boolean, nullable=False),
        sa.Column("target_address", sa.Text, nullable=False),
        sa.Column("target_tag", sa.Text, nullable=False),
        sa.Column("timestamp_us", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("verifier_id", sa.Text, nullable=False),
        sa.Column("verifier_name", sa.Text, nullable=False),
        sa.Column("workstation", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    ]


_PG_APPEND_ONLY = [
    """\
CREATE FUNCTION hmi_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$
""",
    """\
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION hmi_audit_append_only()
""",
    """\
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION hmi_audit_append_only()
""",
    """\
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION hmi_audit_append_only()
""",
    """\
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION hmi_audit_append_only()
""",
    """\
CREATE FUNCTION hmi_audit_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.chain <> OLD.chain
       OR (NEW.scheme <> OLD.scheme AND OLD.last_sequence <> 0)
       OR (NEW.chain = 'audit' AND (
            NEW.last_sequence <= OLD.last_sequence
            OR NOT EXISTS (SELECT 1 FROM audit
                           WHERE sequence = NEW.last_sequence AND hash = NEW.last_hash)))
    THEN
        RAISE EXCEPTION 'audit chain head may only move forward to a stored record'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
""",
    """\
CREATE TRIGGER audit_head_advance BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION hmi_audit_head_advance()
""",
    """\
CREATE VIEW audit_readable AS
    SELECT sequence, to_timestamp(timestamp_us / 1000000.0) AS at, action, result, user_id,
           user_name, role, workstation, session_id, target_tag, target_address, old_value,
           new_value, read_back, reason, meaning, verifier_id, verifier_name, error, origin,
           app_version, spooled, uuid, prev_hash, hash
    FROM audit
""",
]

_SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'audit records are append-only: DELETE refused'); END",
]


def upgrade() -> None:
    op.create_table("audit", *_audit_columns(), sa.UniqueConstraint("uuid", name="audit_uuid"))
    op.create_index("audit_time", "audit", ["timestamp_us"])
    op.create_index("audit_user", "audit", ["user_id", "sequence"])
    op.create_index("audit_tag", "audit", ["target_tag", "sequence"])
    op.create_index("audit_action", "audit", ["action", "sequence"])
    op.create_table(
        "audit_spool", *_audit_columns(), sa.UniqueConstraint("uuid", name="audit_spool_uuid")
    )
    head = op.create_table(
        "audit_head",
        sa.Column("chain", sa.String(16), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
    )
    op.bulk_insert(
        head,
        [
            {"chain": "audit", "last_sequence": 0, "last_hash": GENESIS, "scheme": ""},
            {"chain": "spool", "last_sequence": 0, "last_hash": GENESIS, "scheme": ""},
        ],
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until_us", sa.BigInteger, nullable=True),
        sa.Column("password_changed_us", sa.BigInteger, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in _PG_APPEND_ONLY:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the audit trail is never downgraded: it would drop the records")
