"""Historian: tag names, samples, and roll-ups (min/max/first/last per time block); a
TimescaleDB hypertable where the extension exists, else plain tables keyed (tag_id, time).

Revision ID: 0003
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0003"
down_revision = "0001"
branch_labels = ("historian",)
depends_on = None

log = logging.getLogger(__name__)

_DAY_US = 86_400_000_000


def _timescale(bind: sa.Connection) -> bool:
    """Whether TimescaleDB is (or can be made) available in this database. Creating the
    extension needs it preloaded on the server and a role allowed to; if that fails the
    historian uses plain tables, which work the same, only slower to purge."""
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).first()
    if available is None:
        return False
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except DBAPIError as exc:
        log.warning("TimescaleDB is installed but cannot be enabled (%s): plain tables", exc)
        return False
    return True


def upgrade() -> None:
    op.create_table(
        "historian_tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("rolled_us", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "historian_samples",
        sa.Column("tag_id", sa.Integer, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),  # µs since the epoch, UTC
        sa.Column("value", sa.Double, nullable=True),  # NULL where Bad
        sa.Column("quality", sa.SmallInteger, nullable=False),  # level << 8 | reason
        sa.PrimaryKeyConstraint("tag_id", "time", name="historian_samples_pk"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "historian_rollups",
        sa.Column("tag_id", sa.Integer, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),  # start of the block
        sa.Column("v_first", sa.Double, nullable=True),
        sa.Column("v_last", sa.Double, nullable=True),
        sa.Column("v_min", sa.Double, nullable=True),
        sa.Column("v_max", sa.Double, nullable=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("quality", sa.SmallInteger, nullable=False),  # the worst in the block
        sa.PrimaryKeyConstraint("tag_id", "level", "time", name="historian_rollups_pk"),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _timescale(bind):
        op.execute(
            "SELECT create_hypertable('historian_samples', 'time', "
            f"chunk_time_interval => {_DAY_US}::bigint, if_not_exists => TRUE)"
        )


def downgrade() -> None:
    op.drop_table("historian_rollups")
    op.drop_table("historian_samples")
    op.drop_table("historian_tags")
