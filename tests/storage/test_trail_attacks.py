"""Attacks on the trail beyond issue 13's list, as the station's OS user would make them: the
hold file of a rejected spool deleted (while the station runs, and while it is stopped), and an
old spool file put back after it was forwarded. SQLite and the real PostgreSQL (``db_url``)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage import admin
from hmi.storage.audit import AuditStore
from hmi.storage.spool import SpoolStore
from hmi.storage.spool_check import hold_path, read_hold
from hmi.storage.trail import AuditTrail, TrailStatus

from .test_spool_tamper import edit_a_value, spool_some, wait_for

ID = {"workstation": "ST-07", "app_version": "t"}


def _actions(db_url: str) -> list[AuditAction]:
    store = AuditStore.open(db_url)
    try:
        assert store.verify().ok
        return [r.action for r in store.iter_records()]
    finally:
        store.close()


def test_a_hold_file_deleted_without_a_release_stands_again(db_url: str, tmp_path: Path) -> None:
    spool = spool_some(tmp_path)
    edit_a_value(spool)
    seen: list[TrailStatus] = []

    async def run_until_held(delete_while_running: bool) -> None:
        trail = AuditTrail(
            AuditStore.open(db_url), SpoolStore(spool), on_status=seen.append, identity=ID
        )
        trail.start()
        await wait_for(lambda: seen and seen[-1].hold)
        if delete_while_running:
            hold_path(spool).unlink()  # the attacker lifts the hold by hand
            await wait_for(lambda: hold_path(spool).exists(), timeout=10)
            await asyncio.sleep(1.5)  # the worker's next polls: the hold is not lifted
            assert trail.status.hold and trail.refuses_actions is not None
        await trail.aclose()
        trail.store.close()

    asyncio.run(run_until_held(delete_while_running=True))
    first = read_hold(spool)
    assert first is not None
    hold_path(spool).unlink()  # and again while the station is stopped
    seen.clear()
    asyncio.run(run_until_held(delete_while_running=False))
    again = read_hold(spool)
    assert again is not None and again.evidence == first.evidence
    assert _actions(db_url) == [AuditAction.AUDIT_SPOOL_REJECTED] * 3  # each lift recorded

    # the administrator's release is recorded first, so it is the one that counts
    assert admin.release_spool_hold("decided", url=db_url, spool=spool) is not None
    seen.clear()

    async def after_release() -> None:
        trail = AuditTrail(
            AuditStore.open(db_url), SpoolStore(spool), on_status=seen.append, identity=ID
        )
        trail.start()
        await trail.call(lambda: None)
        assert not trail.status.hold and trail.refuses_actions is None
        await trail.aclose()
        trail.store.close()

    asyncio.run(after_release())
    assert read_hold(spool) is None
    assert _actions(db_url)[-1] is AuditAction.AUDIT_SPOOL_RELEASED


def test_an_old_spool_put_back_after_its_forward_adds_nothing(db_url: str, tmp_path: Path) -> None:
    spool = spool_some(tmp_path, count=5)
    copy = tmp_path / "old-spool.sqlite"
    shutil.copy(spool, copy)

    async def forward() -> None:
        trail = AuditTrail(AuditStore.open(db_url), SpoolStore(spool), identity=ID)
        trail.start()
        await trail.append(AuditRecord.create(AuditAction.LOGIN))
        await trail.aclose()
        trail.store.close()
        assert trail.spool is not None
        trail.spool.close()

    asyncio.run(forward())
    assert _actions(db_url).count(AuditAction.WRITE) == 5
    shutil.copy(copy, spool)  # the replay: the same records, a sound chain
    asyncio.run(forward())
    assert _actions(db_url).count(AuditAction.WRITE) == 5  # each record arrives exactly once
    assert read_hold(spool) is None
