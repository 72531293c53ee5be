"""Store-and-forward: the central PostgreSQL database goes away (connections refused and cut,
or nothing listening on the port), the station goes on recording into its spool, and when the
database is back every record arrives once, in order, on a valid chain."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.spool import SpoolStore
from hmi.storage.trail import AuditTrail, TrailStatus

pytestmark = pytest.mark.postgres


def write(n: int, station: str = "ST-01") -> AuditRecord:
    return AuditRecord.create(AuditAction.WRITE, workstation=station, new_value=n)


async def wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def test_records_spool_while_the_database_is_down_and_forward_once_in_order(
    pg_admin: object, pg_database: str, tmp_path: Path
) -> None:
    name = pg_database.rsplit("/", 1)[1]
    seen: list[TrailStatus] = []

    async def main() -> None:
        trail = AuditTrail(
            AuditStore.open(pg_database), SpoolStore(tmp_path / "spool.sqlite"),
            on_status=seen.append, retry_s=0.2, retry_max_s=0.5,
        )  # fmt: skip
        placed = [await trail.append(write(n)) for n in range(5)]
        assert not trail.spooling and [r.sequence for r in placed] == [1, 2, 3, 4, 5]
        pg_admin.block(name)  # type: ignore[attr-defined]
        spooled = [await trail.append(write(n)) for n in range(5, 25)]
        assert trail.spooling and all(r.spooled for r in spooled)
        assert [r.sequence for r in spooled] == list(range(1, 21))  # the spool's own chain
        await wait_for(lambda: seen and seen[-1].pending == 20)
        assert trail.spool is not None and trail.spool.verify().ok
        pg_admin.unblock(name)  # type: ignore[attr-defined]
        await wait_for(lambda: not trail.spooling)
        after = await trail.append(write(25))
        await trail.aclose()
        assert after.sequence == 26 and not after.spooled

    asyncio.run(main())
    assert seen[0].spooling and "unreachable" in seen[0].detail
    assert seen[-1] == TrailStatus(False, 0, "forwarded 20 record(s)")
    store = AuditStore.open(pg_database)
    records = list(store.iter_records())
    assert [r.new_value for r in records] == list(range(26))
    assert len({r.uuid for r in records}) == 26
    assert [r.spooled for r in records] == [False] * 5 + [True] * 20 + [False]
    result = store.verify()
    assert result.ok and result.count == 26
    assert SpoolStore(tmp_path / "spool.sqlite").pending() == 0
    store.close()


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: connections are refused


def test_a_station_starting_without_its_database_forwards_on_the_next_start(
    pg_database: str, tmp_path: Path
) -> None:
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{refused_port()}/nothing"
    spool_path = tmp_path / "spool.sqlite"

    async def offline() -> None:
        trail = AuditTrail(AuditStore.open(nowhere), SpoolStore(spool_path), retry_s=60)
        for n in range(10):
            assert (await trail.append(write(n))).spooled
        assert trail.status.pending == 10
        await trail.aclose()

    async def online() -> None:
        seen: list[TrailStatus] = []
        trail = AuditTrail(
            AuditStore.open(pg_database), SpoolStore(spool_path), on_status=seen.append
        )
        placed = await trail.append(write(10))  # waits behind the forward of the old spool
        await trail.aclose()
        assert placed.sequence == 11 and not placed.spooled
        assert seen[0].spooling and "earlier run" in seen[0].detail

    asyncio.run(offline())
    asyncio.run(online())
    store = AuditStore.open(pg_database)
    assert [r.new_value for r in store.iter_records()] == list(range(11))
    assert store.verify().ok
    store.close()


def test_a_forward_interrupted_after_the_central_commit_delivers_exactly_once(
    pg_database: str, tmp_path: Path
) -> None:
    """The station died after the central commit and before the spool delete: the next
    forward finds those uuids present and skips them."""
    spool = SpoolStore(tmp_path / "spool.sqlite")
    central = AuditStore.open(pg_database)
    spool.put([write(n) for n in range(8)])
    central.append_many(spool.peek(5), skip_existing=True)  # committed, not yet removed

    async def main() -> None:
        seen: list[TrailStatus] = []
        trail = AuditTrail(central, spool, on_status=seen.append)
        status = await trail.forward_now()  # the worker forwarded the leftovers as it started
        await trail.aclose()
        assert not status.spooling and status.pending == 0
        assert seen[-1] == TrailStatus(False, 0, "forwarded 8 record(s)")

    asyncio.run(main())
    records = list(central.iter_records(AuditQuery()))
    assert [r.new_value for r in records] == list(range(8))
    assert central.verify().ok and spool.pending() == 0
    central.close()


def test_two_stations_forwarding_interleave_without_forking(
    pg_admin: object, pg_database: str, tmp_path: Path
) -> None:
    name = pg_database.rsplit("/", 1)[1]

    async def main() -> None:
        trails = [
            AuditTrail(AuditStore.open(pg_database), SpoolStore(tmp_path / f"{s}.sqlite"),
                       retry_s=0.1, retry_max_s=0.2)
            for s in ("A", "B")
        ]  # fmt: skip
        await asyncio.gather(*(t.append(write(-1, s)) for t, s in zip(trails, "AB", strict=True)))
        pg_admin.block(name)  # type: ignore[attr-defined]
        for n in range(30):
            await asyncio.gather(
                *(t.append(write(n, s)) for t, s in zip(trails, "AB", strict=True))
            )
        pg_admin.unblock(name)  # type: ignore[attr-defined]
        for n in range(30, 40):
            await asyncio.gather(
                *(t.append(write(n, s)) for t, s in zip(trails, "AB", strict=True))
            )
        await wait_for(lambda: not any(t.spooling for t in trails))
        for trail in trails:
            await trail.aclose()

    asyncio.run(main())
    store = AuditStore.open(pg_database)
    assert store.verify().ok and store.count() == 82
    for station in "AB":
        mine = [r.new_value for r in store.iter_records(AuditQuery(workstation=station))]
        assert mine == list(range(-1, 40))
    store.close()
