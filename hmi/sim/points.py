"""The demo plant's points: one table that the OPC UA and Modbus servers are both built from.

A point's ``name`` is its OPC UA string NodeId (``ns=<plant ns>;s=Plant.RawWater.T1.Level``)
and the key of ``Plant.values()``. Modbus offsets are 0-based; floats are IEEE-754 float32
and 32-bit counters uint32, both over two registers, high word first (ABCD).
docs/plant.md is the human-readable copy of this table; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

UNECE_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"


class Kind(StrEnum):
    """OPC UA DataType of a point; the Modbus encoding follows from it."""

    BOOL = "Boolean"  # coil / discrete input
    DOUBLE = "Double"  # float32, 2 registers
    UINT32 = "UInt32"  # uint32, 2 registers
    INT32 = "Int32"  # enumerations (LIC101.Mode); uint16, 1 register

    @property
    def registers(self) -> int:
        return {Kind.BOOL: 0, Kind.DOUBLE: 2, Kind.UINT32: 2, Kind.INT32: 1}[self]


@dataclass(frozen=True, slots=True)
class Unit:
    """An engineering unit by its UN/CEFACT (UNECE Rec. 20) common code."""

    code: str
    symbol: str
    description: str

    @property
    def unit_id(self) -> int:
        """OPC UA EUInformation.UnitId: the common code's characters packed into an Int32."""
        value = 0
        for char in self.code:
            value = (value << 8) | ord(char)
        return value


PERCENT = Unit("P1", "%", "percent")
M3_PER_H = Unit("MQH", "m³/h", "cubic metre per hour")
M3 = Unit("MTQ", "m³", "cubic metre")
CELSIUS = Unit("CEL", "°C", "degree Celsius")
AMPERE = Unit("AMP", "A", "ampere")
HOUR = Unit("HUR", "h", "hour")
SECOND = Unit("SEC", "s", "second")


@dataclass(frozen=True, slots=True)
class ModbusRef:
    """Where a point lives on Modbus: unit id, table (coil, discrete, input, holding) and
    0-based offset of its first bit or register."""

    unit: int
    table: str
    offset: int


@dataclass(frozen=True, slots=True)
class Point:
    name: str
    kind: Kind
    description: str
    modbus: ModbusRef
    unit: Unit | None = None
    eu_range: tuple[float, float] | None = None
    writable: bool = False


@dataclass(frozen=True, slots=True)
class StatusWord:
    """A Modbus-only uint16 input register: bit ``n`` is set while ``bits[n]`` is bad."""

    unit: int
    offset: int
    bits: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"status word {self.unit}/input/{self.offset}"


TRANSFER_PLC = 1  # Modbus unit id of the transfer station PLC
INLET_RTU = 2  # Modbus unit id of the inlet skid RTU

MODE_MAN = 0
MODE_AUTO = 1


def _point(
    name: str,
    kind: Kind,
    at: str,
    description: str,
    unit: Unit | None = None,
    high: float | None = None,
    *,
    writable: bool = False,
) -> Point:
    """``at`` is ``<unit>/<table>/<offset>``, as in a ``modbus://`` tag address."""
    unit_id, table, offset = at.split("/")
    eu_range = None if high is None else (0.0, float(high))
    ref = ModbusRef(int(unit_id), table, int(offset))
    return Point(name, kind, description, ref, unit, eu_range, writable)


def _cmd(name: str, at: str, description: str) -> Point:
    return _point(name, Kind.BOOL, at, description, writable=True)


def _bit(name: str, at: str, description: str) -> Point:
    return _point(name, Kind.BOOL, at, description)


def _analog(name: str, at: str, unit: Unit, high: float, description: str) -> Point:
    return _point(name, Kind.DOUBLE, at, description, unit, high)


def _setpoint(name: str, at: str, unit: Unit, high: float, description: str) -> Point:
    return _point(name, Kind.DOUBLE, at, description, unit, high, writable=True)


def _pump(tag: str, coil: int, discrete: int, register: int) -> list[Point]:
    p, u = f"Plant.Transfer.{tag}", TRANSFER_PLC
    return [
        _cmd(f"{p}.Run", f"{u}/coil/{coil}", "run command (True = run)"),
        _cmd(f"{p}.Reset", f"{u}/coil/{coil + 1}", "fault reset: write True (reads back False)"),
        _bit(f"{p}.Running", f"{u}/discrete/{discrete}", "running feedback"),
        _bit(f"{p}.Fault", f"{u}/discrete/{discrete + 1}", "tripped, latched until reset"),
        _analog(f"{p}.Current", f"{u}/input/{register}", AMPERE, 100, "motor current"),
        _analog(f"{p}.RunHours", f"{u}/input/{register + 2}", HOUR, 1e5, "running hours"),
        _point(f"{p}.Starts", Kind.UINT32, f"{u}/input/{register + 4}", "number of starts"),
    ]


_RW, _TR, _TW, _F = "Plant.RawWater", "Plant.Transfer", "Plant.Treated", "Plant.Faults"

POINTS: tuple[Point, ...] = (
    # Inlet skid RTU (unit 2): raw-water supply and tank T1
    _cmd(f"{_RW}.XV101.Open", "2/coil/0", "inlet valve: True opens, False closes; not in Auto"),
    _cmd(
        f"{_RW}.XV101.Auto", "2/coil/1", "fill control: opens below FillLow, closes above FillHigh"
    ),
    _bit(f"{_RW}.XV101.Opened", "2/discrete/0", "open limit switch"),
    _bit(f"{_RW}.XV101.Closed", "2/discrete/1", "closed limit switch"),
    _analog(f"{_RW}.XV101.Position", "2/input/0", PERCENT, 100, "inlet valve position"),
    _analog(f"{_RW}.FT101.Flow", "2/input/2", M3_PER_H, 80, "raw-water inflow"),
    _analog(f"{_RW}.T1.Level", "2/input/4", PERCENT, 100, "raw-water tank level (LT101)"),
    _analog(f"{_RW}.T1.Volume", "2/input/6", M3, 9, "raw-water tank volume"),
    _analog(f"{_RW}.T1.Temperature", "2/input/8", CELSIUS, 40, "raw-water temperature"),
    _setpoint(f"{_RW}.T1.FillLow", "2/holding/0", PERCENT, 100, "fill control opens XV101 below"),
    _setpoint(f"{_RW}.T1.FillHigh", "2/holding/2", PERCENT, 100, "fill control closes XV101 above"),
    # Transfer station PLC (unit 1): pumps, control valve, level loop, treated-water tank
    *_pump("P101", coil=0, discrete=0, register=0),
    *_pump("P102", coil=2, discrete=2, register=6),
    _analog(f"{_TR}.FCV102.Position", "1/input/12", PERCENT, 100, "transfer control valve"),
    _analog(f"{_TR}.FT102.Flow", "1/input/14", M3_PER_H, 100, "transfer flow"),
    _analog(f"{_TR}.FQ102.Total", "1/input/16", M3, 1e7, "transferred volume (totaliser)"),
    _analog(f"{_TR}.LIC101.PV", "1/input/18", PERCENT, 100, "process value: T2 level"),
    _setpoint(f"{_TR}.LIC101.SP", "1/holding/0", PERCENT, 100, "T2 level setpoint"),
    _setpoint(f"{_TR}.LIC101.OUT", "1/holding/2", PERCENT, 100, "output to FCV102; MAN only"),
    _point(f"{_TR}.LIC101.Mode", Kind.INT32, "1/holding/4", "0 = MAN, 1 = AUTO", writable=True),
    _setpoint(
        f"{_TR}.DryRunLevel", "1/holding/5", PERCENT, 100, "T1 level that trips running pumps"
    ),
    _analog(f"{_TW}.T2.Level", "1/input/20", PERCENT, 100, "treated-water tank level (LT201)"),
    _analog(f"{_TW}.T2.Volume", "1/input/22", M3, 12, "treated-water tank volume"),
    _analog(f"{_TW}.FT103.Flow", "1/input/24", M3_PER_H, 60, "consumer outflow (demand)"),
    _point(
        "Plant.System.Heartbeat",
        Kind.UINT32,
        "1/input/26",
        "whole plant seconds; stops with the plant",
    ),
    _analog("Plant.System.PlantTime", "1/input/28", SECOND, 1e9, "simulated time since start"),
    # Fault injection (transfer PLC coils 4-9)
    _cmd(f"{_F}.P101Trip", "1/coil/4", "write True to trip P101 (clears itself once applied)"),
    _cmd(f"{_F}.P102Trip", "1/coil/5", "write True to trip P102 (clears itself once applied)"),
    _cmd(f"{_F}.T1LevelFail", "1/coil/6", "LT101 failed while True"),
    _cmd(f"{_F}.T2LevelFail", "1/coil/7", "LT201 failed while True (LIC101 sheds to MAN)"),
    _cmd(f"{_F}.XV101Stuck", "1/coil/8", "XV101 ignores its command while True"),
    _cmd(f"{_F}.FCV102Stuck", "1/coil/9", "FCV102 ignores its demand while True"),
)

STATUS_WORDS: tuple[StatusWord, ...] = (
    StatusWord(INLET_RTU, 10, (f"{_RW}.T1.Level",)),
    StatusWord(TRANSFER_PLC, 30, (f"{_TW}.T2.Level", f"{_TR}.LIC101.PV")),
)

POINTS_BY_NAME: dict[str, Point] = {p.name: p for p in POINTS}
