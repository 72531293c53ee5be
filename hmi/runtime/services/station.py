"""The station's services, pure of Qt, wired by one builder: drivers (through the tag broker),
alarm engine, alarm journal, historian, audit trail and the Sparkplug B edge node.
``hmi serve`` runs them alone; the operator window is a client of the same services."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hmi import __version__
from hmi.drivers.base import DriverRegistry
from hmi.drivers.defaults import default_registry
from hmi.model.alarms.definitions import AlarmDefinition
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
from hmi.storage.trail import AuditTrail, TrailStatus
from hmi.storage.witness import HeadWitness

if TYPE_CHECKING:  # paho and protobuf are loaded only for a project with an mqtt: section
    from hmi.runtime.sparkplug import EdgeNode
    from hmi.runtime.sparkplug.commands import MqttCommander

__all__ = [
    "HeadlessStation",
    "StationServices",
    "build_headless",
    "build_services",
    "database_url",
    "key_hint",
    "open_trail",
]

log = logging.getLogger(__name__)


@dataclass
class StationServices:
    """What a station runs with or without a window. ``start``: the trail's worker, the
    historian (before the drivers: their first values are stored), the alarm snapshot, the
    drivers, the alarm service, the shared alarm picture, the edge node. ``stop`` the other
    way round; ``close_trail`` after the last record."""

    project: Project
    broker: TagBroker
    trail: AuditTrail
    recorder: AuditRecorder
    alarms: AlarmEngineService
    alarm_journal: AlarmJournalWriter
    history: StationHistory
    edge: EdgeNode | None = None
    alarm_share: SharedAlarms | None = None  # one alarm picture with the stations (PostgreSQL)
    owns_trail: bool = True  # built here (closed by close_trail), not handed in

    @property
    def journal(self) -> AlarmJournal:
        return self.alarm_journal.journal

    @property
    def store_url(self) -> str:
        return self.trail.store.engine.url.render_as_string(hide_password=False)

    async def start(self) -> None:
        self.trail.start()  # its status reports arrive on this loop from now on
        await self.history.start()
        if self.alarm_share is not None:  # the shared state, not this station's own
            snapshot = await self.alarm_share.start_snapshot()
        else:
            snapshot = await self.alarm_journal.last_snapshot()
        self.alarm_journal.attach(self.alarms)  # before start: restore events are journalled
        await self.broker.start()
        await self.alarms.start(snapshot)
        if self.alarm_share is not None:
            await self.alarm_share.start()
        if self.edge is not None:
            await self.edge.start()

    async def stop(self) -> None:
        if self.edge is not None:
            await self.edge.stop()  # NDEATH while the values are still good
        if self.alarm_share is not None:
            await self.alarm_share.stop()
        await self.alarms.stop()
        await self.alarm_journal.aclose()
        self.journal.close()
        await self.broker.stop()  # tags go Bad(NotConnected), which the historian stores
        await self.history.stop()

    async def record(self, action: AuditAction, origin: str) -> None:
        """``app_start``/``app_stop`` by nobody; raises what the trail raised."""
        await self.recorder.record_action(
            action, actor=NOBODY, origin=origin, new_value=self.project.file.project.name
        )

    async def close_trail(self) -> None:
        if not self.owns_trail:
            return
        await self.trail.call(lambda: None)  # every record queued before is durable now
        self.trail.close()  # (no executor thread of the loop's: it would outlive the loop)
        self.trail.store.close()
        if self.trail.spool is not None:
            self.trail.spool.close()


class HeadlessStation(StationServices):
    """``hmi serve``: the services alone, ``app_start``/``app_stop`` recorded as ``serve``."""

    async def start(self) -> None:
        await super().start()
        await self._record(AuditAction.APP_START)

    async def stop(self) -> None:
        await super().stop()
        await self._record(AuditAction.APP_STOP)
        await self.close_trail()

    async def _record(self, action: AuditAction) -> None:
        try:
            await self.record(action, "serve")
        except Exception as exc:
            log.error("could not record %s: %s", action.value, exc)


def key_hint(project: Project) -> str:
    """What to check, in this project's terms, when the audit chain refuses the key."""
    name, setting = project.file.audit_key_env, project.file.audit_key_setting
    if not name:
        return (
            f"set {setting} in project.yaml to the variable that holds the site's audit key, "
            "set that variable, and restart the station"
        )
    return (
        f"check that {name} (named by project.yaml's {setting}) holds the site's audit key, "
        f"or remove {setting} if this database's chain has no key, and restart the station"
    )


def database_url(project: Project) -> str:
    """The project's ``database.url``, else the station's own SQLite file."""
    return project.file.database.url or default_database_url()


def open_trail(
    project: Project,
    *,
    database: str | None = None,
    on_status: Callable[[TrailStatus], None] | None = None,
) -> AuditTrail:
    """The audit trail on ``database`` (else the project's), its spool and head witness."""
    key = project.file.site_key()
    db = project.file.database
    store = AuditStore(
        make_engine(database or database_url(project)), key=key, key_hint=key_hint(project)
    )
    return AuditTrail(
        store,
        SpoolStore(key=key),
        on_status=on_status,
        spool_failure=db.spool_failure,
        identity={"workstation": db.workstation, "app_version": __version__},
        witness=HeadWitness(store.url, station=db.workstation),
    )


def build_services(
    project: Project,
    *,
    trail: AuditTrail | None = None,
    database: str | None = None,
    broker: TagBroker | None = None,
    registry: DriverRegistry | None = None,
    extra_alarms: Sequence[AlarmDefinition] = (),
    trended: Collection[str] = frozenset(),
    memory_capacity: int = 0,
    on_trail_status: Callable[[TrailStatus], None] | None = None,
    on_share_status: Callable[[str], None] | None = None,
    kind: type[StationServices] = StationServices,
) -> StationServices:
    """The services wired (not started): ``trail`` one open already (the caller closes it),
    else one on ``database``; ``broker`` one made (and maybe started) already; the alarm
    service with the project's alarms and ``extra_alarms``; the historian for the recorded
    tags and ``trended`` ones (the recent past in memory, ``memory_capacity`` samples each);
    the edge node with an ``mqtt:`` section."""
    db = project.file.database
    owns_trail = trail is None
    if trail is None:
        trail = open_trail(project, database=database, on_status=on_trail_status)
    recorder = AuditRecorder(
        trail, workstation=db.workstation, app_version=__version__, tags=project.tags
    )
    if broker is None:
        broker = TagBroker(project.tags, registry or default_registry(), project.file.connections)
    alarms = AlarmEngineService(
        broker, (*project.alarms, *extra_alarms), settings=project.file.settings.alarms
    )
    url = trail.store.engine.url.render_as_string(hide_password=False)
    writer = AlarmJournalWriter(AlarmJournal.open(url), workstation=db.workstation)
    history = StationHistory.open(
        broker, project.file.historian, trended=set(trended),
        memory_capacity=memory_capacity, station=db.workstation,
    )  # fmt: skip
    services = kind(
        project, broker, trail, recorder, alarms, writer, history, owns_trail=owns_trail
    )
    mqtt = project.file.mqtt
    if mqtt is not None:
        from hmi.runtime.sparkplug import EdgeNode

        edge = services.edge = EdgeNode(broker, mqtt, project_dir=Path(project.root))
        if mqtt.commands.tags:
            edge.set_command_handler(_commander(project, edge, broker, trail, alarms))
    if shares(url):
        services.alarm_share = SharedAlarms(  # each action checked against its audit record
            alarms.engine, writer.journal, workstation=db.workstation, url=url,
            on_status=on_share_status, key=project.file.site_key(), recorder=recorder,
        )  # fmt: skip
    else:
        log.info("alarms: no central database; this station's alarm picture is its own")
    return services


def build_headless(
    project: Project, *, database: str | None = None, broker: TagBroker | None = None
) -> HeadlessStation:
    """Everything ``hmi serve`` runs, wired (not started)."""
    services = build_services(project, database=database, broker=broker, kind=HeadlessStation)
    assert isinstance(services, HeadlessStation)
    return services


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
