"""OPC UA status codes mapped onto the one quality model (Good / Uncertain / Bad + reason).

Only the top 16 bits name a status code; the low bits carry info flags (limit, overflow,
structure changed) that do not change the quality, so they are masked off before the lookup.
Codes not listed fall back on their severity: ``Uncertain(Other)`` or ``Bad(Other)``.
"""

from __future__ import annotations

from functools import lru_cache

from asyncua import ua
from asyncua.ua.status_codes import get_name_and_doc

from hmi.model.quality import GOOD, Quality, QualityLevel, QualityReason

__all__ = ["quality_of", "status_name", "status_text"]

_R = QualityReason
_CODE_MASK = 0xFFFF0000
_SEVERITY_MASK = 0xC0000000

_GOOD: dict[str, QualityReason] = {
    "GoodLocalOverride": _R.LOCAL_OVERRIDE,
    "GoodSubNormal": _R.SUB_NORMAL,
}

_UNCERTAIN: dict[str, QualityReason] = {
    "UncertainLastUsableValue": _R.LAST_USABLE,
    "UncertainNoCommunicationLastUsableValue": _R.LAST_USABLE,
    "UncertainSubstituteValue": _R.SUBSTITUTE,
    "UncertainInitialValue": _R.INITIAL,
    "UncertainEngineeringUnitsExceeded": _R.ENGINEERING_UNITS_EXCEEDED,
    "UncertainOverRange": _R.ENGINEERING_UNITS_EXCEEDED,
    "UncertainUnderRange": _R.ENGINEERING_UNITS_EXCEEDED,
    "UncertainSubNormal": _R.SUB_NORMAL,
    "UncertainDataSubNormal": _R.SUB_NORMAL,
    "UncertainConfigurationError": _R.CONFIG_ERROR,
    # UncertainSensorNotAccurate / SensorCalibration have no reason of their own: Other.
}

_BAD: dict[str, QualityReason] = {
    # the server (or the gateway behind it) cannot reach the device
    "BadNotConnected": _R.NOT_CONNECTED,
    "BadServerNotConnected": _R.NOT_CONNECTED,
    "BadNoCommunication": _R.COMM_FAILURE,
    "BadCommunicationError": _R.COMM_FAILURE,
    "BadTimeout": _R.COMM_FAILURE,
    "BadConnectionClosed": _R.COMM_FAILURE,
    "BadSecureChannelClosed": _R.COMM_FAILURE,
    "BadSessionClosed": _R.COMM_FAILURE,
    "BadShutdown": _R.COMM_FAILURE,
    "BadServerHalted": _R.COMM_FAILURE,
    "BadRequestTimeout": _R.COMM_FAILURE,
    # the address or the way we asked is wrong: fix the project
    "BadNodeIdUnknown": _R.CONFIG_ERROR,
    "BadNodeIdInvalid": _R.CONFIG_ERROR,
    "BadAttributeIdInvalid": _R.CONFIG_ERROR,
    "BadIndexRangeInvalid": _R.CONFIG_ERROR,
    "BadIndexRangeNoData": _R.CONFIG_ERROR,
    "BadNotReadable": _R.CONFIG_ERROR,
    "BadUserAccessDenied": _R.CONFIG_ERROR,
    "BadSecurityModeInsufficient": _R.CONFIG_ERROR,
    "BadNodeClassInvalid": _R.CONFIG_ERROR,
    "BadTypeMismatch": _R.CONFIG_ERROR,
    "BadDataEncodingInvalid": _R.CONFIG_ERROR,
    "BadDataEncodingUnsupported": _R.CONFIG_ERROR,
    "BadMonitoredItemFilterInvalid": _R.CONFIG_ERROR,
    "BadMonitoredItemFilterUnsupported": _R.CONFIG_ERROR,
    "BadFilterNotAllowed": _R.CONFIG_ERROR,
    "BadDeadbandFilterInvalid": _R.CONFIG_ERROR,
    "BadTooManyMonitoredItems": _R.CONFIG_ERROR,
    "BadNotSupported": _R.CONFIG_ERROR,
    "BadConfigurationError": _R.CONFIG_ERROR,
    # the device says so
    "BadDeviceFailure": _R.DEVICE_FAILURE,
    "BadSensorFailure": _R.SENSOR_FAILURE,
    "BadOutOfService": _R.OUT_OF_SERVICE,
    "BadWaitingForInitialData": _R.WAITING_FOR_DATA,
    "BadNoData": _R.WAITING_FOR_DATA,
}


def _by_code(names: dict[str, QualityReason]) -> dict[int, QualityReason]:
    return {getattr(ua.StatusCodes, name): reason for name, reason in names.items()}


_GOOD_CODES = _by_code(_GOOD)
_UNCERTAIN_CODES = _by_code(_UNCERTAIN)
_BAD_CODES = _by_code(_BAD)


@lru_cache(maxsize=1024)
def quality_of(status: int) -> Quality:
    """The quality of an OPC UA status code (the integer value, info bits included)."""
    code = status & _CODE_MASK
    severity = code & _SEVERITY_MASK
    if severity == 0:
        reason = _GOOD_CODES.get(code)
        return GOOD if reason is None else Quality(QualityLevel.GOOD, reason)
    if severity == 0x40000000:
        return Quality(QualityLevel.UNCERTAIN, _UNCERTAIN_CODES.get(code, _R.OTHER))
    return Quality(QualityLevel.BAD, _BAD_CODES.get(code, _R.OTHER))


def status_text(status: int | ua.StatusCode) -> str:
    """``"BadNodeIdUnknown: The node id refers to a node that does not exist..."``"""
    value = status.value if isinstance(status, ua.StatusCode) else status
    name, doc = get_name_and_doc(value & _CODE_MASK)
    return f"{name}: {doc}" if doc else name


def status_name(status: int | ua.StatusCode) -> str:
    value = status.value if isinstance(status, ua.StatusCode) else status
    return get_name_and_doc(value & _CODE_MASK)[0]
