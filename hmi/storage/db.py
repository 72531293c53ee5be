"""Engines and schema: SQLite files in the user data folder by default, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=FULL``, so a commit is on disk when it returns, and
write transactions start with ``BEGIN IMMEDIATE`` so two processes on one file queue instead of
failing. PostgreSQL connections time out quickly (connect and unacknowledged TCP data), so a
central database that vanishes is noticed in seconds, not minutes. The schema is brought to the
newest Alembic revision when a store opens (``upgrade``), under an advisory lock on PostgreSQL
so stations starting together do not race.
"""

from __future__ import annotations

import ast
import getpass
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from hmi.model.errors import HmiError
from hmi.model.paths import user_data_dir

if TYPE_CHECKING:  # alembic is imported when a schema is checked or migrated, not before
    from alembic.config import Config
    from sqlalchemy.dialects.sqlite import Insert

log = logging.getLogger(__name__)

__all__ = [
    "StorageError",
    "default_database_url",
    "default_spool_path",
    "dialect_insert",
    "ensure_schema",
    "make_engine",
    "os_user",
    "private_file",
    "short_error",
    "upgrade",
    "write_transaction",
]

_MIGRATIONS = Path(__file__).parent / "migrations"
_VERSION_TABLE = "alembic_version"  # alembic's default, which migrations/env.py keeps
_PG_MIGRATION_LOCK = 0x686D6901  # "hmi\x01": advisory lock key held while migrating
_MIGRATING = threading.Lock()  # alembic's op/context proxies are process-wide


class StorageError(HmiError):
    """A database that cannot be used as asked (schema, configuration, integrity)."""


def os_user() -> str:
    """Who runs this process, as records name a command-line actor: ``os:<login>``."""
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return "os:unknown"


def default_database_url() -> str:
    """The station's own SQLite file: ``<user data folder>/hmi.sqlite``."""
    return f"sqlite:///{user_data_dir() / 'hmi.sqlite'}"


def default_spool_path() -> Path:
    """Where audit records wait while the central database is unreachable."""
    return user_data_dir() / "audit-spool.sqlite"


def make_engine(url: str, *, connect_timeout_s: float = 5.0, echo: bool = False) -> Engine:
    """An engine set up for durable audit work on SQLite or PostgreSQL (``postgresql+psycopg``).
    A SQLite file and its folder are created if missing, readable by their owner only
    (``private_file``)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            private_file(Path(database))
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        timeout = max(1, round(connect_timeout_s))
        connect_args: dict[str, Any] = {
            "connect_timeout": timeout,
            "application_name": "hmi",
            "keepalives": 1,
            "keepalives_idle": timeout,
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": timeout * 1000,
        }
        return create_engine(parsed, echo=echo, connect_args=connect_args)
    raise StorageError(
        f"database URL {parsed.render_as_string(hide_password=True)}: use sqlite:///path or "
        f"postgresql+psycopg://user@host/db"
    )


def private_file(path: Path) -> None:
    """Make ``path`` (and a missing folder) the owner's alone: folder 0700 when created here,
    file 0600, tightened when an existing one of ours is wider. The station's SQLite files hold
    password hashes and the audit trail; SQLite gives its -wal and -shm files the database
    file's mode. Not on Windows, where the user data folder is private already."""
    if os.name != "posix":
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        info = os.fstat(fd)
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.fchmod(fd, info.st_mode & 0o700)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):  # left by an earlier version, maybe wider
        side = path.with_name(path.name + suffix)
        try:
            if side.stat().st_uid == os.getuid() and side.stat().st_mode & 0o077:
                side.chmod(side.stat().st_mode & 0o700)
        except FileNotFoundError:
            pass


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we send BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for attempt in range(50):  # switching a new file to WAL does not wait for other openers
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.02)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get("hmi_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def dialect_insert(dialect: str) -> Callable[[Table], Insert]:
    """The ``insert`` with ``ON CONFLICT`` of ``dialect`` (``"postgresql"``, else SQLite's).
    The PostgreSQL dialect's modules (3 MB) load only for a PostgreSQL database."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert  # type: ignore[return-value]  # the same on_conflict_* interface
    from sqlalchemy.dialects.sqlite import insert

    return insert


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it takes the write lock at BEGIN, so the read
    of the chain head and the append that follows it cannot interleave with another writer."""
    with engine.connect() as connection:
        connection.execution_options(hmi_write=True)
        with connection.begin():
            yield connection


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


_HEADS_LOCK = threading.Lock()
_heads: frozenset[str] | None = None


def head_revisions() -> frozenset[str]:
    """The newest revision of every branch (audit and users, alarm journal, historian, ...):
    each store's tables are a branch off the first revision, so they can grow apart.

    Read from the revision files' ``revision``/``down_revision`` assignments (``ast``, not
    alembic, which costs a station tens of MB when no migration is due);
    tests/storage/test_revisions.py holds this to alembic's own ``get_heads``. Read once a
    process, under a lock: stores open on several threads at once, and CPython 3.11's
    ``ast.parse`` on two threads together can fail ("AST constructor recursion depth
    mismatch", seen in CI)."""
    global _heads
    with _HEADS_LOCK:
        if _heads is None:
            _heads = _read_head_revisions()
        return _heads


def _read_head_revisions() -> frozenset[str]:
    revisions: set[str] = set()
    parents: set[str] = set()
    value: ast.expr | None
    for path in sorted((_MIGRATIONS / "versions").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                name, value = node.target.id, node.value
            else:
                continue
            if value is None:
                continue
            if name == "revision":
                revisions.add(ast.literal_eval(value))
            elif name == "down_revision":
                down = ast.literal_eval(value)
                parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def current_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database is at (alembic's ``alembic_version`` table; empty if none)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return frozenset()
        rows = connection.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}"))
        return frozenset(row[0] for row in rows)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revisions (``alembic upgrade heads``), all of it in one
    transaction that holds the write lock (SQLite) or an advisory lock (PostgreSQL), so
    processes starting together migrate once. Needs a role that may create tables; the
    station's insert-only role cannot, see docs/audit.md."""
    with _MIGRATING, engine.connect() as connection:
        connection.execution_options(hmi_write=True)
        with connection.begin():
            if is_postgres(engine):
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            from alembic import command

            command.upgrade(_alembic_config(connection), "heads")


def ensure_schema(engine: Engine, *, migrate: bool = True) -> None:
    """Check the schema is at the newest revision; upgrade it if ``migrate``, else say how."""
    current = current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return
    if not migrate:
        raise StorageError(
            f"database {engine.url.render_as_string(hide_password=True)} is at schema revision "
            f"{', '.join(sorted(current)) or 'none'}, this version needs "
            f"{', '.join(sorted(heads))}: run `hmi db upgrade` as the database owner"
        )
    log.info(
        "upgrading %s from schema %s to %s", engine.url,
        ", ".join(sorted(current)) or "none", ", ".join(sorted(heads)),
    )  # fmt: skip
    upgrade(engine)


def short_error(exc: BaseException) -> str:
    """The first line of a database error (the driver's own message), for a status line."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
