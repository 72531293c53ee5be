"""PDUs byte for byte as the Modbus application protocol specification v1.1b3 shows them."""

from __future__ import annotations

import pytest

from hmi.drivers.modbus import pdu
from hmi.drivers.modbus.pdu import ModbusExceptionResponse, ProtocolError


def test_read_holding_registers_spec_example() -> None:
    request = pdu.read_request(pdu.READ_HOLDING_REGISTERS, 0x6B, 3)
    assert request.hex() == "03006b0003"
    response = bytes.fromhex("0306022b00000064")
    assert pdu.read_data(pdu.READ_HOLDING_REGISTERS, 3, response).hex() == "022b00000064"


def test_read_coils_spec_example() -> None:
    assert pdu.read_request(pdu.READ_COILS, 0x13, 0x13).hex() == "0100130013"
    data = pdu.read_data(pdu.READ_COILS, 19, bytes.fromhex("0103cd6b05"))
    assert data.hex() == "cd6b05"


def test_exception_response_names_the_exception() -> None:
    with pytest.raises(ModbusExceptionResponse) as caught:
        pdu.read_data(pdu.READ_INPUT_REGISTERS, 1, bytes.fromhex("8402"))
    assert caught.value.code == 2
    assert caught.value.name == "IllegalDataAddress"
    assert str(caught.value) == "IllegalDataAddress (0x02) to FC4 read input registers"
    assert ModbusExceptionResponse(3, 0x0B).name == "GatewayTargetDeviceFailedToRespond"
    assert ModbusExceptionResponse(3, 0x42).name == "Exception66"


@pytest.mark.parametrize(
    ("count", "response", "why"),
    [
        (2, "0304000000", "expected 4"),  # short
        (1, "04020001", "function 4"),  # answer to another function
        (1, "", "empty"),
        (1, "830201", "exception response of 3 bytes"),
    ],
)
def test_malformed_answers_are_protocol_errors(count: int, response: str, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        pdu.read_data(pdu.READ_HOLDING_REGISTERS, count, bytes.fromhex(response))


def test_write_requests_spec_examples() -> None:
    assert pdu.write_single_coil(0xAC, True).hex() == "0500acff00"
    assert pdu.write_single_coil(0xAC, False).hex() == "0500ac0000"
    assert pdu.write_single_register(1, b"\x00\x03").hex() == "0600010003"
    bits = [True, False, True, True, False, False, True, True, True, False]
    assert pdu.write_multiple_coils(0x13, bits).hex() == "0f0013000a02cd01"
    assert (
        pdu.write_multiple_registers(1, bytes.fromhex("000a0102")).hex() == "100001000204000a0102"
    )


def test_write_responses_must_echo_the_request() -> None:
    single = pdu.write_single_register(1, b"\x00\x03")
    assert pdu.check_write_response(single, single) is True
    assert pdu.check_write_response(single, bytes.fromhex("0600010004")) is False  # value only
    with pytest.raises(ProtocolError, match="does not echo"):
        pdu.check_write_response(single, bytes.fromhex("0600020003"))  # another address
    multiple = pdu.write_multiple_registers(1, bytes.fromhex("000a0102"))
    assert pdu.check_write_response(multiple, bytes.fromhex("1000010002")) is True
    with pytest.raises(ProtocolError, match="does not echo"):
        pdu.check_write_response(multiple, bytes.fromhex("1000010001"))
    with pytest.raises(ModbusExceptionResponse, match="IllegalDataValue"):
        pdu.check_write_response(multiple, bytes.fromhex("9003"))


def test_write_quantity_limits() -> None:
    with pytest.raises(ValueError):
        pdu.write_multiple_registers(0, bytes(2 * 124))
    with pytest.raises(ValueError):
        pdu.write_multiple_coils(0, [True] * 1969)
    with pytest.raises(ValueError):
        pdu.write_single_register(0, b"\x00")


def test_rtu_crc_known_frame() -> None:
    frame = bytes.fromhex("01030000000a")
    crc = pdu.crc16(frame)
    assert bytes((crc & 0xFF, crc >> 8)).hex() == "c5cd"


def test_rtu_response_length_from_function_and_byte_count() -> None:
    assert pdu.rtu_response_length(b"\x01") is None
    assert pdu.rtu_response_length(b"\x01\x03") is None
    assert pdu.rtu_response_length(b"\x01\x03\x04") == 9
    assert pdu.rtu_response_length(b"\x01\x83") == 5
    assert pdu.rtu_response_length(b"\x01\x06") == 8
    assert pdu.rtu_response_length(b"\x01\x10") == 8
    with pytest.raises(ProtocolError):
        pdu.rtu_response_length(b"\x01\x2b")
