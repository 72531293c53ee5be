"""Run by test_kill_faults.py as a separate process: the whole station (offscreen) on the demo
plant, an operator writing the setpoint through the command service one write after another.

``burst``: prints ``ready`` once logged in with the setpoint Good, waits for a line on stdin (the
parent cuts the database first where it tests that), then prints ``done <value> <uuid>``
for each write only after the station reported it done (its record durable), and ``late <s>``
each time the UI loop's longest stall grows. The parent kills it with SIGKILL mid-way.
``restart``: starts the station again on the same data folder, waits until the spool left by
the killed run is forwarded, prints ``forwarded`` and stops as an operator would.

Usage: ``station_writer.py MODE PROJECT_FOLDER DATABASE_URL [WRITES]``
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from hmi.app import GuiThreadCollector, Station, build_station
from hmi.model.screens.loader import load_project
from tests.faults.conftest import PASSWORD, SETPOINT, UiProbe


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"station_writer: not within {timeout:g} s: {what}")
        await asyncio.sleep(0.01)


async def burst(station: Station, probe: UiProbe, writes: int) -> None:
    if await station.trail.call(station.users.get, "op") is None:
        await station.trail.call(
            station.users.add, "op", "Olga Operator", "operator", PASSWORD, must_change=False
        )
    await station.sessions.login("op", PASSWORD)
    station.broker.subscribe(SETPOINT)
    await until(lambda: station.broker.latest(SETPOINT).quality.is_good, 15, "setpoint Good")
    probe.start()
    say("ready")
    await asyncio.to_thread(sys.stdin.readline)  # the parent's go, after it cut what it cuts
    worst = 0.0
    for n in range(writes):
        value = 20.0 + n / 20
        result = await station.commands.write(SETPOINT, value, origin="faults/kill")
        if result.ok:
            assert station.recorder.last is not None
            say(f"done {value!r} {station.recorder.last.uuid}")
        else:
            say(f"failed {value!r} {result.message}")
        if probe.worst > worst:
            worst = probe.worst
            say(f"late {worst:.4f}")
    say("finished")


async def restart(station: Station, probe: UiProbe) -> None:
    probe.start()
    await until(lambda: not station.trail.spooling, 40, "the spool forwarded")
    await station.trail.call(lambda: None)
    say(f"late {probe.worst:.4f}")
    say("forwarded")


async def main(mode: str, folder: Path, url: str, writes: int) -> None:
    station = build_station(load_project(folder), database=url, live_reload=False)
    await station.start()
    probe = UiProbe()
    try:
        if mode == "burst":
            await burst(station, probe, writes)
        else:
            await restart(station, probe)
    finally:
        probe.stop()
        await station.stop()


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    collector = GuiThreadCollector(interval_ms=1000)  # as ``hmi run`` has it: on the GUI thread
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    writes = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    try:
        loop.run_until_complete(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], writes))
    finally:
        collector.timer.stop()
        loop.close()  # ends the loop's thread pool, whose live QThreads would abort the exit
