"""A spool is verified before anything leaves it. Attacks by the station's OS user on the
spool file (records edited, deleted, the file cut short) while the central database was away:
the spool is not forwarded, kept as evidence, the rejection is recorded centrally, and audited
actions are refused until an administrator releases the hold (SQLite and PostgreSQL central)."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.errors import WriteDenied
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import PermissionGuard, SessionService
from hmi.storage import admin
from hmi.storage.audit import AuditStore
from hmi.storage.spool import SpoolStore
from hmi.storage.spool_check import hold_path, read_hold
from hmi.storage.trail import AuditTrail, TrailStatus
from hmi.storage.users import UserStore

from .conftest import FAST_HASHER

PASSWORD = "Correct-Horse-42"


def spool_some(tmp_path: Path, count: int = 22) -> Path:
    """Records made while the central database was away: they wait in the spool, as the
    trail's worker puts them there, and the station stops (the WAL folded into the file)."""
    spool = SpoolStore(tmp_path / "audit-spool.sqlite")
    for n in range(count):
        (placed,) = spool.put(
            [AuditRecord.create(AuditAction.WRITE, target_tag="P101.Speed", new_value=n)]
        )
        assert placed.spooled
    spool.close()
    return spool.path


def edit_a_value(spool: Path) -> None:
    with sqlite3.connect(spool) as db:  # the attacker drops the guards, then edits
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("""UPDATE audit_spool SET new_value = '["int","9999"]' WHERE sequence = 7""")


def delete_a_record(spool: Path) -> None:
    with sqlite3.connect(spool) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("DELETE FROM audit_spool WHERE sequence = 3")


def cut_short(spool: Path) -> None:
    data = spool.read_bytes()
    spool.write_bytes(data[: len(data) // 2])


ATTACKS: dict[str, Callable[[Path], None]] = {
    "edited": edit_a_value,
    "deleted": delete_a_record,
    "truncated": cut_short,
}


async def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_tampered_spool_is_kept_not_forwarded_and_holds_actions(
    attack: str, db_url: str, tmp_path: Path
) -> None:
    spool = spool_some(tmp_path)
    ATTACKS[attack](spool)
    seen: list[TrailStatus] = []

    async def main() -> None:
        trail = AuditTrail(
            AuditStore.open(db_url), SpoolStore(spool), on_status=seen.append,
            identity={"workstation": "ST-07", "app_version": "t"},
        )  # fmt: skip
        users = UserStore(trail.store.engine, hasher=FAST_HASHER)
        users.add("op", "Olga Operator", "operator", PASSWORD)
        sessions = SessionService(
            users, trail, AuditRecorder(trail, workstation="ST-07", app_version="t")
        )
        guard = PermissionGuard(sessions, hold=lambda: trail.refuses_actions)
        trail.start()
        await wait_for(lambda: seen and seen[-1].hold)
        assert seen[-1].refusing and "failed its check" in seen[-1].hold
        assert not trail.spooling and trail.status.pending == 0  # nothing forwarded
        await sessions.login("op", PASSWORD)  # signing in is recorded, not refused
        with pytest.raises(WriteDenied, match="until an administrator decides on the audit spool"):
            guard.permit(next(iter(_permissions())), "P101.Speed")
        await trail.aclose()

    asyncio.run(main())
    hold = read_hold(spool)
    assert hold is not None and Path(hold.evidence).exists()
    assert ".rejected-" in hold.evidence and oct(hold_path(spool).stat().st_mode)[-3:] == "600"
    if attack != "truncated":  # the evidence still holds every record the attacker left
        kept = SpoolStore(Path(hold.evidence))
        assert kept.pending() in (21, 22) and not kept.verify().ok
        kept.close()
    central = AuditStore.open(db_url)
    records = list(central.iter_records())
    assert [r.action for r in records] == [
        AuditAction.USER_ADD,  # the set-up's user, sealed by its record
        AuditAction.AUDIT_SPOOL_REJECTED,
        AuditAction.LOGIN,
    ]  # not one spooled write came through
    rejected = records[1]
    assert rejected.result is AuditResult.FAILED and rejected.workstation == "ST-07"
    assert rejected.target_address == f"file:{hold.evidence}" and rejected.error
    assert central.verify().ok
    central.close()

    # the administrator decides: recorded, the hold lifts, the evidence stays
    released = admin.release_spool_hold("kept for the investigation", url=db_url, spool=spool)
    assert released == hold and read_hold(spool) is None and Path(hold.evidence).exists()
    central = AuditStore.open(db_url)
    last = list(central.iter_records())[-1]
    assert last.action is AuditAction.AUDIT_SPOOL_RELEASED
    assert last.reason == "kept for the investigation" and last.user_id.startswith("os:")
    central.close()


def _permissions() -> list[object]:
    from hmi.model.security import Permission

    return [Permission.WRITE_TAG]


def test_a_sound_spool_is_forwarded_and_the_warn_policy_only_warns(tmp_path: Path) -> None:
    spool = spool_some(tmp_path, count=5)
    central = f"sqlite:///{tmp_path}/central.sqlite"

    async def forward() -> None:
        trail = AuditTrail(AuditStore.open(central), SpoolStore(spool))
        trail.start()
        await wait_for(lambda: trail.status.detail.startswith("forwarded 5"))
        assert trail.hold is None
        await trail.aclose()

    asyncio.run(forward())
    store = AuditStore.open(central)
    assert [r.new_value for r in store.iter_records()] == [0, 1, 2, 3, 4]
    store.close()

    (tmp_path / "second").mkdir()
    spool = spool_some(tmp_path / "second", count=3)
    cut_short(spool)

    async def warn() -> None:
        trail = AuditTrail(AuditStore.open(central), SpoolStore(spool), spool_failure="warn")
        trail.start()
        await wait_for(lambda: trail.status.hold)
        assert not trail.status.refusing and trail.refuses_actions is None
        assert trail.hold is not None  # the hold is still on record for the administrator
        await trail.aclose()

    asyncio.run(warn())


def test_a_row_planted_with_a_spooled_records_uuid_does_not_make_it_skipped(
    db_url: str, tmp_path: Path
) -> None:
    """An insider who reads the spool plants a row with a waiting record's uuid in the
    central chain, so that the forward would take the record as already there and drop it."""
    from sqlalchemy import text

    from hmi.storage import schema
    from hmi.storage.db import make_engine

    spool_path = spool_some(tmp_path, count=3)
    spool = SpoolStore(spool_path)
    victim = spool.peek(1)[0]
    spool.close()
    central = AuditStore.open(db_url)
    central.append_many([AuditRecord.create(AuditAction.APP_START)])
    head = central.head()
    planted = AuditRecord.create(AuditAction.WRITE, target_tag="P101.Speed", new_value=-1)
    planted = dataclasses.replace(planted, uuid=victim.uuid).chain(head.sequence + 1, head.hash)
    columns = ", ".join(schema.AUDIT_COLUMNS)
    marks = ", ".join(f":{name}" for name in schema.AUDIT_COLUMNS)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO audit ({columns}) VALUES ({marks})"),
            dict(zip(schema.AUDIT_COLUMNS, planted.stored(), strict=True)),
        )
    engine.dispose()
    central.close()

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(db_url), SpoolStore(spool_path), retry_s=0.1)
        trail.start()
        await wait_for(lambda: "other content" in trail.status.detail)
        assert trail.spooling and trail.status.pending == 3
        await trail.aclose()

    asyncio.run(main())
    kept = SpoolStore(spool_path)
    assert kept.peek(1)[0].uuid == victim.uuid and kept.pending() == 3
    kept.close()
