"""The designer's audited change control on a real SQLite audit trail: a save is a record in
the same hash chain, with both hashes and the diff; tampering with the diff breaks the chain;
a change whose record cannot be written is not written either."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.audit.screens import diff_sha256, read_screen_change
from hmi.model.design import SetFields
from hmi.model.design.document import ScreenDocument
from hmi.model.design.save import file_sha256, plan_save
from hmi.model.design.screens import plan_new_screen
from hmi.runtime.audit import Actor, AuditRecorder
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail, AuditUnavailable

DEMO = Path(__file__).resolve().parents[2] / "screens"
ENGINEER = Actor(user_id="eng", user_name="Erin Engineer", role="engineer", session_id="s-1")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hmi.sqlite"
        return
    base = make_url(request.getfixturevalue("pg_url"))
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"hmi_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "plant"
    shutil.copytree(DEMO, root)
    return root


def _record(url: str, plans: list[object]) -> list[AuditRecord]:
    async def main() -> list[AuditRecord]:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(
            trail, workstation="ENG-1", app_version="9.9.9", actor=lambda: ENGINEER
        )
        try:
            return [await recorder.screen_change(plan) for plan in plans]  # type: ignore[arg-type]
        finally:
            await trail.aclose()

    return asyncio.run(main())


def test_a_save_is_a_chained_record_with_both_hashes_and_the_diff(
    project: Path, db_url: str
) -> None:
    url = db_url
    path = project / "overview.yaml"
    before = file_sha256(path)
    doc = ScreenDocument.open(path)
    rect = doc.widget((1,))["rect"]
    doc.apply(SetFields((1,), {"rect": [rect[0] + 8, *rect[1:]]}))
    save = plan_save(project, doc, reason="MOC-42: wider aisle")
    new = plan_new_screen(project, "filters", "Filters", parent="overview")
    [saved, created] = _record(url, [save, new])
    assert created.action is AuditAction.SCREEN_NEW and created.sequence == saved.sequence + 1
    after = file_sha256(path)
    assert after != before and path.read_text(encoding="utf-8") == doc.text()
    assert (project / "filters.yaml").exists()

    store = AuditStore.open(url)
    try:
        assert store.verify().ok
        records = [r for r in store.iter_records() if r.action is AuditAction.SCREEN_SAVE]
        assert [r.uuid for r in records] == [saved.uuid]
        record = records[0]
        assert (record.user_id, record.role, record.reason) == ("eng", "engineer", save.reason)
        assert record.target_address == "screen:overview" and record.origin == "designer"
        change = read_screen_change(record)
        assert change is not None
        assert (change.file, change.sha256_before, change.sha256_after) == (
            "overview.yaml", before, after
        )  # fmt: skip
        assert change.diff == save.change().diff
        assert change.diff_sha256 == diff_sha256(change.diff)
        assert sum(1 for line in change.diff if line.startswith("-  ")) == 1
        assert f"[{rect[0] + 8}, " in next(line for line in change.diff if line.startswith("+  "))
        news = read_screen_change(
            next(r for r in store.iter_records() if r.action is AuditAction.SCREEN_NEW)
        )
        assert news is not None and news.file == "filters.yaml" and news.sha256_before == ""
        assert [f.file for f in news.also] == ["project.yaml"]

        postgres = store.engine.dialect.name == "postgresql"
        with store.engine.begin() as conn:  # as an attacker would: the guards off, then edit
            if postgres:
                conn.execute(text("ALTER TABLE audit DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER IF EXISTS audit_no_update"))
            row = conn.execute(
                text("SELECT new_value FROM audit WHERE uuid = :u"), {"u": saved.uuid}
            ).scalar_one()
            assert "+++ b/overview.yaml" in row
            forged = row.replace(f"[{rect[0] + 8}, ", f"[{rect[0]}, ", 1)
            assert forged != row
            conn.execute(
                text("UPDATE audit SET new_value = :v WHERE uuid = :u"),
                {"v": forged, "u": saved.uuid},
            )
            if postgres:
                conn.execute(text("ALTER TABLE audit ENABLE TRIGGER USER"))
        result = store.verify()
        assert not result.ok
        assert result.first_problem is not None
        assert result.first_problem.sequence == saved.sequence
    finally:
        store.close()


def test_when_the_record_cannot_be_written_the_file_is_not_either(
    project: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    path = project / "overview.yaml"
    original = path.read_bytes()
    doc = ScreenDocument.open(path)
    doc.apply(SetFields((0,), {"tooltip": "never saved"}))
    plan = plan_save(project, doc)
    with pytest.raises(AuditUnavailable):
        _record(f"sqlite:///{broken}", [plan])
    assert path.read_bytes() == original
    assert not [p for p in project.iterdir() if p.name.endswith(".saving")]
