"""A controlled-clock rig for the alarm engine tests: values carry their timestamps, ticks
are explicit, events are collected in order."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.states import AlarmAction, AlarmEvent, AlarmState
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

S = AlarmState
A = AlarmAction
DEFINITIONS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])
BAD = Quality.bad(QualityReason.COMM_FAILURE)


class Rig:
    def __init__(self, *definitions: dict[str, Any], max_shelve_s: float = 100) -> None:
        self.engine = AlarmEngine(
            DEFINITIONS.validate_python(list(definitions)),
            settings=AlarmSettings(max_shelve_s=max_shelve_s),
        )
        self.events: list[AlarmEvent] = []
        self.engine.add_listener(self.events.append)
        self.t = 1000.0

    def at(self, t: float, tag: str, value: Any, quality: Quality = GOOD) -> None:
        self.t = t
        self.engine.update(tag, TagValue(value, quality, t, t))

    def tick(self, t: float) -> None:
        self.t = t
        self.engine.tick(t)

    def state(self, alarm_id: str) -> S:
        return self.engine.status(alarm_id).state

    def moves(self, alarm_id: str | None = None) -> list[tuple[float, S, A]]:
        return [
            (e.time, e.to_state, e.action)
            for e in self.events
            if alarm_id is None or e.alarm_id == alarm_id
        ]


def hi(**extra: Any) -> dict[str, Any]:
    return {"id": "L.Hi", "tag": "L", "kind": "hi", "limit": 80, **extra}
