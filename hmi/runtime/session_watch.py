"""End the open session when its user is disabled, locked out, removed or given another role
on any station (issue 21, item 3), within ``poll_s`` at most and usually at once.

Two paths, one check: PostgreSQL announces each audited user change
(``hmi.storage.shared.user_watch.UserChangeListener``), which wakes the check for that user at
once; a poll every ``poll_s`` (1 s) runs the same check in case the announcement was missed
(listener reconnecting, a row changed by the database's owner, SQLite shared by nobody). The
check reads the user's row on a thread of its own, never on the audit trail's worker (a
database that is away must not stall the records) nor on the UI loop. The session ends
through ``SessionService.end``: a ``logout`` record with the reason, and the station's
message line says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hmi.runtime.session import Session, SessionService
from hmi.runtime.watch import ChannelWatch
from hmi.storage.shared.user_watch import UserChangeListener, listens
from hmi.storage.users import User, UserStore

log = logging.getLogger(__name__)

__all__ = ["SessionWatch", "revocation"]


def revocation(signed_in: User, now: User | None) -> str | None:
    """Why a session signed in as ``signed_in`` may not go on, the user's row being ``now``;
    None when it may."""
    uid = signed_in.user_id
    if now is None:
        return f"user {uid} no longer exists"
    if now.disabled:
        return f"user {uid} was disabled"
    if now.locked_until is not None:
        return f"user {uid} was locked out until {now.locked_until:%Y-%m-%d %H:%M} UTC"
    if now.role != signed_in.role:
        return f"the role of {uid} changed from {signed_in.role} to {now.role}; sign in again"
    return None


class SessionWatch(ChannelWatch):
    """``start()`` on the station's loop, ``stop()`` before the user store closes. ``url``:
    the database's (listens on PostgreSQL); ``listen`` False leaves only the poll."""

    def __init__(
        self, sessions: SessionService, users: UserStore, *, url: str, poll_s: float = 1.0,
        listen: bool = True,
    ) -> None:  # fmt: skip
        super().__init__("session-watch")
        self._sessions = sessions
        self._users = users
        self._url = url
        self._poll_s = poll_s
        self._listen = listen and listens(url)
        self._wake: asyncio.Event | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._listen:
            self.listener = UserChangeListener(
                self._url, lambda uid: loop.call_soon_threadsafe(self._heard, uid)
            )
            self.listener.start()
        self._task = loop.create_task(self._run(), name="session-watch")

    def _heard(self, user_id: str | None) -> None:
        session = self._sessions.current
        if self._wake is None or session is None:
            return
        if user_id is None or user_id == session.user.user_id:
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()
            try:
                await self.check()
            except Exception:  # the watch must outlive any one failed check
                log.exception("session watch: check failed")

    async def check(self) -> str | None:
        """Read the signed-in user's row and end the session if it may not go on; the reason,
        or None. A database that cannot be read leaves the session as it is."""
        session = self._sessions.current
        if session is None:
            return None
        try:
            now = await asyncio.wrap_future(
                self._reader.submit(self._users.get, session.user.user_id)
            )
        except Exception as exc:
            log.debug("session watch: cannot read user %s (%s)", session.user.user_id, exc)
            return None
        reason = revocation(session.user, now)
        if reason is not None:
            await self._end(session, reason)
        return reason

    async def _end(self, session: Session, reason: str) -> None:
        log.warning("session %s ends: %s", session.session_id, reason)
        await self._sessions.end(session, reason)
