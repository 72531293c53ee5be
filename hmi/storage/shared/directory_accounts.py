"""The rows of directory users in the station's (shared) users table.

The directory checks the password and says the groups; the station still keeps a row per
directory user, sealed like every other (``hmi.storage.user_seal``), with the password hash
``DIRECTORY_HASH`` that no password matches. The row is what makes lockout, disabling at the
station, session watch, signatures and second-person verification work the same for directory
users: failures count on it, a lockout seals it, and each sign-in writes the name and the role
the groups gave (a change of either is an audited ``user_change``). The row is made at the
first sign-in, or at the first wrong password of a name the directory may hold. Blocking; run
it on the audit trail's worker.
"""

from __future__ import annotations

from sqlalchemy import select

from hmi.model.audit.record import AuditAction
from hmi.storage import schema
from hmi.storage.db import write_transaction
from hmi.storage.user_seal import reset_failures
from hmi.storage.users import (
    _USER_ID,
    DIRECTORY_HASH,
    AuthenticationFailed,
    AuthFailure,
    ChangeBy,
    User,
    UserStore,
    normalise_user_id,
)

__all__ = ["DirectoryUserStore"]

_users = schema.users
_NAME_MAX = 128


class DirectoryUserStore(UserStore):
    """A ``UserStore`` that also keeps the rows of directory users."""

    def directory_gate(self, user_id: str) -> None:
        """Before the directory is asked: ``AuthenticationFailed`` if the user's row (if there
        is one) was changed outside the audited path or is locked out."""
        uid = normalise_user_id(user_id)
        row = self._row(uid)
        if row is None:
            return
        problem = self.seal_problem(uid)
        if problem is not None:
            raise AuthenticationFailed(uid, AuthFailure.TAMPERED, problem=problem)
        if row.locked_until_us is not None and row.locked_until_us > self._now_us():
            raise AuthenticationFailed(
                uid, AuthFailure.LOCKED_OUT, locked_until=self._user(row).locked_until
            )

    def directory_failure(self, user_id: str, origin: str) -> AuthenticationFailed:
        """A wrong password the directory refused: counted on the user's row (made if missing
        and the name can be a user id), maybe starting a lockout."""
        uid = normalise_user_id(user_id)
        if not _USER_ID.match(uid):
            return AuthenticationFailed(uid, AuthFailure.UNKNOWN_USER)
        if self._row(uid) is None:
            self._add_directory_row(uid, uid, "viewer", origin)
        return self.record_failure(uid, self._now_us(), origin)

    def directory_sign_in(self, user_id: str, full_name: str, role: str, origin: str) -> User:
        """The directory accepted the password and its groups gave ``role``: the row is made
        or brought up to date (an audited change), its failures cleared. A user disabled at
        the station stays out (``AuthFailure.DISABLED``)."""
        uid = normalise_user_id(user_id)
        if not _USER_ID.match(uid):
            raise AuthenticationFailed(
                uid, AuthFailure.UNKNOWN_USER,
                problem="the directory accepted a name that is not a station user id "
                "(1-64 of a-z 0-9 . _ @ -)",
            )  # fmt: skip
        self._check_role(role)
        name = " ".join(full_name.split())[:_NAME_MAX] or uid  # one line, of a sane length
        row = self._row(uid)
        if row is None:
            self._add_directory_row(uid, name, role, origin)
            return self._require(uid)
        if row.disabled:
            raise AuthenticationFailed(uid, AuthFailure.DISABLED)
        by = ChangeBy(uid, name, role, origin=origin, reason="directory sign-in")
        with write_transaction(self.engine) as connection:
            old = connection.execute(select(_users).where(_users.c.user_id == uid)).one()
            if old.full_name != name or old.role != role:
                values = {"full_name": name, "role": role, "failed_attempts": 0}
                self._write(connection, AuditAction.USER_CHANGE, dict(old._mapping), values, by)
            elif old.failed_attempts:
                reset_failures(connection, uid, self._now_us())
        return self._require(uid)

    def _add_directory_row(self, uid: str, name: str, role: str, origin: str) -> None:
        now = self._now_us()
        by = ChangeBy(uid, name, role, origin=origin, reason="first directory sign-in")
        with write_transaction(self.engine) as connection:
            if connection.execute(select(_users.c.user_id).where(_users.c.user_id == uid)).first():
                return  # another station made it meanwhile
            self._write(
                connection, AuditAction.USER_ADD, None,
                {"user_id": uid, "full_name": name, "role": role, "password_hash": DIRECTORY_HASH,
                 "disabled": False, "failed_attempts": 0, "locked_until_us": None,
                 "password_changed_us": now, "must_change_password": False, "created_us": now},
                by,
            )  # fmt: skip
