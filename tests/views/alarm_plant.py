"""A small plant for the alarm views' tests: a real TagBroker on local:// memory tags, the real
alarm service and command service, and optionally the real audit trail (SQLite), users,
sessions and permission guard. Values are published into the broker as a driver would."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from pydantic import TypeAdapter

from hmi.drivers.defaults import default_registry
from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.audit.record import AuditRecord
from hmi.model.tags import TagConfig, WritePolicy
from hmi.model.value import TagValue
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import AlarmRequest, CommandResult, CommandService
from hmi.runtime.session import PermissionGuard, SessionService
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.trail import AuditTrail
from hmi.storage.users import UserStore

HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Correct-Horse-42"
TAG_NAMES = ("Reactor.Temp", "Tank.Level", "Pump.Flow", "Valve.Pos", "Fan.Speed",
             "Comp.Press", "Boiler.Temp", "Boiler.Off", "Dryer.Temp")  # fmt: skip
ALARMS: list[dict[str, Any]] = [
    {"id": "R1.TempHiHi", "tag": "Reactor.Temp", "kind": "hihi", "limit": 90,
     "priority": "critical", "message": "R1 temperature very high: {value:.1f} °C",
     "cause": "Cooling water valve CV-12 closed or cooling pump P-7 tripped",
     "consequence": "Runaway reaction; relief valve lifts within about 15 minutes",
     "action": "Open CV-12, start P-7, stop feed pump P-3", "max_shelve_s": 0},
    {"id": "T1.LevelHi", "tag": "Tank.Level", "kind": "hi", "limit": 80, "priority": "high",
     "message": "T1 level high: {value:.1f} %", "cause": "Outlet pump P-1 stopped",
     "consequence": "Tank overflows into the bund in 20 min", "action": "Start P-1 or close XV-1",
     "max_shelve_s": 3600},
    {"id": "P1.FlowLo", "tag": "Pump.Flow", "kind": "lo", "limit": 10, "priority": "medium",
     "message": "P1 flow low: {value:.1f} m³/h"},
    {"id": "V1.PosHi", "tag": "Valve.Pos", "kind": "hi", "limit": 50, "priority": "low",
     "message": "V1 position above 50 %: {value:.0f} %"},
    {"id": "F1.Overspeed", "tag": "Fan.Speed", "kind": "hi", "limit": 50, "priority": "low",
     "latching": True, "message": "F1 overspeed (latched): {value:.0f} rpm"},
    {"id": "C1.PressHi", "tag": "Comp.Press", "kind": "hi", "limit": 50, "priority": "medium",
     "message": "C1 discharge pressure high: {value:.1f} bar"},
    {"id": "B1.TempHi", "tag": "Boiler.Temp", "kind": "hi", "limit": 50, "priority": "high",
     "suppress_when": "Boiler.Off", "message": "B1 temperature high: {value:.0f} °C"},
    {"id": "D1.TempHi", "tag": "Dryer.Temp", "kind": "hi", "limit": 50, "priority": "medium",
     "message": "D1 temperature high: {value:.0f} °C"},
]  # fmt: skip
UNITS = {"Reactor.Temp": "°C", "Tank.Level": "%", "Pump.Flow": "m³/h", "Valve.Pos": "%",
         "Fan.Speed": "rpm", "Comp.Press": "bar", "Boiler.Temp": "°C", "Dryer.Temp": "°C"}  # fmt: skip
DEFINITIONS = TypeAdapter(tuple[AlarmDefinition, ...])


class AlarmPlant:
    """``await plant.start()`` on a running loop; ``feed(tag, value)`` publishes a value."""

    def __init__(
        self,
        *,
        alarms: list[dict[str, Any]] | None = None,
        audit_db: Path | None = None,
        clock: Any = None,
    ) -> None:
        key = uuid.uuid4().hex[:8]
        names = set(TAG_NAMES) | {a["tag"] for a in alarms or ()}
        self.tags = {
            name: TagConfig(
                name=name,
                address=f"local://p{key}_{name.replace('.', '_')}?type=float"
                f"&initial={50 if name == 'Pump.Flow' else 0}",
                write=WritePolicy(),
                units=UNITS.get(name, ""),
                format=".1f",
            )
            for name in sorted(names)
        }
        self.broker = TagBroker(self.tags, default_registry(), {})
        extra = {"clock": clock} if clock is not None else {}
        self.alarms = AlarmEngineService(
            self.broker,
            DEFINITIONS.validate_python(alarms or ALARMS),
            settings=AlarmSettings(tick_s=0.05),
            **extra,
        )
        self.audit_url = f"sqlite:///{audit_db}" if audit_db is not None else None
        self.trail: AuditTrail | None = None
        self.sessions: SessionService | None = None
        self.commands = CommandService(self.broker, alarms=self.alarms)
        if self.audit_url is not None:
            users = UserStore(make_engine(self.audit_url), hasher=HASHER)
            users.add("op", "Olga Operator", "operator", PASSWORD)
            users.add("sup", "Sam Supervisor", "supervisor", PASSWORD)
            self.trail = AuditTrail(AuditStore.open(self.audit_url))
            recorder = AuditRecorder(self.trail, workstation="ST-01", app_version="1.0",
                                     tags=self.tags)  # fmt: skip
            self.sessions = SessionService(users, self.trail, recorder)
            self.commands = CommandService(
                self.broker, guard=PermissionGuard(self.sessions), recorder=recorder,
                alarms=self.alarms,
            )  # fmt: skip

    async def start(self) -> None:
        await self.broker.start()
        await self.alarms.start()

    async def stop(self) -> None:
        await self.alarms.stop()
        await self.broker.stop()
        if self.trail is not None:
            await self.trail.aclose()

    async def login(self, user: str) -> None:
        assert self.sessions is not None
        if self.sessions.current is not None:
            await self.sessions.logout()
        await self.sessions.login(user, PASSWORD)

    def feed(self, tag: str, value: float) -> None:
        address = self.broker.tag(tag).address
        self.broker.publish([(address, TagValue.now(value))])

    def state(self, alarm_id: str) -> AlarmState:
        return self.alarms.status(alarm_id).state

    async def act(
        self, action: AlarmAction, alarm_id: str, reason: str = "", **kw: Any
    ) -> CommandResult:
        result = await self.commands.alarm(AlarmRequest(action, alarm_id, reason, **kw))
        assert result.ok, result.message
        return result

    def audit_records(self) -> list[AuditRecord]:
        assert self.audit_url is not None
        store = AuditStore.open(self.audit_url)
        try:
            return [r for r in store.iter_records() if r.action.value.startswith("alarm_")]
        finally:
            store.close()

    async def mixed(self) -> None:
        """Alarms in every state the summary shows: unack, acked, returned, latched, shelved,
        suppressed and out of service."""
        self.feed("Boiler.Off", 1)  # B1 suppressed by design
        for tag, value in (("Reactor.Temp", 96.4), ("Tank.Level", 86.2), ("Pump.Flow", 4.2),
                           ("Valve.Pos", 63), ("Fan.Speed", 71), ("Comp.Press", 57.5),
                           ("Boiler.Temp", 80), ("Dryer.Temp", 66)):  # fmt: skip
            self.feed(tag, value)
        await self.act(AlarmAction.ACKNOWLEDGE, "T1.LevelHi", "checking P-1")
        self.feed("Valve.Pos", 20)  # V1 returned to normal, unacknowledged
        self.feed("Fan.Speed", 10)
        await self.act(AlarmAction.ACKNOWLEDGE, "F1.Overspeed")  # latched, reset needed
        await self.act(AlarmAction.SHELVE, "C1.PressHi", "transmitter being recalibrated",
                       duration_s=1800)  # fmt: skip
        await self.act(AlarmAction.OUT_OF_SERVICE, "D1.TempHi", "sensor replaced (WO 4711)")
