"""Tag addresses: every scheme, parsed once into a frozen TagAddress, or refused saying why."""

from __future__ import annotations

import pytest

from hmi.model.address import TagAddress, parse_address
from hmi.model.errors import AddressError


def test_opcua_string_nodeid_keeps_its_semicolon() -> None:
    address = parse_address("opcua://plant/ns=2;s=Plant.Tank1.Level")
    assert (address.scheme, address.connection, address.path) == (
        "opcua",
        "plant",
        "ns=2;s=Plant.Tank1.Level",
    )
    assert address.driver_key == "opcua://plant"
    assert str(address) == "opcua://plant/ns=2;s=Plant.Tank1.Level"


@pytest.mark.parametrize(
    "path",
    ["i=2258", "ns=3;i=1001", "ns=2;s=A/B?c#d", "ns=1;g=09087e75-8e5e-499b-954f-f2a9603db28a", "b=M/RbKBsRVkePCePcx24oRA=="],
)  # fmt: skip
def test_opcua_nodeid_kinds(path: str) -> None:
    assert parse_address(f"opcua://ua/{path}").path == path


def test_modbus_holding_float() -> None:
    address = parse_address("modbus://plc1/1/holding/0?type=float32&order=CDAB")
    assert (address.connection, address.path) == ("plc1", "1/holding/0")
    assert address.param("type") == "float32"
    assert address.param("order") == "CDAB"
    assert address.param("bit") is None
    assert address.driver_key == "modbus://plc1"


@pytest.mark.parametrize(
    "raw",
    [
        "modbus://plc/0/coil/0",
        "modbus://plc/255/discrete/65535",
        "modbus://plc/1/input/10?type=int16",
        "modbus://plc/1/holding/3?bit=15",
        "modbus://plc/1/holding/3?type=string&length=16",
    ],
)
def test_modbus_good(raw: str) -> None:
    assert isinstance(parse_address(raw), TagAddress)


def test_sim_and_local() -> None:
    sim = parse_address("sim://sine?period=10&min=0&max=100")
    assert (sim.scheme, sim.connection, sim.driver_key) == ("sim", "sine", "sim")
    assert sim.float_param("period", 1) == 10.0
    assert sim.float_param("phase", 0.5) == 0.5
    local = parse_address("local://Pump1_Start?type=bool&initial=true")
    assert (local.connection, local.param("type"), local.driver_key) == (
        "Pump1_Start",
        "bool",
        "local",
    )


def test_equal_by_text_and_hashable() -> None:
    a = parse_address("sim://ramp?period=5")
    b = parse_address(" sim://ramp?period=5 ")
    assert a == b and hash(a) == hash(b)
    assert a != parse_address("sim://ramp?period=6")


def test_params_are_read_only() -> None:
    address = parse_address("sim://sine?period=10")
    with pytest.raises(TypeError):
        address.params["period"] = "1"  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("", "empty tag address"),
        ("Tank1.Level", "no scheme"),
        ("http://x/y", "unknown scheme 'http'"),
        ("opcua:///ns=2;s=X", "no connection name"),
        ("opcua://ua/Tank1", "is not an OPC UA NodeId"),
        ("opcua://ua/ns=2;i=abc", "is not a whole number"),
        ("modbus:///1/holding/0", "no connection name"),
        ("modbus://plc/1/holding", "expected <unit>/<table>/<offset>"),
        ("modbus://plc/256/holding/0", "unit id '256'"),
        ("modbus://plc/1/holdin/0", "table 'holdin' is not one of"),
        ("modbus://plc/1/holding/70000", "register 40001 is holding/0"),
        ("modbus://plc/1/holding/-1", "is not a 0-based number"),
        ("modbus://plc/1/holding/0?type=float16", "type 'float16' is not one of"),
        ("modbus://plc/1/coil/0?type=int16", "a coil holds one bit"),
        ("modbus://plc/1/holding/0?order=XYZW", "order 'XYZW' is not one of"),
        ("modbus://plc/1/holding/0?bit=16", "bit='16'"),
        ("modbus://plc/1/coil/0?bit=1", "bit='1'"),
        ("modbus://plc/1/holding/0?type=string", "type=string needs length="),
        ("modbus://plc/1/holding/0?type=int16&type=int32", "given twice"),
        ("modbus://plc/1/holding/0#x", "unexpected fragment"),
        ("modbus://plc/1/holding/0?type", "not name=value pairs"),
        ("sim://noise", "sim function 'noise' is not one of"),
        ("sim://sine?period=0", "period must be greater than 0"),
        ("sim://sine?period=abc", "is not a number"),
        ("sim://random?interval=0.001", "interval must be at least 0.01"),
        ("local://1abc", "must start with a letter"),
        ("local://x?type=double", "type 'double' is not one of"),
        ("local://x?type=int&initial=abc", "is not a number"),
    ],
)
def test_bad_addresses(raw: str, phrase: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_address(raw)
    assert phrase in str(caught.value)
    assert isinstance(caught.value, ValueError)
