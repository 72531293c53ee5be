"""The Modbus address parameters: scale, bias, poll, bit, length, and unknown ones."""

from __future__ import annotations

import pytest

from hmi.model import AddressError, parse_address


@pytest.mark.parametrize(
    "raw",
    [
        "modbus://plc/1/holding/0?type=int16&scale=0.1&bias=-40",
        "modbus://plc/1/input/10?type=float32&order=CDAB&poll=250",
        "modbus://plc/1/holding/0?bit=15",
        "modbus://plc/1/holding/0?bit=3&type=bool&poll=100",
        "modbus://plc/1/holding/0?type=string&length=16&order=BADC",
        "modbus://plc/247/coil/65535?poll=1",
        "modbus://plc/1/coil/3?readback=ignore",
        "modbus://plc/1/holding/3?readback=compare&type=int32",
    ],
)
def test_valid_addresses(raw: str) -> None:
    assert parse_address(raw).scheme == "modbus"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("modbus://plc/1/holding/0?gain=2", "unknown parameter gain="),
        ("modbus://plc/1/holding/0?offset=2", "scaling is scale= and bias="),
        ("modbus://plc/1/holding/0?scale=x", "scale='x' is not a number"),
        ("modbus://plc/1/holding/0?scale=0", "scale=0"),
        ("modbus://plc/1/holding/0?bias=nan", "finite"),
        ("modbus://plc/1/holding/0?scale=inf", "finite"),
        ("modbus://plc/1/coil/0?scale=2", "apply to numbers"),
        ("modbus://plc/1/holding/0?type=string&length=4&bias=1", "apply to numbers"),
        ("modbus://plc/1/holding/0?bit=3&scale=2", "apply to numbers"),
        ("modbus://plc/1/holding/0?poll=0", "at least 1 ms"),
        ("modbus://plc/1/holding/0?poll=fast", "not a number"),
        ("modbus://plc/1/holding/0?bit=3&type=int16", "type must be bool"),
        ("modbus://plc/1/holding/0?length=4", "length= is for type=string"),
        ("modbus://plc/1/coil/0?bit=3", "input or holding"),
        ("modbus://plc/1/coil/0?readback=no", "not one of compare, ignore"),
        ("modbus://plc/1/input/0?readback=ignore", "cannot be written"),
    ],
)
def test_invalid_addresses_say_why(raw: str, why: str) -> None:
    with pytest.raises(AddressError, match=why.replace("?", r"\?")):
        parse_address(raw)
