"""AuditTrail on a SQLite file: ordered group commit, callers that stop waiting, failures."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore
from hmi.storage.spool import SpoolStore
from hmi.storage.trail import AuditTrail, AuditUnavailable


def test_concurrent_appends_commit_in_submission_order(sqlite_url: str) -> None:
    async def main() -> list[AuditRecord]:
        trail = AuditTrail(AuditStore.open(sqlite_url))
        tasks = [
            trail.append(AuditRecord.create(AuditAction.WRITE, new_value=n)) for n in range(300)
        ]
        placed = await asyncio.gather(*tasks)
        order = await trail.call(lambda: [r.new_value for r in trail.store.iter_records()])
        await trail.aclose()
        assert order == list(range(300))
        return placed

    placed = asyncio.run(main())
    assert [r.sequence for r in placed] == list(range(1, 301))
    assert AuditStore.open(sqlite_url).verify().ok


def test_a_caller_that_stops_waiting_still_gets_its_record_stored(sqlite_url: str) -> None:
    async def main() -> None:
        trail = AuditTrail(AuditStore.open(sqlite_url))
        blocker = asyncio.ensure_future(trail.call(time.sleep, 0.2))  # keeps the worker busy
        task = asyncio.ensure_future(trail.append(AuditRecord.create(AuditAction.LOGOUT)))
        await asyncio.sleep(0.05)
        task.cancel()
        await blocker
        after = await trail.append(AuditRecord.create(AuditAction.LOGIN))
        await trail.aclose()
        assert after.sequence == 2

    asyncio.run(main())
    actions = [r.action for r in AuditStore.open(sqlite_url).iter_records()]
    assert actions == [AuditAction.LOGOUT, AuditAction.LOGIN]


def test_no_spool_and_a_broken_database_is_an_error_not_a_silent_loss(tmp_path: Path) -> None:
    path = tmp_path / "hmi.sqlite"
    path.write_bytes(b"this is not a database" * 100)

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(f"sqlite:///{path}"))
        with pytest.raises(AuditUnavailable, match="could not be stored"):
            await trail.append(AuditRecord.create(AuditAction.LOGIN))
        await trail.aclose()

    asyncio.run(main())


def test_a_broken_central_database_spools(tmp_path: Path) -> None:
    path = tmp_path / "central.sqlite"
    path.write_bytes(b"this is not a database" * 100)

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(f"sqlite:///{path}"), SpoolStore(tmp_path / "s.sqlite"))
        record = await trail.append(AuditRecord.create(AuditAction.LOGIN))
        assert record.spooled and trail.spooling
        assert "file is not a database" in trail.status.detail
        await trail.aclose()

    asyncio.run(main())
