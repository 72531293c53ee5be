"""The alarm service on a real TagBroker with the real local:// driver on an asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import TypeAdapter

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.drivers.defaults import default_registry
from hmi.drivers.local import LocalDriver
from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings, Priority
from hmi.model.alarms.states import AlarmAction, AlarmActionDenied, AlarmEvent, AlarmState
from hmi.model.errors import ConfigError
from hmi.model.project import ProjectFile
from hmi.model.tags import TagConfig, WritePolicy
from hmi.runtime.alarms import AlarmCommands, AlarmEngineService
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from tests.drivers.opcua.opcua_plant import PlantServer, free_port

S = AlarmState
DEFINITIONS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])
ALARMS = [
    {"id": "Level.Hi", "tag": "Level", "kind": "hi", "limit": 80, "deadband": 2,
     "priority": "high", "message": "Tank level high: {value:.1f} %, pump {Pump}"},
    {"id": "Level.Lo", "tag": "Level", "kind": "lo", "limit": 10, "suppress_when": "Pump == 0"},
    {"id": "Level.Slow", "tag": "Level", "kind": "hihi", "limit": 95, "on_delay_s": 0.2,
     "priority": "critical"},
    {"id": "Pump.Stopped", "tag": "Pump", "kind": "digital", "equals": 0, "priority": "low"},
    {"id": "Level.Comm", "tag": "Level", "kind": "bad_quality", "on_delay_s": 0.2},
]  # fmt: skip


class Plant:
    def __init__(self) -> None:
        tags = {
            "Level": TagConfig(name="Level", address="local://level?type=float&initial=50",
                               write=WritePolicy()),
            "Pump": TagConfig(name="Pump", address="local://pump?type=int&initial=1",
                              datatype="int", write=WritePolicy()),
        }  # fmt: skip
        self.broker = TagBroker(tags, default_registry(), {})
        self.commands = CommandService(self.broker)
        self.service = AlarmEngineService(
            self.broker,
            DEFINITIONS.validate_python(ALARMS),
            settings=AlarmSettings(tick_s=0.02),
        )
        self.events: list[AlarmEvent] = []
        self.service.add_listener(self.events.append)

    async def write(self, tag: str, value: Any) -> None:
        result = await self.commands.write(tag, value, origin="test")
        assert result.ok, result.message

    def moves(self, alarm_id: str) -> list[tuple[S, S]]:
        return [(e.from_state, e.to_state) for e in self.events if e.alarm_id == alarm_id]


Until = Callable[..., Awaitable[None]]


def run(test: Callable[[Plant], Awaitable[None]], until: Until) -> None:
    async def main() -> None:
        plant = Plant()
        await plant.broker.start()
        await plant.service.start()
        await until(lambda: plant.broker.latest("Level").quality.is_good, what="first values")
        try:
            await test(plant)
        finally:
            await plant.service.stop()
            await plant.broker.stop()

    asyncio.run(main())


def test_writing_values_raises_and_clears_alarms_with_events_in_order(until: Until) -> None:
    async def test(plant: Plant) -> None:
        await plant.write("Level", 85.25)
        await until(lambda: plant.service.status("Level.Hi").state is S.UNACK)
        event = plant.events[-1]
        assert event.message == "Tank level high: 85.2 %, pump 1"
        assert (event.tag, event.priority, event.value) == ("Level", Priority.HIGH, 85.25)
        assert [s.alarm_id for s in plant.service.summary()] == ["Level.Hi"]
        assert plant.service.counts().active[Priority.HIGH] == 1

        await plant.write("Level", 79)  # inside the deadband: still active
        await plant.write("Level", 50)
        await until(lambda: plant.service.status("Level.Hi").state is S.RTN_UNACK)
        acknowledged = plant.service.acknowledge("Level.Hi", user="ann", comment="seen")
        assert (acknowledged.user, acknowledged.action) == ("ann", AlarmAction.ACKNOWLEDGE)
        with pytest.raises(AlarmActionDenied, match="nothing to acknowledge"):
            plant.service.acknowledge("Level.Hi", user="ann")

        assert plant.moves("Level.Hi") == [
            (S.NORMAL, S.UNACK), (S.UNACK, S.RTN_UNACK), (S.RTN_UNACK, S.NORMAL)
        ]  # fmt: skip
        assert [e.sequence for e in plant.events] == list(range(1, len(plant.events) + 1))
        assert plant.service.summary() == []

    run(test, until)


def test_every_change_is_seen_not_only_the_latest_the_ui_takes(until: Until) -> None:
    async def test(plant: Plant) -> None:
        plant.broker.take_changes()
        driver = plant.broker.pool.drivers["local"]
        assert isinstance(driver, LocalDriver)
        address = plant.broker.tag("Level").address
        for value in (90, 50, 90, 50):  # no await in between: the UI sees only the last
            await driver.write(address, value)
        assert plant.broker.take_changes()["Level"].value == 50
        assert plant.moves("Level.Hi") == [
            (S.NORMAL, S.UNACK), (S.UNACK, S.RTN_UNACK), (S.RTN_UNACK, S.UNACK),
            (S.UNACK, S.RTN_UNACK),
        ]  # fmt: skip

    run(test, until)


def test_the_timer_completes_on_delays_without_new_values(until: Until) -> None:
    async def test(plant: Plant) -> None:
        await plant.write("Level", 99)
        assert plant.service.status("Level.Slow").state is S.NORMAL
        await until(lambda: plant.service.status("Level.Slow").state is S.UNACK, timeout=2)
        assert plant.service.summary()[0].alarm_id == "Level.Slow"  # critical comes first

    run(test, until)


def test_suppression_and_digital_alarms_follow_other_tags(until: Until) -> None:
    async def test(plant: Plant) -> None:
        await plant.write("Level", 5)
        await until(lambda: plant.service.status("Level.Lo").state is S.UNACK)
        await plant.write("Pump", 0)
        assert plant.service.status("Level.Lo").state is S.SUPPRESSED
        assert plant.service.status("Pump.Stopped").state is S.UNACK
        assert plant.service.counts().suppressed == 1

    run(test, until)


def test_comm_loss_raises_after_its_delay_when_the_connection_drops(until: Until) -> None:
    async def test(plant: Plant) -> None:
        await plant.write("Level", 50)
        plant.broker.report_health(ConnectionHealth("local", ConnectionState.DISCONNECTED))
        assert plant.broker.latest("Level").quality.is_bad
        await until(lambda: plant.service.status("Level.Comm").state is S.UNACK, timeout=2)
        assert plant.service.status("Level.Hi").state is S.NORMAL  # no false alarm from Bad

    run(test, until)


def test_a_connection_alarm_follows_the_health_the_broker_is_told(until: Until) -> None:
    async def main() -> None:
        tags = {"Level": TagConfig(name="Level", address="local://level?type=float&initial=5")}
        broker = TagBroker(tags, default_registry(), {})  # no tag on "ua": no driver made
        lost = {"id": "ua.CommLoss", "kind": "comm_loss", "connection": "ua", "on_delay_s": 0.1}
        service = AlarmEngineService(
            broker, DEFINITIONS.validate_python([lost]), settings=AlarmSettings(tick_s=0.02)
        )
        broker.report_health(ConnectionHealth("opcua://ua", ConnectionState.DISCONNECTED))
        await service.start()  # what the broker knew before counts
        try:
            await until(lambda: service.status("ua.CommLoss").state is S.UNACK, timeout=2)
            broker.report_health(ConnectionHealth("opcua://ua", ConnectionState.CONNECTING))
            service.tick()
            assert service.status("ua.CommLoss").state is S.UNACK  # still trying: still lost
            broker.report_health(ConnectionHealth("opcua://ua", ConnectionState.CONNECTED))
            assert service.status("ua.CommLoss").state is S.RTN_UNACK
            broker.report_health(ConnectionHealth("opcua://ua", ConnectionState.FAILED))
            await until(lambda: service.status("ua.CommLoss").state is S.UNACK, timeout=2)
        finally:
            await service.stop()
        assert service._on_health not in broker._health_listeners

    asyncio.run(main())


def test_operator_actions_through_the_commands_interface(until: Until) -> None:
    async def test(plant: Plant) -> None:
        commands: AlarmCommands = plant.service
        await plant.write("Level", 90)
        await until(lambda: plant.service.status("Level.Hi").state is S.UNACK)
        shelved = commands.shelve("Level.Hi", user="ann", reason="level transmitter drift",
                                  duration_s=600)  # fmt: skip
        assert shelved.to_state is S.SHELVED
        with pytest.raises(AlarmActionDenied, match="maximum"):
            commands.shelve("Level.Hi", user="ann", reason="r", duration_s=10**6)
        commands.unshelve("Level.Hi", user="ann")
        commands.set_out_of_service("Level.Hi", user="tech", reason="swap transmitter")
        commands.comment("Level.Hi", user="tech", text="new one fitted")
        commands.return_to_service("Level.Hi", user="tech")
        commands.acknowledge("Level.Hi", user="ann")
        with pytest.raises(AlarmActionDenied, match="not a latching"):
            commands.reset("Level.Hi", user="ann")
        assert plant.moves("Level.Hi")[-4:] == [
            (S.UNACK, S.OUT_OF_SERVICE), (S.OUT_OF_SERVICE, S.OUT_OF_SERVICE),
            (S.OUT_OF_SERVICE, S.UNACK), (S.UNACK, S.ACKED),
        ]  # fmt: skip

    run(test, until)


def test_stop_unsubscribes_and_a_restart_keeps_the_acknowledgement(until: Until) -> None:
    async def main() -> None:
        plant = Plant()
        await plant.broker.start()
        await plant.service.start()
        await plant.write("Level", 90)
        await until(lambda: plant.service.status("Level.Hi").state is S.UNACK)
        plant.service.acknowledge("Level.Hi", user="ann")
        snapshot = plant.service.snapshot()
        await plant.service.stop()
        assert plant.broker.subscribers("Level") == 0
        await plant.broker.stop()

        again = Plant()
        await again.broker.start()
        again.broker.subscribe("Level")  # a screen is up before the alarm service
        await again.broker.pool.drivers["local"].write(again.broker.tag("Level").address, 91)
        await again.service.start(snapshot)
        await until(lambda: again.service.status("Level.Hi").state is S.ACKED)
        assert again.moves("Level.Hi") == [(S.NORMAL, S.ACKED)]
        await again.service.stop()
        await again.broker.stop()

    asyncio.run(main())


def test_an_alarm_on_an_unknown_tag_is_refused_before_anything_starts() -> None:
    async def main() -> None:
        broker = TagBroker({}, default_registry(), {})
        service = AlarmEngineService(broker, DEFINITIONS.validate_python(ALARMS[:1]))
        with pytest.raises(ConfigError, match="unknown tag 'Level'"):
            await service.start()

    asyncio.run(main())


def test_a_lost_opcua_server_raises_its_connections_alarm_with_no_tag_subscribed(
    until: Until,
) -> None:
    """The default comm-loss alarm of a project's connection, against a real asyncua server
    that stops and comes back; nothing subscribes to its tags (no screen shows them)."""
    server = PlantServer(free_port(), None)
    project = ProjectFile.model_validate({
        "project": {"name": "p", "start_screen": "main"},
        "screens": ["main.yaml"],
        "settings": {"alarms": {"comm_loss": {"on_delay_s": 0.3}}},
        "connections": {"plant": {"driver": "opcua", "endpoint": server.endpoint,
                                  "keepalive_s": 0.5, "reconnect_max_s": 0.5}},
        "tags": {"Level": {"address": f"opcua://plant/{server.node_id('Level')}"}},
    })  # fmt: skip

    async def main() -> None:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        alarms = project.comm_loss_alarms()
        service = AlarmEngineService(broker, alarms, settings=AlarmSettings(tick_s=0.02))
        await service.start()
        await broker.start()
        try:
            assert [a.id for a in alarms] == ["plant.CommLoss"]
            assert broker.subscribers("Level") == 0
            health = broker.health
            await until(
                lambda: "opcua://plant" in health and health["opcua://plant"].ok, timeout=10,
                what="connected",
            )  # fmt: skip
            assert service.status("plant.CommLoss").state is S.NORMAL
            await asyncio.to_thread(server.stop)
            await until(
                lambda: service.status("plant.CommLoss").state is S.UNACK, timeout=10,
                what="the comm-loss alarm",
            )  # fmt: skip
            await asyncio.to_thread(server.start)
            await until(
                lambda: service.status("plant.CommLoss").state is S.RTN_UNACK, timeout=20,
                what="the connection back",
            )  # fmt: skip
        finally:
            await service.stop()
            await broker.stop()

    try:
        asyncio.run(main())
    finally:
        server.close()
