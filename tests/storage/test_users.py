"""UserStore: argon2id hashes, lockout, disabled users, password policy; and the admin
functions the CLI calls, which record every change in the audit trail, keyed or not, and
refuse a key that cannot extend the chain before writing anything."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from hmi.model.audit.record import AuditAction
from hmi.model.security import LockoutPolicy, PasswordRejected, SecurityConfig
from hmi.storage import admin, schema
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.db import StorageError, make_engine
from hmi.storage.users import SIGN_IN_REFUSED, AuthenticationFailed, AuthFailure, UserStore
from tests.storage.conftest import written

GOOD = "Correct-Horse-42"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users(db_url: str, clock: Clock, fast_hasher: PasswordHasher) -> Iterator[UserStore]:
    engine = make_engine(db_url)
    security = SecurityConfig(lockout=LockoutPolicy(attempts=3, minutes=10))
    yield UserStore(engine, security=security, hasher=fast_hasher, clock=clock)
    engine.dispose()


def test_passwords_are_stored_as_argon2id(users: UserStore) -> None:
    assert users.needs_admin()
    users.add("J.Doe", "Jane Doe", "operator", GOOD)
    assert users.needs_admin()  # an operator cannot manage users
    users.add("root", "Rita Root", "admin", "Admin-Pass-2024")
    assert not users.needs_admin()
    with users.engine.connect() as conn:
        stored = conn.execute(select(schema.users.c.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") for h in stored)
    assert GOOD not in "".join(stored)
    user = users.authenticate("j.doe", GOOD)  # user ids ignore case
    assert (user.user_id, user.full_name, user.role) == ("j.doe", "Jane Doe", "operator")
    assert user.must_change_password


def test_default_hasher_is_argon2id(sqlite_url: str) -> None:
    store = UserStore(make_engine(sqlite_url))
    store.add("admin", "Ada Admin", "admin", GOOD)
    assert store.authenticate("admin", GOOD).role == "admin"


def test_wrong_passwords_lock_the_user_out_for_a_while(users: UserStore, clock: Clock) -> None:
    users.add("jdoe", "Jane Doe", "operator", GOOD)
    for attempt in (1, 2):
        with pytest.raises(AuthenticationFailed) as caught:
            users.authenticate("jdoe", "wrong")
        assert caught.value.reason is AuthFailure.BAD_PASSWORD
        assert caught.value.attempts == attempt
        assert str(caught.value) == SIGN_IN_REFUSED
    with pytest.raises(AuthenticationFailed) as caught:
        users.authenticate("jdoe", "wrong again")
    assert caught.value.lockout_started and caught.value.reason is AuthFailure.LOCKED_OUT
    assert str(caught.value) == SIGN_IN_REFUSED  # the prompt does not say who is locked out
    assert "locked until" in caught.value.detail  # the audit trail does
    with pytest.raises(AuthenticationFailed) as caught:  # even the right password now
        users.authenticate("jdoe", GOOD)
    assert caught.value.reason is AuthFailure.LOCKED_OUT and not caught.value.lockout_started
    clock.now += 9 * 60
    with pytest.raises(AuthenticationFailed):
        users.authenticate("jdoe", GOOD)
    clock.now += 61
    assert users.authenticate("jdoe", GOOD).failed_attempts == 0
    with pytest.raises(AuthenticationFailed) as caught:  # a fresh count after the lockout
        users.authenticate("jdoe", "wrong")
    assert caught.value.attempts == 1


def test_a_success_resets_the_count_and_admins_can_unlock(users: UserStore) -> None:
    users.add("jdoe", "Jane Doe", "operator", GOOD)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            users.authenticate("jdoe", "wrong")
    users.authenticate("jdoe", GOOD)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            users.authenticate("jdoe", "wrong")
    assert users.get("jdoe").locked_until is not None  # type: ignore[union-attr]
    users.unlock("jdoe")
    assert users.authenticate("jdoe", GOOD).locked_until is None


def test_disabled_users_are_refused_but_only_told_so_with_the_right_password(
    users: UserStore,
) -> None:
    users.add("jdoe", "Jane Doe", "operator", GOOD)
    users.disable("jdoe")
    with pytest.raises(AuthenticationFailed) as wrong:
        users.authenticate("jdoe", "wrong")
    assert wrong.value.reason is AuthFailure.BAD_PASSWORD
    with pytest.raises(AuthenticationFailed) as right:
        users.authenticate("jdoe", GOOD)
    assert right.value.reason is AuthFailure.DISABLED and "disabled" in str(right.value)
    users.enable("jdoe")
    assert users.authenticate("jdoe", GOOD).user_id == "jdoe"


def test_unknown_users_get_the_same_answer(users: UserStore) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        users.authenticate("nobody", GOOD)
    assert caught.value.reason is AuthFailure.UNKNOWN_USER
    assert str(caught.value) == SIGN_IN_REFUSED


def test_password_policy_and_changes(users: UserStore) -> None:
    with pytest.raises(PasswordRejected, match="use at least 10"):
        users.add("jdoe", "Jane Doe", "operator", "Sh0rt!")
    with pytest.raises(PasswordRejected, match="contains the user name"):
        users.add("jdoe", "Jane Doe", "operator", "jdoe-Password-1")
    users.add("jdoe", "Jane Doe", "operator", GOOD)
    with pytest.raises(AuthenticationFailed):
        users.passwd("jdoe", "Another-Good-43", old_password="not it")
    with pytest.raises(PasswordRejected, match="current password"):
        users.passwd("jdoe", GOOD, old_password=GOOD)
    changed = users.passwd("jdoe", "Another-Good-43", old_password=GOOD)
    assert not changed.must_change_password
    assert users.authenticate("jdoe", "Another-Good-43").user_id == "jdoe"


def test_bad_users_and_roles_are_explained(users: UserStore) -> None:
    with pytest.raises(StorageError, match="unknown role 'pilot'"):
        users.add("jdoe", "Jane Doe", "pilot", GOOD)
    with pytest.raises(StorageError, match="letters, digits"):
        users.add("j doe", "Jane Doe", "operator", GOOD)
    users.add("jdoe", "Jane Doe", "operator", GOOD)
    with pytest.raises(StorageError, match="exists already"):
        users.add("JDOE", "Jane Doe", "operator", GOOD)
    assert users.change("jdoe", role="supervisor").role == "supervisor"
    assert [u.user_id for u in users.list()] == ["jdoe"]


def test_admin_functions_record_every_change(db_url: str) -> None:
    assert admin.needs_admin(db_url)
    admin.add_user("root", "Rita Root", "admin", "Admin-Pass-2024", url=db_url)
    admin.change_user("root", full_name="Rita Rootes", url=db_url)
    admin.set_password("root", "Admin-Pass-2025", url=db_url)
    admin.disable_user("root", url=db_url)
    admin.enable_user("root", url=db_url)
    admin.unlock_user("root", url=db_url)
    assert not admin.needs_admin(db_url)
    assert [u.full_name for u in admin.list_users(db_url)] == ["Rita Rootes"]
    store = AuditStore(make_engine(db_url))
    records = list(store.iter_records(AuditQuery()))
    assert [r.action for r in records] == [
        AuditAction.USER_ADD, AuditAction.USER_CHANGE, AuditAction.PASSWORD_CHANGE,
        AuditAction.USER_DISABLE, AuditAction.USER_ENABLE, AuditAction.USER_UNLOCK,
    ]  # fmt: skip
    change = records[1]
    assert change.old_value == "name=Rita Root, role=admin"
    assert change.new_value == "name=Rita Rootes, role=admin"
    assert all(r.target_address == "user:root" and r.user_id.startswith("os:") for r in records)
    assert all("Admin-Pass" not in str(r.as_dict()) for r in records)
    result = admin.verify_audit(db_url)
    assert result.ok and result.count == 6
    assert store.page(limit=1).records[0].action is AuditAction.AUDIT_VERIFY
    store.close()


KEY = b"Riverside site key 2f9c"


def test_admin_functions_extend_a_keyed_chain(db_url: str) -> None:
    admin.add_user("root", "Rita Root", "admin", "Admin-Pass-2024", url=db_url, key=KEY)
    admin.change_user("root", full_name="Rita Rootes", url=db_url, key=KEY)
    admin.set_password("root", "Admin-Pass-2025", url=db_url, key=KEY)
    admin.disable_user("root", url=db_url, key=KEY)
    admin.enable_user("root", url=db_url, key=KEY)
    admin.unlock_user("root", url=db_url, key=KEY)
    store = AuditStore(make_engine(db_url), key=KEY)
    try:
        assert store.head().scheme == "hmac-sha256"
        assert store.verify().ok and store.verify().count == 6
    finally:
        store.close()
    result = admin.verify_audit(db_url, key=KEY)
    assert result.ok and result.count == 6


def _user_changes(key: bytes | None, url: str) -> list[Callable[[], object]]:
    return [
        lambda: admin.add_user("bob", "Bob Builder", "operator", GOOD, url=url, key=key),
        lambda: admin.change_user("root", role="engineer", url=url, key=key),
        lambda: admin.set_password("root", "Admin-Pass-2025", url=url, key=key),
        lambda: admin.disable_user("root", url=url, key=key),
        lambda: admin.enable_user("root", url=url, key=key),
        lambda: admin.unlock_user("root", url=url, key=key),
    ]


def test_a_keyed_chain_refuses_a_missing_or_wrong_key_and_nothing_is_written(
    db_url: str,
) -> None:
    admin.add_user("root", "Rita Root", "admin", "Admin-Pass-2024", url=db_url, key=KEY)
    before = written(db_url)
    for key in (None, b"not the site key"):
        for change in _user_changes(key, db_url):
            with pytest.raises(admin.AuditKeyError) as refused:
                change()
            assert (refused.value.keyed, refused.value.given) == (True, key is not None)
            assert str(refused.value).endswith("nothing was written")
            assert ("is keyed (HMAC-SHA256) and no audit key was given" in str(refused.value)) == (
                key is None
            )
        with pytest.raises(admin.AuditKeyError, match=r"keyed|not the one"):
            admin.verify_audit(db_url, key=key)  # a wrong key would add an unverifiable record
    assert written(db_url) == before
    assert admin.verify_audit(db_url, key=KEY).ok


def test_an_unkeyed_chain_refuses_a_key_and_is_unchanged_without_one(db_url: str) -> None:
    admin.add_user("root", "Rita Root", "admin", "Admin-Pass-2024", url=db_url)
    before = written(db_url)
    for change in _user_changes(KEY, db_url):
        with pytest.raises(admin.AuditKeyError, match="started without a site key") as refused:
            change()
        assert (refused.value.keyed, refused.value.given) == (False, True)
    assert written(db_url) == before
    for change in _user_changes(None, db_url):
        change()
    result = admin.verify_audit(db_url)
    assert result.ok and result.count == 7


def test_one_altered_record_does_not_lock_out_the_right_key(sqlite_url: str) -> None:
    """The key is tried on the first record and the newest ones: an altered head record
    still lets the administrators work (and verify names it), a wrong key still cannot."""
    admin.add_user("root", "Rita Root", "admin", "Admin-Pass-2024", url=sqlite_url, key=KEY)
    admin.disable_user("root", url=sqlite_url, key=KEY)
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:  # as someone with the file would
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_update"))
        conn.execute(text("UPDATE audit SET target_address = 'user:x' WHERE sequence = 2"))
    engine.dispose()
    with pytest.raises(admin.AuditKeyError, match="not the one"):
        admin.enable_user("root", url=sqlite_url, key=b"not the site key")
    assert not admin.enable_user("root", url=sqlite_url, key=KEY).disabled
    result = admin.verify_audit(sqlite_url, key=KEY)
    assert not result.ok and result.first_problem is not None
    assert result.first_problem.sequence == 2
