"""Modbus PDUs as the application protocol specification (v1.1b3) defines them.

Requests are built and responses checked here, byte for byte, so the driver behaves the same
against any server, not only the one we test with. Every address is the 0-based protocol
address that goes on the wire (register 40001 is holding address 0).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from hmi.model.errors import DriverError

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
WRITE_SINGLE_COIL = 0x05
WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_COILS = 0x0F
WRITE_MULTIPLE_REGISTERS = 0x10

# Quantity limits of one request (spec 6.1 to 6.12).
MAX_READ_BITS = 2000
MAX_READ_REGISTERS = 125
MAX_WRITE_BITS = 1968
MAX_WRITE_REGISTERS = 123

READ_FUNCTION = {
    "coil": READ_COILS,
    "discrete": READ_DISCRETE_INPUTS,
    "holding": READ_HOLDING_REGISTERS,
    "input": READ_INPUT_REGISTERS,
}
BIT_TABLES = frozenset({"coil", "discrete"})

FUNCTION_NAMES = {
    READ_COILS: "FC1 read coils",
    READ_DISCRETE_INPUTS: "FC2 read discrete inputs",
    READ_HOLDING_REGISTERS: "FC3 read holding registers",
    READ_INPUT_REGISTERS: "FC4 read input registers",
    WRITE_SINGLE_COIL: "FC5 write single coil",
    WRITE_SINGLE_REGISTER: "FC6 write single register",
    WRITE_MULTIPLE_COILS: "FC15 write multiple coils",
    WRITE_MULTIPLE_REGISTERS: "FC16 write multiple registers",
}

EXCEPTION_NAMES = {
    0x01: "IllegalFunction",
    0x02: "IllegalDataAddress",
    0x03: "IllegalDataValue",
    0x04: "ServerDeviceFailure",
    0x05: "Acknowledge",
    0x06: "ServerDeviceBusy",
    0x08: "MemoryParityError",
    0x0A: "GatewayPathUnavailable",
    0x0B: "GatewayTargetDeviceFailedToRespond",
}
# The device answered, but only to say it cannot do it now: try again later, change nothing.
TRANSIENT_EXCEPTIONS = frozenset({0x05, 0x06})
# A gateway answered for a device behind it that did not: the same as a silent device.
GATEWAY_EXCEPTIONS = frozenset({0x0A, 0x0B})


class ModbusExceptionResponse(DriverError):
    """The device answered with an exception response (function code + 0x80)."""

    def __init__(self, function: int, code: int) -> None:
        self.function = function
        self.code = code
        super().__init__(f"{self.name} (0x{code:02X}) to {FUNCTION_NAMES.get(function, function)}")

    @property
    def name(self) -> str:
        return EXCEPTION_NAMES.get(self.code, f"Exception{self.code}")


class ProtocolError(DriverError):
    """A response that does not fit its request (function, length, echo or CRC): a garbled
    or foreign frame. Handled like no answer: retried, then the block's tags go Bad."""


def read_request(function: int, address: int, count: int) -> bytes:
    """FC1-FC4: read ``count`` bits or registers from 0-based ``address``."""
    return struct.pack(">BHH", function, address, count)


def check_function(function: int, pdu: bytes) -> None:
    """Raise ``ModbusExceptionResponse`` for an exception answer, ``ProtocolError`` for a
    response to some other function."""
    if not pdu:
        raise ProtocolError("empty response")
    if pdu[0] == function | 0x80:
        if len(pdu) != 2:
            raise ProtocolError(f"exception response of {len(pdu)} bytes, expected 2")
        raise ModbusExceptionResponse(function, pdu[1])
    if pdu[0] != function:
        raise ProtocolError(f"response to function {pdu[0]}, expected {function}")


def read_data(function: int, count: int, pdu: bytes) -> bytes:
    """The data bytes of a read response: registers big-endian, 2 bytes each (FC3/FC4), or
    bits packed 8 to a byte, first bit in the least significant bit (FC1/FC2)."""
    check_function(function, pdu)
    expected = (count + 7) // 8 if function in (READ_COILS, READ_DISCRETE_INPUTS) else 2 * count
    if len(pdu) < 2 or pdu[1] != expected or len(pdu) != 2 + expected:
        raise ProtocolError(
            f"read of {count} answered with {len(pdu) - 2} data bytes, expected {expected}"
        )
    return pdu[2:]


def write_single_coil(address: int, value: bool) -> bytes:
    """FC5: ON is 0xFF00, OFF 0x0000; the response echoes the request."""
    return struct.pack(">BHH", WRITE_SINGLE_COIL, address, 0xFF00 if value else 0x0000)


def write_single_register(address: int, data: bytes) -> bytes:
    """FC6: one register given as its 2 wire bytes; the response echoes the request."""
    if len(data) != 2:
        raise ValueError("FC6 writes exactly one register (2 bytes)")
    return struct.pack(">BH", WRITE_SINGLE_REGISTER, address) + data


def write_multiple_coils(address: int, bits: Sequence[bool]) -> bytes:
    """FC15: bits packed 8 to a byte, first bit in the least significant bit."""
    if not 1 <= len(bits) <= MAX_WRITE_BITS:
        raise ValueError(f"FC15 writes 1 to {MAX_WRITE_BITS} coils, not {len(bits)}")
    packed = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            packed[i >> 3] |= 1 << (i & 7)
    return struct.pack(">BHHB", WRITE_MULTIPLE_COILS, address, len(bits), len(packed)) + packed


def write_multiple_registers(address: int, data: bytes) -> bytes:
    """FC16: registers given as their wire bytes, 2 per register."""
    count = len(data) // 2
    if len(data) % 2 or not 1 <= count <= MAX_WRITE_REGISTERS:
        raise ValueError(f"FC16 writes 1 to {MAX_WRITE_REGISTERS} whole registers")
    return struct.pack(">BHHB", WRITE_MULTIPLE_REGISTERS, address, count, len(data)) + data


def check_write_response(request: bytes, pdu: bytes) -> bool:
    """FC5/FC6 echo the whole request; FC15/FC16 echo function, address and quantity.
    ``ProtocolError`` if function, address or quantity differ. Returns False when only the
    echoed value differs (some devices echo the value they stored, e.g. clamped): the write
    was done, and the read-back tells what the device holds."""
    function = request[0]
    check_function(function, pdu)
    if function in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER):
        if len(pdu) != 5 or pdu[:3] != request[:3]:
            raise ProtocolError(f"write response {pdu.hex()} does not echo {request.hex()}")
        return pdu == request
    if pdu != request[:5]:
        raise ProtocolError(f"write response {pdu.hex()} does not echo {request[:5].hex()}")
    return True


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """The RTU CRC (polynomial 0xA001 reflected, initial 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def rtu_response_length(frame: bytes | bytearray) -> int | None:
    """Total length of the RTU response that ``frame`` starts (address + PDU + CRC), or None
    while too few bytes have come to tell. RTU has no length field: it follows from the
    function code, which is how a master finds the end without timing gaps."""
    if len(frame) < 2:
        return None
    function = frame[1]
    if function & 0x80:
        return 5
    if function in (READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING_REGISTERS, READ_INPUT_REGISTERS):
        return None if len(frame) < 3 else 5 + frame[2]
    if function in (
        WRITE_SINGLE_COIL,
        WRITE_SINGLE_REGISTER,
        WRITE_MULTIPLE_COILS,
        WRITE_MULTIPLE_REGISTERS,
    ):
        return 8
    raise ProtocolError(f"RTU response with function {function}, which this driver never sends")
