"""The PostgreSQL roles docs/audit.md gives IT: stations append but cannot change or remove a
record even with the triggers off; auditors read and verify but cannot write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hmi.model.audit import AuditAction, AuditRecord
from hmi.storage.admin import grant_statements
from hmi.storage.audit import AuditStore
from hmi.storage.db import StorageError, upgrade
from hmi.storage.users import UserStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def roles(pg_admin: object, pg_database: str) -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:8]
    station, auditor = f"hmi_station_{tag}", f"hmi_auditor_{tag}"
    name = make_url(pg_database).database
    for role in (station, auditor):
        pg_admin.execute(f'CREATE ROLE "{role}" LOGIN')  # type: ignore[attr-defined]
    owner = AuditStore.open(pg_database)
    upgrade(owner.engine)
    owner.append(AuditRecord.create(AuditAction.APP_START))
    owner.close()
    for statement in grant_statements(station, auditor, database=str(name)):
        pg_admin.execute(statement, database=name)  # type: ignore[attr-defined]
    try:
        yield station, auditor
    finally:
        pg_admin.drop(name)  # type: ignore[attr-defined]
        for role in (station, auditor):
            pg_admin.execute(f'DROP ROLE IF EXISTS "{role}"')  # type: ignore[attr-defined]


def as_role(url: str, role: str, **kwargs: object) -> AuditStore:
    return AuditStore.open(
        make_url(url).set(username=role).render_as_string(hide_password=False),
        **kwargs,  # type: ignore[arg-type]
    )


def denied(store: AuditStore, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, store.engine.begin() as conn:
        conn.execute(text(sql))
    return str(caught.value)


def test_the_station_role_appends_but_cannot_alter(
    pg_database: str, roles: tuple[str, str]
) -> None:
    station = as_role(pg_database, roles[0], migrate=False)
    placed = station.append_many([AuditRecord.create(AuditAction.LOGIN) for _ in range(3)])
    assert placed[-1].sequence == 4 and station.verify().ok
    assert station.append_many(placed, skip_existing=True) == []  # a forward's uuid check
    for sql in ("UPDATE audit SET reason = 'x'", "DELETE FROM audit", "TRUNCATE audit",
                "ALTER TABLE audit DISABLE TRIGGER USER", "DROP TABLE audit",
                "DELETE FROM audit_head"):  # fmt: skip
        message = denied(station, sql)
        assert "permission denied" in message or "must be owner" in message, message
    assert "only move forward" in denied(
        station, "UPDATE audit_head SET last_sequence = 1 WHERE chain = 'audit'"
    )
    users = UserStore(station.engine, migrate=False)
    users.add("jdoe", "Jane Doe", "operator", "Correct-Horse-42")
    assert users.authenticate("jdoe", "Correct-Horse-42").user_id == "jdoe"
    station.close()


def test_the_auditor_role_reads_and_verifies_only(pg_database: str, roles: tuple[str, str]) -> None:
    auditor = as_role(pg_database, roles[1], migrate=False)
    assert auditor.verify().ok and auditor.count() == 1
    with pytest.raises(DBAPIError, match="permission denied"):
        auditor.append(AuditRecord.create(AuditAction.LOGIN))
    assert "permission denied" in denied(auditor, "SELECT * FROM users")
    auditor.close()


def test_a_station_role_cannot_migrate(pg_admin: object, pg_database: str) -> None:
    role = f"hmi_station_{uuid.uuid4().hex[:8]}"
    pg_admin.execute(f'CREATE ROLE "{role}" LOGIN')  # type: ignore[attr-defined]
    try:
        store = as_role(pg_database, role, migrate=False)
        with pytest.raises(StorageError, match="run `hmi db upgrade` as the database owner"):
            store.ready()
        store.close()
    finally:
        pg_admin.drop(make_url(pg_database).database)  # type: ignore[attr-defined]
        pg_admin.execute(f'DROP ROLE IF EXISTS "{role}"')  # type: ignore[attr-defined]
