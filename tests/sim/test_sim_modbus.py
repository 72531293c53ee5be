"""The demo plant's Modbus TCP server, through a bare pymodbus client on loopback."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

import pytest
from asyncua import Client, ua
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ModbusPDU

from hmi.sim.modbus_server import decode_float32, encode_float32
from hmi.sim.opcua_server import NAMESPACE_URI
from hmi.sim.points import INLET_RTU, POINTS, TRANSFER_PLC
from tests.sim.conftest import RunningPlant, eventually

pytestmark = pytest.mark.timeout(60)

ILLEGAL_ADDRESS, ILLEGAL_VALUE = 2, 3


def with_client(
    running_plant: RunningPlant, body: Callable[[AsyncModbusTcpClient], Awaitable[None]]
) -> None:
    async def main() -> None:
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=running_plant.modbus_port, timeout=3, retries=0
        )
        assert await client.connect()
        try:
            await body(client)
        finally:
            client.close()

    asyncio.run(main())


def exception_code(response: ModbusPDU) -> int | None:
    return response.exception_code if response.isError() else None


def test_the_whole_map_reads(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        plc, rtu = TRANSFER_PLC, INLET_RTU
        assert len((await client.read_coils(0, count=10, device_id=plc)).bits) >= 10
        assert len((await client.read_discrete_inputs(0, count=4, device_id=plc)).bits) >= 4
        inputs = (await client.read_input_registers(0, count=31, device_id=plc)).registers
        holding = (await client.read_holding_registers(0, count=7, device_id=plc)).registers
        assert len(inputs) == 31 and len(holding) == 7
        assert 0.0 <= decode_float32(inputs[20:22]) <= 100.0  # T2 level
        assert decode_float32(inputs[16:18]) > 48000.0  # FQ102 total
        assert holding[4] in (0, 1)  # LIC101 mode
        assert decode_float32(holding[5:7]) == 2.0  # the pumps' dry-running trip level
        fill = (await client.read_holding_registers(0, count=4, device_id=rtu)).registers
        assert (decode_float32(fill[0:2]), decode_float32(fill[2:4])) == (40.0, 80.0)
        assert len((await client.read_coils(0, count=2, device_id=rtu)).bits) >= 2
        rtu_inputs = (await client.read_input_registers(0, count=11, device_id=rtu)).registers
        assert 0.0 < decode_float32(rtu_inputs[4:6]) < 100.0  # T1 level
        assert 0.0 < decode_float32(rtu_inputs[8:10]) < 40.0  # temperature
        assert rtu_inputs[10] == 0  # status: no transmitter failed

    with_client(running_plant, body)


def test_every_point_is_readable_at_its_address(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        for point in POINTS:
            ref, unit = point.modbus, point.modbus.unit
            count = max(point.kind.registers, 1)
            read = {
                "coil": client.read_coils,
                "discrete": client.read_discrete_inputs,
                "input": client.read_input_registers,
                "holding": client.read_holding_registers,
            }[ref.table]
            response = await read(ref.offset, count=count, device_id=unit)
            assert not response.isError(), point.name

    with_client(running_plant, body)


def test_a_coil_starts_a_pump_seen_over_opcua(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        async with Client(running_plant.opcua_url, timeout=5) as opc:
            ns = await opc.get_namespace_index(NAMESPACE_URI)
            running = opc.get_node(ua.NodeId("Plant.Transfer.P102.Running", ns))
            assert not exception_code(await client.write_coil(2, True, device_id=TRANSFER_PLC))
            await eventually(running.read_value, bool, what="P102 running over OPC UA")

            async def discrete() -> list[bool]:
                return (await client.read_discrete_inputs(2, count=1, device_id=TRANSFER_PLC)).bits

            assert (await discrete())[0]
            await client.write_coil(2, False, device_id=TRANSFER_PLC)
            await eventually(running.read_value, lambda v: not v, what="P102 stopped")

    with_client(running_plant, body)


def test_setpoint_over_holding_registers(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        plc = TRANSFER_PLC
        original = (await client.read_holding_registers(0, count=2, device_id=plc)).registers
        assert not exception_code(
            await client.write_registers(0, encode_float32(58.5), device_id=plc)
        )
        sp = (await client.read_holding_registers(0, count=2, device_id=plc)).registers
        assert decode_float32(sp) == 58.5
        assert running_plant.call(lambda: running_plant.plant.lic101.setpoint) == 58.5
        refused = await client.write_registers(0, encode_float32(150.0), device_id=plc)
        assert exception_code(refused) == ILLEGAL_VALUE
        assert exception_code(await client.write_register(4, 7, device_id=plc)) == ILLEGAL_VALUE
        sp = (await client.read_holding_registers(0, count=2, device_id=plc)).registers
        assert decode_float32(sp) == 58.5
        await client.write_registers(0, original, device_id=plc)

    with_client(running_plant, body)


def test_addresses_outside_the_map_are_illegal(running_plant: RunningPlant) -> None:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    async def body(client: AsyncModbusTcpClient) -> None:
        plc, rtu = TRANSFER_PLC, INLET_RTU
        assert (
            exception_code(await client.read_input_registers(30, count=2, device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_input_registers(31, count=1, device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_holding_registers(7, count=1, device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_holding_registers(0, count=8, device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_coils(10, count=1, device_id=plc)) == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_coils(16, count=1, device_id=plc)) == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_coils(0, count=17, device_id=plc)) == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.write_coils(9, [False, False], device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_discrete_inputs(4, count=1, device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_holding_registers(4, count=1, device_id=rtu))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_input_registers(11, count=1, device_id=rtu))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_input_registers(1000, count=1, device_id=plc))
            == ILLEGAL_ADDRESS
        )
        assert (
            exception_code(await client.read_input_registers(0, count=1, device_id=9)) is not None
        )

    with_client(running_plant, body)


def test_unit_2_answers_its_own_registers(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        rtu = INLET_RTU
        coils = (await client.read_coils(0, count=2, device_id=rtu)).bits
        discretes = (await client.read_discrete_inputs(0, count=2, device_id=rtu)).bits
        position = decode_float32(
            (await client.read_input_registers(0, count=2, device_id=rtu)).registers
        )
        assert coils[1] is True  # fill control in Auto
        assert not (discretes[0] and discretes[1])  # never open and closed at once
        assert discretes[0] == (position >= 99.5) and discretes[1] == (position <= 0.5)
        level = decode_float32(
            (await client.read_input_registers(4, count=2, device_id=rtu)).registers
        )
        assert level == pytest.approx(
            running_plant.call(lambda: running_plant.plant.t1.level), abs=1.0
        )

    with_client(running_plant, body)


def test_sensor_failure_reads_nan_and_sets_the_status_bit(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        plc, rtu = TRANSFER_PLC, INLET_RTU
        assert not exception_code(await client.write_coil(6, True, device_id=plc))  # T1LevelFail
        try:
            registers = (await client.read_input_registers(4, count=7, device_id=rtu)).registers
            assert math.isnan(decode_float32(registers[0:2]))  # T1 level
            assert math.isnan(decode_float32(registers[2:4]))  # T1 volume
            assert registers[6] & 1  # status bit 0: LT101 failed
        finally:
            await client.write_coil(6, False, device_id=plc)
        registers = (await client.read_input_registers(4, count=7, device_id=rtu)).registers
        assert not math.isnan(decode_float32(registers[0:2])) and registers[6] == 0

    with_client(running_plant, body)


def test_a_write_to_half_a_float_combines_with_the_other_half(running_plant: RunningPlant) -> None:
    async def body(client: AsyncModbusTcpClient) -> None:
        plc = TRANSFER_PLC
        original = (await client.read_holding_registers(0, count=2, device_id=plc)).registers
        await client.write_registers(0, encode_float32(60.0), device_id=plc)
        high = encode_float32(61.0)[0]
        assert not exception_code(await client.write_register(0, high, device_id=plc))
        combined = decode_float32([high, encode_float32(60.0)[1]])
        registers = (await client.read_holding_registers(0, count=2, device_id=plc)).registers
        assert decode_float32(registers) == combined
        await client.write_registers(0, original, device_id=plc)

    with_client(running_plant, body)
