"""Historian: each station's last-alive time and whether it stopped cleanly, so the next start
marks the time an unclean stop (a crash, a power cut) left unrecorded as a gap.

Revision ID: 0004_historian_alive
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_historian_alive"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "historian_stations",
        sa.Column("station", sa.Text, primary_key=True),
        sa.Column("alive_us", sa.BigInteger, nullable=False),  # last written while recording
        sa.Column("stopped_us", sa.BigInteger, nullable=True),  # set by a clean stop
    )


def downgrade() -> None:
    op.drop_table("historian_stations")
