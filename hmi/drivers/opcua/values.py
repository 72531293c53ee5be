"""Values in and out: DataValue -> TagValue, and an operator's value -> the node's Variant type.

Writes are coerced to the node's DataType (read once and cached): a server compares the Variant
type it receives with the node's type and many refuse a Double for a Float or an Int64 for an
Int16. Integer values outside the type's range are refused here, before anything is sent.
DataTypes we do not coerce (DateTime, structures, ...) go out as Python gives them and the
server's answer (e.g. BadTypeMismatch) is reported.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from asyncua import ua
from asyncua.client.ua_client import UaClient
from asyncua.client.ua_session import UaSession

from hmi.drivers.opcua.quality import quality_of, status_name
from hmi.model.errors import WriteDenied
from hmi.model.quality import GOOD
from hmi.model.value import TagValue

__all__ = [
    "builtin_type",
    "coerce_variant",
    "datatype_name",
    "ns0",
    "tag_value",
    "variant_type_of_datatype",
]

_VT = ua.VariantType
INT_RANGES: dict[ua.VariantType, tuple[int, int]] = {
    _VT.SByte: (-(2**7), 2**7 - 1),
    _VT.Byte: (0, 2**8 - 1),
    _VT.Int16: (-(2**15), 2**15 - 1),
    _VT.UInt16: (0, 2**16 - 1),
    _VT.Int32: (-(2**31), 2**31 - 1),
    _VT.UInt32: (0, 2**32 - 1),
    _VT.Int64: (-(2**63), 2**63 - 1),
    _VT.UInt64: (0, 2**64 - 1),
}
FLOAT32_MAX = 3.4028234663852886e38


def ns0(identifier: int) -> ua.NodeId:
    """A NodeId of namespace 0 (the standard's), e.g. ``ns0(ua.ObjectIds.HasSubtype)``."""
    return ua.NodeId(ua.Int32(identifier))


_BASE_DATATYPE = ns0(24)  # BaseDataType: any type at all
_ENUMERATION = 29  # i=29 Enumeration: its subtypes travel as Int32
_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")
_PLAIN = (float, int, bool, str, type(None))


def variant_type_of_datatype(datatype: ua.NodeId) -> ua.VariantType | None:
    """The Variant type of a built-in DataType (ns=0, i=1..25), Int32 for Enumeration;
    None for any other DataType (the caller walks up the HasSubtype chain)."""
    if datatype.NamespaceIndex != 0 or not isinstance(datatype.Identifier, int):
        return None
    if 1 <= datatype.Identifier <= 25:
        return ua.VariantType(datatype.Identifier)
    if datatype.Identifier == _ENUMERATION:
        return _VT.Int32
    return None


async def builtin_type(
    uaclient: UaClient | UaSession,
    datatype: ua.NodeId,
    cache: dict[ua.NodeId, ua.VariantType | None],
) -> ua.VariantType | None:
    """The Variant type a DataType travels as: itself if built in, else the nearest built-in
    supertype found by browsing HasSubtype upwards (Duration -> Double, an enum -> Int32);
    None for structures and the like."""
    if datatype in cache:
        return cache[datatype]
    seen = [datatype]
    current: ua.NodeId | None = datatype
    vtype = None
    for _ in range(16):
        if current is None:
            break
        vtype = variant_type_of_datatype(current)
        if vtype is not None or current == _BASE_DATATYPE:
            break
        description = ua.BrowseDescription()
        description.NodeId = current
        description.BrowseDirection = ua.BrowseDirection.Inverse
        description.ReferenceTypeId = ns0(ua.ObjectIds.HasSubtype)
        description.IncludeSubtypes = False
        description.NodeClassMask = 0
        description.ResultMask = 0
        params = ua.BrowseParameters()
        params.NodesToBrowse = [description]
        (result,) = await uaclient.browse(params)
        refs = result.References or []
        current = refs[0].NodeId if refs else None
        if current is not None:
            seen.append(current)
    for node in seen:
        cache[node] = vtype
    return vtype


def datatype_name(vtype: ua.VariantType | None) -> str:
    return vtype.name if vtype is not None else "?"


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 0)
        except ValueError:
            number = float(text)
            if number.is_integer():
                return int(number)
            raise
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError


def coerce_variant(value: Any, vtype: ua.VariantType | None, where: str) -> ua.Variant:
    """``value`` as a Variant of ``vtype``, or ``WriteDenied`` saying why nothing was sent."""
    if vtype is None or vtype not in _COERCED:
        return ua.Variant(value)
    try:
        if vtype is _VT.Boolean:
            if isinstance(value, str):
                text = value.strip().lower()
                if text not in _TRUE + _FALSE:
                    raise ValueError
                return ua.Variant(text in _TRUE, vtype)
            if isinstance(value, bool | int) or (isinstance(value, float) and value in (0, 1)):
                if value not in (0, 1):
                    raise ValueError
                return ua.Variant(bool(value), vtype)
            raise ValueError
        if vtype in INT_RANGES:
            whole = _integer(value)
            low, high = INT_RANGES[vtype]
            if not low <= whole <= high:
                raise WriteDenied(
                    f"{where}: {whole} is outside the range of {vtype.name} ({low} to {high}); "
                    "nothing was sent"
                )
            return ua.Variant(whole, vtype)
        if vtype in (_VT.Float, _VT.Double):
            number = _number(value)
            if vtype is _VT.Float and math.isfinite(number) and abs(number) > FLOAT32_MAX:
                raise WriteDenied(
                    f"{where}: {number:g} is outside the range of Float; nothing was sent"
                )
            return ua.Variant(number, vtype)
        return ua.Variant(value if isinstance(value, str) else str(value), _VT.String)
    except (ValueError, TypeError, OverflowError):
        raise WriteDenied(
            f"{where}: {value!r} is not a valid {vtype.name}; nothing was sent"
        ) from None


_COERCED = frozenset({_VT.Boolean, *INT_RANGES, _VT.Float, _VT.Double, _VT.String})


def plain(value: Any) -> Any:
    """A Python value the rest of the station understands (LocalizedText -> its text, ...)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.NodeId | ua.QualifiedName):
        return value.to_string()
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _seconds(stamp: datetime | None) -> float | None:
    if stamp is None:
        return None
    seconds = stamp.timestamp()
    return seconds if seconds > 0 else None  # 1601-01-01 means "not given"


def tag_value(dv: ua.DataValue, receive_time: float, last: Any = None) -> TagValue:
    """A DataValue as a TagValue; a Bad value without a value keeps ``last``; a value that is
    not Good carries the status code's name as its detail."""
    status = dv.StatusCode
    detail = ""
    if status is None or status.value == 0:
        quality = GOOD
    else:
        quality = quality_of(status.value)
        if not quality.is_good:
            detail = status_name(status.value)
    variant = dv.Value
    value = variant.Value if variant is not None else None
    if value is None and not quality.is_good:
        value = last
    elif type(value) not in _PLAIN:
        value = plain(value)
    source = dv.SourceTimestamp or dv.ServerTimestamp
    return TagValue(value, quality, _seconds(source), receive_time, detail)
