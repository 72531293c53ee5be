"""Alarm journal shared by several stations: a process transition is stored once, whichever
stations evaluated it (issue 21, item 4). ``transition_key`` is ``alarm|action|time_us`` on a
process transition (activate, clear, suppress, unsuppress, shelve ended) and NULL on an
operator action or a restore, which only the station that made it journals; a unique index
lets the second station's insert of the same transition do nothing.

Revision ID: 0005_alarms
Revises: 0004_alarms
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_alarms"
down_revision = "0004_alarms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alarm_events", sa.Column("transition_key", sa.Text, nullable=True))
    op.create_index("alarm_events_transition", "alarm_events", ["transition_key"], unique=True)


def downgrade() -> None:
    op.drop_index("alarm_events_transition", table_name="alarm_events")
    op.drop_column("alarm_events", "transition_key")
