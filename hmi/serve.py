"""``hmi serve``: the station without a window (an edge gateway, a server).

Drivers, tag broker, alarm engine, alarm journal, historian, audit trail and the Sparkplug B
edge node, on one asyncio loop, no Qt. Stops cleanly on SIGTERM or SIGINT: the edge node
publishes its NDEATH, the drivers stop, the stop is recorded and the trail flushed. ``check``
starts, waits for the connections, reports each one, and stops."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from hmi.model.errors import ConfigError, ProjectError

if TYPE_CHECKING:
    from hmi.model.screens.loader import Project
    from hmi.runtime.broker import TagBroker
    from hmi.runtime.services.station import HeadlessStation

__all__ = ["connect_early", "serve"]

log = logging.getLogger(__name__)


def connect_early(broker: TagBroker) -> None:
    """Make the driver of every connection a tag uses now (the pool starts it at once if it
    is started): the connections come up on the I/O thread while the rest of the station
    (storage, alarms, historian) is still loading."""
    first: dict[str, object] = {}
    for tag in broker.tags.values():
        address = tag.address
        if address.scheme not in ("sim", "local") and address.connection not in first:
            first[address.connection] = address
            broker.pool.driver_for(address)


def _report(station: HeadlessStation) -> bool:
    ok = True
    health = station.broker.health
    for name, connection in station.project.file.connections.items():
        key = f"{connection.driver}://{name}"
        state = health.get(key)
        good = state is not None and state.ok
        ok = ok and good
        text = "not started (no tag uses it)" if state is None else state.state.name
        detail = "" if state is None or not state.detail else f": {state.detail}"
        print(f"{'ok ' if good else 'BAD'} {name} ({connection.driver}) {text}{detail}")
    if station.edge is not None:
        status = station.edge.status
        good = status.connected
        ok = ok and good
        error = f": {status.last_error}" if status.last_error else ""
        print(f"{'ok ' if good else 'BAD'} mqtt {station.edge.settings.broker} "
              f"{'CONNECTED' if good else 'NOT CONNECTED'}{error}")  # fmt: skip
    return ok


async def _run(
    project: Project, broker: TagBroker, *, check_s: float | None, database: str | None
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    await broker.start()
    connect_early(broker)

    def on_health(_health: object) -> None:
        if _connections_up(project, broker):
            broker.remove_health_listener(on_health)
            log.info("all connections Good %.2f s into start-up", time.monotonic() - started)

    broker.add_health_listener(on_health)
    # Storage, alarms, historian: loaded on a worker thread, so that the loop hands the
    # drivers their start (and takes their health) meanwhile.
    module = await asyncio.to_thread(import_module, "hmi.runtime.services.station")
    build_headless = module.build_headless
    try:
        station = build_headless(project, database=database, broker=broker)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        await broker.stop()
        return 1
    await station.start()
    try:
        if check_s is not None:
            deadline = started + check_s
            while time.monotonic() < deadline and not stop.is_set():
                if _all_up(station):
                    break
                await asyncio.sleep(0.02)
            log.info("start-up took %.2f s", time.monotonic() - started)
            return 0 if _report(station) else 1
        log.info("serving %s; SIGTERM or SIGINT stops", station.project.file.project.name)
        await stop.wait()
        log.info("stopping")
        return 0
    finally:
        await station.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _connections_up(project: Project, broker: TagBroker) -> bool:
    health = broker.health
    for name, connection in project.file.connections.items():
        state = health.get(f"{connection.driver}://{name}")
        if state is None or not state.ok:
            return False
    return True


def _all_up(station: HeadlessStation) -> bool:
    edge = station.edge
    return _connections_up(station.project, station.broker) and (
        edge is None or edge.status.connected
    )


def serve(
    project_path: str | Path,
    *,
    check: bool = False,
    check_s: float = 10,
    database: str | None = None,
) -> int:
    """Run headless until SIGTERM/SIGINT (or, with ``check``, until every connection is up or
    ``check_s`` passed); the exit code."""
    from hmi.model.screens.loader import load_project

    try:
        project = load_project(project_path)
    except ProjectError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    from hmi.drivers.defaults import default_registry
    from hmi.runtime.broker import TagBroker

    try:
        broker = TagBroker(project.tags, default_registry(), project.file.connections)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    check_for = check_s if check else None
    return asyncio.run(_run(project, broker, check_s=check_for, database=database))
