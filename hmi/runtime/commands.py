"""The command service: the ONE path by which anything is written to a device.

Pipeline (each step can refuse; nothing is sent unless every earlier step passed):
permission -> validation (type, range, limits) -> confirmation policy -> driver write ->
read-back -> record -> result. Permission, confirmation and the audit record are added by the
audit issue through the ``CommandGuard`` and ``CommandRecorder`` hooks; until then every write
is allowed and recorded to the log.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from hmi.model.errors import HmiError, WriteDenied, WriteFailed
from hmi.model.tags import TagConfig
from hmi.runtime.broker import TagBroker

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class CommandResult:
    request: WriteRequest
    outcome: Outcome
    old_value: Any = None
    written: Any = None
    read_back: Any = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


class CommandGuard(Protocol):
    """Permission and confirmation: raise ``WriteDenied`` to refuse, return False to cancel."""

    async def approve(
        self, tag: TagConfig, request: WriteRequest, value: Any, old: Any
    ) -> bool: ...


class CommandRecorder(Protocol):
    """Makes the record of an attempt durable before the operator is told the result."""

    async def record(self, result: CommandResult) -> None: ...


def _same(written: Any, read_back: Any) -> bool:
    if isinstance(written, float) and isinstance(read_back, (int, float)):
        return math.isclose(written, float(read_back), rel_tol=1e-6, abs_tol=1e-9)
    return bool(written == read_back)


class CommandService:
    def __init__(
        self,
        broker: TagBroker,
        *,
        guard: CommandGuard | None = None,
        recorder: CommandRecorder | None = None,
    ) -> None:
        self._broker = broker
        self._guard = guard
        self._recorder = recorder

    async def write(self, tag_name: str, value: Any, *, origin: str = "") -> CommandResult:
        """Run one write through the whole pipeline. Never raises for an operator's mistake:
        the result says what happened, and that result is what gets recorded."""
        request = WriteRequest(tag_name, value, origin)
        result = await self._run(request)
        if self._recorder is not None:
            await self._recorder.record(result)
        level = logging.INFO if result.ok else logging.WARNING
        log.log(
            level,
            "write %s=%r from %s: %s %s",
            tag_name,
            value,
            origin or "-",
            result.outcome.value,
            result.message,
        )
        return result

    async def _run(self, request: WriteRequest) -> CommandResult:
        old: Any = None
        try:
            tag = self._broker.tag(request.tag)
            current = self._broker.latest(request.tag)
            old = current.value
            coerced = tag.check_write(request.value)
            driver = self._broker.pool.driver_for(tag.address)
            if self._guard is not None and not await self._guard.approve(
                tag, request, coerced, old
            ):
                return CommandResult(
                    request, Outcome.CANCELLED, old, message="cancelled by the operator"
                )
        except HmiError as exc:
            return CommandResult(request, Outcome.DENIED, old, message=str(exc))
        try:
            read_back = await driver.write(tag.address, coerced)
        except (WriteFailed, WriteDenied) as exc:
            return CommandResult(request, Outcome.FAILED, old, coerced, message=str(exc))
        except Exception as exc:  # a driver bug must not lose the record of the attempt
            log.exception("driver %s raised on write to %s", driver.key, tag.address)
            return CommandResult(
                request, Outcome.FAILED, old, coerced, message=f"driver error: {exc}"
            )
        back = None if read_back is None else read_back.value
        if read_back is not None and not _same(coerced, back):
            return CommandResult(
                request, Outcome.FAILED, old, coerced, back,
                message=f"read back {back!r} after writing {coerced!r}",
            )  # fmt: skip
        return CommandResult(request, Outcome.DONE, old, coerced, back, "done")
