"""Ask the directory whether a user's password is right and which groups give which role.

ldap3 (pure Python, no C library to match on the station). One connection per question, closed
after it: a bind as the user (``user_dn``) or a search by the service account then a bind as
the entry found (``search``). TLS always verifies the server's certificate and name, against
``ca`` or the system's CAs. Group membership: the LDAP compare operation on each mapped group
(the server matches the DN, however the group spells it, and a group of 100,000 members costs
the same as one of ten), or the user entry's ``memberOf`` values, normalised. Blocking: the
sign-in runs it on a thread of its own (``asyncio.to_thread``), never on the audit worker.
"""

from __future__ import annotations

import logging
import math
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hmi.model.directory import (
    PLACEHOLDER,
    DirectoryConfig,
    escape_dn_value,
    escape_filter_value,
    normalise_dn,
)
from hmi.model.errors import HmiError

if TYPE_CHECKING:  # ldap3 is imported when a directory is asked, not by every station
    from ldap3 import Connection, Server

log = logging.getLogger(__name__)

__all__ = ["Directory", "DirectoryUnreachable", "Outcome", "Verdict"]

_INVALID_CREDENTIALS = 49
_COMPARE_TRUE, _COMPARE_FALSE, _NO_SUCH_ATTRIBUTE, _NO_SUCH_OBJECT = 6, 5, 16, 32


class DirectoryUnreachable(HmiError):
    """The directory did not answer, or not as a directory we trust (TLS, service account)."""


class Outcome(StrEnum):
    GRANTED = "granted"
    UNKNOWN_USER = "not in the directory"
    BAD_PASSWORD = "wrong password"
    NO_ROLE = "in no group mapped to a role"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the directory said about one sign-in, and why (``notes``, for ``hmi login-test``
    and the audit record)."""

    user_id: str
    outcome: Outcome
    dn: str = ""
    full_name: str = ""
    role: str | None = None
    groups: tuple[str, ...] = ()  # the mapped groups the user is in, in the mapping's order
    notes: tuple[str, ...] = field(default=())
    searched: bool = False  # the entry was found by a search: the user exists

    @property
    def detail(self) -> str:
        return "; ".join((self.outcome.value, *self.notes))


class Directory:
    def __init__(
        self,
        config: DirectoryConfig,
        *,
        folder: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        parts = urlsplit(config.url)
        self._host = parts.hostname or ""
        self._port = parts.port or (636 if config.scheme == "ldaps" else 389)
        ca = config.ca
        self._ca = None if ca is None else str((folder or Path.cwd()) / ca)
        self._environ = os.environ if environ is None else environ

    @property
    def url(self) -> str:
        return self.config.url

    def is_local(self, user_id: str) -> bool:
        return self.config.is_local(user_id)

    # -- connections ---------------------------------------------------------------------------

    def _server(self) -> Server:
        from ldap3 import NONE, Server, Tls

        tls = None
        if self.config.scheme == "ldaps" or self.config.start_tls:
            if self._ca is not None and not Path(self._ca).is_file():
                raise DirectoryUnreachable(f"CA file {self._ca} (security.directory.ca) not found")
            tls = Tls(
                validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT,
                ca_certs_file=self._ca,
            )  # fmt: skip
        return Server(
            self._host, port=self._port, use_ssl=self.config.scheme == "ldaps", tls=tls,
            get_info=NONE, connect_timeout=self.config.timeout_s,
        )  # fmt: skip

    def _bind(self, dn: str, password: str) -> Connection | None:
        """A connection bound as ``dn``; None if the directory refuses the password.
        ``DirectoryUnreachable`` if it does not answer or TLS fails."""
        from ldap3 import SIMPLE, Connection
        from ldap3.core.exceptions import LDAPException

        connection = Connection(
            self._server(), user=dn, password=password, authentication=SIMPLE,
            receive_timeout=math.ceil(self.config.timeout_s), read_only=True, raise_exceptions=False,
        )  # fmt: skip
        try:
            connection.open()
            if self.config.start_tls and not connection.start_tls():
                raise DirectoryUnreachable(f"StartTLS refused by {self.url}: {_said(connection)}")
            if connection.bind():
                return connection
        except LDAPException as exc:
            connection.unbind()
            raise DirectoryUnreachable(f"{self.url}: {exc}") from None
        code = connection.result.get("result") if connection.result else None
        said = _said(connection)
        connection.unbind()
        if code == _INVALID_CREDENTIALS:
            return None
        raise DirectoryUnreachable(f"{self.url} refused the bind of {dn}: {said}")

    # -- the question --------------------------------------------------------------------------

    def check(self, user_id: str, password: str) -> Verdict:
        """Whether ``password`` is ``user_id``'s and which role the groups give. Never lets an
        empty password through (an LDAP bind with no password is an anonymous one, RFC 4513
        5.1.2). ``DirectoryUnreachable`` when the directory does not answer."""
        name = user_id.strip()
        if not name or not password:
            return Verdict(name, Outcome.BAD_PASSWORD, notes=("empty user name or password",))
        service = None
        try:
            if self.config.search is not None:
                service, found = self._search(name)
                if isinstance(found, Verdict):
                    return found
                dn, entry_name, member_of = found
            else:
                dn = self.config.user_dn.replace(PLACEHOLDER, escape_dn_value(name))  # type: ignore[union-attr]
            user = self._bind(dn, password)
            if user is None:
                return Verdict(name, Outcome.BAD_PASSWORD, dn, searched=service is not None)
            try:
                if service is None:
                    entry_name, member_of = self._read_entry(user, dn)
                return self._roles(service or user, name, dn, entry_name, member_of)
            finally:
                user.unbind()
        finally:
            if service is not None:
                service.unbind()

    def _search(self, name: str) -> tuple[Connection, Verdict | tuple[str, str, list[str]]]:
        search = self.config.search
        assert search is not None
        password = self._environ.get(search.bind_password_env, "")
        if not password:
            raise DirectoryUnreachable(
                f"the service account's password is not set: environment variable "
                f"{search.bind_password_env} (security.directory.search.bind_password_env)"
            )
        service = self._bind(search.bind_dn, password)
        if service is None:
            raise DirectoryUnreachable(
                f"{self.url} refused the service account {search.bind_dn}: wrong password in "
                f"{search.bind_password_env}"
            )
        query = search.filter.replace(PLACEHOLDER, escape_filter_value(name))
        service.search(
            search.base, query, attributes=self._attributes(), size_limit=2,
            time_limit=int(self.config.timeout_s) or 1,
        )  # fmt: skip
        entries = [e for e in service.response or [] if e.get("type") == "searchResEntry"]
        if not entries:
            return service, Verdict(
                name, Outcome.UNKNOWN_USER, notes=(f"no entry {query} under {search.base}",)
            )
        if len(entries) > 1:
            return service, Verdict(
                name, Outcome.UNKNOWN_USER,
                notes=(f"{query} matches more than one entry under {search.base}; "
                       "the filter must name one user",),
            )  # fmt: skip
        attributes = entries[0].get("attributes", {})
        return service, (
            entries[0]["dn"],
            _first(attributes, self.config.name_attribute),
            _all(attributes, "memberOf"),
        )

    def _attributes(self) -> list[str]:
        wanted = [self.config.name_attribute]
        return [*wanted, "memberOf"] if self.config.member_of else wanted

    def _read_entry(self, connection: Connection, dn: str) -> tuple[str, list[str]]:
        from ldap3 import BASE

        connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=self._attributes())
        entries = [e for e in connection.response or [] if e.get("type") == "searchResEntry"]
        if not entries:
            return "", []
        attributes = entries[0].get("attributes", {})
        return _first(attributes, self.config.name_attribute), _all(attributes, "memberOf")

    def _roles(
        self, connection: Connection, name: str, dn: str, full_name: str, member_of: list[str]
    ) -> Verdict:
        notes: list[str] = []
        groups: list[str] = []
        if self.config.member_of:
            held = set()
            for value in member_of:
                try:
                    held.add(normalise_dn(value))
                except ValueError:
                    notes.append(f"memberOf value {value[:80]!r} is not a DN; ignored")
            groups = [g for g in self.config.roles if normalise_dn(g) in held]
            notes.append(f"memberOf lists {len(member_of)} group(s), {len(groups)} mapped")
        else:
            attribute = self.config.member_attribute
            value = name if attribute.lower() == "memberuid" else dn
            for group in self.config.roles:
                connection.compare(group, attribute, value)
                code = (connection.result or {}).get("result")
                if code == _COMPARE_TRUE:
                    groups.append(group)
                elif code == _NO_SUCH_OBJECT:
                    notes.append(f"group {group} is not in the directory")
                elif code not in (_COMPARE_FALSE, _NO_SUCH_ATTRIBUTE):
                    notes.append(f"compare on {group}: {_said(connection)}")
        if not groups:
            mapped = ", ".join(self.config.roles)
            return Verdict(
                name,
                Outcome.NO_ROLE,
                dn,
                full_name,
                None,
                (),
                (f"not a member of any of: {mapped}", *notes),
                True,
            )
        role = self.config.roles[groups[0]]
        notes.insert(0, f"role {role} from {groups[0]}")
        if len(groups) > 1:
            notes.insert(
                1,
                "also in "
                + ", ".join(f"{g} ({self.config.roles[g]})" for g in groups[1:])
                + "; the first listed in security.directory.roles wins",
            )
        return Verdict(
            name, Outcome.GRANTED, dn, full_name, role, tuple(groups), tuple(notes), True
        )


def _said(connection: Connection) -> str:
    result = connection.result or {}
    return f"{result.get('description', 'no answer')} {result.get('message', '')}".strip()


def _first(attributes: Mapping[str, object], name: str) -> str:
    value = attributes.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _all(attributes: Mapping[str, object], name: str) -> list[str]:
    value = attributes.get(name)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]
