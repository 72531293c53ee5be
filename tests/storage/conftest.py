"""Storage tests run on real SQLite files and, where a server answers, a PostgreSQL database of
their own: each test that asks for one gets a freshly created, uniquely named database that is
dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
"""Still argon2id, with test-sized costs so lockout tests do not take minutes."""


def _conninfo(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


class PgAdmin:
    """Superuser access to the test server: make databases, block them, run raw SQL."""

    def __init__(self, url: str) -> None:
        self.url = url

    def execute(self, sql: str, database: str | None = None) -> list[tuple[object, ...]]:
        with psycopg.connect(_conninfo(self.url, database), autocommit=True) as conn:
            cursor = conn.execute(sql.encode())
            return list(cursor.fetchall()) if cursor.description else []

    def create(self) -> str:
        name = f"hmi_test_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def block(self, name: str) -> None:
        """Make the database unreachable as a stopped server would be: refuse new connections
        and cut the open ones."""
        self.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )

    def unblock(self, name: str) -> None:
        self.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    def url_of(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


def written(url: str) -> tuple[object, ...]:
    """Everything an admin command could write, for "nothing was written" checks: every user
    row as stored, the audit chain's head and its number of records."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            users = connection.execute(text("SELECT * FROM users ORDER BY user_id")).all()
            head = connection.execute(
                text(
                    "SELECT last_sequence, last_hash, scheme FROM audit_head WHERE chain = 'audit'"
                )
            ).one()
            count = connection.execute(text("SELECT count(*) FROM audit")).scalar_one()
        return [tuple(row) for row in users], tuple(head), count
    finally:
        engine.dispose()


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    return FAST_HASHER


@pytest.fixture
def pg_admin(pg_url: str) -> PgAdmin:
    return PgAdmin(pg_url)


@pytest.fixture
def pg_database(pg_admin: PgAdmin) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    name = pg_admin.create()
    try:
        yield pg_admin.url_of(name)
    finally:
        pg_admin.drop(name)


@pytest.fixture
def station_database(pg_admin: PgAdmin, pg_database: str) -> Iterator[tuple[str, str]]:
    """The database as IT sets it up (the owner migrates, then exactly the documented
    grants): the station role's URL and the role's name; roles and database dropped after."""
    from hmi.storage.admin import grant_statements
    from hmi.storage.db import upgrade

    role = f"hmi_station_{uuid.uuid4().hex[:8]}"
    auditor = f"hmi_auditor_{uuid.uuid4().hex[:8]}"
    name = str(make_url(pg_database).database)
    for each in (role, auditor):
        pg_admin.execute(f'CREATE ROLE "{each}" LOGIN')
    owner = make_engine(pg_database)
    upgrade(owner)
    owner.dispose()
    for statement in grant_statements(role, auditor, database=name):
        pg_admin.execute(statement, database=name)
    try:
        yield make_url(pg_database).set(username=role).render_as_string(hide_password=False), role
    finally:
        pg_admin.drop(name)
        for each in (role, auditor):
            pg_admin.execute(f'DROP ROLE IF EXISTS "{each}"')


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/hmi.sqlite"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def open_store(db_url: str) -> Iterator[Callable[..., AuditStore]]:
    """``open_store(key=None)``: an AuditStore on the test database (closed afterwards)."""
    stores: list[AuditStore] = []

    def make(**kwargs: object) -> AuditStore:
        store = AuditStore(make_engine(db_url), **kwargs)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()
