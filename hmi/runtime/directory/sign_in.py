"""A sign-in by a directory user, from the row's gate to the row brought up to date.

Order: the station's row of the user (if any) is checked first, so a locked-out or tampered
row never reaches the directory; then the directory is asked on a thread of its own; a wrong
password counts on the row (lockout as for local users); a right password with no mapped group
is refused; otherwise the row takes the name and role the directory gave. Every refusal is an
``AuthenticationFailed`` the session records like a local one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from hmi.runtime.directory.client import Directory, DirectoryUnreachable, Outcome
from hmi.storage.shared.directory_accounts import DirectoryUserStore
from hmi.storage.users import AuthenticationFailed, AuthFailure, User

log = logging.getLogger(__name__)

__all__ = ["DirectorySignIn"]

T = TypeVar("T")


class Worker(Protocol):
    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...


class DirectorySignIn:
    def __init__(self, directory: Directory, users: DirectoryUserStore, worker: Worker) -> None:
        self.directory = directory
        self._users = users
        self._worker = worker

    def source(self, user_id: str) -> str:
        """Where ``user_id``'s identity is checked, for the records: local or the directory."""
        return (
            "local account"
            if self.directory.is_local(user_id)
            else f"directory {self.directory.url}"
        )

    async def authenticate(self, user_id: str, password: str, origin: str) -> User:
        """``user_id`` signed in (``source`` says where), else ``AuthenticationFailed``."""
        if self.directory.is_local(user_id):
            return await self._worker.call(
                self._users.authenticate, user_id, password, origin=origin
            )
        await self._worker.call(self._users.directory_gate, user_id)
        try:
            verdict = await asyncio.to_thread(self.directory.check, user_id, password)
        except DirectoryUnreachable as exc:
            log.warning("directory sign-in of %s: %s", user_id, exc)
            raise AuthenticationFailed(
                user_id.strip().lower(), AuthFailure.DIRECTORY_DOWN, problem=str(exc)
            ) from None
        if verdict.outcome is Outcome.UNKNOWN_USER:
            raise AuthenticationFailed(
                user_id.strip().lower(), AuthFailure.UNKNOWN_USER, problem=verdict.detail
            )
        if verdict.outcome is Outcome.BAD_PASSWORD:
            failure = await self._worker.call(self._users.directory_failure, user_id, origin)
            if (
                not failure.problem
                and not failure.recorded
                and failure.reason is AuthFailure.BAD_PASSWORD
            ):
                failure.problem = f"directory said: {verdict.detail}, attempt {failure.attempts}"
            raise failure
        if verdict.outcome is Outcome.NO_ROLE or verdict.role is None:
            raise AuthenticationFailed(
                user_id.strip().lower(), AuthFailure.NO_ROLE, problem=verdict.detail
            )
        user = await self._worker.call(
            self._users.directory_sign_in, user_id, verdict.full_name, verdict.role, origin
        )
        return replace(user, source="directory")
