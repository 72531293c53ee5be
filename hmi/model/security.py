"""Roles, permissions, lockout and password rules: the ``security:`` section of a project.

Six roles ship with a default permission matrix; a project may change the permissions of any
role or add roles of its own. Who may write a particular tag is decided twice: the role must
hold ``write_tag`` AND be listed in the tag's ``write.roles``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from hmi.model.directory import DirectoryConfig
from hmi.model.errors import HmiError
from hmi.model.tags import Strict, TagConfig

__all__ = [
    "DEFAULT_PERMISSIONS",
    "LockoutPolicy",
    "PasswordPolicy",
    "PasswordRejected",
    "Permission",
    "Role",
    "SecurityConfig",
]


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ENGINEER = "engineer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    WRITE_TAG = "write_tag"
    VERIFY_WRITE = "verify_write"  # act as the second person on a "verify" write
    ACK_ALARM = "ack_alarm"
    SHELVE_ALARM = "shelve_alarm"  # shelve, unshelve, out of service
    COMMENT_ALARM = "comment_alarm"
    EDIT_CONFIG = "edit_config"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    EXPORT_AUDIT = "export_audit"


P = Permission
DEFAULT_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    Role.VIEWER: frozenset(),
    Role.OPERATOR: frozenset({P.WRITE_TAG, P.ACK_ALARM, P.COMMENT_ALARM}),
    Role.SUPERVISOR: frozenset(
        {P.WRITE_TAG, P.VERIFY_WRITE, P.ACK_ALARM, P.SHELVE_ALARM, P.COMMENT_ALARM, P.VIEW_AUDIT}
    ),
    Role.ENGINEER: frozenset(
        {P.WRITE_TAG, P.ACK_ALARM, P.SHELVE_ALARM, P.COMMENT_ALARM, P.EDIT_CONFIG, P.VIEW_AUDIT}
    ),
    Role.AUDITOR: frozenset({P.VIEW_AUDIT, P.EXPORT_AUDIT}),
    Role.ADMIN: frozenset(Permission),
}
"""Auditors read and export but never act; admins may do everything. A site that wants user
management kept apart from operation gives ``admin`` a shorter list in ``security.roles``."""


class PasswordRejected(HmiError, ValueError):
    """A new password that breaks the site's password policy; ``problems`` lists each rule."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("password not accepted: " + "; ".join(problems))


_CLASSES = ("lower-case letters", "upper-case letters", "digits", "other characters")


def _classes(password: str) -> set[str]:
    found = set()
    for char in password:
        if char.islower():
            found.add(_CLASSES[0])
        elif char.isupper():
            found.add(_CLASSES[1])
        elif char.isdigit():
            found.add(_CLASSES[2])
        else:
            found.add(_CLASSES[3])
    return found


class PasswordPolicy(Strict):
    min_length: int = Field(default=10, ge=1, le=128)
    min_classes: int = Field(
        default=3, ge=1, le=4, description="of lower-case, upper-case, digits, other"
    )
    max_age_days: int = Field(default=0, ge=0, description="0: passwords do not expire")

    def check(self, user_id: str, password: str, *, full_name: str = "") -> list[str]:
        """Every rule the password breaks, as a sentence for the person choosing it; empty if
        it is acceptable."""
        problems = []
        if len(password) < self.min_length:
            problems.append(f"it has {len(password)} characters; use at least {self.min_length}")
        found = _classes(password)
        if len(found) < self.min_classes:
            missing = [c for c in _CLASSES if c not in found]
            problems.append(
                f"it mixes {len(found)} kind(s) of character; use at least {self.min_classes} "
                f"of: lower-case letters, upper-case letters, digits, other characters "
                f"(add {' or '.join(missing)})"
            )
        lowered = password.casefold()
        if user_id and user_id.casefold() in lowered:
            problems.append("it contains the user name")
        names = [part for part in full_name.casefold().split() if len(part) >= 3]
        if any(part in lowered for part in names):
            problems.append("it contains the user's name")
        return problems

    def enforce(self, user_id: str, password: str, *, full_name: str = "") -> None:
        """Raise ``PasswordRejected`` listing every broken rule."""
        problems = self.check(user_id, password, full_name=full_name)
        if problems:
            raise PasswordRejected(problems)


class LockoutPolicy(Strict):
    attempts: int = Field(default=5, ge=1, description="failed attempts in a row before lockout")
    minutes: float = Field(default=15, gt=0, description="how long a locked-out user waits")


class SecurityConfig(Strict):
    """The ``security:`` section. ``roles`` maps a role to its permissions; roles not named
    keep their defaults, and new role names add roles."""

    roles: dict[str, tuple[Permission, ...]] = {}
    session_lock_minutes: float = Field(
        default=15, ge=0, description="lock the station after this much inactivity; 0: never"
    )
    lockout: LockoutPolicy = LockoutPolicy()
    password: PasswordPolicy = PasswordPolicy()
    signature_minutes: float = Field(
        default=2, gt=0, description="how long a signature given in a dialog stays usable"
    )
    audit_key_env: str | None = Field(
        default=None,
        description="environment variable holding the site's audit HMAC key (unset: SHA-256)",
    )
    directory: DirectoryConfig | None = Field(
        default=None, description="sign-in against LDAP / Active Directory; docs/it-integration.md"
    )

    @field_validator("roles")
    @classmethod
    def _role_names(
        cls, roles: dict[str, tuple[Permission, ...]]
    ) -> dict[str, tuple[Permission, ...]]:
        for name in roles:
            if not name or not name.replace("_", "").isalnum() or name != name.lower():
                raise ValueError(
                    f"role name {name!r}: use lower-case letters, digits and _ (e.g. shift_lead)"
                )
        return roles

    @model_validator(mode="after")
    def _directory_roles(self) -> SecurityConfig:
        if self.directory is not None:
            self.directory.check_roles(self.role_names)
        return self

    def matrix(self) -> dict[str, frozenset[Permission]]:
        """Every role and its permissions: the defaults with the project's changes."""
        merged = dict(DEFAULT_PERMISSIONS)
        merged.update({name: frozenset(perms) for name, perms in self.roles.items()})
        return merged

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(self.matrix())

    def permissions(self, role: str) -> frozenset[Permission]:
        return self.matrix().get(role, frozenset())

    def can(self, role: str, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions(role)

    def write_refusal(self, role: str, tag: TagConfig) -> str | None:
        """Why ``role`` may not write ``tag`` (None: it may). Needs ``write_tag`` and a place
        in the tag's ``write.roles``."""
        if tag.write is None:
            return f"{tag.name} is read-only"
        if not self.can(role, Permission.WRITE_TAG):
            return f"the role {role!r} may not write tags"
        if role not in tag.write.roles:
            return (
                f"{tag.name} may be written only by {', '.join(tag.write.roles)}; "
                f"you are logged in as {role}"
            )
        return None
