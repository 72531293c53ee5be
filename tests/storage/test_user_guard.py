"""Issue 13 item 3, as the attacker would do it: a user made admin, a lock reset, a password
hash replaced, a disabled user enabled, an admin row inserted, each with raw SQL.

With the station's own PostgreSQL role (exactly ``grant_statements``) each is refused by the
database, and the audited functions refuse a record that does not say what they change. With
the powers of the SQLite file's owner, or of the PostgreSQL owner, each goes in and is caught
at the next sign-in: the generic answer at the prompt, a ``login_failed`` record naming what
was found and the user, and the station's message line says it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import make_url

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.security import LockoutPolicy, SecurityConfig
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import SessionService
from hmi.storage import admin, schema
from hmi.storage.audit import AuditStore
from hmi.storage.db import _alembic_config, make_engine, write_transaction
from hmi.storage.trail import AuditTrail
from hmi.storage.user_seal import seal_of
from hmi.storage.users import SIGN_IN_REFUSED, AuthenticationFailed, AuthFailure, UserStore
from tests.storage.conftest import FAST_HASHER, PgAdmin

GOOD = "Correct-Horse-42"
EVIL = "Attacker-Pass-99"
KEY = b"Riverside site key 2f9c"
SECURITY = SecurityConfig(lockout=LockoutPolicy(attempts=3, minutes=10))


@dataclass(frozen=True)
class Attack:
    name: str
    prepare: Callable[[UserStore], None]  # the state the attacker starts from
    sql: str  # {hash}: a hash of EVIL; {false}: the database's false
    sign_in: tuple[str, str]  # who signs in afterwards, with which password


def _lock(users: UserStore) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            users.authenticate("jdoe", "wrong")


ATTACKS = [
    Attack("role to admin", lambda u: None,
           "UPDATE users SET role = 'admin' WHERE user_id = 'jdoe'", ("jdoe", GOOD)),
    Attack("reset the lock", _lock,
           "UPDATE users SET failed_attempts = 0, locked_until_us = NULL WHERE user_id = 'jdoe'",
           ("jdoe", GOOD)),
    Attack("replace the password hash", lambda u: None,
           "UPDATE users SET password_hash = '{hash}' WHERE user_id = 'jdoe'", ("jdoe", EVIL)),
    Attack("enable a disabled user", lambda u: u.disable("jdoe"),
           "UPDATE users SET disabled = {false} WHERE user_id = 'jdoe'", ("jdoe", GOOD)),
    Attack("insert a new admin row", lambda u: None,
           "INSERT INTO users SELECT 'eve', 'Eve Evil', 'admin', '{hash}', {false}, 0, NULL, "
           "password_changed_us, {false}, created_us, sealed_by FROM users "
           "WHERE user_id = 'jdoe'", ("eve", EVIL)),
    Attack("insert an unsealed admin row", lambda u: None,
           "INSERT INTO users SELECT 'eve', 'Eve Evil', 'admin', '{hash}', {false}, 0, NULL, "
           "password_changed_us, {false}, created_us, '' FROM users WHERE user_id = 'jdoe'",
           ("eve", EVIL)),
]  # fmt: skip


def _sql(attack: Attack) -> str:
    return attack.sql.format(hash=FAST_HASHER.hash(EVIL), false="false")


def _users(url: str, *, key: bytes | None = None, migrate: bool = True) -> UserStore:
    engine = make_engine(url)
    chain = AuditStore(engine, key=key, migrate=migrate)
    return UserStore(
        engine, security=SECURITY, hasher=FAST_HASHER, migrate=migrate, chain=chain,
        identity={"workstation": "ST-09", "app_version": "t"},
    )  # fmt: skip


def _sign_in(users: UserStore, user_id: str, password: str) -> tuple[str, list[str]]:
    """Sign in at a station (session service, audit trail) on ``users``: what the prompt
    says and what the station's message line showed."""
    alerts: list[str] = []

    async def main() -> str:
        trail = AuditTrail(users.chain)
        recorder = AuditRecorder(trail, workstation="ST-09", app_version="t")
        sessions = SessionService(users, trail, recorder)
        sessions.add_alert_listener(alerts.append)
        try:
            await sessions.login(user_id, password)
            return "signed in"
        except AuthenticationFailed as exc:
            return str(exc)
        finally:
            await trail.aclose()

    return asyncio.run(main()), alerts


def _last_failure(users: UserStore) -> AuditRecord:
    page = users.chain.page(limit=1).records
    assert page and page[0].action is AuditAction.LOGIN_FAILED
    return page[0]


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_a_row_changed_by_the_owner_is_refused_at_the_next_sign_in(
    db_url: str, pg_admin_or_none: PgAdmin | None, attack: Attack, keyed: bool
) -> None:
    key = KEY if keyed else None
    users = _users(db_url, key=key)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    attack.prepare(users)
    assert users.seal_problem("jdoe") is None  # every change so far went the audited way
    _as_owner(db_url, pg_admin_or_none, _sql(attack))

    answer, alerts = _sign_in(users, *attack.sign_in)
    assert answer == SIGN_IN_REFUSED
    failure = _last_failure(users)
    who = attack.sign_in[0]
    assert failure.target_address == f"user:{who}" and failure.result is AuditResult.DENIED
    assert failure.error.startswith(AuthFailure.TAMPERED.value), failure.error
    assert alerts == [f"sign-in of {who} refused: {failure.error}"]
    listed = {u.user_id: u.seal_problem for u in admin.list_users(db_url, SECURITY)}
    assert listed[who] and failure.error.endswith(listed[who])  # `hmi users list` says it too
    assert users.chain.verify().ok  # the chain itself was not touched: the row was
    users.engine.dispose()


@pytest.fixture
def pg_admin_or_none(request: pytest.FixtureRequest, db_url: str) -> PgAdmin | None:
    if db_url.startswith("sqlite"):
        return None
    return PgAdmin(str(request.getfixturevalue("pg_url")))


def _as_owner(url: str, pg_admin: PgAdmin | None, sql: str) -> None:
    """The change with the powers of whoever owns the data: the SQLite file's owner (any SQL
    on the file, triggers or not), or the PostgreSQL owner."""
    if pg_admin is None:
        connection = sqlite3.connect(str(make_url(url).database))
        connection.execute(sql)
        connection.commit()
        connection.close()
    else:
        pg_admin.execute(sql, database=make_url(url).database)


def test_a_row_set_back_to_an_earlier_sealed_state_is_refused(sqlite_url: str) -> None:
    users = _users(sqlite_url, key=KEY)
    users.add("jdoe", "Jane Doe", "admin", GOOD, must_change=False)
    with users.engine.connect() as connection:
        was_admin = connection.execute(schema.users.select()).one()
    users.change("jdoe", role="viewer")
    columns = ", ".join(f"{name} = ?" for name in ("role", "sealed_by"))
    connection = sqlite3.connect(str(make_url(sqlite_url).database))
    connection.execute(
        f"UPDATE users SET {columns} WHERE user_id = 'jdoe'", (was_admin.role, was_admin.sealed_by)
    )
    connection.commit()
    connection.close()
    assert _sign_in(users, "jdoe", GOOD)[0] == SIGN_IN_REFUSED
    assert (
        "set back to the state of audit record #1; its newest seal is #2"
        in _last_failure(users).error
    )
    users.engine.dispose()


def test_a_forged_seal_without_the_key_is_refused(sqlite_url: str) -> None:
    """The file's owner makes the row admin and appends a seal record that says so, chained
    at the head by hand: without the site key its hash cannot be right."""
    users = _users(sqlite_url, key=KEY)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    head = users.chain.head()
    with users.engine.connect() as connection:
        row = dict(connection.execute(schema.users.select()).one()._mapping)
    forged = AuditRecord.create(AuditAction.USER_CHANGE, target_address="user:jdoe")
    row.update(role="admin", sealed_by=forged.uuid)
    forged = replace(forged, read_back=seal_of(row)).chain(
        head.sequence + 1, head.hash, b"a guessed key"
    )
    connection = sqlite3.connect(str(make_url(sqlite_url).database))
    marks = ", ".join("?" for _ in schema.AUDIT_COLUMNS)
    connection.execute(f"INSERT INTO audit VALUES ({marks})", forged.stored())
    connection.execute(
        "UPDATE audit_head SET last_sequence = ?, last_hash = ? WHERE chain = 'audit'",
        (forged.sequence, forged.hash),
    )
    connection.execute(
        "UPDATE users SET role = 'admin', sealed_by = ? WHERE user_id = 'jdoe'", (forged.uuid,)
    )
    connection.commit()
    connection.close()
    assert _sign_in(users, "jdoe", GOOD)[0] == SIGN_IN_REFUSED
    assert "does not hash right" in _last_failure(users).error
    users.engine.dispose()


# -- PostgreSQL: the station's own role --------------------------------------------------------


@pytest.fixture
def station_url(station_database: tuple[str, str]) -> str:
    """A database set up as docs/audit.md says (owner migrates, exactly the documented
    grants) and the URL of its station role (tests/storage/conftest.py)."""
    return station_database[0]


def _raw(url: str, sql: str, *args: object) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute(sql.encode(), args or None)


@pytest.mark.postgres
def test_the_station_role_cannot_change_a_user_with_raw_sql(station_url: str) -> None:
    users = _users(station_url, key=KEY, migrate=False)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    users.disable("jdoe")
    for attack in ATTACKS:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            _raw(station_url, _sql(attack))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        _raw(station_url, "DELETE FROM users")
    assert users.seal_problem("jdoe") is None and users.get("jdoe").disabled  # type: ignore[union-attr]
    users.engine.dispose()


def _function_call(users: UserStore, action: AuditAction, **change: object) -> str:
    """A rogue station calls the audited function itself, with a record chained right at the
    head that does not say what the row change does: the function's refusal."""
    chain = users.chain
    with users.engine.connect() as connection:
        row = dict(connection.execute(schema.users.select()).one()._mapping)
    record = AuditRecord.create(action, target_address="user:jdoe", user_id="jdoe")
    row.update(change, sealed_by=record.uuid)
    with pytest.raises(Exception) as caught, users.engine.begin() as connection:
        placed = chain.place(connection, [record])[0]
        placed = replace(placed, read_back=seal_of(row)).chain(
            placed.sequence, placed.prev_hash, KEY
        )
        stored = dict(zip(schema.AUDIT_COLUMNS, placed.stored(), strict=True))
        connection.exec_driver_sql(
            "SELECT hmi_user_write(%(u)s::jsonb, %(r)s::jsonb, 'hmac-sha256')",
            {"u": json.dumps(row), "r": json.dumps(stored)},
        )
    return str(caught.value)


@pytest.mark.postgres
def test_the_audited_functions_refuse_a_record_that_hides_the_change(station_url: str) -> None:
    users = _users(station_url, key=KEY, migrate=False)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    _lock(users)
    assert "user_change record" in _function_call(users, AuditAction.LOGIN, role="admin")
    assert "does not name the new name and role" in _function_call(
        users, AuditAction.USER_CHANGE, role="admin"
    )
    assert "lifted only by an unlock" in _function_call(
        users, AuditAction.LOGIN, locked_until_us=None
    )
    assert "password_change record" in _function_call(
        users, AuditAction.LOGIN, password_hash=FAST_HASHER.hash(EVIL)
    )
    # a good sign-in's reset of the counter never lifts a lock that still runs
    _raw(station_url, "SELECT hmi_user_signed_in('jdoe', 9223372036854775807)")
    assert users.get("jdoe").locked_until is not None  # type: ignore[union-attr]
    with pytest.raises(AuthenticationFailed) as caught:
        users.authenticate("jdoe", GOOD)
    assert caught.value.reason is AuthFailure.LOCKED_OUT
    # the honest way is the audited one: an unlock, sealed by its record
    users.unlock("jdoe")
    assert users.authenticate("jdoe", GOOD).locked_until is None
    assert users.chain.page(limit=1).records[0].action is AuditAction.USER_UNLOCK
    assert users.chain.verify().ok
    users.engine.dispose()


def _before_seals(url: str) -> None:
    """A database as the version before seals left it, with one user."""
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.exec_driver_sql(
            "INSERT INTO users VALUES ('old', 'Otto Old', 'admin', ?, 0, 0, NULL, 1, 0, 1)",
            (FAST_HASHER.hash(GOOD),),
        )
    engine.dispose()


def test_hmi_db_upgrade_seals_the_users_from_before_seals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    _before_seals(url)
    assert "0004_users" in admin.upgrade_database(url)
    users = _users(url)
    assert users.authenticate("old", GOOD).role == "admin"
    sealed = users.chain.page(limit=1).records[0]
    assert sealed.action is AuditAction.USER_SEAL and sealed.target_address == "user:old"
    assert sealed.origin == "command line (db upgrade)" and sealed.user_id.startswith("os:")
    assert users.chain.verify().ok
    users.engine.dispose()


def test_users_from_before_seals_are_sealed_by_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    _before_seals(url)
    users = _users(url, key=KEY)
    assert users.authenticate("old", GOOD).role == "admin"  # sealed on opening
    sealed = users.chain.page(limit=1).records[0]
    assert sealed.action is AuditAction.USER_SEAL and sealed.origin == "schema upgrade"
    # a row marked "from before seals" afterwards is refused, never sealed
    sql = _sql(ATTACKS[-1]).replace("''", "'pending upgrade'").replace("'jdoe'", "'old'")
    _as_owner(url, None, sql)
    reopened = _users(url, key=KEY)
    assert _sign_in(reopened, "eve", EVIL)[0] == SIGN_IN_REFUSED
    assert "marked as from before seals and never sealed" in _last_failure(reopened).error
    users.engine.dispose()
    reopened.engine.dispose()


def test_a_seal_record_slipped_in_past_the_head_is_refused(sqlite_url: str) -> None:
    """Unkeyed, so the forged record hashes right: only its place outside the chain shows."""
    users = _users(sqlite_url)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    head = users.chain.head()
    with users.engine.connect() as connection:
        row = dict(connection.execute(schema.users.select()).one()._mapping)
    forged = AuditRecord.create(
        AuditAction.USER_CHANGE, target_address="user:jdoe", new_value="name=Jane Doe, role=admin"
    )
    row.update(role="admin", sealed_by=forged.uuid)
    forged = replace(forged, read_back=seal_of(row)).chain(head.sequence + 1, head.hash)
    connection = sqlite3.connect(str(make_url(sqlite_url).database))
    marks = ", ".join("?" for _ in schema.AUDIT_COLUMNS)
    connection.execute(f"INSERT INTO audit VALUES ({marks})", forged.stored())  # head left
    connection.execute(
        "UPDATE users SET role = 'admin', sealed_by = ? WHERE user_id = 'jdoe'", (forged.uuid,)
    )
    connection.commit()
    connection.close()
    assert _sign_in(users, "jdoe", GOOD)[0] == SIGN_IN_REFUSED
    assert "is not part of the chain" in _last_failure(users).error
    users.engine.dispose()


def test_a_seal_whose_record_carries_details_holds(db_url: str) -> None:
    """The sealing record is checked as the chain hashes it, its added fields (``details``,
    ``old_source``) included: a change recorded with details is a good seal, not a forgery."""
    users = _users(db_url, key=KEY)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    why = '{"why":"name corrected"}'
    with write_transaction(users.engine) as connection:
        old = connection.execute(select(schema.users).where(schema.users.c.user_id == "jdoe")).one()
        users._write(connection, AuditAction.USER_CHANGE, dict(old._mapping),
                     {"full_name": "Jane Q. Doe"}, None, details=why)  # fmt: skip
    assert users.chain.page(limit=1).records[0].details == why
    assert users.seal_problem("jdoe") is None
    assert _sign_in(users, "jdoe", GOOD)[0] == "signed in"
    assert users.chain.verify().ok
    users.engine.dispose()


def test_the_sealing_record_s_details_rewritten_by_the_file_owner_are_caught(
    sqlite_url: str,
) -> None:
    """The attacker owns the SQLite file: drops the append-only guards and rewrites the
    details of the record that seals the user's last change. Sign-in checks the seal as the
    chain hashes it, details included, so the rewrite is named at the next sign-in."""
    users = _users(sqlite_url, key=KEY)
    users.add("jdoe", "Jane Doe", "operator", GOOD, must_change=False)
    with write_transaction(users.engine) as connection:
        old = connection.execute(select(schema.users).where(schema.users.c.user_id == "jdoe")).one()
        users._write(connection, AuditAction.USER_CHANGE, dict(old._mapping),
                     {"full_name": "Jane Q. Doe"}, None, details='{"why":"name corrected"}')  # fmt: skip
    assert users.seal_problem("jdoe") is None
    with sqlite3.connect(str(make_url(sqlite_url).database)) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("""UPDATE audit SET details = '{"why":"approved by the manager"}'
                      WHERE target_address = 'user:jdoe' AND details != ''""")
    assert (
        users.seal_problem("jdoe")
        == "its seal, audit record #2, does not hash right (forged or altered)"
    )
    answer, alerts = _sign_in(users, "jdoe", GOOD)
    assert answer == SIGN_IN_REFUSED
    assert "does not hash right" in _last_failure(users).error and alerts
    users.engine.dispose()
