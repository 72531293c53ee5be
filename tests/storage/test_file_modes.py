"""The station's SQLite files (audit trail, users with their password hashes, spool,
historian) are readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore
from hmi.storage.spool import SpoolStore

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual desktop umask: new files 0644 unless we say otherwise
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def record() -> AuditRecord:
    return AuditRecord.create(AuditAction.LOGIN, user_id="op")


def test_a_new_database_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "hmi.sqlite"
    store = AuditStore.open(f"sqlite:///{path}")
    store.append_many([record()])
    sides = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    assert [mode(p) for p in sides if p.exists()] == [0o600] * sum(p.exists() for p in sides)
    assert any(p.exists() for p in sides)  # WAL mode: the side files exist while open
    store.close()


def test_a_spool_is_private(tmp_path: Path) -> None:
    spool = SpoolStore(tmp_path / "audit-spool.sqlite")
    spool.put([record()])
    assert mode(spool.path) == 0o600
    spool.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "hmi.sqlite"
    store = AuditStore.open(f"sqlite:///{path}")
    store.append_many([record()])
    store.close()
    for p in tmp_path.iterdir():
        p.chmod(0o644)  # as an earlier version left them
    again = AuditStore.open(f"sqlite:///{path}")
    assert mode(path) == 0o600
    assert all(mode(p) == 0o600 for p in tmp_path.iterdir() if p.name.startswith("hmi.sqlite"))
    assert again.verify().ok
    again.close()
