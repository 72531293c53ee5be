"""Recording operator actions: the command service's ``CommandRecorder``, and the records of
logins, signatures, user changes, alarms and configuration.

Every ``record*`` call returns only once the record is durable (central database or spool).
What the confirmation dialogs gathered for a write (reason, signature meaning, verifier) comes
on the result itself, in the guard's ``Approval``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hmi.model.alarms.states import AUDITED_AS, AlarmAction, AlarmEvent
from hmi.model.audit.record import (
    AuditAction,
    AuditRecord,
    AuditResult,
    SignatureMeaning,
    iso_from_us,
)
from hmi.model.errors import ConfigError
from hmi.model.tags import TagConfig
from hmi.runtime.commands import AlarmRequest, CommandResult, Outcome

if TYPE_CHECKING:  # the designer's save (and ruamel with it) loads only when a designer does
    from hmi.model.design.save import PlannedChange

log = logging.getLogger(__name__)

__all__ = [
    "Actor",
    "AuditRecorder",
    "AuditSink",
    "ConfirmationResult",
    "Signature",
]


class AuditSink(Protocol):
    """Where records go: ``hmi.storage.trail.AuditTrail`` (or anything that makes them
    durable before returning)."""

    async def append(self, record: AuditRecord) -> AuditRecord: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the logged-in user and their session ("" for nobody)."""

    user_id: str = ""
    user_name: str = ""
    role: str = ""
    session_id: str = ""


NOBODY = Actor()


@dataclass(frozen=True, slots=True)
class Signature:
    """An electronic signature: a user who just re-entered their password, issued by the
    session service and good once, for a short time (``SessionService.sign``)."""

    user_id: str
    user_name: str
    role: str
    meaning: SignatureMeaning
    issued_at: float  # session clock (monotonic)
    token: str


@dataclass(frozen=True, slots=True)
class ConfirmationResult:
    """What a confirmation dialog returns. ``signature`` is the performer's own (policy
    ``signature``), ``verifier`` the second person's (policy ``verify``); ``verifier_id`` the
    second person's user id as typed (who tried, when no signature came of it)."""

    approved: bool
    reason: str = ""
    verifier: Signature | None = None
    signature: Signature | None = None
    verifier_id: str = ""


_RESULTS = {
    Outcome.DONE: AuditResult.DONE,
    Outcome.DENIED: AuditResult.DENIED,
    Outcome.CANCELLED: AuditResult.CANCELLED,
    Outcome.FAILED: AuditResult.FAILED,
}


def shelve_details(request: AlarmRequest, event: AlarmEvent | None) -> str:
    """A shelve's ``details``: the duration asked for (seconds; null and one_shot for a
    one-shot shelve) and, once done, when it ends at the latest (UTC), as compact sorted JSON."""
    doc: dict[str, Any] = {"duration_s": request.duration_s, "one_shot": request.duration_s is None}
    if event is not None and event.shelved_until is not None:
        doc["shelved_until"] = iso_from_us(round(event.shelved_until * 1_000_000))
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


class AuditRecorder:
    """Implements ``CommandRecorder``. ``actor`` says who is logged in (bound by the session
    service); ``tags`` gives each write's address."""

    def __init__(
        self,
        sink: AuditSink,
        *,
        workstation: str,
        app_version: str,
        tags: Mapping[str, TagConfig] | None = None,
        actor: Callable[[], Actor] | None = None,
    ) -> None:
        self._sink = sink
        self.workstation = workstation
        self.app_version = app_version
        self._tags = tags or {}
        self._actor = actor or (lambda: NOBODY)
        self.last: AuditRecord | None = None

    def bind(self, actor: Callable[[], Actor]) -> None:
        self._actor = actor

    async def record(self, result: CommandResult) -> None:
        """The record of one write or alarm action, whatever its outcome; durable on return."""
        request = result.request
        fields: dict[str, Any] = {
            "origin": request.origin,
            "error": "" if result.ok else result.message,
            "old_value": result.old_value,
        }
        approval = result.approval
        if approval is not None:
            fields["reason"] = approval.reason
            fields["meaning"] = approval.meaning
            fields["verifier_id"] = approval.verifier_id
            fields["verifier_name"] = approval.verifier_name
        if isinstance(request, AlarmRequest):
            event = result.event
            fields["target_tag"] = event.tag if event is not None else ""
            fields["target_address"] = f"alarm:{request.alarm_id}"
            fields["new_value"] = result.written
            fields.setdefault("reason", request.reason)
            if request.action is AlarmAction.SHELVE:
                fields["details"] = shelve_details(request, event)
            action = AUDITED_AS[request.action]
        else:
            tag = self._tags.get(request.tag)
            fields["target_tag"] = request.tag
            fields["target_address"] = str(tag.address) if tag is not None else ""
            fields["new_value"] = result.written if result.written is not None else request.value
            fields["read_back"] = result.read_back
            fields["old_source"] = result.old_source
            action = AuditAction.WRITE
        await self.record_action(action, result=_RESULTS[result.outcome], **fields)

    async def record_action(
        self,
        action: AuditAction,
        *,
        result: AuditResult = AuditResult.DONE,
        actor: Actor | None = None,
        **fields: Any,
    ) -> AuditRecord:
        """Any audited action (alarm ack/shelve/comment, config change, ...) by ``actor``
        (default: whoever is logged in); ``fields`` are ``AuditRecord`` fields."""
        who = actor if actor is not None else self._actor()
        record = AuditRecord.create(
            action,
            result=result,
            user_id=fields.pop("user_id", who.user_id),
            user_name=fields.pop("user_name", who.user_name),
            role=fields.pop("role", who.role),
            session_id=fields.pop("session_id", who.session_id),
            workstation=self.workstation,
            app_version=self.app_version,
            **fields,
        )
        stored = await self._sink.append(record)
        self.last = stored
        return stored

    # -- sessions and users --------------------------------------------------------------------

    async def login(self, actor: Actor, *, origin: str = "login") -> AuditRecord:
        return await self.record_action(AuditAction.LOGIN, actor=actor, origin=origin)

    async def logout(self, actor: Actor, *, reason: str = "", origin: str = "") -> AuditRecord:
        return await self.record_action(
            AuditAction.LOGOUT, actor=actor, reason=reason, origin=origin
        )

    async def login_failed(
        self, user_id: str, detail: str, *, origin: str = "login", actor: Actor | None = None
    ) -> AuditRecord:
        """A refused attempt; ``user_id`` is what was typed (it may name nobody)."""
        who = actor or Actor(user_id=user_id)
        return await self.record_action(
            AuditAction.LOGIN_FAILED, result=AuditResult.DENIED, actor=who,
            target_address=f"user:{user_id}", error=detail, origin=origin,
        )  # fmt: skip

    async def lockout(self, user_id: str, detail: str, *, origin: str = "login") -> AuditRecord:
        return await self.record_action(
            AuditAction.LOCKOUT, result=AuditResult.DONE, actor=Actor(user_id=user_id),
            target_address=f"user:{user_id}", error=detail, origin=origin,
        )  # fmt: skip

    async def user_change(
        self,
        action: AuditAction,
        target_user: str,
        *,
        old: str | None = None,
        new: str | None = None,
        result: AuditResult = AuditResult.DONE,
        error: str = "",
        reason: str = "",
        origin: str = "user administration",
    ) -> AuditRecord:
        """``user_add``/``user_change``/``user_disable``/``password_change``... by the actor
        on ``target_user``; ``old``/``new`` describe what changed (never a password)."""
        return await self.record_action(
            action, result=result, target_address=f"user:{target_user}", old_value=old,
            new_value=new, error=error, reason=reason, origin=origin,
        )  # fmt: skip

    # -- the screen designer -------------------------------------------------------------------

    async def screen_change(self, plan: PlannedChange, *, origin: str = "designer") -> AuditRecord:
        """Record a checked designer change and write its files, in that order: the new texts
        are staged beside their files (raising ``FileChanged`` if a file changed on disk), the
        record is made durable, and only then are the files renamed into place. If the record
        cannot be written, nothing is; if a rename fails after it, a ``failed`` record follows
        and ``ConfigError`` says so. Returns the record."""
        change = plan.change()
        staged = plan.stage()
        try:
            record = await self.record_action(
                change.action, reason=plan.reason, origin=origin, **change.record_fields()
            )
        except BaseException:
            staged.discard()
            raise
        try:
            staged.commit()
        except OSError as exc:
            staged.discard()
            await self.record_action(
                change.action, result=AuditResult.FAILED, reason=plan.reason, origin=origin,
                error=f"recorded as record {record.sequence}, but writing the files failed: {exc}",
                target_address=f"screen:{change.screen_id}",
            )  # fmt: skip
            raise ConfigError(
                f"the change is recorded, but writing {change.main.file} failed: {exc}; "
                "the audit trail says so; save again"
            ) from exc
        return record
