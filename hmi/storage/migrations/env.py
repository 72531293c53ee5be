"""Alembic environment for ``hmi.storage``: run programmatically by ``hmi.storage.db.upgrade``,
which hands over an open connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "hmi migrations run through hmi.storage.db.upgrade(engine), not the alembic command"
    )
context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
