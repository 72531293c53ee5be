"""Property-based tests (hypothesis) of Modbus decoding as a hostile device would feed it:
any address the parser takes becomes a point or a ``ConfigError``; any response PDU (random
bytes, random lengths, exception codes) is the data or the driver's own error; any data of
the block's length decodes, every point to a value of its kind, as each point alone."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmi.drivers.modbus.codec import BlockDecoder, Point
from hmi.drivers.modbus.pdu import READ_FUNCTION, read_data
from hmi.model.address import MODBUS_TYPES, parse_address
from hmi.model.errors import AddressError, ConfigError, DriverError

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is stable
    suppress_health_check=[HealthCheck.too_slow],
)
ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"]
TABLES = list(READ_FUNCTION)
ODD_NUMBERS = st.sampled_from(["", "-1", "65535", "65536", "99999999", "٣", "²", "1e3", "0x10"])


@st.composite
def address_texts(draw: st.DrawFn) -> str:
    table = draw(st.sampled_from(TABLES))
    offset = draw(st.one_of(st.integers(0, 65535).map(str), ODD_NUMBERS))
    params = {}
    if draw(st.booleans()):
        params["type"] = draw(st.sampled_from([*MODBUS_TYPES, "float16", ""]))
    if draw(st.booleans()):
        params["order"] = draw(st.sampled_from([*ORDERS, "abcd", "AB"]))
    if params.get("type") == "string" or draw(st.booleans()):
        params["length"] = draw(st.one_of(st.integers(0, 300).map(str), ODD_NUMBERS))
    if draw(st.booleans()):
        params["bit"] = draw(st.one_of(st.integers(0, 16).map(str), ODD_NUMBERS))
    if draw(st.booleans()):
        params["scale"] = draw(st.sampled_from(["0.1", "-2", "1e308", "nan", "inf", "0"]))
    unit = draw(st.one_of(st.integers(0, 255).map(str), ODD_NUMBERS))
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"modbus://plc/{unit}/{table}/{offset}" + (f"?{query}" if query else "")


def _point(text: str) -> Point | None:
    try:
        return Point.from_address(parse_address(text), 1000.0)
    except (AddressError, ConfigError):
        return None


@SETTINGS
@given(address_texts(), st.data())
def test_an_address_is_a_point_that_decodes_any_data_or_a_config_error(
    text: str, data: st.DataObject
) -> None:
    point = _point(text)
    if point is None:
        return
    assert point.offset >= 0 and point.end <= 65536, text
    length = (point.width + 7) // 8 if point.is_bit else 2 * point.width
    raw = data.draw(st.binary(min_size=length, max_size=length))
    value = point.decode(raw, point.offset)
    assert isinstance(value, (bool, int, float, str)), (text, value)
    if isinstance(value, str):
        assert len(value) <= point.length, text
    if point.kind in ("int16", "uint16", "int32", "uint32", "int64", "uint64") and not (
        point.scaled
    ):
        assert isinstance(value, int), text
    [block] = BlockDecoder(point.offset, [point]).decode(raw)
    assert block == value or (
        isinstance(value, float) and math.isnan(value) and math.isnan(block)
    ), text


@SETTINGS
@given(
    st.sampled_from(sorted(READ_FUNCTION.values())),
    st.integers(1, 125),
    st.one_of(
        st.binary(max_size=300),
        st.tuples(st.integers(0, 255), st.integers(0, 255)).map(
            lambda t: bytes([t[0] | 0x80, t[1]])
        ),
    ),
)
def test_any_response_is_its_data_or_a_driver_error(function: int, count: int, pdu: bytes) -> None:
    try:
        data = read_data(function, count, pdu)
    except DriverError as exc:
        assert str(exc)
        return
    bits = function in (READ_FUNCTION["coil"], READ_FUNCTION["discrete"])
    assert len(data) == ((count + 7) // 8 if bits else 2 * count)


@SETTINGS
@given(st.lists(address_texts(), min_size=1, max_size=12), st.data())
def test_a_block_of_any_points_decodes_as_each_alone(texts: list[str], data: st.DataObject) -> None:
    points = [p for p in map(_point, texts) if p is not None and not p.is_bit]
    if not points:
        return
    start = min(p.offset for p in points)
    end = max(p.end for p in points)
    if end - start > 125:
        return  # not one read
    raw = data.draw(st.binary(min_size=2 * (end - start), max_size=2 * (end - start)))
    decoder = BlockDecoder(start, points)
    for point, value in zip(decoder.points, decoder.decode(raw), strict=True):
        alone = point.decode(raw, start)
        assert value == alone or (
            isinstance(alone, float) and math.isnan(alone) and math.isnan(value)
        ), point.address
