"""Pure pieces of the OPC UA driver: status-code quality, write coercion, groups, values."""

from __future__ import annotations

import datetime as dt

import pytest
from asyncua import ua

from hmi.drivers.opcua.quality import quality_of, status_text
from hmi.drivers.opcua.subscriptions import GroupRules
from hmi.drivers.opcua.values import coerce_variant, tag_value
from hmi.model.errors import WriteDenied
from hmi.model.project import OpcUaConnection
from hmi.model.quality import QualityLevel, QualityReason

S = ua.StatusCodes
R = QualityReason
VT = ua.VariantType


@pytest.mark.parametrize(
    ("code", "level", "reason"),
    [
        (S.Good, QualityLevel.GOOD, R.NONE),
        (S.Good | 0x0400 | 0x0100, QualityLevel.GOOD, R.NONE),  # info bits do not matter
        (S.GoodLocalOverride, QualityLevel.GOOD, R.LOCAL_OVERRIDE),
        (S.UncertainLastUsableValue, QualityLevel.UNCERTAIN, R.LAST_USABLE),
        (S.UncertainSensorNotAccurate, QualityLevel.UNCERTAIN, R.OTHER),
        (S.UncertainEngineeringUnitsExceeded, QualityLevel.UNCERTAIN, R.ENGINEERING_UNITS_EXCEEDED),
        (S.UncertainSubNormal, QualityLevel.UNCERTAIN, R.SUB_NORMAL),
        (S.Uncertain, QualityLevel.UNCERTAIN, R.OTHER),
        (S.BadNotConnected, QualityLevel.BAD, R.NOT_CONNECTED),
        (S.BadCommunicationError, QualityLevel.BAD, R.COMM_FAILURE),
        (S.BadNodeIdUnknown, QualityLevel.BAD, R.CONFIG_ERROR),
        (S.BadConfigurationError, QualityLevel.BAD, R.CONFIG_ERROR),
        (S.BadDeviceFailure, QualityLevel.BAD, R.DEVICE_FAILURE),
        (S.BadSensorFailure, QualityLevel.BAD, R.SENSOR_FAILURE),
        (S.BadOutOfService, QualityLevel.BAD, R.OUT_OF_SERVICE),
        (S.BadWaitingForInitialData, QualityLevel.BAD, R.WAITING_FOR_DATA),
        (S.BadInternalError, QualityLevel.BAD, R.OTHER),
    ],
)
def test_status_codes_map_onto_one_quality_model(code, level, reason):
    quality = quality_of(code)
    assert (quality.level, quality.reason) == (level, reason)


def test_status_text_names_the_code():
    assert status_text(ua.StatusCode(S.BadTypeMismatch)).startswith("BadTypeMismatch: ")


@pytest.mark.parametrize(
    ("value", "vtype", "expected"),
    [
        (1, VT.Boolean, True),
        ("off", VT.Boolean, False),
        (12.0, VT.Int16, 12),
        ("0x10", VT.UInt16, 16),
        (-128, VT.SByte, -128),
        (2**64 - 1, VT.UInt64, 2**64 - 1),
        ("2.5", VT.Float, 2.5),
        (True, VT.Double, 1.0),
        (7, VT.String, "7"),
    ],
)
def test_values_are_coerced_to_the_nodes_type(value, vtype, expected):
    variant = coerce_variant(value, vtype, "tag")
    assert variant.VariantType is vtype and variant.Value == expected
    assert type(variant.Value) is type(expected)


@pytest.mark.parametrize(
    ("value", "vtype", "message"),
    [
        (128, VT.SByte, "outside the range of SByte"),
        (-1, VT.UInt32, "outside the range of UInt32"),
        (2**63, VT.Int64, "outside the range of Int64"),
        (1.5, VT.Int32, "not a valid Int32"),
        (2, VT.Boolean, "not a valid Boolean"),
        ("maybe", VT.Boolean, "not a valid Boolean"),
        (1e39, VT.Float, "outside the range of Float"),
        ("abc", VT.Double, "not a valid Double"),
    ],
)
def test_values_a_type_cannot_hold_are_refused_before_sending(value, vtype, message):
    with pytest.raises(WriteDenied, match=message):
        coerce_variant(value, vtype, "tag")


def test_types_we_do_not_coerce_go_as_python_gives_them():
    assert coerce_variant(3.5, VT.DateTime, "tag").VariantType is VT.Double
    assert coerce_variant(3.5, None, "tag").VariantType is VT.Double


def test_the_first_matching_group_wins_and_inherits_from_the_connection():
    conn = OpcUaConnection.model_validate(
        {
            "driver": "opcua",
            "endpoint": "opc.tcp://plant:4840",
            "publishing_interval_ms": 500,
            "sampling_interval_ms": 100,
            "groups": [
                {"match": "ns=2;s=Fast.*", "publishing_interval_ms": 100, "queue_size": 5},
                {"match": "ns=2;s=*", "deadband_type": "absolute", "deadband_value": 0.5},
            ],
        }
    )
    rules = GroupRules(conn)
    fast = rules.settings_for("ns=2;s=Fast.Pump1")
    assert (fast.publishing_interval_ms, fast.sampling_interval_ms, fast.queue_size) == (
        100,
        100,
        5,
    )
    assert fast.data_change_filter() is None
    slow = rules.settings_for("ns=2;s=Slow.Tank")
    assert (slow.publishing_interval_ms, slow.deadband_type) == (500, "absolute")
    flt = slow.data_change_filter()
    assert flt is not None and (flt.DeadbandType, flt.DeadbandValue) == (1, 0.5)
    assert rules.settings_for("i=2258") == rules.default


def test_a_bad_value_without_a_value_keeps_the_last_one():
    stamp = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    good = ua.DataValue(ua.Variant(3.5, VT.Double), SourceTimestamp=stamp)
    value = tag_value(good, 100.0)
    assert (value.value, value.source_time, value.receive_time) == (3.5, stamp.timestamp(), 100.0)
    bad = ua.DataValue(ua.Variant(None), StatusCode=ua.StatusCode(S.BadSensorFailure))
    value = tag_value(bad, 101.0, last=3.5)
    assert value.value == 3.5 and value.quality.reason is R.SENSOR_FAILURE
    assert value.detail == "BadSensorFailure"
    text = ua.DataValue(ua.Variant(ua.LocalizedText("open")))
    assert tag_value(text, 0).value == "open"
