"""A user's state reads the same words wherever it is shown: ``hmi users list`` and the users
dialog both show ``User.state``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from hmi.model.security import LockoutPolicy, SecurityConfig
from hmi.storage.db import make_engine
from hmi.storage.users import AuthenticationFailed, User, UserStore

GOOD = "Correct-Horse-42"


def test_a_users_state_in_words(sqlite_url: str, fast_hasher: PasswordHasher) -> None:
    engine = make_engine(sqlite_url)
    security = SecurityConfig(lockout=LockoutPolicy(attempts=1, minutes=10))
    users = UserStore(engine, security=security, hasher=fast_hasher, clock=lambda: 1.7e9)
    try:
        assert users.add("ann", "Ann Able", "operator", GOOD).state == "must change password"
        assert users.passwd("ann", "Other-Horse-43").state == "active"
        with pytest.raises(AuthenticationFailed):
            users.authenticate("ann", "wrong")
        locked = users.get("ann")
        assert isinstance(locked, User) and locked.locked_until is not None
        until = datetime.fromtimestamp(1.7e9 + 600, UTC)
        assert locked.state == f"locked out until {until:%Y-%m-%d %H:%M} UTC"
        assert users.disable("ann").state == "disabled"
    finally:
        engine.dispose()


def test_a_change_with_a_wrong_audit_key_is_not_made(db_url: str) -> None:
    """A user change and its audit record are one transaction: the chain refuses a key that
    is not its own, so the change is not made either (SQLite and PostgreSQL)."""
    from hmi.storage import admin
    from hmi.storage.audit import AuditKeyError, AuditStore

    right, wrong = b"the site key", b"not the site key"
    admin.upgrade_database(db_url)
    admin.add_user("jdoe", "Jane Doe", "operator", GOOD, url=db_url, key=right)
    records = AuditStore.open(db_url, key=right)
    before = records.count()
    for change in (
        lambda: admin.change_user("jdoe", role="admin", url=db_url, key=wrong),
        lambda: admin.disable_user("jdoe", url=db_url, key=wrong),
        lambda: admin.set_password("jdoe", "Another-Horse-43", url=db_url, key=wrong),
        lambda: admin.add_user("eve", "Eve", "admin", GOOD, url=db_url, key=wrong),
    ):
        with pytest.raises(AuditKeyError):
            change()
    (user,) = [u for u in admin.list_users(url=db_url) if u.user_id == "jdoe"]
    assert (user.role, user.disabled) == ("operator", False)
    assert [u.user_id for u in admin.list_users(url=db_url)] == ["jdoe"]
    assert records.count() == before and records.verify().ok
    records.close()
