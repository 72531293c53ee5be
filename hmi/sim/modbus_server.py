"""The demo plant over Modbus TCP (pymodbus 3.16 SimDevice), e.g. at 127.0.0.1:5020.

Unit 1 is the transfer-station PLC, unit 2 the inlet-skid RTU (docs/plant.md has the map).
Offsets are 0-based; float32 and uint32 take two registers, high word first (ABCD); a failed
transmitter reads NaN and sets its bit in the unit's status register.

No register is kept up to date in the background: every request first refreshes the block it
touches from the plant, so a read-back after a write (from either protocol) is always current.
Writes go through ``Plant.write``; a value the plant refuses answers IllegalDataValue (0x03),
an address outside the map IllegalDataAddress (0x02). Coils and discrete inputs are stored in
16-bit words: a read that *starts* inside the map but runs past its end within the last word
returns the spare bits as 0 (pymodbus passes the action no bit count for reads).
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimAction, SimData, SimDevice

from hmi.sim.points import POINTS, STATUS_WORDS, Kind, Point, StatusWord
from hmi.sim.process import CommandRejected, Plant, Value

__all__ = ["PlantModbusServer", "decode_float32", "encode_float32"]

log = logging.getLogger(__name__)

_TABLE_OF_FUNCTION = {1: "coil", 5: "coil", 15: "coil", 2: "discrete", 4: "input"}
_TABLE_OF_FUNCTION.update({fc: "holding" for fc in (3, 6, 16, 22, 23)})
_BIT_TABLES = ("coil", "discrete")
_TABLES = ("coil", "discrete", "holding", "input")  # the order SimDevice wants them in


def encode_float32(value: float) -> list[int]:
    """Two registers, high word first (ABCD)."""
    return list(struct.unpack(">HH", struct.pack(">f", value)))


def decode_float32(registers: Sequence[int]) -> float:
    return float(struct.unpack(">f", struct.pack(">HH", registers[0], registers[1]))[0])


def _encode(point: Point, value: Value, bad: bool) -> list[int]:
    if point.kind is Kind.DOUBLE:
        return encode_float32(math.nan if bad else float(value))
    if point.kind is Kind.UINT32:
        return list(divmod(int(value) & 0xFFFFFFFF, 0x10000))
    return [int(value) & 0xFFFF]  # Kind.INT32: enumerations as uint16


def _decode(point: Point, registers: Sequence[int]) -> Value:
    if point.kind is Kind.DOUBLE:
        return decode_float32(registers)
    if point.kind is Kind.UINT32:
        return (registers[0] << 16) | registers[1]
    return registers[0]


@dataclass(slots=True)
class _Table:
    """One Modbus table of one unit: which point (or status word) sits at which offset."""

    entries: dict[int, Point | StatusWord] = field(default_factory=dict)

    def width(self, entry: Point | StatusWord, bits: bool) -> int:
        return 1 if bits or isinstance(entry, StatusWord) else entry.kind.registers

    def owner(self, address: int, bits: bool) -> tuple[int, Point | StatusWord] | None:
        """The entry covering ``address`` and its first offset."""
        for offset, entry in self.entries.items():
            if offset <= address < offset + self.width(entry, bits):
                return offset, entry
        return None


@dataclass(slots=True)
class _UnitMap:
    unit: int
    tables: dict[str, _Table] = field(default_factory=lambda: {t: _Table() for t in _TABLES})

    def sim_device(self, action: SimAction) -> SimDevice:
        blocks: list[list[SimData]] = []
        for name in _TABLES:
            table = self.tables[name]
            bits = name in _BIT_TABLES
            if not table.entries:
                blocks.append([SimData(0, datatype=DataType.INVALID)])
            elif bits:
                size = max(table.entries) + 1
                blocks.append([SimData(0, values=[False] * size, datatype=DataType.BITS)])
            else:
                registers = DataType.REGISTERS
                blocks.append(
                    [
                        SimData(offset, values=[0] * table.width(entry, False), datatype=registers)
                        for offset, entry in sorted(table.entries.items())
                    ]
                )
        simdata = (blocks[0], blocks[1], blocks[2], blocks[3])
        return SimDevice(self.unit, simdata=simdata, action=action)


def _unit_maps() -> dict[int, _UnitMap]:
    units: dict[int, _UnitMap] = {}
    for point in POINTS:
        ref = point.modbus
        units.setdefault(ref.unit, _UnitMap(ref.unit)).tables[ref.table].entries[ref.offset] = point
    for word in STATUS_WORDS:
        units.setdefault(word.unit, _UnitMap(word.unit)).tables["input"].entries[word.offset] = word
    return units


class PlantModbusServer:
    """A Modbus TCP server answering for every unit of the demo plant from one ``Plant``."""

    def __init__(self, plant: Plant, *, host: str = "127.0.0.1", port: int = 5020) -> None:
        self._plant = plant
        self.address = (host, port)
        self._units = _unit_maps()
        devices = [
            unit_map.sim_device(partial(self._action, unit_map))
            for unit_map in self._units.values()
        ]
        self._devices = devices
        self._server: ModbusTcpServer | None = None

    @property
    def unit_ids(self) -> list[int]:
        return sorted(self._units)

    async def start(self) -> None:
        self._server = ModbusTcpServer(self._devices, address=self.address)
        await self._server.serve_forever(background=True)
        log.info("Modbus TCP demo plant at %s:%d, units %s", *self.address, self.unit_ids)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    # --- request hook -------------------------------------------------------------------

    async def _action(
        self,
        unit_map: _UnitMap,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Called by pymodbus for every request after its own range check: refresh the
        block from the plant, then check and apply a write. ``registers`` is the whole
        block (modified in place); ``count`` is in registers, even for coils."""
        name = _TABLE_OF_FUNCTION.get(function_code)
        if name is None:
            return ExcCodes.ILLEGAL_FUNCTION
        table = unit_map.tables[name]
        bits = name in _BIT_TABLES
        # For a bit read pymodbus gives only the word count, so check the first bit alone.
        width = count if not bits else len(set_values) if set_values is not None else 1
        if not bits and any(table.owner(a, False) is None for a in range(address, address + width)):
            return ExcCodes.ILLEGAL_ADDRESS
        if bits and any(a not in table.entries for a in range(address, address + width)):
            return ExcCodes.ILLEGAL_ADDRESS
        self._refresh(table, bits, start_address, registers)
        if set_values is None:
            return None
        try:
            writes = self._decode_write(table, bits, start_address, address, registers, set_values)
            for point_name, value in writes:
                self._plant.check(point_name, value)
        except CommandRejected as exc:
            log.info("Modbus write to unit %d refused: %s", unit_map.unit, exc)
            return ExcCodes.ILLEGAL_VALUE
        for point_name, value in writes:
            self._plant.write(point_name, value)
        return None

    def _refresh(self, table: _Table, bits: bool, start: int, registers: list[int]) -> None:
        values = self._plant.values()
        bad = self._plant.bad_points()
        if bits:
            words = [0] * (len(registers) - 1)  # the last register is pymodbus' end marker
            for offset, entry in table.entries.items():
                if isinstance(entry, Point) and values[entry.name]:
                    words[offset // 16 - start] |= 1 << (offset % 16)
            registers[: len(words)] = words
            return
        for offset, entry in table.entries.items():
            if isinstance(entry, StatusWord):
                regs = [sum(1 << i for i, name in enumerate(entry.bits) if name in bad)]
            else:
                regs = _encode(entry, values[entry.name], entry.name in bad)
            registers[offset - start : offset - start + len(regs)] = regs

    def _decode_write(
        self,
        table: _Table,
        bits: bool,
        start: int,
        address: int,
        registers: list[int],
        set_values: Sequence[int] | Sequence[bool],
    ) -> list[tuple[str, Value]]:
        """The (point, value) pairs a write carries. A write to half of a float32 combines
        with the other half as it stands."""
        if bits:
            return [(table.entries[address + i].name, bool(v)) for i, v in enumerate(set_values)]
        merged = list(registers)
        merged[address - start : address - start + len(set_values)] = [int(v) for v in set_values]
        writes: dict[str, Value] = {}
        for a in range(address, address + len(set_values)):
            found = table.owner(a, False)
            if found is None or isinstance(point := found[1], StatusWord):
                raise CommandRejected(f"register {a} cannot be written")
            offset = found[0]
            width = point.kind.registers
            writes[point.name] = _decode(point, merged[offset - start : offset - start + width])
        return list(writes.items())
