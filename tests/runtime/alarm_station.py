"""Run by the alarm picture tests as a separate station process: its own broker, alarm engine,
journal writer and shared picture on the database at ``url``, reading ``Level`` from the OPC UA
server at ``endpoint``. Prints ``ready``, then ``<alarm> <state>`` at each change of an alarm's
state; reads commands on stdin (``acknowledge <alarm>``, ``shelve <alarm> <seconds>``) and
stops when stdin closes."""

from __future__ import annotations

import asyncio
import sys

from hmi.model.alarms.states import AlarmAction
from hmi.runtime.commands import AlarmRequest
from tests.runtime.test_alarm_share import ALARMS, station


async def main(url: str, name: str, endpoint: str, node: str) -> None:
    async with station(url, name, endpoint=endpoint, node=node) as here:
        print("ready", flush=True)
        shown = {alarm.id: here.state(alarm.id) for alarm in ALARMS}
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str] = asyncio.Queue()

        def read() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")

        loop.run_in_executor(None, read)
        for alarm_id, state in shown.items():
            print(alarm_id, state.value, flush=True)
        while True:
            for alarm_id in shown:
                state = here.state(alarm_id)
                if state is not shown[alarm_id]:
                    shown[alarm_id] = state
                    print(alarm_id, state.value, flush=True)
            try:
                line = await asyncio.wait_for(lines.get(), 0.01)
            except TimeoutError:
                continue
            if not line:
                return
            verb, alarm_id, *rest = line.split()
            duration = float(rest[0]) if rest else None
            result = await here.commands.alarm(
                AlarmRequest(AlarmAction(verb), alarm_id, f"from {name}", duration)
            )
            print("result", result.ok, result.message.replace("\n", " "), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
