"""Run by test_kill.py as a separate process: audited writes through the real command service
and local:// driver; prints each record's uuid only after the recorder has returned (that
is, after the record is durable). The parent kills this process with SIGKILL mid-way."""

from __future__ import annotations

import asyncio
import sys

from hmi.drivers.defaults import default_registry
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.audit import Actor, AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandResult, CommandService
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail


class PrintingRecorder(AuditRecorder):
    async def record(self, result: CommandResult) -> None:
        await super().record(result)
        assert self.last is not None
        sys.stdout.write(f"{self.last.uuid}\n")
        sys.stdout.flush()


async def main(url: str, writes: int, writers: int) -> None:
    tags = {"SP": TagConfig(name="SP", address="local://sp?type=float", write=WritePolicy())}
    broker = TagBroker(tags, default_registry(), {})
    await broker.start()
    broker.subscribe("SP")
    trail = AuditTrail(AuditStore.open(url))
    operator = Actor("op", "Olga Operator", "operator", "session-1")
    recorder = PrintingRecorder(
        trail, workstation="kill-test", app_version="test", tags=tags, actor=lambda: operator
    )
    service = CommandService(broker, recorder=recorder)
    await trail.call(trail.store.ready)
    print("ready", flush=True)

    async def writer(first: int) -> None:
        for value in range(first, writes, writers):
            await service.write("SP", value, origin="kill-test")

    await asyncio.gather(*(writer(n) for n in range(writers)))
    print("finished", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
