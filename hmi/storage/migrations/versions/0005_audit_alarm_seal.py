"""Audit records by target and time: a station looks up the record behind each alarm action
another station journalled (``hmi.storage.shared.alarm_seal``: the same ``alarm:<id>``
target, within a minute of the journal's time) before it applies the action, at every read of
the shared journal; this index keeps that one range scan per batch, whatever the chain's size.

Revision ID: 0005_audit
Revises: 0004_audit
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0005_audit"
down_revision = "0004_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("audit_target_time", "audit", ["target_address", "timestamp_us"])


def downgrade() -> None:
    op.drop_index("audit_target_time", table_name="audit")
