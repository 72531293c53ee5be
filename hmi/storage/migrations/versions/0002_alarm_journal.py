"""Alarm journal: every alarm event of every station, and each station's alarm snapshot.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("alarms",)
depends_on = None


def upgrade() -> None:
    row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY: rowid
    op.create_table(
        "alarm_events",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),  # UTC, microseconds since epoch
        sa.Column("sequence", sa.BigInteger, nullable=False),  # the engine's, per station run
        sa.Column("alarm_id", sa.Text, nullable=False),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=False),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("workstation", sa.Text, nullable=False),
    )
    op.create_index("alarm_events_time", "alarm_events", ["time_us"])
    op.create_index("alarm_events_alarm", "alarm_events", ["alarm_id", "time_us"])
    op.create_index("alarm_events_priority", "alarm_events", ["priority", "time_us"])
    op.create_index("alarm_events_action", "alarm_events", ["action", "time_us"])
    op.create_table(
        "alarm_snapshot",
        sa.Column("workstation", sa.String(255), primary_key=True),
        sa.Column("taken_us", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # AlarmSnapshot.model_dump_json()
    )


def downgrade() -> None:
    op.drop_table("alarm_snapshot")
    op.drop_index("alarm_events_action", "alarm_events")
    op.drop_index("alarm_events_priority", "alarm_events")
    op.drop_index("alarm_events_alarm", "alarm_events")
    op.drop_index("alarm_events_time", "alarm_events")
    op.drop_table("alarm_events")
