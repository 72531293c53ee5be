"""NCMD/DCMD writes from the enterprise, through the command service like an operator's.

Off unless ``mqtt.commands.tags`` names tags. Each metric of a command is one write by the
configured MQTT identity (``mqtt.commands.user`` with ``role``): the command service checks the
role's permission and the tag's ``write.roles``, the write limits and the confirmation policy,
writes, reads back and records the attempt with origin ``mqtt:<broker host>``. A policy that
needs a person (a reason, a signature, a second person) is refused: a broker message carries
none. Refusals are recorded too; nothing is written around the command service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from hmi.model.errors import WriteDenied
from hmi.model.mqtt import MqttCommands
from hmi.model.security import Permission, SecurityConfig
from hmi.model.tags import ConfirmPolicy, TagConfig
from hmi.runtime.commands import APPROVED, Approval, CommandResult, CommandService, WriteRequest
from hmi.runtime.sparkplug.payload import REBIRTH, Payload, metric_value

__all__ = ["MqttCommandGuard", "MqttCommander"]

log = logging.getLogger(__name__)


class MqttCommandGuard:
    """Implements ``CommandGuard`` for writes that come from the broker."""

    def __init__(self, settings: MqttCommands, security: SecurityConfig) -> None:
        self._settings = settings
        self._security = security

    def permit(self, permission: Permission, what: str) -> str:
        if not self._security.can(self._settings.role, permission):
            raise WriteDenied(f"{what}: the MQTT role {self._settings.role!r} may not do that")
        return self._settings.user

    def refusal(self, permission: Permission) -> str | None:
        ok = self._security.can(self._settings.role, permission)
        return None if ok else f"the MQTT role {self._settings.role!r} may not do that"

    def write_refusal(self, tag: TagConfig) -> str | None:
        if not self._settings.allows(tag.name):
            return f"{tag.name} is not among mqtt.commands.tags; it may not be written from MQTT"
        return self._security.write_refusal(self._settings.role, tag)

    async def approve(
        self, tag: TagConfig, request: WriteRequest, value: Any, old: Any
    ) -> Approval:
        refusal = self.write_refusal(tag)
        if refusal is not None:
            raise WriteDenied(refusal)
        policy = tag.write.confirm if tag.write is not None else ConfirmPolicy.NONE
        if policy in (ConfirmPolicy.NONE, ConfirmPolicy.CONFIRM):
            return APPROVED  # the command is the sender's confirmation
        raise WriteDenied(
            f"{tag.name} needs {policy.value} confirmation, which a person gives at a station; "
            "it is refused from MQTT"
        )


class MqttCommander:
    """Turns the metrics of an NCMD/DCMD into writes through ``commands``. ``names`` maps the
    edge node's aliases to tag names (commands may name a metric or give its alias)."""

    def __init__(
        self,
        commands: CommandService,
        names: Callable[[], Mapping[int, str]],
        *,
        origin: str,
    ) -> None:
        self._commands = commands
        self._names = names
        self.origin = origin
        self.results: list[CommandResult] = []  # the last few, for diagnostics and tests
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, kind: str, device: str, payload: Payload) -> None:
        task = asyncio.get_running_loop().create_task(self._run(kind, device, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, kind: str, device: str, payload: Payload) -> None:
        aliases = self._names()
        for metric in payload.metrics:
            if metric.name == REBIRTH:
                continue
            name = metric.name or aliases.get(metric.alias, "")
            where = f"{kind} {device or '(node)'}"
            if not name:
                log.warning("mqtt: %s: a metric with unknown alias %d ignored", where, metric.alias)
                continue
            try:
                value = metric_value(metric)
            except ValueError as exc:
                value = None
                problem = f"{name} {exc}"
                log.warning("mqtt: %s: %s", where, problem)
            result = await self._commands.write(name, value, origin=self.origin)
            self.results = [*self.results[-99:], result]

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
