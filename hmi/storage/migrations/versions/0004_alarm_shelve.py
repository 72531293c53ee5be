"""Alarm journal: a shelve's expiry and the duration asked for, on its event.

Revision ID: 0004_alarms
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_alarms"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alarm_events", sa.Column("shelved_until_us", sa.BigInteger, nullable=True))
    op.add_column("alarm_events", sa.Column("shelve_s", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("alarm_events", "shelve_s")
    op.drop_column("alarm_events", "shelved_until_us")
