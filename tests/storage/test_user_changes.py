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
