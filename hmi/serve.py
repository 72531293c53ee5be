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
from dataclasses import dataclass
from pathlib import Path

from hmi import __version__
from hmi.drivers.defaults import default_registry
from hmi.model.audit.record import AuditAction
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.screens.loader import Project, load_project
from hmi.runtime.alarm_journal import AlarmJournalWriter
from hmi.runtime.alarm_share import SharedAlarms, shares
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.audit import NOBODY, Actor, AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.historian import StationHistory
from hmi.runtime.sparkplug import EdgeNode
from hmi.runtime.sparkplug.commands import MqttCommander, MqttCommandGuard
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore
from hmi.storage.db import default_database_url, make_engine
from hmi.storage.spool import SpoolStore
from hmi.storage.trail import AuditTrail
from hmi.storage.witness import HeadWitness

__all__ = ["HeadlessStation", "build_headless", "serve"]

log = logging.getLogger(__name__)


@dataclass
class HeadlessStation:
    project: Project
    broker: TagBroker
    trail: AuditTrail
    recorder: AuditRecorder
    alarms: AlarmEngineService
    alarm_journal: AlarmJournalWriter
    history: StationHistory
    edge: EdgeNode | None
    journal: AlarmJournal
    alarm_share: SharedAlarms | None = None  # one alarm picture with the stations (PostgreSQL)

    async def start(self) -> None:
        self.trail.start()
        await self.history.start()
        if self.alarm_share is not None:  # the shared state, not this station's own
            snapshot = await self.alarm_share.start_snapshot()
        else:
            snapshot = await self.alarm_journal.last_snapshot()
        self.alarm_journal.attach(self.alarms)
        await self.broker.start()
        await self.alarms.start(snapshot)
        if self.alarm_share is not None:
            await self.alarm_share.start()
        if self.edge is not None:
            await self.edge.start()
        await self._record(AuditAction.APP_START)

    async def stop(self) -> None:
        if self.edge is not None:
            await self.edge.stop()  # NDEATH while the values are still good
        if self.alarm_share is not None:
            await self.alarm_share.stop()
        await self.alarms.stop()
        await self.alarm_journal.aclose()
        self.journal.close()
        await self.broker.stop()
        await self.history.stop()
        await self._record(AuditAction.APP_STOP)
        await self.trail.call(lambda: None)  # every record queued before is durable now
        self.trail.close()
        self.trail.store.close()
        if self.trail.spool is not None:
            self.trail.spool.close()

    async def _record(self, action: AuditAction) -> None:
        try:
            await self.recorder.record_action(
                action, actor=NOBODY, origin="serve", new_value=self.project.file.project.name
            )
        except Exception as exc:
            log.error("could not record %s: %s", action.value, exc)


def build_headless(project: Project, *, database: str | None = None) -> HeadlessStation:
    """Everything ``hmi serve`` runs, wired (not started)."""
    key = project.file.site_key()
    db = project.file.database
    url = database or db.url or default_database_url()
    store = AuditStore(make_engine(url), key=key)
    trail = AuditTrail(
        store,
        SpoolStore(key=key),
        spool_failure=db.spool_failure,
        identity={"workstation": db.workstation, "app_version": __version__},
        witness=HeadWitness(store.url, station=db.workstation),
    )
    recorder = AuditRecorder(
        trail, workstation=db.workstation, app_version=__version__, tags=project.tags
    )
    broker = TagBroker(project.tags, default_registry(), project.file.connections)
    alarms = AlarmEngineService(broker, project.alarms, settings=project.file.settings.alarms)
    journal = AlarmJournal.open(str(store.engine.url.render_as_string(hide_password=False)))
    writer = AlarmJournalWriter(journal, workstation=db.workstation)
    history = StationHistory.open(
        broker, project.file.historian, trended=set(), memory_capacity=0,
        station=db.workstation,
    )  # fmt: skip
    mqtt = project.file.mqtt
    edge = None if mqtt is None else EdgeNode(broker, mqtt, project_dir=Path(project.root))
    if edge is not None and mqtt is not None and mqtt.commands.tags:
        edge.set_command_handler(_commander(project, edge, broker, trail, alarms))
    journal_url = store.engine.url.render_as_string(hide_password=False)
    share = None
    if shares(journal_url):
        share = SharedAlarms(alarms.engine, journal, workstation=db.workstation, url=journal_url)
    else:
        log.info("alarms: no central database; this station's alarm picture is its own")
    return HeadlessStation(
        project, broker, trail, recorder, alarms, writer, history, edge, journal, share
    )


def _commander(
    project: Project,
    edge: EdgeNode,
    broker: TagBroker,
    trail: AuditTrail,
    alarms: AlarmEngineService,
) -> MqttCommander:
    """The enterprise's writes: the command service with the MQTT identity's guard, and a
    recorder that names that identity."""
    settings = edge.settings.commands
    who = Actor(user_id=settings.user, user_name="MQTT", role=settings.role)
    db = project.file.database
    recorder = AuditRecorder(
        trail, workstation=db.workstation, app_version=__version__, tags=project.tags,
        actor=lambda: who,
    )  # fmt: skip
    guard = MqttCommandGuard(settings, project.file.security)
    commands = CommandService(broker, guard=guard, recorder=recorder, alarms=alarms)
    return MqttCommander(commands, lambda: edge.aliases, origin=f"mqtt:{edge.settings.host}")


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


async def _run(station: HeadlessStation, *, check_s: float | None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    await station.start()
    try:
        if check_s is not None:
            deadline = started + check_s
            while time.monotonic() < deadline and not stop.is_set():
                if _all_up(station):
                    break
                await asyncio.sleep(0.05)
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


def _all_up(station: HeadlessStation) -> bool:
    health = station.broker.health
    for name, connection in station.project.file.connections.items():
        state = health.get(f"{connection.driver}://{name}")
        if state is None or not state.ok:
            return False
    return station.edge is None or station.edge.status.connected


def serve(
    project_path: str | Path,
    *,
    check: bool = False,
    check_s: float = 10,
    database: str | None = None,
) -> int:
    """Run headless until SIGTERM/SIGINT (or, with ``check``, until every connection is up or
    ``check_s`` passed); the exit code."""
    try:
        project = load_project(project_path)
    except ProjectError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    try:
        station = build_headless(project, database=database)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    return asyncio.run(_run(station, check_s=check_s if check else None))
