"""The schema check reads revisions without alembic (a station at the head never imports it);
held here to alembic's own answers, on a fresh database and a migrated one."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hmi.storage import db
from hmi.storage.db import current_revisions, head_revisions, make_engine, upgrade


def test_heads_are_alembics_heads() -> None:
    config = Config()
    config.set_main_option("script_location", str(db._MIGRATIONS))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(config).get_heads())
    assert len(head_revisions()) >= 2  # the stores' branches


def test_current_revisions_are_alembics_before_and_after_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'station.db'}")
    try:
        assert current_revisions(engine) == frozenset()
        upgrade(engine)
        with engine.connect() as connection:
            theirs = frozenset(MigrationContext.configure(connection).get_current_heads())
        assert current_revisions(engine) == theirs == head_revisions()
    finally:
        engine.dispose()
