"""The station's audit key against the chain it extends, on a real SQLite file and a real
PostgreSQL database: the right key appends and verifies; a wrong key, a missing key or a key
for an unkeyed chain is refused before the first append and writes nothing; the trail keeps
the refused records in its spool and forwards them once the station has the right key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage import admin
from hmi.storage.audit import AuditKeyError, AuditStore, check_audit_key
from hmi.storage.spool import SpoolStore
from hmi.storage.trail import AuditTrail, AuditUnavailable, TrailStatus
from tests.storage.conftest import PgAdmin, written

OpenStore = Callable[..., AuditStore]

KEY = b"Riverside site key 2f9c"
WRONG = b"Riverside site key 2f9d"
HINT = "check that HMI_AUDIT_KEY holds the site's audit key"


def write(n: int, station: str = "ST-01") -> AuditRecord:
    return AuditRecord.create(AuditAction.WRITE, workstation=station, new_value=n)


def keyed_chain(open_store: OpenStore, n: int = 3) -> AuditStore:
    """A chain of ``n`` records made with the site key, as the other stations made it."""
    store = open_store(key=KEY)
    store.append_many([write(i, "ST-00") for i in range(n)])
    return store


def test_the_right_key_extends_the_chain_and_it_verifies(open_store: OpenStore) -> None:
    keyed_chain(open_store)
    station = open_store(key=KEY, key_hint=HINT)
    placed = [station.append(write(n)) for n in range(3, 6)]
    assert [r.sequence for r in placed] == [4, 5, 6]
    result = station.verify()
    assert result.ok and result.count == 6
    assert station.head().scheme == "hmac-sha256"


def test_a_wrong_key_is_refused_before_the_first_append_and_nothing_is_written(
    open_store: OpenStore, db_url: str
) -> None:
    station = open_store(key=WRONG, key_hint=HINT)  # opened first: nothing is read yet
    keyed_chain(open_store)
    before = written(db_url)
    for attempt in (lambda: station.append(write(9)), lambda: station.append_many([write(9)])):
        with pytest.raises(AuditKeyError) as refused:
            attempt()
        assert (refused.value.keyed, refused.value.given) == (True, True)
        message = str(refused.value)
        assert message.startswith("the audit key given is not the one the audit chain in")
        assert message.endswith(f"nothing was written; {HINT}")
    with pytest.raises(AuditKeyError, match="not the one"):
        station.check_key()
    assert written(db_url) == before
    assert open_store(key=KEY).verify().ok


def test_a_keyed_chain_refuses_a_station_without_a_key(open_store: OpenStore, db_url: str) -> None:
    keyed_chain(open_store)
    before = written(db_url)
    with pytest.raises(AuditKeyError, match=r"is keyed \(HMAC-SHA256\) and no audit key") as no:
        open_store(key_hint=HINT).append(write(9))
    assert (no.value.keyed, no.value.given) == (True, False)
    assert str(no.value).endswith(HINT)
    assert written(db_url) == before


def test_an_unkeyed_chain_refuses_a_key(open_store: OpenStore, db_url: str) -> None:
    open_store().append(write(0))
    before = written(db_url)
    with pytest.raises(AuditKeyError, match=r"started without a site key \(SHA-256\)") as keyed:
        open_store(key=KEY).append(write(1))
    assert (keyed.value.keyed, keyed.value.given) == (False, True)
    assert written(db_url) == before
    assert open_store().append(write(1)).sequence == 2


def test_an_empty_chain_takes_the_first_key_and_then_holds_others_to_it(
    open_store: OpenStore,
) -> None:
    first, late = open_store(key=KEY), open_store(key=WRONG)
    first.append(write(0))  # the first record sets the scheme and the key
    with pytest.raises(AuditKeyError, match="not the one"):
        late.append(write(1))
    assert first.append(write(1)).sequence == 2


def test_the_check_is_the_same_from_the_admin_module(open_store: OpenStore) -> None:
    store = keyed_chain(open_store)
    assert admin.check_audit_key is check_audit_key and admin.AuditKeyError is AuditKeyError
    check_audit_key(store, KEY)
    with pytest.raises(AuditKeyError, match="not the one"):
        check_audit_key(store, WRONG)  # a key of the caller's, not the store's
    with pytest.raises(AuditKeyError, match="no audit key was given"):
        check_audit_key(store, None)


# -- the station's trail ---------------------------------------------------------------------


def test_a_trail_with_a_wrong_key_keeps_its_records_and_forwards_them_with_the_right_one(
    open_store: OpenStore, db_url: str, tmp_path: Path
) -> None:
    """The actions happened, so their records are kept (in the spool, with a status that
    says the key is refused) and none reaches the central chain until the key is right."""
    keyed_chain(open_store)
    before = written(db_url)
    spool_path = tmp_path / "spool.sqlite"
    seen: list[TrailStatus] = []

    async def wrong_key() -> None:
        trail = AuditTrail(
            open_store(key=WRONG, key_hint=HINT), SpoolStore(spool_path, key=WRONG),
            on_status=seen.append, retry_s=0.05, retry_max_s=60,
        )  # fmt: skip
        placed = [await trail.append(write(n)) for n in range(3, 8)]
        assert all(r.spooled for r in placed) and trail.spooling
        status = await trail.forward_now()  # refused again: the key cannot change meanwhile
        assert status.key_refused and status.pending == 5
        await trail.aclose()

    asyncio.run(wrong_key())
    assert seen[0].spooling and seen[0].key_refused
    assert seen[0].detail.startswith("audit key refused; records are kept on this station")
    assert seen[0].detail.endswith(HINT)
    assert written(db_url) == before
    assert SpoolStore(spool_path).pending() == 5

    async def right_key() -> None:
        trail = AuditTrail(
            open_store(key=KEY, key_hint=HINT), SpoolStore(spool_path, key=KEY),
            on_status=seen.append,
        )  # fmt: skip
        after = await trail.append(write(8))  # behind the forward of what the spool kept
        await trail.aclose()
        assert after.sequence == 9 and not after.spooled

    asyncio.run(right_key())
    assert seen[-1] == TrailStatus(False, 0, "forwarded 5 record(s)")
    central = open_store(key=KEY)
    records = list(central.iter_records())
    assert [r.new_value for r in records] == list(range(9))
    assert [r.spooled for r in records] == [False] * 3 + [True] * 5 + [False]
    result = central.verify()
    assert result.ok and result.count == 9
    assert SpoolStore(spool_path).pending() == 0


def test_forwarding_a_spool_with_a_wrong_key_is_refused_and_loses_nothing(
    open_store: OpenStore, db_url: str, tmp_path: Path
) -> None:
    """Records spooled while the central database was away meet the key check only when
    they are forwarded: refused there, they stay in the spool, in order."""
    keyed_chain(open_store)
    before = written(db_url)
    spool = SpoolStore(tmp_path / "spool.sqlite", key=WRONG)
    spool.put([write(n) for n in range(3, 10)])
    waiting = [r.uuid for r in spool.peek(100)]

    async def main() -> TrailStatus:
        trail = AuditTrail(open_store(key=WRONG, key_hint=HINT), spool, retry_s=60)
        status = await trail.forward_now()
        await trail.aclose()
        return status

    status = asyncio.run(main())
    assert status.spooling and status.key_refused and status.pending == 7
    assert "not the one" in status.detail
    assert written(db_url) == before
    assert [r.uuid for r in spool.peek(100)] == waiting
    with pytest.raises(AuditKeyError):
        open_store(key=WRONG).append_many(spool.peek(100), skip_existing=True)
    assert written(db_url) == before
    spool.close()


def test_a_keyed_chain_and_a_trail_without_a_key_spools_loudly(
    open_store: OpenStore, db_url: str, tmp_path: Path
) -> None:
    keyed_chain(open_store)
    before = written(db_url)

    async def main() -> TrailStatus:
        trail = AuditTrail(open_store(key_hint=HINT), SpoolStore(tmp_path / "spool.sqlite"))
        assert (await trail.append(write(3))).spooled
        await trail.aclose()
        return trail.status

    status = asyncio.run(main())
    assert status.key_refused and status.pending == 1 and "no audit key was given" in status.detail
    assert written(db_url) == before


def test_a_wrong_key_and_no_spool_is_an_error_naming_the_key(
    open_store: OpenStore, db_url: str
) -> None:
    keyed_chain(open_store)
    before = written(db_url)

    async def main() -> None:
        trail = AuditTrail(open_store(key=WRONG, key_hint=HINT))
        with pytest.raises(AuditUnavailable, match="could not be stored: the audit key given"):
            await trail.append(write(3))
        await trail.aclose()

    asyncio.run(main())
    assert written(db_url) == before


@pytest.mark.postgres
def test_a_station_started_while_the_database_was_away_is_checked_when_it_returns(
    pg_admin: PgAdmin, pg_database: str, tmp_path: Path
) -> None:
    """Checking the key at start-up would not do: the central database was away then, so the
    first central append is the forward, and that is where the wrong key is refused."""
    name = pg_database.rsplit("/", 1)[1]
    AuditStore.open(pg_database, key=KEY).append_many([write(n, "ST-00") for n in range(3)])
    before = written(pg_database)
    pg_admin.block(name)
    seen: list[TrailStatus] = []

    async def main() -> None:
        trail = AuditTrail(
            AuditStore.open(pg_database, key=WRONG, key_hint=HINT),
            SpoolStore(tmp_path / "spool.sqlite", key=WRONG),
            on_status=seen.append, retry_s=0.05, retry_max_s=0.1,
        )  # fmt: skip
        for n in range(3, 6):
            assert (await trail.append(write(n))).spooled
        assert not trail.status.key_refused and "unreachable" in trail.status.detail
        pg_admin.unblock(name)
        status = await trail.forward_now()
        await trail.aclose()
        assert status.spooling and status.key_refused and status.pending == 3

    try:
        asyncio.run(main())
    finally:
        pg_admin.unblock(name)
    assert written(pg_database) == before
    assert SpoolStore(tmp_path / "spool.sqlite").pending() == 3
    assert [s.key_refused for s in seen if s.spooling][-1]
