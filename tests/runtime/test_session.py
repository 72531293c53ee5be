"""SessionService: login, logout, idle lock and unlock, signatures, permissions; every attempt
recorded in a real SQLite audit trail."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Awaitable, Callable
from itertools import dropwhile
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.errors import WriteDenied
from hmi.model.security import LockoutPolicy, PasswordRejected, SecurityConfig
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import Session, SessionService, UserAdministration
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.export import export_to_path
from hmi.storage.trail import AuditTrail
from hmi.storage.users import SIGN_IN_REFUSED, AuthenticationFailed, UserStore

HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Correct-Horse-42"
SECURITY = SecurityConfig(
    session_lock_minutes=5, lockout=LockoutPolicy(attempts=3, minutes=10), signature_minutes=1
)


class Clock:
    """The session clock, and the parts a scenario may need besides the session service."""

    now = 1000.0
    users: UserStore
    trail: AuditTrail

    def __call__(self) -> float:
        return self.now


def run(
    tmp_path: Path, scenario: Callable[[SessionService, Clock], Awaitable[None]]
) -> list[AuditRecord]:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    users = UserStore(make_engine(url), hasher=HASHER, security=SECURITY)
    users.add("op", "Olga Operator", "operator", PASSWORD)
    users.add("sup", "Sam Supervisor", "supervisor", PASSWORD)
    users.add("boss", "Bo Boss", "admin", PASSWORD)
    clock = Clock()

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-02", app_version="1.0")
        sessions = SessionService(users, trail, recorder, clock=clock)
        clock.users, clock.trail = users, trail
        await scenario(sessions, clock)
        await trail.aclose()

    asyncio.run(main())
    store = AuditStore.open(url)
    records = list(store.iter_records())
    assert store.verify().ok
    store.close()
    setup, records = records[:3], records[3:]  # the set-up's users, each sealed by its record
    assert [r.action for r in setup] == [AuditAction.USER_ADD] * 3
    return records


def test_login_and_logout_are_recorded(tmp_path: Path) -> None:
    seen: list[Session | None] = []

    async def scenario(sessions: SessionService, clock: Clock) -> None:
        sessions.add_listener(seen.append)
        assert sessions.current is None and not sessions.can("write_tag")
        session = await sessions.login("OP", PASSWORD)
        assert sessions.can("write_tag") and not sessions.can("view_audit")
        assert sessions.actor().user_id == "op" and session.user.role == "operator"
        await sessions.login("sup", PASSWORD)  # takes over the station
        assert sessions.can("verify_write")
        await sessions.logout(reason="end of shift")
        assert sessions.current is None

    records = run(tmp_path, scenario)
    assert [(r.action, r.user_id) for r in records] == [
        (AuditAction.LOGIN, "op"), (AuditAction.LOGOUT, "op"),
        (AuditAction.LOGIN, "sup"), (AuditAction.LOGOUT, "sup"),
    ]  # fmt: skip
    assert records[1].reason == "sup logged in" and records[3].reason == "end of shift"
    assert records[0].session_id == records[1].session_id != records[2].session_id
    assert all(r.workstation == "ST-02" and r.user_name for r in records)
    assert [s.user.user_id if s else None for s in seen] == ["op", None, "sup", None]


def test_failures_and_lockout_are_recorded(tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, clock: Clock) -> None:
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                await sessions.login("op", "guess")
        with pytest.raises(AuthenticationFailed) as locked:
            await sessions.login("op", PASSWORD)
        with pytest.raises(AuthenticationFailed) as unknown:
            await sessions.login("ghost", PASSWORD)
        # a locked account and an unknown user read the same at the prompt
        assert str(locked.value) == str(unknown.value) == SIGN_IN_REFUSED
        assert sessions.current is None

    records = run(tmp_path, scenario)
    assert [(r.action, r.result) for r in records] == [
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOCKOUT, AuditResult.DONE),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
    ]  # fmt: skip
    assert records[0].error == "wrong password (attempt 1)"
    assert "locked until" in records[3].error and records[3].target_address == "user:op"
    assert records[4].error == "locked out"
    assert (records[5].user_id, records[5].error) == ("ghost", "unknown user")


def test_idle_station_locks_and_only_its_user_unlocks_it(tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, clock: Clock) -> None:
        await sessions.login("op", PASSWORD)
        clock.now += 200
        sessions.touch()
        clock.now += 299
        assert not await sessions.check_idle()
        clock.now += 2
        assert sessions.lock_due() and await sessions.check_idle()
        assert sessions.current is not None and sessions.current.locked
        assert not sessions.can("write_tag") and not await sessions.check_idle()
        with pytest.raises(AuthenticationFailed):
            await sessions.unlock("not mine")
        session = await sessions.unlock(PASSWORD)
        assert not session.locked and sessions.can("write_tag")
        assert sessions.idle_for() == 0

    actions = [r.action for r in run(tmp_path, scenario)]
    assert actions == [
        AuditAction.LOGIN, AuditAction.SESSION_LOCK, AuditAction.LOGIN_FAILED,
        AuditAction.SESSION_UNLOCK,
    ]  # fmt: skip


def test_password_change_by_the_user(tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, clock: Clock) -> None:
        with pytest.raises(WriteDenied):
            await sessions.change_password(PASSWORD, "Brand-New-Pass-1")
        await sessions.login("op", PASSWORD)
        with pytest.raises(PasswordRejected):
            await sessions.change_password(PASSWORD, "short")
        await sessions.change_password(PASSWORD, "Brand-New-Pass-1")
        await sessions.logout()
        await sessions.login("op", "Brand-New-Pass-1")

    records = run(tmp_path, scenario)
    changes = [r for r in records if r.action is AuditAction.PASSWORD_CHANGE]
    assert [r.result for r in changes] == [AuditResult.DENIED, AuditResult.DONE]
    assert "password not accepted" in changes[0].error
    assert all("Brand-New" not in str(r.as_dict()) for r in records)


def test_signatures_expire_are_single_use_and_failures_count(tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, clock: Clock) -> None:
        await sessions.login("op", PASSWORD)
        signature = await sessions.sign("sup", PASSWORD)
        assert signature.user_name == "Sam Supervisor" and signature.role == "supervisor"
        clock.now += 61
        assert sessions.redeem(signature) is None
        with pytest.raises(AuthenticationFailed):
            await sessions.sign("sup", "wrong")

    records = run(tmp_path, scenario)
    failed = records[-1]
    assert failed.action is AuditAction.LOGIN_FAILED and failed.user_id == "sup"
    assert failed.origin == "signature (performed by)"


def test_other_actions_are_recorded_for_the_logged_in_user(tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, clock: Clock) -> None:
        await sessions.login("sup", PASSWORD)
        recorder = sessions.recorder
        await recorder.record_action(
            AuditAction.ALARM_SHELVE, target_tag="Tank1.Level", reason="sensor replaced",
            origin="alarm summary",
        )  # fmt: skip

    shelve = run(tmp_path, scenario)[-1]
    assert (shelve.action, shelve.user_id, shelve.role) == (
        AuditAction.ALARM_SHELVE, "sup", "supervisor",
    )  # fmt: skip
    assert shelve.reason == "sensor replaced" and shelve.session_id


def test_user_administration_needs_the_permission_and_is_recorded(tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, clock: Clock) -> None:
        admin = UserAdministration(sessions, clock.users, clock.trail)
        await sessions.login("op", PASSWORD)
        with pytest.raises(WriteDenied, match="manage_users"):
            await admin.add("new", "New Person", "operator", "Another-Good-43")
        await sessions.login("boss", PASSWORD)
        added = await admin.add("new", "New Person", "operator", "Another-Good-43")
        assert added.must_change_password
        with pytest.raises(PasswordRejected):
            await admin.add("weak", "Weak Person", "operator", "weak")
        await admin.change("new", role="supervisor")
        await admin.reset_password("new", "Reset-Pass-2025")
        await admin.disable("new")
        await admin.enable("new")
        await admin.unlock("new")
        assert [u.user_id for u in await admin.list()] == ["boss", "new", "op", "sup"]

    records = [r for r in run(tmp_path, scenario) if r.action.value.startswith(("user", "pass"))]
    assert [(r.action.value, r.result.value, r.user_id) for r in records] == [
        ("user_add", "denied", "op"), ("user_add", "done", "boss"), ("user_add", "failed", "boss"),
        ("user_change", "done", "boss"), ("password_change", "done", "boss"),
        ("user_disable", "done", "boss"), ("user_enable", "done", "boss"),
        ("user_unlock", "done", "boss"),
    ]  # fmt: skip
    change = records[3]
    assert change.target_address == "user:new"
    assert (change.old_value, change.new_value) == (
        "name=New Person, role=operator", "name=New Person, role=supervisor",
    )  # fmt: skip
    assert all("Reset-Pass" not in str(r.as_dict()) for r in records)


HOSTILE_NAMES = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\t=1", "\r=1"]


def test_a_hostile_user_name_leaves_the_csv_export_as_text(tmp_path: Path) -> None:
    """An attacker at the login prompt types formulas as the user name; the failed-login
    records reach the CSV export as text a spreadsheet shows, not evaluates; JSON keeps them."""

    async def scenario(sessions: SessionService, clock: Clock) -> None:
        for name in HOSTILE_NAMES:
            with pytest.raises(AuthenticationFailed):
                await sessions.login(name, "whatever")

    records = run(tmp_path, scenario)
    typed = [r.user_id for r in records if r.action is AuditAction.LOGIN_FAILED]
    assert typed == [normalise(n) for n in HOSTILE_NAMES]
    store = AuditStore.open(f"sqlite:///{tmp_path}/hmi.sqlite")
    export_to_path(store, tmp_path / "a.csv")
    export_to_path(store, tmp_path / "a.json")
    store.close()
    with (tmp_path / "a.csv").open(newline="", encoding="utf-8") as f:
        cells = [
            row["user_id"]
            for row in csv.DictReader(dropwhile(lambda line: line.startswith("#"), f))
            if row["action"] == "login_failed"
        ]
    assert cells == ["'" + name for name in typed]
    exported = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert [r["user_id"] for r in exported["records"] if r["action"] == "login_failed"] == typed


def normalise(name: str) -> str:
    return name.strip().lower()
