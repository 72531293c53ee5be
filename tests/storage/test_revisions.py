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


def test_stores_opening_on_many_threads_read_the_heads_once(monkeypatch) -> None:
    """Stations open their stores on several threads together; the heads are read once (two
    threads in ``ast.parse`` at once failed in CI on CPython 3.11)."""
    import threading

    from hmi.storage import db

    reads = []
    real = db._read_head_revisions
    monkeypatch.setattr(db, "_heads", None)
    monkeypatch.setattr(db, "_read_head_revisions", lambda: reads.append(1) or real())
    results: list[frozenset[str]] = []
    start = threading.Barrier(12)

    def open_store() -> None:
        start.wait()
        results.append(db.head_revisions())

    threads = [threading.Thread(target=open_store) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 1 and len(set(results)) == 1 and len(results) == 12
