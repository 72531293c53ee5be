"""A disable, lockout or role change made on one station ends the session open for that user
on another within 2 s (issue 21, item 3): two stations, each with its own engines, audit
trail and session service, on one real PostgreSQL database; the announcement (LISTEN/NOTIFY)
and the poll that stands in for it are each tested alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from hmi.model.audit.record import AuditAction
from hmi.model.security import LockoutPolicy, SecurityConfig
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import SessionService, UserAdministration
from hmi.runtime.session_watch import SessionWatch
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.trail import AuditTrail
from hmi.storage.users import AuthenticationFailed, UserStore
from tests.storage.conftest import FAST_HASHER

PASSWORD = "Correct-Horse-42"
SECURITY = SecurityConfig(lockout=LockoutPolicy(attempts=3, minutes=10))


@dataclass
class Station:
    trail: AuditTrail
    users: UserStore
    sessions: SessionService
    admin: UserAdministration
    watch: SessionWatch
    messages: list[str]

    async def close(self) -> None:
        await self.watch.stop()
        await self.trail.aclose()
        self.trail.store.close()


async def station(url: str, name: str, *, listen: bool = True) -> Station:
    trail = AuditTrail(AuditStore.open(url))
    trail.start()
    users = UserStore(make_engine(url), hasher=FAST_HASHER, security=SECURITY, chain=trail.store)
    recorder = AuditRecorder(trail, workstation=name, app_version="test")
    sessions = SessionService(users, trail, recorder)
    messages: list[str] = []
    sessions.add_alert_listener(messages.append)
    watch = SessionWatch(sessions, users, url=url, listen=listen)
    await watch.start()
    if listen:
        assert watch.listener is not None
        await asyncio.to_thread(watch.listener.listening.wait, 5)
    return Station(trail, users, sessions, UserAdministration(sessions, users, trail), watch,
                   messages)  # fmt: skip


def two_stations(
    url: str, scenario: Callable[[Station, Station], Awaitable[None]], *, listen: bool = True
) -> None:
    setup = UserStore(make_engine(url), hasher=FAST_HASHER, security=SECURITY)
    setup.add("op", "Olga Operator", "operator", PASSWORD)
    setup.add("boss", "Bo Boss", "admin", PASSWORD)
    setup.engine.dispose()

    async def main() -> None:
        a = await station(url, "ST-A", listen=listen)
        b = await station(url, "ST-B", listen=listen)
        try:
            await scenario(a, b)
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())
    store = AuditStore.open(url)
    assert store.verify().ok
    store.close()


async def ends_within(b: Station, seconds: float) -> float:
    start = time.monotonic()
    while b.sessions.current is not None:
        assert time.monotonic() - start < seconds, f"session still open after {seconds} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def logout_reason(b: Station) -> str:
    last = b.trail.store.page(limit=5).records
    (logout,) = [r for r in last if r.action is AuditAction.LOGOUT and r.workstation == "ST-B"]
    assert logout.user_id == "op"
    return logout.reason


@pytest.mark.parametrize("listen", [True, False], ids=["notify", "poll"])
def test_a_disable_on_one_station_ends_the_session_on_the_other(
    pg_database: str, listen: bool
) -> None:
    async def scenario(a: Station, b: Station) -> None:
        await a.sessions.login("boss", PASSWORD)
        await b.sessions.login("op", PASSWORD)
        assert b.sessions.can("write_tag")
        await a.admin.disable("op")
        took = await ends_within(b, 2.0)
        assert not b.sessions.can("write_tag")
        assert logout_reason(b) == "session ended: user op was disabled"
        assert b.messages == ["op signed out: user op was disabled"]
        if listen:
            assert took < 0.5, took  # announced, not waited for the poll
        assert a.sessions.current is not None  # the one who did it stays

    two_stations(pg_database, scenario, listen=listen)


def test_a_role_change_ends_the_session_and_a_new_sign_in_has_the_new_role(
    pg_database: str,
) -> None:
    async def scenario(a: Station, b: Station) -> None:
        await a.sessions.login("boss", PASSWORD)
        await b.sessions.login("op", PASSWORD)
        await a.admin.change("op", role="viewer")
        await ends_within(b, 2.0)
        assert "role of op changed from operator to viewer" in logout_reason(b)
        again = await b.sessions.login("op", PASSWORD)
        assert again.user.role == "viewer" and not b.sessions.can("write_tag")
        await asyncio.sleep(1.2)  # a poll round later: the new session is left alone
        assert b.sessions.current is again

    two_stations(pg_database, scenario)


def test_a_lockout_on_one_station_ends_the_session_on_the_other(pg_database: str) -> None:
    async def scenario(a: Station, b: Station) -> None:
        await b.sessions.login("op", PASSWORD)
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                await a.sessions.login("op", "wrong password")
        await ends_within(b, 2.0)
        assert logout_reason(b).startswith("session ended: user op was locked out until ")

    two_stations(pg_database, scenario)


def test_a_station_cut_off_during_the_change_ends_the_session_when_it_is_back(
    pg_database: str,
) -> None:
    from sqlalchemy.engine import make_url

    from tests.runtime.pg_proxy import CuttableProxy

    parsed = make_url(pg_database)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    via_proxy = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)

    async def scenario(a: Station, _: Station) -> None:
        b = await station(via_proxy, "ST-B")
        try:
            await a.sessions.login("boss", PASSWORD)
            await b.sessions.login("op", PASSWORD)
            proxy.cut()
            await a.admin.disable("op")
            await asyncio.sleep(1.5)  # B cannot read the row: it leaves the session as it is
            assert b.sessions.current is not None
            proxy.restore()
            await ends_within(b, 8.0)  # the poll or the re-listen, whichever first
            await b.trail.forward_now()  # what B recorded while cut off reaches the chain
            reasons = [
                r.reason for r in a.trail.store.iter_records()
                if r.action is AuditAction.LOGOUT and r.workstation == "ST-B"
            ]  # fmt: skip
            assert reasons == ["session ended: user op was disabled"]
        finally:
            await b.close()
            proxy.close()

    two_stations(pg_database, scenario)
