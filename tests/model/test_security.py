"""Roles, the permission matrix, per-tag write roles and the password policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hmi.model.security import (
    DEFAULT_PERMISSIONS,
    PasswordPolicy,
    PasswordRejected,
    Permission,
    Role,
    SecurityConfig,
)
from hmi.model.tags import TagConfig, WritePolicy


def test_default_matrix_keeps_auditors_and_viewers_hands_off() -> None:
    config = SecurityConfig()
    assert set(config.role_names) == {r.value for r in Role}
    assert not config.permissions("viewer")
    assert config.permissions("auditor") == {Permission.VIEW_AUDIT, Permission.EXPORT_AUDIT}
    assert config.can("operator", "write_tag") and not config.can("operator", "shelve_alarm")
    assert config.can("supervisor", Permission.VERIFY_WRITE)
    assert config.permissions("admin") == frozenset(Permission)
    assert not config.can("nobody-knows", "write_tag")


def test_project_overrides_roles_and_adds_new_ones() -> None:
    config = SecurityConfig.model_validate(
        {
            "roles": {
                "admin": ["manage_users", "view_audit"],
                "shift_lead": ["write_tag", "ack_alarm"],
            }
        }
    )
    assert config.permissions("admin") == {Permission.MANAGE_USERS, Permission.VIEW_AUDIT}
    assert config.can("shift_lead", "ack_alarm")
    assert config.permissions("operator") == DEFAULT_PERMISSIONS[Role.OPERATOR]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"roles": {"operator": ["fly"]}}, "write_tag"),
        ({"roles": {"Shift Lead": []}}, "lower-case letters"),
        ({"lockout": {"attempts": 0}}, "greater than or equal to 1"),
        ({"password": {"min_length": 0}}, "greater than or equal to 1"),
    ],
)
def test_bad_security_sections_are_explained(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SecurityConfig.model_validate(raw)


def test_defaults_for_sessions_lockout_and_passwords() -> None:
    config = SecurityConfig()
    assert config.session_lock_minutes == 15
    assert (config.lockout.attempts, config.lockout.minutes) == (5, 15)
    assert (config.password.min_length, config.password.min_classes) == (10, 3)


TAG = TagConfig(
    name="Reactor.SP", address="local://sp", write=WritePolicy(roles=("supervisor", "engineer"))
)


def test_writing_needs_the_permission_and_the_tags_role() -> None:
    config = SecurityConfig()
    assert config.write_refusal("supervisor", TAG) is None
    operator = config.write_refusal("operator", TAG)
    assert operator is not None and "only by supervisor, engineer" in operator
    auditor = config.write_refusal("auditor", TAG)
    assert auditor == "the role 'auditor' may not write tags"
    read_only = TagConfig(name="PV", address="local://pv")
    assert config.write_refusal("admin", read_only) == "PV is read-only"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1!", "it has 7 characters; use at least 10"),
        ("alllowercaseletters", "use at least 3 of"),
        ("jdoe-Secret-2024", "it contains the user name"),
        ("Johnson#Secret9", "it contains the user's name"),
    ],
)
def test_password_policy_says_what_is_wrong(password: str, problem: str) -> None:
    policy = PasswordPolicy()
    problems = policy.check("jdoe", password, full_name="Jane Johnson")
    assert any(problem in p for p in problems), problems
    with pytest.raises(PasswordRejected, match="password not accepted"):
        policy.enforce("jdoe", password, full_name="Jane Johnson")


def test_a_good_password_passes() -> None:
    assert PasswordPolicy().check("jdoe", "Correct-Horse-42", full_name="Jane Doe") == []
    assert "add upper-case letters or digits" in PasswordPolicy().check("x", "abcdefghij!")[0]
