"""The write path with its guard and recorder: CommandService + PermissionGuard + AuditRecorder
on a real SQLite audit trail and the real local:// driver. Every attempt, allowed or not, ends
up as a record with who, where, what, from which value to which, why and who verified."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from hmi.drivers.defaults import default_registry
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult, SignatureMeaning
from hmi.model.tags import ConfirmPolicy, TagConfig, WritePolicy
from hmi.runtime.audit import AuditRecorder, ConfirmationResult
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService, Outcome
from hmi.runtime.session import PermissionGuard, SessionService
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.trail import AuditTrail
from hmi.storage.users import UserStore

HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Correct-Horse-42"


def tag(name: str, confirm: ConfirmPolicy = ConfirmPolicy.NONE, **write: Any) -> TagConfig:
    return TagConfig(
        name=name, address=f"local://{name.lower()}?type=float&initial=10",
        write=WritePolicy(confirm=confirm, **write),
    )  # fmt: skip


TAGS = {
    "Free": tag("Free"),
    "Sup": tag("Sup", roles=("supervisor",)),
    "Confirm": tag("Confirm", ConfirmPolicy.CONFIRM),
    "Reason": tag("Reason", ConfirmPolicy.REASON),
    "Signed": tag("Signed", ConfirmPolicy.SIGNATURE),
    "Verified": tag("Verified", ConfirmPolicy.VERIFY, max=50),
    "PV": TagConfig(name="PV", address="local://pv?type=float"),
}


@dataclass
class Dialog:
    """A headless stand-in for the confirmation dialogs: answers as told, and for signatures
    asks the session service for real ones, as the dialogs will."""

    sessions: SessionService
    approve: bool = True
    reason: str = "calibration drift"
    signer: tuple[str, str] | None = ("op", PASSWORD)
    verifier: tuple[str, str] | None = ("sup", PASSWORD)
    asked: list[ConfirmPolicy] | None = None
    verifier_meaning: SignatureMeaning = SignatureMeaning.VERIFIED  # what the dialog asks for

    async def confirm(
        self, kind: ConfirmPolicy, tag: TagConfig, old: Any, new: Any
    ) -> ConfirmationResult:
        (self.asked if self.asked is not None else []).append(kind)
        signature = verifier = None
        if kind is ConfirmPolicy.SIGNATURE and self.signer:
            signature = await self.sessions.sign(*self.signer)
        if kind is ConfirmPolicy.VERIFY and self.verifier:
            verifier = await self.sessions.sign(*self.verifier, self.verifier_meaning)
        typed = self.verifier[0] if self.verifier else ""
        return ConfirmationResult(self.approve, self.reason, verifier, signature, typed)


@dataclass
class Station:
    service: CommandService
    sessions: SessionService
    guard: PermissionGuard
    store: AuditStore
    broker: TagBroker


def run(tmp_path: Path, scenario: Callable[[Station], Awaitable[None]]) -> list[AuditRecord]:
    """Build a station on a fresh SQLite file, run ``scenario``, return every record."""
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    users = UserStore(make_engine(url), hasher=HASHER)
    users.add("op", "Olga Operator", "operator", PASSWORD)
    users.add("sup", "Sam Supervisor", "supervisor", PASSWORD)
    users.add("aud", "Ann Auditor", "auditor", PASSWORD)

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-07", app_version="9.9.9", tags=TAGS)
        sessions = SessionService(users, trail, recorder)
        guard = PermissionGuard(sessions)
        broker = TagBroker(TAGS, default_registry(), {})
        await broker.start()
        for name in TAGS:
            broker.subscribe(name)
        service = CommandService(broker, guard=guard, recorder=recorder)
        await scenario(Station(service, sessions, guard, trail.store, broker))
        await broker.stop()
        await trail.aclose()

    asyncio.run(main())
    store = AuditStore.open(url)
    records = list(store.iter_records())
    assert store.verify().ok
    store.close()
    return [r for r in records if r.action is AuditAction.WRITE]


def test_an_operators_write_is_recorded_with_every_field(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        session = await st.sessions.login("op", PASSWORD)
        result = await st.service.write("Free", "12.5", origin="overview/free_entry")
        assert result.outcome is Outcome.DONE, result.message
        assert st.store.get(st.service.recorder.last.uuid) is not None  # type: ignore[union-attr]
        records = list(st.store.iter_records())
        assert records[-1].session_id == session.session_id

    [record] = run(tmp_path, scenario)
    assert (record.user_id, record.user_name, record.role) == ("op", "Olga Operator", "operator")
    assert (record.workstation, record.app_version) == ("ST-07", "9.9.9")
    assert (record.target_tag, record.target_address) == (
        "Free", "local://free?type=float&initial=10",
    )  # fmt: skip
    assert (record.old_value, record.new_value, record.read_back) == (10.0, 12.5, 12.5)
    assert record.result is AuditResult.DONE and record.error == ""
    assert record.origin == "overview/free_entry" and len(record.session_id) == 32


def test_nobody_logged_in_is_denied_and_recorded(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        result = await st.service.write("Free", 11)
        assert result.outcome is Outcome.DENIED
        assert st.broker.latest("Free").value == 10.0

    [record] = run(tmp_path, scenario)
    assert record.result is AuditResult.DENIED and record.user_id == ""
    assert "nobody is logged in" in record.error and record.new_value == 11


@pytest.mark.parametrize(
    ("user", "tag_name", "message"),
    [
        ("op", "Sup", "may be written only by supervisor; you are logged in as operator"),
        ("aud", "Free", "the role 'auditor' may not write tags"),
        ("op", "PV", "PV is read-only"),
    ],
)
def test_roles_without_the_right_are_denied(
    tmp_path: Path, user: str, tag_name: str, message: str
) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login(user, PASSWORD)
        result = await st.service.write(tag_name, 20)
        assert result.outcome is Outcome.DENIED and message in result.message

    [record] = run(tmp_path, scenario)
    assert record.result is AuditResult.DENIED and message in record.error
    assert record.user_id == user


def test_a_locked_station_refuses_writes(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        await st.sessions.lock()
        assert (await st.service.write("Free", 1)).outcome is Outcome.DENIED

    [record] = run(tmp_path, scenario)
    assert "locked" in record.error


def test_confirmation_needs_a_dialog(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        result = await st.service.write("Confirm", 1)
        assert result.outcome is Outcome.DENIED
        assert "needs confirmation (confirm)" in result.message

    run(tmp_path, scenario)


def test_reason_signature_and_verification_reach_the_record(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        asked: list[ConfirmPolicy] = []
        st.guard.confirmer = Dialog(st.sessions, asked=asked)
        for name in ("Confirm", "Reason", "Signed", "Verified"):
            result = await st.service.write(name, 30, origin=f"panel/{name}")
            assert result.outcome is Outcome.DONE, result.message
        assert asked == [ConfirmPolicy.CONFIRM, ConfirmPolicy.REASON,
                         ConfirmPolicy.SIGNATURE, ConfirmPolicy.VERIFY]  # fmt: skip

    confirm, reason, signed, verified = run(tmp_path, scenario)
    assert confirm.reason == "calibration drift" and confirm.meaning == ""
    assert reason.reason == "calibration drift"
    assert signed.meaning == "performed by" and signed.verifier_id == ""
    assert (verified.verifier_id, verified.verifier_name) == ("sup", "Sam Supervisor")
    assert verified.user_id == "op" and verified.new_value == 30.0


def test_cancelled_and_refused_confirmations_are_recorded(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        dialog = Dialog(st.sessions, approve=False, reason="wrong tank")
        st.guard.confirmer = dialog
        assert (await st.service.write("Reason", 5)).outcome is Outcome.CANCELLED
        dialog.approve, dialog.reason = True, " "
        assert (await st.service.write("Reason", 5)).outcome is Outcome.DENIED
        dialog.reason, dialog.verifier = "ok", ("op", PASSWORD)  # verifying oneself
        result = await st.service.write("Verified", 5)
        assert "the verifier must be another user" in result.message
        dialog.verifier = ("aud", PASSWORD)  # an auditor may not verify
        result = await st.service.write("Verified", 5)
        assert "aud (auditor) may not verify writes" in result.message
        dialog.signer = ("sup", PASSWORD)  # someone else's signature is not mine
        result = await st.service.write("Signed", 5)
        assert "needs your electronic signature" in result.message
        dialog.verifier = ("sup", PASSWORD)
        result = await st.service.write("Verified", 60)  # over the write limit: no dialog
        assert result.outcome is Outcome.DENIED and "above the write limit" in result.message

    records = run(tmp_path, scenario)
    assert [r.result for r in records] == [AuditResult.CANCELLED] + [AuditResult.DENIED] * 5
    assert records[0].reason == "wrong tank" and records[0].error == "cancelled by the operator"
    assert records[2].reason == "ok"
    assert (records[2].verifier_id, records[2].verifier_name) == ("op", "Olga Operator")
    assert (records[3].verifier_id, records[3].verifier_name) == ("aud", "Ann Auditor")
    assert "aud (auditor) may not verify writes" in records[3].error


def test_a_verification_needs_a_signature_meaning_verified_by(tmp_path: Path) -> None:
    """A second person's "performed by" signature (a real one, from the session service) is
    not a verification: refused, nothing sent, and the record says who signed and why."""

    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        dialog = Dialog(st.sessions, reason="new curve")
        for meaning in (SignatureMeaning.PERFORMED, SignatureMeaning.APPROVED):
            dialog.verifier_meaning = meaning
            st.guard.confirmer = dialog
            result = await st.service.write("Verified", 20)
            assert result.outcome is Outcome.DENIED, result.message
            assert f"sup signed {meaning.value!r}" in result.message
            assert "needs a signature meaning 'verified by'" in result.message
            assert st.broker.latest("Verified").value == 10.0  # nothing was sent
        dialog.verifier_meaning = SignatureMeaning.VERIFIED
        assert (await st.service.write("Verified", 20)).ok

    performed, approved, verified = run(tmp_path, scenario)
    for record in (performed, approved):
        assert (record.result, record.meaning) == (AuditResult.DENIED, "")
        assert (record.verifier_id, record.verifier_name) == ("sup", "Sam Supervisor")
        assert "needs a signature meaning 'verified by'" in record.error
    assert (verified.result, verified.meaning, verified.verifier_id) == (
        AuditResult.DONE, "verified by", "sup",
    )  # fmt: skip


def test_ones_own_signature_cannot_mean_verified_by(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        signature = await st.sessions.sign("op", PASSWORD, SignatureMeaning.VERIFIED)

        class SelfVerifying(Dialog):
            async def confirm(self, *args: Any) -> ConfirmationResult:
                return ConfirmationResult(True, "x", signature=signature)

        st.guard.confirmer = SelfVerifying(st.sessions)
        result = await st.service.write("Signed", 20)
        assert result.outcome is Outcome.DENIED and "own change" in result.message

    [record] = run(tmp_path, scenario)
    assert record.result is AuditResult.DENIED and record.meaning == ""


def test_a_signature_is_good_once(tmp_path: Path) -> None:
    async def scenario(st: Station) -> None:
        await st.sessions.login("op", PASSWORD)
        signature = await st.sessions.sign("op", PASSWORD)
        assert st.sessions.redeem(signature) == signature
        assert st.sessions.redeem(signature) is None

    run(tmp_path, scenario)
