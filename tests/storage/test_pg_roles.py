"""The PostgreSQL roles docs/audit.md gives IT: stations append but cannot change or remove a
record even with the triggers off; auditors read and verify but cannot write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage import schema
from hmi.storage.admin import grant_statements
from hmi.storage.audit import AuditStore
from hmi.storage.db import StorageError, make_engine, upgrade
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


def forge_past_the_head(store: AuditStore, connection_url: str) -> AuditRecord:
    """What a station role (INSERT on audit) can do by hand: a record at head + 1 that links
    to the head and hashes right (SHA-256 needs no key), inserted with raw SQL."""
    head = store.head()
    forged = AuditRecord.create(
        AuditAction.WRITE, user_id="ghost", target_tag="P101.Run", new_value=True
    ).chain(head.sequence + 1, head.hash)
    columns = ", ".join(schema.AUDIT_COLUMNS)
    marks = ", ".join(f":{name}" for name in schema.AUDIT_COLUMNS)
    engine = make_engine(connection_url)
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO audit ({columns}) VALUES ({marks})"),
            dict(zip(schema.AUDIT_COLUMNS, forged.stored(), strict=True)),
        )
    engine.dispose()
    return forged


def test_a_row_forged_past_the_head_is_named_and_the_trail_goes_on(
    pg_database: str, roles: tuple[str, str]
) -> None:
    station_url = make_url(pg_database).set(username=roles[0]).render_as_string(False)
    station = as_role(pg_database, roles[0], migrate=False)
    forged = forge_past_the_head(station, station_url)
    result = station.verify()
    assert not result.ok and result.first_problem is not None
    assert "record 2 is stored after the chain head" in result.first_problem.message

    # every station goes on appending (it used to fail on the sequence, and spool forever)
    placed = station.append_many([AuditRecord.create(AuditAction.LOGIN) for _ in range(3)])
    assert [r.sequence for r in placed] == [3, 4, 5] and placed[0].prev_hash != forged.hash
    result = station.verify()
    assert result.problems == 1 and result.first_problem is not None
    problem = result.first_problem
    assert (problem.sequence, problem.uuid) == (2, forged.uuid)
    assert "is not part of the chain" in problem.message
    assert station.head().sequence == 5
    station.close()
