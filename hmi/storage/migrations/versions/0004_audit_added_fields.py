"""Audit records: ``old_source`` (where a write's old value came from) and ``details`` (what an
action adds, e.g. a shelve's duration and expiry), after ``hash``. Existing rows get "" for
both, which the canonical form leaves out, so they verify as before.

Revision ID: 0004_audit
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

_PG_READABLE = """\
CREATE OR REPLACE VIEW audit_readable AS
    SELECT sequence, to_timestamp(timestamp_us / 1000000.0) AS at, action, result, user_id,
           user_name, role, workstation, session_id, target_tag, target_address, old_value,
           new_value, read_back, reason, meaning, verifier_id, verifier_name, error, origin,
           app_version, spooled, uuid, prev_hash, hash, old_source, details
    FROM audit
"""


def upgrade() -> None:
    for table in ("audit", "audit_spool"):
        # ADD COLUMN with a constant default rewrites no row: the append-only triggers
        # (UPDATE refused) are not involved.
        op.add_column(table, sa.Column("details", sa.Text, nullable=False, server_default=""))
        op.add_column(table, sa.Column("old_source", sa.Text, nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_READABLE)


def downgrade() -> None:
    raise NotImplementedError("the audit trail is never downgraded: it would drop the records")
