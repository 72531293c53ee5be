"""Codec: every type in every order, known byte patterns, round trips, scaling, range checks."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hmi.drivers.modbus import Point
from hmi.drivers.modbus.codec import BlockDecoder, pack_bits, reorder
from hmi.model import WriteDenied, parse_address
from hmi.model.address import MODBUS_ORDERS

ORDERS = MODBUS_ORDERS


def point(raw: str) -> Point:
    return Point.from_address(parse_address(raw), 500)


def holding(kind: str, order: str = "ABCD", extra: str = "") -> Point:
    return point(f"modbus://plc/1/holding/0?type={kind}&order={order}{extra}")


# value, {order: wire bytes}
KNOWN = {
    ("uint32", 0x12345678): {
        "ABCD": "12345678", "CDAB": "56781234", "BADC": "34127856", "DCBA": "78563412",
    },
    ("uint64", 0x0102030405060708): {
        "ABCD": "0102030405060708", "CDAB": "0708050603040102",
        "BADC": "0201040306050807", "DCBA": "0807060504030201",
    },
    ("float32", 1.0): {"ABCD": "3f800000", "CDAB": "00003f80", "BADC": "803f0000", "DCBA": "0000803f"},
    ("float64", -2.5): {
        "ABCD": "c004000000000000", "CDAB": "000000000000c004",
        "BADC": "04c0000000000000", "DCBA": "00000000000004c0",
    },
    ("int16", -2): {"ABCD": "fffe", "CDAB": "fffe", "BADC": "feff", "DCBA": "feff"},
    ("uint16", 0x1234): {"ABCD": "1234", "CDAB": "1234", "BADC": "3412", "DCBA": "3412"},
    ("int32", -2): {"ABCD": "fffffffe", "CDAB": "fffeffff", "BADC": "fffffeff", "DCBA": "feffffff"},
    ("int64", -(2**40)): {
        "ABCD": "ffffff0000000000", "CDAB": "00000000ff00ffff",
        "BADC": "ffff00ff00000000", "DCBA": "0000000000ffffff",
    },
}  # fmt: skip


@pytest.mark.parametrize(("kind", "value", "order", "wire"), [
    (kind, value, order, wire)
    for (kind, value), orders in KNOWN.items()
    for order, wire in orders.items()
])  # fmt: skip
def test_known_byte_patterns(kind: str, value: int | float, order: str, wire: str) -> None:
    p = holding(kind, order)
    assert p.encode(value).hex() == wire
    assert p.decode(bytes.fromhex(wire), 0) == value


@pytest.mark.parametrize("order", ORDERS)
def test_strings_two_characters_per_register(order: str) -> None:
    p = holding("string", order, "&length=3")
    wire = {"ABCD": "41424300", "BADC": "42410043", "CDAB": "43004142", "DCBA": "00434241"}[order]
    assert p.width == 2
    assert p.encode("ABC").hex() == wire
    assert p.decode(bytes.fromhex(wire), 0) == "ABC"
    assert p.decode(reorder(b"A\x00\x00\x00", order), 0) == "A"  # NUL padding is not text


def test_every_type_has_its_width() -> None:
    widths = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "uint64": 4,
              "float32": 2, "float64": 4}  # fmt: skip
    for kind, width in widths.items():
        assert holding(kind).width == width
    assert holding("string", extra="&length=7").width == 4
    assert point("modbus://plc/1/coil/9").width == 1


@pytest.mark.parametrize("order", ORDERS)
def test_decode_at_an_offset_inside_a_block(order: str) -> None:
    p = point(f"modbus://plc/1/input/12?type=int32&order={order}")
    data = b"\xaa\xbb" * 2 + p.encode(-123456) + b"\xcc\xdd"
    assert p.decode(data, 10) == -123456


INTS = {"int16": 16, "uint16": 16, "int32": 32, "uint32": 32, "int64": 64, "uint64": 64}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("kind", sorted(INTS))
@given(data=st.data())
def test_integer_round_trip(kind: str, order: str, data: st.DataObject) -> None:
    bits = INTS[kind]
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if kind[0] == "i" else (0, 2**bits - 1)
    value = data.draw(st.integers(low, high))
    p = holding(kind, order)
    wire = p.encode(value)
    assert len(wire) == 2 * p.width
    assert p.decode(wire, 0) == value


@pytest.mark.parametrize("order", ORDERS)
@given(value=st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_float32_round_trip(order: str, value: float) -> None:
    p = holding("float32", order)
    assert p.decode(p.encode(value), 0) == value


@pytest.mark.parametrize("order", ORDERS)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_float64_round_trip(order: str, value: float) -> None:
    p = holding("float64", order)
    assert p.decode(p.encode(value), 0) == value


@pytest.mark.parametrize("order", ORDERS)
@given(text=st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=9))
def test_string_round_trip(order: str, text: str) -> None:
    p = holding("string", order, "&length=9")
    assert p.decode(p.encode(text), 0) == text


@given(registers=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=8))
def test_each_order_is_its_own_inverse(registers: list[int]) -> None:
    data = struct.pack(f">{len(registers)}H", *registers)
    for order in ORDERS:
        assert reorder(reorder(data, order), order) == data


def test_nan_from_the_device_is_passed_on() -> None:
    """Decoded as it is; the driver makes it Bad(SensorFailure)."""
    assert math.isnan(holding("float32").decode(bytes.fromhex("7fc00000"), 0))


# -- bits ----------------------------------------------------------------------------------------


def test_coils_and_discrete_inputs_are_bits_lsb_first() -> None:
    data = pack_bits([False, True, False, False, False, False, False, False, True])
    assert data == b"\x02\x01"
    assert point("modbus://plc/1/coil/101").decode(data, 100) is True
    assert point("modbus://plc/1/discrete/102").decode(data, 100) is False
    assert point("modbus://plc/1/coil/108").decode(data, 100) is True


@pytest.mark.parametrize(("order", "wire", "bit", "expected"), [
    ("ABCD", "0008", 3, True), ("ABCD", "0008", 11, False), ("ABCD", "8000", 15, True),
    ("BADC", "0800", 3, True), ("DCBA", "0800", 3, True), ("CDAB", "0008", 3, True),
])  # fmt: skip
def test_bit_in_register(order: str, wire: str, bit: int, expected: bool) -> None:
    p = point(f"modbus://plc/1/holding/0?bit={bit}&order={order}")
    assert p.kind == "bool" and p.width == 1
    assert p.decode(bytes.fromhex(wire), 0) is expected


def test_bit_set_and_clear_keep_the_other_bits() -> None:
    p = point("modbus://plc/1/holding/0?bit=4")
    assert p.with_bit(bytes.fromhex("8001"), True).hex() == "8011"
    assert p.with_bit(bytes.fromhex("ffff"), False).hex() == "ffef"
    swapped = point("modbus://plc/1/holding/0?bit=4&order=BADC")
    assert swapped.with_bit(bytes.fromhex("0180"), True).hex() == "1180"


def test_bool_on_a_whole_register_is_non_zero() -> None:
    p = point("modbus://plc/1/holding/0?type=bool")
    assert p.decode(b"\x01\x00", 0) is True
    assert p.decode(b"\x00\x00", 0) is False
    assert p.encode(True) == b"\x00\x01"


# -- scaling -------------------------------------------------------------------------------------


def test_scale_and_bias_give_engineering_units() -> None:
    p = holding("int16", extra="&scale=0.1&bias=-20")
    assert p.decode(struct.pack(">h", 1234), 0) == pytest.approx(103.4)
    assert p.encode(103.4) == struct.pack(">h", 1234)
    assert holding("uint16", extra="&scale=2").decode(b"\x00\x15", 0) == 42.0


def test_unscaled_integers_stay_integers() -> None:
    value = holding("uint32").decode(b"\x00\x01\x00\x00", 0)
    assert value == 65536 and isinstance(value, int)


def test_scaled_write_rounds_to_the_nearest_raw_step() -> None:
    p = holding("uint16", extra="&scale=0.5")
    assert p.encode(10.3) == struct.pack(">H", 21)


# -- range checks before anything is sent -------------------------------------------------------


@pytest.mark.parametrize(("kind", "extra", "value", "why"), [
    ("int16", "", 70000, "outside the int16 range"),
    ("int16", "", -32769, "outside the int16 range"),
    ("uint16", "", -1, "outside the uint16 range"),
    ("uint32", "", 2**32, "outside the uint32 range"),
    ("int64", "", 2**63, "outside the int64 range"),
    ("int16", "", 1.5, "not a whole number"),
    ("int16", "&scale=0.1", 5000, "raw 50000"),
    ("float32", "", 1e39, "outside the float32 range"),
    ("float64", "", math.inf, "not a finite number"),
    ("float32", "", math.nan, "not a finite number"),
    ("int16", "", "twelve", "not a number"),
    ("int16", "", "1_2", "not a number"),
    ("int16", "", "\u0661\u0662", "not a number"),  # Arabic-Indic digits
    ("int16", "", "12.5", "not a whole number"),  # a str tag's text, as a number
    ("int16", "", True, "not a number"),
    ("string", "&length=4", "too long", "longer than the 4 characters"),
    ("string", "&length=4", "€", "outside Latin-1"),
    ("string", "&length=4", 12, "not text"),
    ("bool", "", 2, "not a boolean"),
])  # fmt: skip
def test_out_of_range_writes_are_denied(kind: str, extra: str, value: object, why: str) -> None:
    with pytest.raises(WriteDenied, match=why) as caught:
        holding(kind, extra=extra).encode(value)
    assert "nothing was sent" in str(caught.value)


def test_integral_floats_are_accepted_for_integers() -> None:
    assert holding("int16").encode(42.0) == b"\x00\x2a"


def test_points_know_their_tables() -> None:
    assert point("modbus://plc/1/input/0").writable is False
    assert point("modbus://plc/1/discrete/0").writable is False
    assert point("modbus://plc/1/coil/0").writable is True
    assert point("modbus://plc/7/holding/3?poll=250").poll_ms == 250
    assert point("modbus://plc/7/holding/3").poll_ms == 500


# -- whole blocks --------------------------------------------------------------------------------

REGISTER_KINDS = ["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64",
                  "string&length=3", "bool"]  # fmt: skip


def same(a: object, b: object) -> bool:
    """Equal and of the same type, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@st.composite
def register_points(draw: st.DrawFn) -> list[Point]:
    """Up to 12 points within 40 registers from 100: every type, order, bits, scaling, and
    points sharing registers."""
    raw = []
    for _ in range(draw(st.integers(1, 12))):
        offset = draw(st.integers(100, 136))
        order = draw(st.sampled_from(ORDERS))
        if draw(st.booleans()) and draw(st.booleans()):
            extra = f"bit={draw(st.integers(0, 15))}"
        else:
            extra = "type=" + draw(st.sampled_from(REGISTER_KINDS))
            if draw(st.booleans()) and "string" not in extra and extra != "type=bool":
                extra += "&scale=0.5&bias=-3"
        raw.append(f"modbus://plc/1/holding/{offset}?{extra}&order={order}")
    return [point(r) for r in dict.fromkeys(raw)]


@given(points=register_points(), data=st.binary(min_size=80, max_size=80))
def test_a_block_decodes_as_each_point_alone(points: list[Point], data: bytes) -> None:
    decoder = BlockDecoder(100, points)
    assert sorted(p.address.raw for p in decoder.points) == sorted(p.address.raw for p in points)
    values = decoder.decode(data)
    alone = [p.decode(data, 100) for p in decoder.points]
    assert all(same(a, b) for a, b in zip(values, alone, strict=True)), (values, alone)


@given(offsets=st.sets(st.integers(30, 300), min_size=1, max_size=40), data=st.data())
def test_a_block_of_coils_decodes_as_each_coil_alone(
    offsets: set[int], data: st.DataObject
) -> None:
    points = [point(f"modbus://plc/1/coil/{o}") for o in offsets]
    block = data.draw(st.binary(min_size=(300 - 30) // 8 + 1, max_size=(300 - 30) // 8 + 1))
    decoder = BlockDecoder(30, points)
    assert decoder.decode(block) == [p.decode(block, 30) for p in decoder.points]


def test_every_order_of_every_width_in_one_block() -> None:
    """Orders needing the bytes swapped (BADC, CDAB) and not, side by side in one block."""
    points, wire, expected = [], "", []
    for (kind, value), orders in KNOWN.items():
        for order, hex_text in orders.items():
            points.append(
                point(f"modbus://plc/1/holding/{len(wire) // 4}?type={kind}&order={order}")
            )
            wire += hex_text
            expected.append(value)
    decoder = BlockDecoder(0, points)
    values = decoder.decode(bytes.fromhex(wire))
    by_address = dict(zip((p.address for p in decoder.points), values, strict=True))
    assert [by_address[p.address] for p in points] == expected


def test_a_block_finds_its_floats_that_are_not_numbers() -> None:
    points = [holding("uint16"), point("modbus://plc/1/holding/1?type=float32"),
              point("modbus://plc/1/holding/3?type=float64&order=CDAB"),
              point("modbus://plc/1/holding/7?type=float32&scale=2")]  # fmt: skip
    decoder = BlockDecoder(0, points)
    slot = {p.address.raw: i for i, p in enumerate(decoder.points)}

    def data(f32: str, f64: str, scaled: str) -> bytes:
        return bytes.fromhex("ffff" + f32 + f64 + scaled)

    fine = decoder.decode(data("3f800000", "0000000000003ff0", "40000000"))
    assert decoder.not_finite(fine) == []
    assert fine[slot[points[2].address.raw]] == 1.0 and fine[slot[points[3].address.raw]] == 4.0
    nan, inf, minus_inf = "7fc00000", "0000000000007ff0", "ff800000"
    faulty = decoder.decode(data(nan, inf, minus_inf))
    assert sorted(decoder.not_finite(faulty)) == sorted(slot[p.address.raw] for p in points[1:])
    assert decoder.not_finite(decoder.decode(data("3f800000", inf, "40000000"))) == [
        slot[points[2].address.raw]
    ]
