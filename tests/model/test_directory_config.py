"""``security.directory``: what a project may write, the exact errors for what it may not, and
the escaping that keeps a typed name a value (RFC 4515 filters, RFC 4514 DNs)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ldap3.utils.dn import parse_dn
from pydantic import ValidationError

from hmi.model.directory import (
    DirectoryConfig,
    _unescape,
    escape_dn_value,
    escape_filter_value,
    normalise_dn,
)
from hmi.model.security import SecurityConfig

GOOD: dict[str, Any] = {
    "url": "ldaps://dc1.example.org",
    "user_dn": "uid={user},ou=people,dc=example,dc=org",
    "roles": {"cn=hmi-operators,ou=groups,dc=example,dc=org": "operator"},
}


def directory(**changes: Any) -> DirectoryConfig:
    data = {**GOOD, **changes}
    return DirectoryConfig.model_validate({k: v for k, v in data.items() if v is not None})


def test_a_good_section_and_local_accounts_lower_cased() -> None:
    config = directory(local_accounts=["Boss "])
    assert config.is_local("BOSS") and not config.is_local("alice") and config.scheme == "ldaps"
    assert directory(url="ldap://dc1:3890", start_tls=True).scheme == "ldap"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"url": "ldap://dc1"}, "sends passwords in clear: use ldaps://, or set start_tls"),
        ({"url": "http://dc1"}, "use ldaps://host[:port] or ldap://host[:port]"),
        ({"url": "ldaps://dc1/dc=example"}, "only scheme, host and port"),
        ({"url": "ldaps://dc1", "start_tls": True}, "start_tls is for ldap:// URLs"),
        ({"user_dn": None}, "give either user_dn"),
        ({"user_dn": "uid=x,dc=org"}, "write {user} once"),
        ({"user_dn": "uid={user},dc={org}"}, "write {user} once"),
        ({"user_dn": "not a dn {user}"}, "is not a distinguished name"),
        ({"roles": {}}, "at least 1 item"),
        ({"roles": {"cn=A,dc=x": "operator", "CN=a, DC=X": "viewer"}}, "is listed twice"),
        ({"roles": {"garbage": "operator"}}, "is not a distinguished name"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"search": {"base": "dc=x", "bind_dn": "cn=s,dc=x", "bind_password_env": "P"}},
         "not both"),
    ],
)  # fmt: skip
def test_bad_sections_say_what_is_wrong(changes: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(error)):
        directory(**changes)


def test_search_filters_and_plain_only_when_asked() -> None:
    search = {"base": "ou=people,dc=x", "bind_dn": "cn=svc,dc=x", "bind_password_env": "P"}
    assert directory(user_dn=None, search=search).search is not None
    with pytest.raises(ValidationError, match=re.escape("write {user} once")):
        directory(user_dn=None, search={**search, "filter": "(uid=alice)"})
    with pytest.raises(ValidationError, match="in parentheses"):
        directory(user_dn=None, search={**search, "filter": "uid={user}"})
    assert directory(url="ldap://dc1", allow_plain=True).allow_plain


def test_roles_must_be_station_roles() -> None:
    roles = {"cn=ops,dc=x": "shift_lead"}
    with pytest.raises(ValidationError, match="unknown role 'shift_lead'; roles are: viewer"):
        SecurityConfig.model_validate({"directory": {**GOOD, "roles": roles}})
    config = SecurityConfig.model_validate(
        {"roles": {"shift_lead": ["write_tag"]}, "directory": {**GOOD, "roles": roles}}
    )
    assert config.directory is not None


def test_filter_escaping() -> None:
    assert escape_filter_value("*)(uid=*") == r"\2a\29\28uid=\2a"
    assert escape_filter_value("a\\b\0") == r"a\5cb\00"
    assert escape_filter_value("Müller") == "Müller"


def test_dn_escaping_and_normalising() -> None:
    assert escape_dn_value(' #a,b+c=d;<e>"f\\ ') == r"\ \#a\,b\+c\=d\;\<e\>\"f\\\ "
    assert normalise_dn("CN=Müller\\2C Hans , OU=People,DC=Example") == normalise_dn(
        "cn=müller\\, hans,ou=people,dc=example"
    )


@given(st.text(min_size=1, max_size=40))
def test_an_escaped_name_stays_one_value(name: str) -> None:
    escaped = escape_filter_value(name)
    assert not re.search(r"[*()\0]", escaped)
    assert all(re.match(r"[0-9a-f]{2}", escaped[m.end() :]) for m in re.finditer(r"\\", escaped))
    parts = parse_dn(f"uid={escape_dn_value(name)},dc=example", escape=False, strip=False)
    assert len(parts) == 2 and _unescape(parts[0][1]) == name
