"""Users of the station: argon2id password hashes, roles, lockout, disabling.

Users are never deleted (their names stay meaningful in the audit trail); they are disabled.
User ids are compared case-insensitively (stored lower-case). Every change to a user row goes
through one audited path (``hmi.storage.user_seal``): the row and the audit record that says
what changed, who changed it and seals the row are written in one transaction, so the caller
records nothing more for a change that was made (``ChangeBy`` says who and where). Every
sign-in checks the row's seal; a row changed behind the station's back is refused with the
same answer as a wrong password (``AuthFailure.TAMPERED``, the detail says what was found).
Failed and refused attempts are recorded by the caller (``hmi.runtime.session``), except the
lockout, which seals the lock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, Row, func, select

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.errors import HmiError
from hmi.model.security import PasswordRejected, Permission, SecurityConfig
from hmi.storage import schema
from hmi.storage.audit import AuditStore
from hmi.storage.db import StorageError, ensure_schema, write_transaction
from hmi.storage.user_seal import (
    PENDING,
    count_failure,
    reset_failures,
    seal_problem,
    write_sealed,
)

__all__ = [
    "DIRECTORY_HASH",
    "SIGN_IN_REFUSED",
    "AuthFailure",
    "AuthenticationFailed",
    "ChangeBy",
    "User",
    "UserStore",
    "normalise_user_id",
]

DIRECTORY_HASH = "!directory"  # of directory users' rows, no password matches it (storage.shared)
_USER_ID = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_users = schema.users


class AuthFailure(StrEnum):
    UNKNOWN_USER = "unknown user"
    BAD_PASSWORD = "wrong password"
    LOCKED_OUT = "locked out"
    DISABLED = "disabled"
    TAMPERED = "user row changed outside the audited path"
    DIRECTORY_DOWN = "directory unreachable"
    NO_ROLE = "in no group mapped to a role"


SIGN_IN_REFUSED = (
    "user name or password is wrong, or the account is locked after too many failed "
    "attempts; ask an administrator if it keeps failing"
)
"""What a refused sign-in says, whether the user is unknown, the password wrong or the account
locked: the same words for all three, so the prompt does not tell who exists or who is locked
out. The audit record says which it was (``AuthenticationFailed.detail``)."""


class AuthenticationFailed(HmiError):
    """A login or signature refused. ``str()`` is what the person at the station is told: it
    does not say whether the user exists or is locked out (``SIGN_IN_REFUSED``); ``reason`` and
    ``detail`` are for the audit trail."""

    def __init__(
        self,
        user_id: str,
        reason: AuthFailure,
        *,
        locked_until: datetime | None = None,
        lockout_started: bool = False,
        attempts: int = 0,
        problem: str = "",
    ) -> None:
        self.user_id = user_id
        self.problem = problem  # TAMPERED: what the seal check found
        self.recorded = False  # the store recorded the attempt and the lockout it started
        self.reason = reason
        self.locked_until = locked_until
        self.lockout_started = lockout_started
        self.attempts = attempts
        if reason is AuthFailure.DISABLED:  # told only after the right password
            message = f"the account {user_id} is disabled; ask an administrator"
        elif reason is AuthFailure.DIRECTORY_DOWN:
            message = f"the directory is unreachable ({problem}); only local accounts can sign in"
        elif reason is AuthFailure.NO_ROLE:  # told only after the right password
            message = f"{user_id} is in no directory group that gives a role at this station"
        else:
            message = SIGN_IN_REFUSED
        super().__init__(message)

    @property
    def detail(self) -> str:
        if self.problem:
            return f"{self.reason.value}: {self.problem}"
        extra = f" (attempt {self.attempts})" if self.attempts else ""
        if self.lockout_started:
            extra += f", locked until {self.locked_until:%Y-%m-%d %H:%M:%S} UTC"
        return f"{self.reason.value}{extra}"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    full_name: str
    role: str
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    password_changed_at: datetime
    must_change_password: bool
    created_at: datetime
    password_expired: bool = False
    seal_problem: str = ""  # filled by ``UserStore.list``: why sign-in refuses the row
    source: str = "local"  # or "directory": where the identity was checked

    @property
    def state(self) -> str:
        """The account's state in words, the same in ``hmi users`` and the users dialog."""
        if self.seal_problem:
            return f"REFUSED AT SIGN-IN, row changed outside the audited path: {self.seal_problem}"
        if self.disabled:
            return "disabled"
        if self.locked_until is not None:
            return f"locked out until {self.locked_until:%Y-%m-%d %H:%M} UTC"
        if self.must_change_password:
            return "must change password"
        return "password expired" if self.password_expired else "active"


@dataclass(frozen=True, slots=True)
class ChangeBy:
    """Who makes a user change and from where, for the record that seals it (the station's
    workstation and version come from the store's ``identity`` when left empty)."""

    user_id: str = ""
    user_name: str = ""
    role: str = ""
    session_id: str = ""
    origin: str = "user administration"
    workstation: str = ""
    app_version: str = ""
    reason: str = ""


def _describe(row: Mapping[str, Any] | None) -> str | None:
    return None if row is None else f"name={row['full_name']}, role={row['role']}"


def normalise_user_id(user_id: str) -> str:
    return user_id.strip().lower()


def _dt(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, UTC)


class UserStore:
    """Blocking; run it on the audit trail's worker (``AuditTrail.call``) from the runtime.
    ``hasher`` defaults to argon2-cffi's argon2id parameters (RFC 9106 low-memory profile).
    ``chain``: the audit chain on the same database that seals the rows (default: an unkeyed
    one on ``engine``; the station passes its own, with the site key); ``identity``:
    workstation and app_version for the records this store makes."""

    def __init__(
        self,
        engine: Engine,
        *,
        security: SecurityConfig | None = None,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        migrate: bool = True,
        chain: AuditStore | None = None,
        identity: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.security = security or SecurityConfig()
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._migrate = migrate
        self.chain = chain or AuditStore(engine, migrate=migrate)
        self._identity = dict(identity or {})
        self._ready = False
        self._dummy_hash: str | None = None

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def ready(self) -> None:
        """Bring the schema up to date, and seal the rows from before seals (``seal_pending``)."""
        if not self._ready:
            ensure_schema(self.engine, migrate=self._migrate)
            self.seal_pending()
            self._ready = True

    # -- reading -------------------------------------------------------------------------------

    def _user(self, row: Row[Any]) -> User:
        max_age = self.security.password.max_age_days
        changed = int(row.password_changed_us)
        directory = row.password_hash == DIRECTORY_HASH
        expired = (
            not directory
            and bool(max_age)
            and self._now_us() - changed > max_age * 86_400 * 1_000_000
        )
        locked = row.locked_until_us if (row.locked_until_us or 0) > self._now_us() else None
        return User(
            user_id=row.user_id, full_name=row.full_name, role=row.role,
            disabled=bool(row.disabled), failed_attempts=int(row.failed_attempts),
            locked_until=_dt(locked), password_changed_at=_dt(changed) or datetime.now(UTC),
            must_change_password=bool(row.must_change_password),
            created_at=_dt(int(row.created_us)) or datetime.now(UTC), password_expired=expired,
            source="directory" if directory else "local",
        )  # fmt: skip

    def _row(self, user_id: str) -> Row[Any] | None:
        self.ready()
        with self.engine.connect() as connection:
            return connection.execute(
                select(_users).where(_users.c.user_id == normalise_user_id(user_id))
            ).first()

    def get(self, user_id: str) -> User | None:
        row = self._row(user_id)
        return None if row is None else self._user(row)

    def list(self) -> list[User]:
        """Every user, each with what the seal check finds wrong with its row, if anything."""
        self.ready()
        with self.engine.connect() as connection:
            rows = connection.execute(select(_users).order_by(_users.c.user_id)).all()
            problems = [
                seal_problem(connection, r, self.chain._key, keyless=True) or "" for r in rows
            ]
        return [replace(self._user(r), seal_problem=p) for r, p in zip(rows, problems, strict=True)]

    def needs_admin(self) -> bool:
        """True on first run: no enabled user may manage users, so one must be created."""
        managers = [
            role for role, perms in self.security.matrix().items()
            if Permission.MANAGE_USERS in perms
        ]  # fmt: skip
        self.ready()
        with self.engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(_users)
                .where(_users.c.role.in_(managers), _users.c.disabled.is_(False))
            ).scalar_one()
        return int(count) == 0

    def seal_problem(self, user_id: str) -> str | None:
        """What the seal check finds wrong with ``user_id``'s row (None: it holds, or no row)."""
        self.ready()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(_users).where(_users.c.user_id == normalise_user_id(user_id))
            ).first()
            return None if row is None else seal_problem(connection, row, self.chain._key)

    # -- the audited path ----------------------------------------------------------------------

    def _record(
        self, action: AuditAction, uid: str, by: ChangeBy | None,
        old: Mapping[str, Any] | None, new: Mapping[str, Any], **fields: Any,
    ) -> AuditRecord:  # fmt: skip
        by = by or ChangeBy()
        return AuditRecord.create(
            action, user_id=by.user_id, user_name=by.user_name, role=by.role,
            session_id=by.session_id, origin=by.origin, reason=by.reason,
            workstation=by.workstation or self._identity.get("workstation", ""),
            app_version=by.app_version or self._identity.get("app_version", ""),
            target_address=f"user:{uid}", old_value=_describe(old), new_value=_describe(new),
            **fields,
        )  # fmt: skip

    def _write(
        self, connection: Connection, action: AuditAction, old: Mapping[str, Any] | None,
        values: Mapping[str, Any], by: ChangeBy | None, *,
        before: tuple[AuditRecord, ...] = (), **fields: Any,
    ) -> AuditRecord:  # fmt: skip
        row = {**(old or {}), **values}
        record = self._record(action, str(row["user_id"]), by, old, row, **fields)
        return write_sealed(connection, self.chain, row, record, new=old is None, before=before)

    def _change(
        self, action: AuditAction, user_id: str, by: ChangeBy | None, **values: Any
    ) -> User:
        """Change ``user_id``'s row and seal it with a record of ``action``, in one transaction."""
        uid = self._require(user_id).user_id
        with write_transaction(self.engine) as connection:
            old = connection.execute(select(_users).where(_users.c.user_id == uid)).one()
            self._write(connection, action, dict(old._mapping), values, by)
        return self._require(uid)

    def seal_pending(self, by: ChangeBy | None = None) -> int:
        """Seal the rows the upgrade to seals marked ``pending upgrade`` (``user_seal``
        records, as the rows are), once: only while no row is sealed yet, so a row marked so
        later is refused at sign-in, not sealed. How many were sealed."""
        by = by or ChangeBy(origin="schema upgrade")
        with write_transaction(self.engine) as connection:
            states = connection.execute(select(_users.c.sealed_by)).scalars().all()
            if not states or any(state != PENDING for state in states):
                return 0
            rows = connection.execute(select(_users)).all()
            for row in rows:
                self._write(connection, AuditAction.USER_SEAL, dict(row._mapping), {}, by)
        return len(rows)

    # -- changing ------------------------------------------------------------------------------

    def _check_role(self, role: str) -> None:
        if role not in self.security.matrix():
            raise StorageError(
                f"unknown role {role!r}; roles are: {', '.join(self.security.role_names)}"
            )

    def add(
        self, user_id: str, full_name: str, role: str, password: str, *,
        must_change: bool = True, by: ChangeBy | None = None,
    ) -> User:  # fmt: skip
        """A new user. ``must_change``: the password was set by someone else and must be
        changed at first login."""
        uid = normalise_user_id(user_id)
        if not _USER_ID.match(uid):
            raise StorageError(
                f"user id {user_id!r}: use 1-64 letters, digits and . _ @ - (e.g. j.doe)"
            )
        if not full_name.strip():
            raise StorageError(f"user {uid}: give the person's full name (it goes on records)")
        self._check_role(role)
        self.security.password.enforce(uid, password, full_name=full_name)
        if self.get(uid) is not None:
            raise StorageError(f"user {uid} exists already; change or enable it instead")
        now = self._now_us()
        with write_transaction(self.engine) as connection:
            self._write(
                connection, AuditAction.USER_ADD, None,
                {"user_id": uid, "full_name": full_name.strip(), "role": role,
                 "password_hash": self._hasher.hash(password), "disabled": False,
                 "failed_attempts": 0, "locked_until_us": None, "password_changed_us": now,
                 "must_change_password": must_change, "created_us": now},
                by,
            )  # fmt: skip
        return self._require(uid)

    def _require(self, user_id: str) -> User:
        user = self.get(user_id)
        if user is None:
            raise StorageError(f"no user {normalise_user_id(user_id)!r}")
        return user

    def change(
        self, user_id: str, *, full_name: str | None = None, role: str | None = None,
        by: ChangeBy | None = None,
    ) -> User:  # fmt: skip
        values: dict[str, Any] = {}
        if full_name is not None:
            values["full_name"] = full_name.strip()
        if role is not None:
            self._check_role(role)
            values["role"] = role
        if not values:
            return self._require(user_id)
        return self._change(AuditAction.USER_CHANGE, user_id, by, **values)

    def passwd(
        self, user_id: str, password: str, *, old_password: str | None = None,
        must_change: bool = False, by: ChangeBy | None = None,
    ) -> User:  # fmt: skip
        """Set a password. With ``old_password`` (a user changing their own) the old one is
        checked first; an administrator resetting one passes ``must_change=True``."""
        user = self._require(user_id)
        row = self._row(user.user_id)
        assert row is not None
        if row.password_hash == DIRECTORY_HASH:
            raise StorageError(
                f"{user.user_id} signs in with the directory; its password is kept there"
            )
        if old_password is not None and not self._matches(row.password_hash, old_password):
            raise AuthenticationFailed(user.user_id, AuthFailure.BAD_PASSWORD)
        problems = self.security.password.check(user.user_id, password, full_name=user.full_name)
        if self._matches(row.password_hash, password):
            problems.append("it is the current password; choose a new one")
        if problems:
            raise PasswordRejected(problems)
        return self._change(
            AuditAction.PASSWORD_CHANGE, user.user_id, by,
            password_hash=self._hasher.hash(password), password_changed_us=self._now_us(),
            must_change_password=must_change, failed_attempts=0, locked_until_us=None,
        )  # fmt: skip

    def disable(self, user_id: str, *, by: ChangeBy | None = None) -> User:
        return self._change(AuditAction.USER_DISABLE, user_id, by, disabled=True)

    def enable(self, user_id: str, *, by: ChangeBy | None = None) -> User:
        return self._change(
            AuditAction.USER_ENABLE, user_id, by, disabled=False, failed_attempts=0,
            locked_until_us=None,
        )  # fmt: skip

    def unlock(self, user_id: str, *, by: ChangeBy | None = None) -> User:
        return self._change(
            AuditAction.USER_UNLOCK, user_id, by, failed_attempts=0, locked_until_us=None
        )

    # -- authenticating ------------------------------------------------------------------------

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _burn(self, password: str) -> None:
        """Spend the time a real check takes, so a wrong user id is not faster to find."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not a password of anyone")
        self._matches(self._dummy_hash, password)

    def authenticate(self, user_id: str, password: str, *, origin: str = "login") -> User:
        """The user if the row's seal holds, the password is right and the account usable,
        else ``AuthenticationFailed``. Counts failures; after ``lockout.attempts`` in a row the
        user is locked for ``lockout.minutes`` (sealed by a ``lockout`` record, origin
        ``origin``). A disabled user is told so only after the right password."""
        uid = normalise_user_id(user_id)
        row = self._row(uid)
        if row is None:
            self._burn(password)
            raise AuthenticationFailed(uid, AuthFailure.UNKNOWN_USER)
        problem = self.seal_problem(uid)
        if problem is not None:
            self._burn(password)
            raise AuthenticationFailed(uid, AuthFailure.TAMPERED, problem=problem)
        now = self._now_us()
        if row.locked_until_us is not None and row.locked_until_us > now:
            self._burn(password)
            raise AuthenticationFailed(
                uid, AuthFailure.LOCKED_OUT, locked_until=_dt(row.locked_until_us)
            )
        if not self._matches(row.password_hash, password):
            raise self.record_failure(uid, now, origin)
        if row.disabled:
            raise AuthenticationFailed(uid, AuthFailure.DISABLED)
        with write_transaction(self.engine) as connection:
            if row.failed_attempts:
                reset_failures(connection, uid, now)
            if self._hasher.check_needs_rehash(row.password_hash):
                self._write(
                    connection, AuditAction.PASSWORD_CHANGE, dict(row._mapping),
                    {"password_hash": self._hasher.hash(password)},
                    ChangeBy(uid, row.full_name, row.role, origin=origin,
                             reason="password hash renewed with the current parameters"),
                )  # fmt: skip
        return self._require(uid)

    def record_failure(self, uid: str, now: int, origin: str) -> AuthenticationFailed:
        """Count a wrong password against ``uid``'s row; the lockout it starts is sealed."""
        policy = self.security.lockout
        with write_transaction(self.engine) as connection:
            attempts = count_failure(connection, uid)
            if attempts < policy.attempts:
                return AuthenticationFailed(uid, AuthFailure.BAD_PASSWORD, attempts=attempts)
            locked_until = now + int(policy.minutes * 60 * 1_000_000)
            failure = AuthenticationFailed(
                uid, AuthFailure.LOCKED_OUT, locked_until=_dt(locked_until),
                lockout_started=True, attempts=attempts,
            )  # fmt: skip
            old = connection.execute(select(_users).where(_users.c.user_id == uid)).one()
            attempt = AuditRecord.create(
                AuditAction.LOGIN_FAILED, result=AuditResult.DENIED, user_id=uid,
                target_address=f"user:{uid}", error=failure.detail, origin=origin,
                workstation=self._identity.get("workstation", ""),
                app_version=self._identity.get("app_version", ""),
            )  # fmt: skip
            self._write(
                connection, AuditAction.LOCKOUT, dict(old._mapping),
                {"failed_attempts": 0, "locked_until_us": locked_until},
                ChangeBy(uid, origin=origin), before=(attempt,), error=failure.detail,
            )  # fmt: skip
            failure.recorded = True
        return failure
