"""The station's services, pure of Qt, wired by one builder: drivers (through the tag broker),
alarm engine, alarm journal, historian, audit trail and the Sparkplug B edge node.
``hmi serve`` runs them alone; the operator window is a client of the same services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hmi import __version__
from hmi.drivers.defaults import default_registry
from hmi.model.audit.record import AuditAction
from hmi.model.screens.loader import Project
from hmi.runtime.alarm_journal import AlarmJournalWriter
from hmi.runtime.alarm_share import SharedAlarms, shares
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.audit import NOBODY, Actor, AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.historian import StationHistory
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore
from hmi.storage.db import default_database_url, make_engine
from hmi.storage.spool import SpoolStore
from hmi.storage.trail import AuditTrail
from hmi.storage.witness import HeadWitness

if TYPE_CHECKING:  # paho and protobuf are loaded only for a project with an mqtt: section
    from hmi.runtime.sparkplug import EdgeNode
    from hmi.runtime.sparkplug.commands import MqttCommander

__all__ = ["HeadlessStation", "build_headless"]

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


def build_headless(
    project: Project, *, database: str | None = None, broker: TagBroker | None = None
) -> HeadlessStation:
    """Everything ``hmi serve`` runs, wired (not started); ``broker`` one made (and maybe
    started) already."""
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
    if broker is None:
        broker = TagBroker(project.tags, default_registry(), project.file.connections)
    alarms = AlarmEngineService(broker, project.alarms, settings=project.file.settings.alarms)
    journal = AlarmJournal.open(str(store.engine.url.render_as_string(hide_password=False)))
    writer = AlarmJournalWriter(journal, workstation=db.workstation)
    history = StationHistory.open(
        broker, project.file.historian, trended=set(), memory_capacity=0,
        station=db.workstation,
    )  # fmt: skip
    mqtt = project.file.mqtt
    edge = None
    if mqtt is not None:
        from hmi.runtime.sparkplug import EdgeNode

        edge = EdgeNode(broker, mqtt, project_dir=Path(project.root))
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
    from hmi.runtime.sparkplug.commands import MqttCommander, MqttCommandGuard

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
