"""Alarms, pure (ISA-18.2): definitions as the project writes them (``definitions``), the
condition per kind (``conditions``), one alarm's state machine (``points``), the states and
events it produces (``states``), the engine over all of them (``engine``) and the KPIs of the
journalled events (``kpi``)."""

from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings, Priority, check_alarms
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.kpi import AlarmKpis, compute_kpis
from hmi.model.alarms.states import (
    AlarmAction,
    AlarmActionDenied,
    AlarmEvent,
    AlarmSnapshot,
    AlarmState,
    AlarmStatus,
)

__all__ = [
    "AlarmAction",
    "AlarmActionDenied",
    "AlarmDefinition",
    "AlarmEngine",
    "AlarmEvent",
    "AlarmKpis",
    "AlarmSettings",
    "AlarmSnapshot",
    "AlarmState",
    "AlarmStatus",
    "Priority",
    "check_alarms",
    "compute_kpis",
]
