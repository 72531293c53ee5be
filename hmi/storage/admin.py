"""What the ``hmi users ...``, ``hmi audit ...`` and ``hmi db ...`` commands do (the CLI only
parses arguments and prints). Each function opens the database at ``url`` (default: the
station's SQLite file), does one thing, records it in the audit trail, and closes.

A function that records takes the site's audit ``key`` (None: an unkeyed SHA-256 chain) and
checks first that the key can extend the chain (``check_audit_key``, from
``hmi.storage.audit``, where the store makes the same check before its first append): no key
for a keyed chain, a key that is not the chain's, or a key for a chain started without one is
refused with ``AuditKeyError`` before anything is written, users included.

Command-line changes are recorded as made by the operating-system account that ran them
(``os:<login>``), with origin ``command line``: whoever can run the command against the
database could also edit it, so the CLI checks no HMI permission of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hmi import __version__
from hmi.model.audit.checkpoint import Checkpoint, CheckpointError, SignedCheckpoint
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.audit.verify import VerifyResult
from hmi.model.security import SecurityConfig
from hmi.storage.audit import AuditKeyError, AuditQuery, AuditStore, Progress, check_audit_key
from hmi.storage.db import (
    current_revisions,
    default_database_url,
    default_spool_path,
    make_engine,
    os_user,
    upgrade,
)
from hmi.storage.export import ExportSummary, StateTexts, export_to_path
from hmi.storage.spool_check import SpoolHold, read_hold, release_hold
from hmi.storage.users import ChangeBy, User, UserStore
from hmi.storage.witness import chain_problem

__all__ = [
    "STATION_GRANTS",
    "AuditKeyError",  # re-exported from hmi.storage.audit, as is check_audit_key
    "add_user",
    "change_user",
    "check_audit_key",
    "check_checkpoints",
    "disable_user",
    "enable_user",
    "export_audit",
    "grant_statements",
    "list_users",
    "needs_admin",
    "record_checkpoint",
    "release_spool_hold",
    "set_password",
    "unlock_user",
    "upgrade_database",
    "verify_audit",
]

_ORIGIN = "command line"


def _workstation() -> str:
    return os.uname().nodename if hasattr(os, "uname") else ""


def _record(store: AuditStore, action: AuditAction, **fields: Any) -> AuditRecord:
    return store.append(
        AuditRecord.create(
            action,
            user_id=os_user(),
            workstation=_workstation(),
            origin=_ORIGIN,
            app_version=__version__,
            **fields,
        )
    )


def _by() -> ChangeBy:
    """The command line as the maker of a user change (its record seals the row)."""
    return ChangeBy(os_user(), origin=_ORIGIN, workstation=_workstation(), app_version=__version__)


@contextmanager
def _stores(
    url: str | None, security: SecurityConfig | None = None, key: bytes | None = None
) -> Iterator[tuple[AuditStore, UserStore]]:
    """The chain (``key`` checked before anything is done) and the users on ``url``."""
    engine = make_engine(url or default_database_url())
    try:
        store = AuditStore(engine, key=key)
        store.check_key()
        yield store, UserStore(engine, security=security, chain=store)
    finally:
        engine.dispose()


@contextmanager
def _users(url: str | None, security: SecurityConfig | None) -> Iterator[UserStore]:
    """The users alone, for reading: the chain and its key are not involved."""
    engine = make_engine(url or default_database_url())
    try:
        yield UserStore(engine, security=security)
    finally:
        engine.dispose()


def upgrade_database(url: str | None = None, *, key: bytes | None = None) -> str:
    """Create or migrate the schema (as the database owner); returns the revision now. Users
    from before seals are then sealed as they are (``user_seal`` records, with ``key``)."""
    engine = make_engine(url or default_database_url())
    try:
        upgrade(engine)
        chain = AuditStore(engine, key=key, migrate=False)
        UserStore(engine, chain=chain, migrate=False).seal_pending(
            ChangeBy(os_user(), origin=f"{_ORIGIN} (db upgrade)", workstation=_workstation(),
                     app_version=__version__)
        )  # fmt: skip
        return ", ".join(sorted(current_revisions(engine)))
    finally:
        engine.dispose()


def verify_audit(
    url: str | None = None,
    *,
    key: bytes | None = None,
    progress: Progress | None = None,
    record: bool = True,
    workers: int | None = None,
    checkpoint_problems: Sequence[str] = (),
) -> VerifyResult:
    """Verify the whole chain; ``progress(done, total)`` is called every few thousand records;
    ``workers`` as for ``AuditStore.verify`` (default: parallel for long chains). The
    verification itself is recorded (``audit_verify``, failed when the chain or one of the
    ``checkpoint_problems`` found before it failed) unless ``record`` is false. A key
    that is not the chain's is refused (``AuditKeyError``) rather than reported as tampering."""
    with _stores(url, key=key) as (store, _):
        result = store.verify(progress=progress, workers=workers)
        if record:
            failed = not result.ok or bool(checkpoint_problems)
            _record(
                store, AuditAction.AUDIT_VERIFY,
                result=AuditResult.FAILED if failed else AuditResult.DONE,
                reason="; ".join([str(result), *checkpoint_problems])[:2000],
            )  # fmt: skip
        return result


def export_audit(
    path: Path,
    *,
    url: str | None = None,
    key: bytes | None = None,
    query: AuditQuery | None = None,
    fmt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    states: StateTexts | None = None,
) -> ExportSummary:
    """Export matching records to ``path`` (CSV or JSON by suffix or ``fmt``) and record the
    export (``audit_export``, with the file name and filter); ``states``: the project's state
    texts, shown next to the raw values."""
    with _stores(url, key=key) as (store, _):
        summary = export_to_path(
            store, path, query, fmt=fmt, progress=progress, exported_by=os_user(),
            states=states,
        )  # fmt: skip
        _record(
            store, AuditAction.AUDIT_EXPORT, target_address=f"file:{path}",
            new_value=summary.count, reason=str((query or AuditQuery()).describe()),
        )  # fmt: skip
        return summary


def release_spool_hold(
    reason: str, *, url: str | None = None, key: bytes | None = None, spool: Path | None = None
) -> SpoolHold | None:
    """An administrator's decision on a spool that failed its check: record it
    (``audit_spool_released``, with the reason and the evidence kept) and lift the hold, so the
    station accepts audited actions again. None when no hold stood (nothing is recorded)."""
    if not reason.strip():
        raise ValueError("give the reason for releasing the hold (--reason)")
    path = spool or default_spool_path()
    hold = read_hold(path)
    if hold is None:
        return None
    with _stores(url, key=key) as (store, _):
        _record(
            store, AuditAction.AUDIT_SPOOL_RELEASED, target_address=f"file:{hold.evidence}",
            reason=reason.strip(), old_value=hold.problem,
        )  # fmt: skip
    release_hold(path)
    return hold


def record_checkpoint(
    path: Path, checkpoint: Checkpoint, *, url: str | None = None, key: bytes | None = None
) -> None:
    """Record that a checkpoint of the head was written (``audit_checkpoint``)."""
    with _stores(url, key=key) as (store, _):
        _record(
            store, AuditAction.AUDIT_CHECKPOINT, target_address=f"file:{path}",
            new_value=checkpoint.sequence, reason=f"head {checkpoint.hash}",
            result=AuditResult.DONE if checkpoint.verified else AuditResult.FAILED,
        )  # fmt: skip


def check_checkpoints(
    files: Sequence[Path], *, url: str | None = None, key: bytes | None = None
) -> list[str]:
    """What is wrong, per checkpoint file: unreadable, altered, unsigned, or the chain no
    longer extends it. [] when every one holds."""
    problems: list[str] = []
    with _stores(url, key=key) as (store, _):
        for path in files:
            try:
                signed = SignedCheckpoint.from_json(
                    path.read_text(encoding="utf-8"), source=str(path)
                )
            except (OSError, CheckpointError) as exc:
                problems.append(f"{path}: {exc}" if isinstance(exc, OSError) else str(exc))
                continue
            problems.extend(signed.check(key=key, source=str(path)))
            problem = chain_problem(store, signed.checkpoint, name=f"checkpoint {path}")
            if problem is not None:
                problems.append(problem)
    return problems


def list_users(url: str | None = None, security: SecurityConfig | None = None) -> list[User]:
    with _users(url, security) as users:
        return users.list()


def needs_admin(url: str | None = None, security: SecurityConfig | None = None) -> bool:
    """True until a user who may manage users exists (first run: create one)."""
    with _users(url, security) as users:
        return users.needs_admin()


def add_user(
    user_id: str,
    full_name: str,
    role: str,
    password: str,
    *,
    url: str | None = None,
    security: SecurityConfig | None = None,
    key: bytes | None = None,
    must_change: bool = True,
) -> User:
    """Add a user (the password policy applies); ``must_change``: change it at first login."""
    with _stores(url, security, key) as (_, users):
        return users.add(user_id, full_name, role, password, must_change=must_change, by=_by())


def change_user(
    user_id: str,
    *,
    full_name: str | None = None,
    role: str | None = None,
    url: str | None = None,
    security: SecurityConfig | None = None,
    key: bytes | None = None,
) -> User:
    with _stores(url, security, key) as (_, users):
        return users.change(user_id, full_name=full_name, role=role, by=_by())


def set_password(
    user_id: str,
    password: str,
    *,
    url: str | None = None,
    security: SecurityConfig | None = None,
    key: bytes | None = None,
    must_change: bool = True,
) -> User:
    """An administrator's reset: the user must change it at next login unless told not to."""
    with _stores(url, security, key) as (_, users):
        return users.passwd(user_id, password, must_change=must_change, by=_by())


def _flag(
    user_id: str, name: str, url: str | None, security: SecurityConfig | None,
    key: bytes | None,
) -> User:  # fmt: skip
    with _stores(url, security, key) as (_, users):
        user: User = getattr(users, name)(user_id, by=_by())
        return user


def disable_user(
    user_id: str, *, url: str | None = None, security: SecurityConfig | None = None,
    key: bytes | None = None,
) -> User:  # fmt: skip
    return _flag(user_id, "disable", url, security, key)


def enable_user(
    user_id: str, *, url: str | None = None, security: SecurityConfig | None = None,
    key: bytes | None = None,
) -> User:  # fmt: skip
    return _flag(user_id, "enable", url, security, key)


def unlock_user(
    user_id: str, *, url: str | None = None, security: SecurityConfig | None = None,
    key: bytes | None = None,
) -> User:  # fmt: skip
    return _flag(user_id, "unlock", url, security, key)


STATION_GRANTS: tuple[tuple[str, str], ...] = (
    ("SELECT, INSERT", "TABLE audit"),
    ("SELECT, UPDATE", "TABLE audit_head"),
    ("SELECT", "TABLE users"),
    ("EXECUTE", "FUNCTION hmi_user_write(jsonb, jsonb, text)"),
    ("EXECUTE", "FUNCTION hmi_user_failed(text)"),
    ("EXECUTE", "FUNCTION hmi_user_signed_in(text, bigint)"),
    ("SELECT, INSERT", "TABLE alarm_events"),
    ("USAGE", "SEQUENCE alarm_events_id_seq"),
    ("SELECT, INSERT, UPDATE", "TABLE alarm_snapshot"),
    ("SELECT, INSERT, UPDATE", "TABLE historian_tags"),
    ("USAGE", "SEQUENCE historian_tags_id_seq"),
    ("SELECT, INSERT, DELETE", "TABLE historian_samples"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE historian_rollups"),
    ("SELECT, INSERT, UPDATE", "TABLE historian_stations"),
)
"""What a station does with each object: append and read the audit chain, lock and move its
head (forward only, by trigger), read users and change them only through the audited
functions, journal alarm events and keep its alarm snapshot, record, roll up and purge the
historian. docs/audit.md prints ``grant_statements`` and says why each line is there."""


def grant_statements(station_role: str, auditor_role: str, *, database: str) -> list[str]:
    """The SQL (run as the database owner, after ``hmi db upgrade``) that gives the stations
    exactly what they use (``STATION_GRANTS``) and the auditors read access to the audit
    trail, on PostgreSQL. The roles must exist; neither may own the tables (an owner can
    switch the triggers off and write ``users`` directly)."""
    s, a = f'"{station_role}"', f'"{auditor_role}"'
    return [
        f'GRANT CONNECT ON DATABASE "{database}" TO {s}, {a}',
        f"GRANT USAGE ON SCHEMA public TO {s}, {a}",
        f"GRANT SELECT ON TABLE alembic_version TO {s}, {a}",
        *(f"GRANT {privileges} ON {target} TO {s}" for privileges, target in STATION_GRANTS),
        f"GRANT SELECT ON TABLE audit, audit_head, audit_readable TO {a}",
    ]
