"""The command service: the ONE path by which anything changes state, a device value or an
alarm.

Writes: permission -> validation (type, range, limits) -> confirmation policy -> driver write
-> read-back -> durable record -> result. Alarm actions: permission -> validation (the reason
a shelve needs; the engine refuses actions that do not apply) -> action -> durable record ->
result. Each step can refuse; nothing is sent unless every earlier step passed, and every
attempt (done, denied, cancelled or failed) is recorded before the operator hears the result.

Permission and confirmation come from a ``CommandGuard`` (the session), the record from a
``CommandRecorder`` (the audit trail); without them every write is allowed and only logged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from hmi.drivers.base import Driver
from hmi.model.alarms.states import OPERATOR_ACTIONS, AlarmAction, AlarmActionDenied
from hmi.model.errors import HmiError, WriteDenied, WriteFailed
from hmi.model.quality import QualityReason
from hmi.model.security import Permission
from hmi.model.tags import TagConfig
from hmi.runtime.alarms import AlarmCommands
from hmi.runtime.broker import TagBroker

log = logging.getLogger(__name__)


class OldSource(StrEnum):
    """Where a write's old value came from."""

    BROKER = "broker"  # the latest value of a subscribed tag (what the operator saw)
    DEVICE = "device"  # nobody watches the tag: read from the device before the write
    NONE = "none"  # neither: unknown (not read, or the read failed)


class Outcome(StrEnum):
    DONE = "done"
    DENIED = "denied"  # refused before sending: permission, validation, quality
    CANCELLED = "cancelled"  # the operator backed out of a confirmation
    FAILED = "failed"  # sent and failed, or read back a different value


@dataclass(frozen=True, slots=True)
class WriteRequest:
    tag: str
    value: Any
    origin: str = ""  # screen/widget the action came from, e.g. "overview/btn_p1_start"


ALARM_PERMISSIONS = {
    AlarmAction.ACKNOWLEDGE: Permission.ACK_ALARM,
    AlarmAction.RESET: Permission.ACK_ALARM,
    AlarmAction.SHELVE: Permission.SHELVE_ALARM,
    AlarmAction.UNSHELVE: Permission.SHELVE_ALARM,
    AlarmAction.OUT_OF_SERVICE: Permission.SHELVE_ALARM,
    AlarmAction.RETURN_TO_SERVICE: Permission.SHELVE_ALARM,
    AlarmAction.COMMENT: Permission.COMMENT_ALARM,
}
REASON_REQUIRED = frozenset({AlarmAction.SHELVE, AlarmAction.OUT_OF_SERVICE, AlarmAction.COMMENT})


@dataclass(frozen=True, slots=True)
class AlarmRequest:
    action: AlarmAction  # one of the operator actions (OPERATOR_ACTIONS)
    alarm_id: str
    reason: str = ""  # the comment's text for COMMENT
    duration_s: float | None = None  # SHELVE: seconds, or None for one-shot
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Approval:
    """What the guard's confirmation step decided, and what the record must say about it:
    the operator's reason, the signature's meaning, the second person who verified.
    ``refusal`` says why an answer that came back was not enough (denied, not cancelled)."""

    approved: bool
    reason: str = ""
    meaning: str = ""
    verifier_id: str = ""
    verifier_name: str = ""
    refusal: str = ""


APPROVED = Approval(True)


@dataclass(frozen=True, slots=True)
class CommandResult:
    request: WriteRequest | AlarmRequest
    outcome: Outcome
    old_value: Any = None
    written: Any = None
    read_back: Any = None
    message: str = ""
    approval: Approval | None = None
    event: Any = None  # the AlarmEvent an alarm action caused
    old_source: str = ""  # a write: where ``old_value`` came from, see ``OldSource``

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


class CommandGuard(Protocol):
    """Permission and confirmation. Both raise ``WriteDenied`` to refuse."""

    def permit(self, permission: Permission, what: str) -> str:
        """Check that whoever is logged in holds ``permission``; returns their user id."""
        ...

    async def approve(
        self, tag: TagConfig, request: WriteRequest, value: Any, old: Any
    ) -> Approval:
        """Permission to write ``tag``, then its confirmation policy."""
        ...

    def refusal(self, permission: Permission) -> str | None:
        """Why ``permit(permission, ...)`` would refuse now (None: it would not), in words
        for a disabled button's tooltip."""
        ...

    def write_refusal(self, tag: TagConfig) -> str | None:
        """Why a write of ``tag`` would be refused before its confirmation (None: it would
        not)."""
        ...


class CommandRecorder(Protocol):
    """Makes the record of an attempt durable before the operator is told the result."""

    async def record(self, result: CommandResult) -> None: ...


class _Source:
    """Where the old value of the write under way came from (set as it is found)."""

    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = OldSource.NONE


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _same(tag: TagConfig, written: Any, read_back: Any) -> bool:
    """Whether the read-back equals what was written, compared in the tag's type (a ``str``
    tag on a numeric register or node compares the numbers: ``'12.5'`` and ``12.5`` agree)."""
    try:
        back = tag.coerce(read_back)
    except WriteDenied:
        return False  # e.g. 12.5 read back for an int tag, or text for a float tag
    if isinstance(written, str) and isinstance(back, str):
        a, b = _number(written), _number(read_back)
        if a is not None and b is not None and not isinstance(read_back, str):
            return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
        return written == back
    if isinstance(written, float) and not isinstance(back, bool):
        return math.isclose(written, float(back), rel_tol=1e-6, abs_tol=1e-9)
    return bool(written == back)


class CommandService:
    def __init__(
        self,
        broker: TagBroker,
        *,
        guard: CommandGuard | None = None,
        recorder: CommandRecorder | None = None,
        alarms: AlarmCommands | None = None,
    ) -> None:
        self._broker = broker
        self.guard = guard
        self.recorder = recorder
        self.alarms = alarms

    def write_refusal(self, tag_name: str) -> str | None:
        """Why a write of ``tag_name`` would be refused now (read-only, nobody logged in, the
        station locked, a role that may not), None if it would go on to its confirmation.
        What widgets show before anything is tried; ``write`` still checks it all again."""
        tag = self._broker.tags.get(tag_name)
        if tag is None:
            return f"unknown tag {tag_name!r}"
        if tag.write is None:
            return f"{tag_name} is read-only"
        return None if self.guard is None else self.guard.write_refusal(tag)

    def alarm_refusal(self, action: AlarmAction) -> str | None:
        """Why ``action`` on an alarm would be refused now for want of a permission."""
        if self.alarms is None:
            return "this station runs no alarms"
        permission = ALARM_PERMISSIONS.get(action)
        if permission is None:
            return f"{action.value} is not an operator's action on an alarm"
        return None if self.guard is None else self.guard.refusal(permission)

    async def write(self, tag_name: str, value: Any, *, origin: str = "") -> CommandResult:
        """Run one write through the whole pipeline. Never raises for an operator's mistake:
        the result says what happened, and that result is what gets recorded."""
        source = _Source()
        result = await self._write(WriteRequest(tag_name, value, origin), source)
        return await self._finish(replace(result, old_source=source.name.value))

    async def alarm(self, request: AlarmRequest) -> CommandResult:
        """Run one alarm action (acknowledge, shelve, ...) through the pipeline."""
        return await self._finish(await self._alarm(request))

    async def _finish(self, result: CommandResult) -> CommandResult:
        if self.recorder is not None:
            try:
                await self.recorder.record(result)
            except HmiError as exc:  # stored nowhere: never reported done, the operator told
                done = result.ok
                result = replace(
                    result, outcome=Outcome.FAILED if done else result.outcome,
                    message=f"carried out, but {exc}" if done else f"{result.message}; {exc}",
                )  # fmt: skip
        request = result.request
        what = (
            f"write {request.tag}={request.value!r}"
            if isinstance(request, WriteRequest)
            else f"{request.action.value} alarm {request.alarm_id}"
        )
        level = logging.INFO if result.ok else logging.WARNING
        log.log(
            level,
            "%s from %s: %s %s",
            what,
            request.origin or "-",
            result.outcome.value,
            result.message,
        )
        return result

    async def _device_value(self, tag: TagConfig, driver: Driver, source: _Source) -> Any:
        """The tag's value read from the device now, for a tag the broker has no value of (no
        screen watches it). A failed read leaves it unknown and the write goes on."""
        try:
            read = await driver.read(tag.address)
        except Exception as exc:  # the old value is for the record; it never stops a write
            log.info("old value of %s not read before the write: %s", tag.name, exc)
            return None
        if read.quality.is_bad:
            log.info("old value of %s read as %s before the write", tag.name, read.quality)
            return None
        source.name = OldSource.DEVICE
        return read.value

    async def _write(self, request: WriteRequest, source: _Source) -> CommandResult:
        old: Any = None
        approval: Approval | None = None
        try:
            tag = self._broker.tag(request.tag)
            latest = self._broker.latest(request.tag)
            watched = self._broker.subscribers(request.tag) > 0  # else nobody keeps it fresh
            if watched and latest.quality.reason is not QualityReason.INITIAL:
                old, source.name = latest.value, OldSource.BROKER
            coerced = tag.check_write(request.value)
            driver = self._broker.pool.driver_for(tag.address)
            if source.name is OldSource.NONE:
                old = await self._device_value(tag, driver, source)
            if self.guard is not None:
                approval = await self.guard.approve(tag, request, coerced, old)
                if approval.refusal:
                    return CommandResult(
                        request, Outcome.DENIED, old, message=approval.refusal, approval=approval
                    )
                if not approval.approved:
                    return CommandResult(
                        request,
                        Outcome.CANCELLED,
                        old,
                        message="cancelled by the operator",
                        approval=approval,
                    )
        except HmiError as exc:
            return CommandResult(request, Outcome.DENIED, old, message=str(exc), approval=approval)
        try:
            read_back = await driver.write(tag.address, coerced)
        except WriteDenied as exc:  # the driver refused it before sending: nothing went out
            return CommandResult(request, Outcome.DENIED, old, message=str(exc), approval=approval)
        except WriteFailed as exc:
            return CommandResult(
                request, Outcome.FAILED, old, coerced, message=str(exc), approval=approval
            )
        except Exception as exc:  # a driver bug must not lose the record of the attempt
            log.exception("driver %s raised on write to %s", driver.key, tag.address)
            return CommandResult(
                request,
                Outcome.FAILED,
                old,
                coerced,
                message=f"driver error: {exc}",
                approval=approval,
            )
        back = None if read_back is None else read_back.value
        if read_back is not None and not _same(tag, coerced, back):
            return CommandResult(
                request, Outcome.FAILED, old, coerced, back,
                message=f"read back {back!r} after writing {coerced!r}", approval=approval,
            )  # fmt: skip
        return CommandResult(request, Outcome.DONE, old, coerced, back, "done", approval)

    async def _alarm(self, request: AlarmRequest) -> CommandResult:
        user = ""
        try:
            if self.alarms is None:
                raise WriteDenied("this station runs no alarms")
            if request.action not in OPERATOR_ACTIONS:
                raise WriteDenied(f"{request.action.value} is not an operator's action on an alarm")
            if self.guard is not None:
                user = self.guard.permit(
                    ALARM_PERMISSIONS[request.action], f"alarm {request.alarm_id}"
                )
            reason = request.reason.strip()
            if request.action in REASON_REQUIRED and not reason:
                raise WriteDenied(
                    f"alarm {request.alarm_id}: {request.action.value} needs a reason"
                )
            event = self._act(self.alarms, request, user, reason)
        except (HmiError, AlarmActionDenied) as exc:
            return CommandResult(request, Outcome.DENIED, message=str(exc))
        return CommandResult(
            request, Outcome.DONE, event.from_state.value, event.to_state.value,
            message="done", approval=Approval(True, reason), event=event,
        )  # fmt: skip

    @staticmethod
    def _act(alarms: AlarmCommands, request: AlarmRequest, user: str, reason: str) -> Any:
        action, alarm_id = request.action, request.alarm_id
        if action is AlarmAction.ACKNOWLEDGE:
            return alarms.acknowledge(alarm_id, user=user, comment=reason)
        if action is AlarmAction.RESET:
            return alarms.reset(alarm_id, user=user, comment=reason)
        if action is AlarmAction.SHELVE:
            return alarms.shelve(alarm_id, user=user, reason=reason, duration_s=request.duration_s)
        if action is AlarmAction.UNSHELVE:
            return alarms.unshelve(alarm_id, user=user, reason=reason)
        if action is AlarmAction.OUT_OF_SERVICE:
            return alarms.set_out_of_service(alarm_id, user=user, reason=reason)
        if action is AlarmAction.RETURN_TO_SERVICE:
            return alarms.return_to_service(alarm_id, user=user, reason=reason)
        return alarms.comment(alarm_id, user=user, text=reason)
