"""Sparkplug B payloads: tag values and their metadata as protobuf ``Payload`` messages.

Encoded with the classes generated from ``sparkplug_b.proto`` (the specification's payload
definition, beside this file). Timestamps are milliseconds since the epoch (UTC); the quality
of a value travels as the metric property ``Quality``, an OPC UA status code, so a host sees
Bad and Uncertain values for what they are.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from hmi.model.quality import Quality, QualityLevel, QualityReason
from hmi.model.tags import DataType as TagType
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.sparkplug._sparkplug_b_pb2 import Payload  # type: ignore[attr-defined]

__all__ = [
    "BDSEQ",
    "REBIRTH",
    "DataType",
    "MetricValue",
    "Payload",
    "birth_metric",
    "control_metrics",
    "data_metric",
    "datatype_of",
    "decode",
    "metric_value",
    "node_payload",
    "now_ms",
    "status_code",
]

REBIRTH = "Node Control/Rebirth"
BDSEQ = "bdSeq"


class DataType(IntEnum):
    """Sparkplug B data type codes (the ones this station publishes or accepts)."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14


_OF_TAG = {
    TagType.FLOAT: DataType.DOUBLE,
    TagType.INT: DataType.INT64,
    TagType.BOOL: DataType.BOOLEAN,
    TagType.STR: DataType.STRING,
}

# The OPC UA status code of each quality (the code an OPC UA server would have sent).
_BAD = {
    QualityReason.INITIAL: 0x80320000,  # BadWaitingForInitialData
    QualityReason.WAITING_FOR_DATA: 0x80320000,
    QualityReason.NOT_CONNECTED: 0x808A0000,  # BadNotConnected
    QualityReason.COMM_FAILURE: 0x80050000,  # BadCommunicationError
    QualityReason.CONFIG_ERROR: 0x80890000,  # BadConfigurationError
    QualityReason.DEVICE_FAILURE: 0x808B0000,  # BadDeviceFailure
    QualityReason.SENSOR_FAILURE: 0x808C0000,  # BadSensorFailure
    QualityReason.OUT_OF_SERVICE: 0x808D0000,  # BadOutOfService
    QualityReason.STALE: 0x80310000,  # BadNoCommunication
}
_UNCERTAIN = {
    QualityReason.LAST_USABLE: 0x40900000,
    QualityReason.STALE: 0x40900000,
    QualityReason.SUBSTITUTE: 0x40910000,
    QualityReason.ENGINEERING_UNITS_EXCEEDED: 0x40940000,
    QualityReason.SUB_NORMAL: 0x40950000,
}


def status_code(quality: Quality) -> int:
    """The OPC UA status code of a quality: 0 Good, 0x4... Uncertain, 0x8... Bad."""
    if quality.level is QualityLevel.GOOD:
        return 0x00960000 if quality.reason is QualityReason.LOCAL_OVERRIDE else 0
    if quality.level is QualityLevel.UNCERTAIN:
        return _UNCERTAIN.get(quality.reason, 0x40000000)
    return _BAD.get(quality.reason, 0x80000000)


def now_ms() -> int:
    return int(time.time() * 1000)


def datatype_of(tag: TagConfig) -> DataType:
    return _OF_TAG[tag.datatype]


def _set_value(metric: Any, datatype: DataType, value: Any) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        metric.is_null = True
        return
    if datatype is DataType.DOUBLE:
        metric.double_value = float(value)
    elif datatype is DataType.INT64:
        metric.long_value = int(value) & 0xFFFF_FFFF_FFFF_FFFF  # two's complement, per the spec
    elif datatype is DataType.BOOLEAN:
        metric.boolean_value = bool(value)
    else:
        metric.string_value = str(value)


def _property(props: Any, key: str, kind: DataType, value: Any) -> None:
    props.keys.append(key)
    entry = props.values.add()
    entry.type = int(kind)
    if kind is DataType.STRING:
        entry.string_value = value
    elif kind is DataType.DOUBLE:
        entry.double_value = value
    else:
        entry.int_value = value


def _stamp(value: TagValue) -> int:
    return int(value.timestamp * 1000)


def birth_metric(payload: Payload, alias: int, tag: TagConfig, value: TagValue) -> None:
    """A metric of a BIRTH: name, alias, datatype, timestamp, value and the tag's metadata as
    properties (units, description, engineering range, quality)."""
    datatype = datatype_of(tag)
    metric = payload.metrics.add()
    metric.name = tag.name
    metric.alias = alias
    metric.timestamp = _stamp(value)
    metric.datatype = int(datatype)
    _set_value(metric, datatype, value.value)
    props = metric.properties
    if tag.units:
        _property(props, "engUnit", DataType.STRING, tag.units)
    if tag.description:
        _property(props, "description", DataType.STRING, tag.description)
    if tag.range is not None:
        _property(props, "engLow", DataType.DOUBLE, float(tag.range[0]))
        _property(props, "engHigh", DataType.DOUBLE, float(tag.range[1]))
    _property(props, "Quality", DataType.UINT32, status_code(value.quality))


def data_metric(
    payload: Payload,
    alias: int,
    datatype: DataType,
    value: TagValue,
    *,
    quality_changed: bool,
    historical: bool = False,
) -> None:
    """A metric of a DATA message: by alias; the quality only when it changed."""
    metric = payload.metrics.add()
    metric.alias = alias
    metric.timestamp = _stamp(value)
    metric.datatype = int(datatype)
    _set_value(metric, datatype, value.value)
    if historical:
        metric.is_historical = True
    if quality_changed:
        _property(metric.properties, "Quality", DataType.UINT32, status_code(value.quality))


def control_metrics(payload: Payload, bdseq: int, timestamp: int, *, birth: bool) -> None:
    """``bdSeq`` (NBIRTH and NDEATH), and in the NBIRTH ``Node Control/Rebirth``."""
    metric = payload.metrics.add()
    metric.name = BDSEQ
    metric.timestamp = timestamp
    metric.datatype = int(DataType.INT64)
    metric.long_value = bdseq
    if birth:
        metric = payload.metrics.add()
        metric.name = REBIRTH
        metric.timestamp = timestamp
        metric.datatype = int(DataType.BOOLEAN)
        metric.boolean_value = False


MetricValue = bool | int | float | str | None
_SIGNED = {
    int(DataType.INT8): 8,
    int(DataType.INT16): 16,
    int(DataType.INT32): 32,
    int(DataType.INT64): 64,
}


def metric_value(metric: Any) -> MetricValue:
    """The value a received metric carries, signed integers sign-extended (``ValueError``
    when it carries none this station can write)."""
    if metric.is_null:
        return None
    field = metric.WhichOneof("value")
    if field is None:
        raise ValueError("carries no value")
    if field not in (
        "int_value", "long_value", "float_value", "double_value", "boolean_value", "string_value"
    ):  # fmt: skip
        raise ValueError(f"carries a {field.removesuffix('_value')} value")
    value = getattr(metric, field)
    bits = _SIGNED.get(metric.datatype)
    if bits is not None and isinstance(value, int) and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value  # type: ignore[no-any-return]


def decode(data: bytes) -> Payload:
    """A received payload (``ValueError`` if the bytes are not one)."""
    payload = Payload()
    try:
        payload.ParseFromString(data)
    except Exception as exc:  # google.protobuf.message.DecodeError
        raise ValueError(f"not a Sparkplug B payload: {exc}") from None
    return payload


def node_payload(seq: int, metrics: Iterable[Any] = ()) -> Payload:
    payload = Payload(timestamp=now_ms(), seq=seq)
    payload.metrics.extend(metrics)
    return payload
