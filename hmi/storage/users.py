"""Users of the station: argon2id password hashes, roles, lockout, disabling.

Users are never deleted (their names stay meaningful in the audit trail); they are disabled.
User ids are compared case-insensitively (stored lower-case). This store does not write audit
records itself: the caller (``hmi.runtime.session``, ``hmi.storage.admin``) records every
change and every attempt, with who did it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, Row, func, insert, select, update

from hmi.model.errors import HmiError
from hmi.model.security import PasswordRejected, Permission, SecurityConfig
from hmi.storage import schema
from hmi.storage.db import StorageError, ensure_schema, write_transaction

__all__ = [
    "SIGN_IN_REFUSED",
    "AuthFailure",
    "AuthenticationFailed",
    "User",
    "UserStore",
    "normalise_user_id",
]

_USER_ID = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
_users = schema.users


class AuthFailure(StrEnum):
    UNKNOWN_USER = "unknown user"
    BAD_PASSWORD = "wrong password"
    LOCKED_OUT = "locked out"
    DISABLED = "disabled"


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
    ) -> None:
        self.user_id = user_id
        self.reason = reason
        self.locked_until = locked_until
        self.lockout_started = lockout_started
        self.attempts = attempts
        if reason is AuthFailure.DISABLED:  # told only after the right password
            message = f"the account {user_id} is disabled; ask an administrator"
        else:
            message = SIGN_IN_REFUSED
        super().__init__(message)

    @property
    def detail(self) -> str:
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


def normalise_user_id(user_id: str) -> str:
    return user_id.strip().lower()


def _dt(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, UTC)


class UserStore:
    """Blocking; run it on the audit trail's worker (``AuditTrail.call``) from the runtime.
    ``hasher`` defaults to argon2-cffi's argon2id parameters (RFC 9106 low-memory profile)."""

    def __init__(
        self,
        engine: Engine,
        *,
        security: SecurityConfig | None = None,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        migrate: bool = True,
    ) -> None:
        self.engine = engine
        self.security = security or SecurityConfig()
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._migrate = migrate
        self._ready = False
        self._dummy_hash: str | None = None

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def ready(self) -> None:
        if not self._ready:
            ensure_schema(self.engine, migrate=self._migrate)
            self._ready = True

    # -- reading -------------------------------------------------------------------------------

    def _user(self, row: Row[Any]) -> User:
        max_age = self.security.password.max_age_days
        changed = int(row.password_changed_us)
        expired = bool(max_age) and self._now_us() - changed > max_age * 86_400 * 1_000_000
        locked = row.locked_until_us if (row.locked_until_us or 0) > self._now_us() else None
        return User(
            user_id=row.user_id, full_name=row.full_name, role=row.role,
            disabled=bool(row.disabled), failed_attempts=int(row.failed_attempts),
            locked_until=_dt(locked), password_changed_at=_dt(changed) or datetime.now(UTC),
            must_change_password=bool(row.must_change_password),
            created_at=_dt(int(row.created_us)) or datetime.now(UTC), password_expired=expired,
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
        self.ready()
        with self.engine.connect() as connection:
            rows = connection.execute(select(_users).order_by(_users.c.user_id)).all()
        return [self._user(r) for r in rows]

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

    # -- changing ------------------------------------------------------------------------------

    def _check_role(self, role: str) -> None:
        if role not in self.security.matrix():
            raise StorageError(
                f"unknown role {role!r}; roles are: {', '.join(self.security.role_names)}"
            )

    def add(
        self, user_id: str, full_name: str, role: str, password: str, *, must_change: bool = True
    ) -> User:
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
            connection.execute(
                insert(_users).values(
                    user_id=uid, full_name=full_name.strip(), role=role,
                    password_hash=self._hasher.hash(password), disabled=False,
                    failed_attempts=0, locked_until_us=None, password_changed_us=now,
                    must_change_password=must_change, created_us=now,
                )
            )  # fmt: skip
        return self._require(uid)

    def _require(self, user_id: str) -> User:
        user = self.get(user_id)
        if user is None:
            raise StorageError(f"no user {normalise_user_id(user_id)!r}")
        return user

    def _update(self, user_id: str, **values: Any) -> User:
        uid = self._require(user_id).user_id
        with write_transaction(self.engine) as connection:
            connection.execute(update(_users).where(_users.c.user_id == uid).values(**values))
        return self._require(uid)

    def change(
        self, user_id: str, *, full_name: str | None = None, role: str | None = None
    ) -> User:
        values: dict[str, Any] = {}
        if full_name is not None:
            values["full_name"] = full_name.strip()
        if role is not None:
            self._check_role(role)
            values["role"] = role
        return self._update(user_id, **values) if values else self._require(user_id)

    def passwd(
        self, user_id: str, password: str, *, old_password: str | None = None,
        must_change: bool = False,
    ) -> User:  # fmt: skip
        """Set a password. With ``old_password`` (a user changing their own) the old one is
        checked first; an administrator resetting one passes ``must_change=True``."""
        user = self._require(user_id)
        row = self._row(user.user_id)
        assert row is not None
        if old_password is not None and not self._matches(row.password_hash, old_password):
            raise AuthenticationFailed(user.user_id, AuthFailure.BAD_PASSWORD)
        problems = self.security.password.check(user.user_id, password, full_name=user.full_name)
        if self._matches(row.password_hash, password):
            problems.append("it is the current password; choose a new one")
        if problems:
            raise PasswordRejected(problems)
        return self._update(
            user.user_id, password_hash=self._hasher.hash(password),
            password_changed_us=self._now_us(), must_change_password=must_change,
            failed_attempts=0, locked_until_us=None,
        )  # fmt: skip

    def disable(self, user_id: str) -> User:
        return self._update(user_id, disabled=True)

    def enable(self, user_id: str) -> User:
        return self._update(user_id, disabled=False, failed_attempts=0, locked_until_us=None)

    def unlock(self, user_id: str) -> User:
        return self._update(user_id, failed_attempts=0, locked_until_us=None)

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

    def authenticate(self, user_id: str, password: str) -> User:
        """The user if the password is right and the account usable, else
        ``AuthenticationFailed``. Counts failures; after ``lockout.attempts`` in a row the user is
        locked for ``lockout.minutes``. A disabled user is told so only after the right password."""
        uid = normalise_user_id(user_id)
        row = self._row(uid)
        if row is None:
            self._burn(password)
            raise AuthenticationFailed(uid, AuthFailure.UNKNOWN_USER)
        now = self._now_us()
        if row.locked_until_us is not None and row.locked_until_us > now:
            self._burn(password)
            raise AuthenticationFailed(
                uid, AuthFailure.LOCKED_OUT, locked_until=_dt(row.locked_until_us)
            )
        if not self._matches(row.password_hash, password):
            raise self._failed(uid, now)
        if row.disabled:
            raise AuthenticationFailed(uid, AuthFailure.DISABLED)
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until_us": None}
        if self._hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = self._hasher.hash(password)
        with write_transaction(self.engine) as connection:
            connection.execute(update(_users).where(_users.c.user_id == uid).values(**values))
        return self._require(uid)

    def _failed(self, uid: str, now: int) -> AuthenticationFailed:
        policy = self.security.lockout
        with write_transaction(self.engine) as connection:
            row = connection.execute(
                select(_users.c.failed_attempts, _users.c.locked_until_us)
                .where(_users.c.user_id == uid)
                .with_for_update()
            ).one()
            expired = row.locked_until_us is not None and row.locked_until_us <= now
            attempts = (0 if expired else int(row.failed_attempts)) + 1
            locked_until = None
            if attempts >= policy.attempts:
                locked_until = now + int(policy.minutes * 60 * 1_000_000)
            connection.execute(
                update(_users)
                .where(_users.c.user_id == uid)
                .values(
                    failed_attempts=0 if locked_until else attempts,
                    locked_until_us=locked_until,
                )
            )
        if locked_until is not None:
            return AuthenticationFailed(
                uid, AuthFailure.LOCKED_OUT, locked_until=_dt(locked_until),
                lockout_started=True, attempts=attempts,
            )  # fmt: skip
        return AuthenticationFailed(uid, AuthFailure.BAD_PASSWORD, attempts=attempts)
