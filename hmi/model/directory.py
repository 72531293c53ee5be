"""The ``security.directory:`` section: sign-in against LDAP / Active Directory, and the
escaping that keeps a typed user name a value (RFC 4515 filters, RFC 4514 DNs).

A project names one directory: LDAPS, or LDAP with StartTLS (plain LDAP only when
``allow_plain: true`` says so), either a DN template to bind as (``user_dn``) or a search by a
service account (``search``), and which groups give which station role (``roles``, first listed
group the user is in wins). Accounts named in ``local_accounts`` sign in against the station's
own users, always: the break-glass accounts, the only ones that work while the directory does
not answer.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from hmi.model.tags import Strict

__all__ = [
    "DirectoryConfig",
    "DirectorySearch",
    "escape_dn_value",
    "escape_filter_value",
    "normalise_dn",
]

PLACEHOLDER = "{user}"


def escape_filter_value(value: str) -> str:
    """``value`` as an assertion value inside a search filter (RFC 4515 section 3): ``*``,
    ``(``, ``)``, ``\\`` and NUL become ``\\2a``, ``\\28``, ``\\29``, ``\\5c``, ``\\00``."""
    table = {"\\": r"\5c", "*": r"\2a", "(": r"\28", ")": r"\29", "\0": r"\00"}
    return "".join(table.get(char, char) for char in value)


def escape_dn_value(value: str) -> str:
    """``value`` as an attribute value of one RDN (RFC 4514 section 2.4): the specials
    ``" + , ; < > \\ = #`` get a backslash (``#`` everywhere: ldap3 insists), so do a leading
    and a trailing space, and NUL becomes ``\\00``."""
    out = []
    for i, char in enumerate(value):
        if char == "\0":
            out.append(r"\00")
        elif (
            char in '"+,;<>\\=#'
            or (char == " " and i == 0)
            or (char == " " and i == len(value) - 1)
        ):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _unescape(value: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 2 < len(value) + 1 and _is_hex(value[i + 1 : i + 3]):
            raw.append(int(value[i + 1 : i + 3], 16))
            i += 3
        elif char == "\\" and i + 1 < len(value):
            raw.extend(value[i + 1].encode())
            i += 2
        else:
            raw.extend(char.encode())
            i += 1
    return raw.decode("utf-8", errors="replace")


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)


def normalise_dn(dn: str) -> str:
    """One spelling of ``dn`` for comparing DNs the directory sends with the project's:
    attribute types and values case-folded, spaces around separators dropped, escapes
    resolved and written again one way. ``ValueError`` if it is not a DN."""
    from ldap3.core.exceptions import LDAPInvalidDnError  # only a project with a directory
    from ldap3.utils.dn import parse_dn

    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except (LDAPInvalidDnError, IndexError) as exc:
        raise ValueError(f"{dn!r} is not a distinguished name ({exc})") from None
    text = []
    for attribute, value, separator in parts:
        text.append(
            f"{attribute.strip().casefold()}={escape_dn_value(_unescape(value).casefold())}"
        )
        text.append("+" if separator == "+" else ",")
    return "".join(text[:-1])


class DirectorySearch(Strict):
    """Find the user with a service account, then bind as the entry found."""

    base: str = Field(description="where users are, e.g. ou=people,dc=example,dc=org")
    filter: str = Field(
        default="(uid={user})",
        description="{user} is the name typed, escaped (RFC 4515); AD: (sAMAccountName={user})",
    )
    bind_dn: str = Field(description="the service account's DN")
    bind_password_env: str = Field(
        min_length=1, description="environment variable holding the service account's password"
    )

    @field_validator("base", "bind_dn")
    @classmethod
    def _dn(cls, dn: str) -> str:
        normalise_dn(dn)
        return dn

    @field_validator("filter")
    @classmethod
    def _filter(cls, text: str) -> str:
        if PLACEHOLDER not in text or text.replace(PLACEHOLDER, "").count("{"):
            raise ValueError(
                f"search filter {text!r}: write {PLACEHOLDER} once where the name goes"
            )
        if not (text.startswith("(") and text.endswith(")")) or text.count("(") != text.count(")"):
            raise ValueError(
                f"search filter {text!r}: a filter is in parentheses, e.g. (uid={{user}})"
            )
        return text


class DirectoryConfig(Strict):
    url: str = Field(description="ldaps://host[:port], or ldap://host[:port] with start_tls")
    start_tls: bool = Field(default=False, description="StartTLS on an ldap:// URL")
    allow_plain: bool = Field(
        default=False, description="ldap:// without TLS: passwords cross the network in clear"
    )
    ca: str | None = Field(
        default=None,
        description="CA certificates (PEM) the server's certificate must chain to, relative to "
        "the project folder; default: the system's",
    )
    timeout_s: float = Field(default=5, gt=0, le=60, description="connect and answer timeout")
    user_dn: str | None = Field(
        default=None, description="DN to bind as, {user} escaped (RFC 4514): uid={user},ou=..."
    )
    search: DirectorySearch | None = None
    roles: dict[str, str] = Field(
        min_length=1,
        description="group DN: station role; a user in several gets the first listed",
    )
    member_attribute: str = Field(
        default="member",
        description="compared on each mapped group: member or uniqueMember (the user's DN), "
        "memberUid (posixGroup: the user name)",
    )
    member_of: bool = Field(
        default=False, description="read the user entry's memberOf instead of comparing groups"
    )
    name_attribute: str = Field(default="cn", description="the user's full name (on records)")
    local_accounts: tuple[str, ...] = Field(
        default=(), description="station accounts (break-glass): signed in locally, always"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError(
                f"directory url {url!r}: use ldaps://host[:port] or ldap://host[:port]"
            )
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"directory url {url!r}: only scheme, host and port (no base DN)")
        parts.port  # noqa: B018  (ValueError for a port that is not a number)
        return url

    @field_validator("roles")
    @classmethod
    def _group_dns(cls, roles: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for dn in roles:
            key = normalise_dn(dn)
            if key in seen:
                raise ValueError(f"group {dn!r} is listed twice (also as {seen[key]!r})")
            seen[key] = dn
        return roles

    @field_validator("local_accounts")
    @classmethod
    def _lower(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name.strip().lower() for name in names)

    @model_validator(mode="after")
    def _consistent(self) -> DirectoryConfig:
        if self.scheme == "ldaps" and self.start_tls:
            raise ValueError("directory: start_tls is for ldap:// URLs; ldaps:// is TLS already")
        if self.scheme == "ldap" and not self.start_tls and not self.allow_plain:
            raise ValueError(
                f"directory url {self.url!r} sends passwords in clear: use ldaps://, or set "
                "start_tls: true, or (test benches only) allow_plain: true"
            )
        if (self.user_dn is None) == (self.search is None):
            raise ValueError(
                "directory: give either user_dn (bind as the user) or search, not both"
            )
        if self.user_dn is not None:
            rest = self.user_dn.replace(PLACEHOLDER, "")
            if PLACEHOLDER not in self.user_dn or "{" in rest or "}" in rest:
                raise ValueError(
                    f"directory user_dn {self.user_dn!r}: write {PLACEHOLDER} once where the "
                    "name goes, e.g. uid={user},ou=people,dc=example,dc=org"
                )
            normalise_dn(self.user_dn.replace(PLACEHOLDER, "x"))
        return self

    @property
    def scheme(self) -> Literal["ldap", "ldaps"]:
        return "ldaps" if self.url.startswith("ldaps:") else "ldap"

    def is_local(self, user_id: str) -> bool:
        return user_id.strip().lower() in self.local_accounts

    def check_roles(self, known: tuple[str, ...]) -> None:
        """``ValueError`` naming a group mapped to a role the station does not have."""
        for dn, role in self.roles.items():
            if role not in known:
                raise ValueError(
                    f"directory role for {dn!r}: unknown role {role!r}; roles are: "
                    + ", ".join(known)
                )
