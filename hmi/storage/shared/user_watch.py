"""Hear of user changes other stations make, so a session already open on this station ends
when its user is disabled, locked out or given another role (issue 21, item 3).

On PostgreSQL every audited user change sends ``NOTIFY hmi_users, '<user id>'`` in its own
transaction (``hmi.storage.user_seal.write_sealed``): delivered on commit, to every station
listening. ``UserChangeListener`` listens on one connection of its own, on a thread, and
calls ``on_change(user_id)`` for each; it reconnects with capped backoff when the server goes
away and then calls ``on_change(None)`` (anything may have changed meanwhile). It is the fast
path only: the runtime also polls (``hmi.runtime.session_watch``), so a change the listener
misses (server away, a row changed by the database's owner) is still seen. Blocking, no Qt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

from hmi.storage.user_seal import USER_CHANNEL

log = logging.getLogger(__name__)

__all__ = ["ChannelListener", "UserChangeListener", "listens"]

_BACKOFF_MAX_S = 5.0


def listens(url: str) -> bool:
    """Whether the database at ``url`` can announce changes (PostgreSQL; SQLite cannot)."""
    return make_url(url).get_backend_name() == "postgresql"


class ChannelListener:
    """``LISTEN <channel>`` on a thread; ``on_change(payload)`` per notification (called on
    that thread), ``on_change(None)`` after a reconnect. ``start`` / ``stop``. The alarm
    picture (``hmi.runtime.alarm_share``) listens on its own channel the same way."""

    def __init__(
        self, url: str, on_change: Callable[[str | None], None], *, channel: str,
        name: str = "changes",
    ) -> None:  # fmt: skip
        self._channel = channel
        self._name = name
        parsed = make_url(url).set(drivername="postgresql")
        self._conninfo = parsed.render_as_string(hide_password=False)
        self._where = parsed.render_as_string(hide_password=True)
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while a LISTEN connection is open

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        import psycopg  # here, on the listener's thread: a station on SQLite never loads it

        backoff, missed = 0.5, False
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, connect_timeout=3
                ) as connection:
                    connection.execute(f"LISTEN {self._channel}")
                    self.listening.set()
                    backoff = 0.5
                    if missed:
                        self._on_change(None)
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=0.5):
                            self._on_change(note.payload)
            except psycopg.Error as exc:
                if not missed:
                    log.warning("%s: not listening on %s (%s); polling", self._name,
                                self._where, exc)  # fmt: skip
                missed = True
            finally:
                self.listening.clear()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_S)


class UserChangeListener(ChannelListener):
    """``LISTEN hmi_users``: ``on_change(user_id)``, or None after a reconnect."""

    def __init__(self, url: str, on_change: Callable[[str | None], None]) -> None:
        super().__init__(url, on_change, channel=USER_CHANNEL, name="user-changes")
