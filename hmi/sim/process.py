"""The demo water-treatment plant: a pure, deterministic process model (no I/O, no clocks).

Raw water flows through the inlet valve XV101 into tank T1 (fill control keeps T1 between
40 % and 80 %, settings ``T1.FillLow``/``FillHigh``). Pumps P101/P102 transfer it through the control valve FCV102 into the
treated-water tank T2, whose level LIC101 holds by throttling FCV102; consumers draw from T2
with a day-shaped demand (one "day" is 20 minutes of plant time). Stop the pumps and T2 runs
low; open XV101 by hand with the pumps stopped and T1 overflows in about four minutes.

``step()`` advances ``DT`` seconds; the same seed and the same writes at the same steps give
the same trajectory. Points are named as in ``hmi.sim.points``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum

from hmi.model.errors import HmiError
from hmi.sim.equipment import (
    ControlValve,
    NoisySignal,
    OnOffValve,
    PidController,
    Pump,
    Tank,
    clamp,
    lag,
)
from hmi.sim.points import MODE_AUTO, MODE_MAN, POINTS_BY_NAME, Kind

DT = 0.1  # s of plant time per step

Value = bool | int | float


class Fault(StrEnum):
    """Injectable faults, named as their ``Plant.Faults.<name>`` points."""

    P101_TRIP = "P101Trip"
    P102_TRIP = "P102Trip"
    T1_LEVEL_FAIL = "T1LevelFail"
    T2_LEVEL_FAIL = "T2LevelFail"
    XV101_STUCK = "XV101Stuck"
    FCV102_STUCK = "FCV102Stuck"


class CommandRejected(HmiError, ValueError):
    """A write the plant refuses: unknown or read-only point, wrong type, value out of range."""


@dataclass(frozen=True, slots=True)
class PlantConfig:
    t1_area: float = 3.0  # m², 3 m high: 9 m³
    t2_area: float = 4.0  # m², 3 m high: 12 m³
    tank_height: float = 3.0
    inflow_max: float = 60.0  # m³/h through XV101 fully open
    fill_open_below: float = 40.0  # % T1
    fill_close_above: float = 80.0
    pump_capacity: tuple[float, float, float] = (0.0, 48.0, 78.0)  # m³/h by pumps running
    dry_run_level: float = 2.0  # % T1: the low-low switch trips running pumps
    demand_base: float = 24.0  # m³/h
    day_length: float = 1200.0  # s of plant time for one day of demand
    lic_kp: float = 10.0
    lic_ti: float = 240.0  # s


def _valve_flow_fraction(position: float) -> float:
    """Installed characteristic of FCV102: fraction of the pumps' flow at ``position`` %."""
    v = position / 100.0
    return v / math.sqrt(0.25 + 0.75 * v * v)


def _valve_position_for(fraction: float) -> float:
    c2 = clamp(fraction, 0.0, 1.0) ** 2
    return 100.0 * math.sqrt(0.25 * c2 / (1.0 - 0.75 * c2))


def _demand_profile(hour: float) -> float:
    """Relative consumer demand over a day: night low, morning and evening peaks."""

    def bump(centre: float, width: float) -> float:
        d = (hour - centre + 12.0) % 24.0 - 12.0
        return math.exp(-d * d / (2.0 * width * width))

    return 0.45 + 1.0 * bump(7.5, 1.5) + 0.55 * bump(12.5, 2.5) + 0.8 * bump(19.0, 2.0)


def _cutoff(flow: float) -> float:
    """Flow meters report zero below their low-flow cut-off."""
    return 0.0 if flow < 0.5 else flow


class Plant:
    """The whole plant; ``values()`` is what the transmitters and the PLC would report."""

    START_HOUR = 6.0  # plant time 0 is 06:00 of the demand day

    def __init__(self, *, seed: int = 0, config: PlantConfig | None = None) -> None:
        cfg = self.config = config or PlantConfig()
        self._rng = random.Random(seed)
        self.time = 0.0
        self.t1 = Tank(cfg.t1_area, cfg.tank_height, volume=0.55 * cfg.t1_area * cfg.tank_height)
        self.t2 = Tank(cfg.t2_area, cfg.tank_height, volume=0.60 * cfg.t2_area * cfg.tank_height)
        self.xv101 = OnOffValve(position=100.0, command_open=True)
        self.fill_auto = True
        self.fill_low = cfg.fill_open_below  # settings an engineer may change while it runs
        self.fill_high = cfg.fill_close_above
        self.dry_run_level = cfg.dry_run_level
        self.p101 = Pump(run_command=True, running=True, run_hours=1234.5, starts=312)
        self.p102 = Pump(run_hours=987.25, starts=298)
        demand = cfg.demand_base * _demand_profile(self.START_HOUR)
        out = _valve_position_for(demand / cfg.pump_capacity[1])
        self.fcv102 = ControlValve(position=out, demand=out)
        self.lic101 = PidController(cfg.lic_kp, cfg.lic_ti, setpoint=60.0, output=out)
        self.lic101.integral = out
        self.faults: set[Fault] = set()
        self.inflow = cfg.inflow_max
        self.transfer = demand
        self.outflow = demand
        self.total = 48213.0  # m³ on the totaliser when the demo starts
        self._demand_noise = NoisySignal(0.05, tau=120.0)
        self._supply_noise = NoisySignal(0.03, tau=60.0)
        self._temp_drift = NoisySignal(0.25, tau=300.0)
        self._noise = {
            "t1": NoisySignal(0.05),
            "t2": NoisySignal(0.05),
            "ft101": NoisySignal(0.3),
            "ft102": NoisySignal(0.3),
            "ft103": NoisySignal(0.3),
            "tt101": NoisySignal(0.02),
            "p101": NoisySignal(0.05),
            "p102": NoisySignal(0.05),
        }
        self._meas: dict[str, float] = {}
        self._measure()

    # --- public API -----------------------------------------------------------------------

    @property
    def hour(self) -> float:
        """Hour of the simulated day (0-24) that drives consumer demand."""
        return (self.START_HOUR + 24.0 * self.time / self.config.day_length) % 24.0

    def advance(self, seconds: float) -> None:
        """Run ``seconds`` of plant time in fixed steps."""
        for _ in range(round(seconds / DT)):
            self.step()

    def set_fault(self, fault: Fault | str, active: bool = True) -> None:
        """Inject (``active``) or clear a fault. A pump trip takes effect at once and latches
        in the pump; the trip fault itself clears as soon as it is applied."""
        fault = Fault(fault)
        if fault is Fault.P101_TRIP:
            if active:
                self.p101.trip()
            return
        if fault is Fault.P102_TRIP:
            if active:
                self.p102.trip()
            return
        if active:
            self.faults.add(fault)
        else:
            self.faults.discard(fault)
        self.xv101.stuck = Fault.XV101_STUCK in self.faults
        self.fcv102.stuck = Fault.FCV102_STUCK in self.faults

    def write(self, name: str, value: Value) -> None:
        """Apply an operator write to point ``name``. Interlocked commands (a run command to
        a tripped pump, XV101.Open while Auto, LIC101.OUT in AUTO) are accepted and have no
        effect; values that can never be right raise ``CommandRejected``."""
        self.check(name, value)
        self._apply(name.removeprefix("Plant."), value)

    def check(self, name: str, value: Value) -> None:
        """Raise ``CommandRejected`` if ``write(name, value)`` would; change nothing."""
        point = POINTS_BY_NAME.get(name)
        if point is None or not point.writable:
            raise CommandRejected(f"{name!r} is not a writable point of the demo plant")
        if point.kind is Kind.BOOL:
            if not isinstance(value, bool):
                raise CommandRejected(f"{name} takes True or False, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise CommandRejected(f"{name} takes a number, not {value!r}")
        elif point.kind is Kind.INT32 and (not isinstance(value, int) or value not in (0, 1)):
            raise CommandRejected(f"{name} is 0 (MAN) or 1 (AUTO), not {value!r}")
        elif point.eu_range is not None:
            low, high = point.eu_range
            if not low <= value <= high:  # also refuses NaN
                raise CommandRejected(f"{name}={value!r} is outside {low:g} to {high:g}")
        fill_low, fill_high = self.fill_low, self.fill_high
        if name.endswith(".T1.FillLow"):
            fill_low = float(value)
        elif name.endswith(".T1.FillHigh"):
            fill_high = float(value)
        if not fill_low < fill_high:
            raise CommandRejected(
                f"{name}={value!r}: the fill control needs FillLow ({fill_low:g}) below "
                f"FillHigh ({fill_high:g})"
            )

    def values(self) -> dict[str, Value]:
        """Every point's current value, keyed by point name. A failed transmitter's points
        hold their last good value; ``bad_points()`` says which they are."""
        m = self._meas
        p1, p2, lic = self.p101, self.p102, self.lic101
        rw, tr = "Plant.RawWater", "Plant.Transfer"
        return {
            f"{rw}.XV101.Open": self.xv101.command_open,
            f"{rw}.XV101.Auto": self.fill_auto,
            f"{rw}.XV101.Opened": self.xv101.opened,
            f"{rw}.XV101.Closed": self.xv101.closed,
            f"{rw}.XV101.Position": self.xv101.position,
            f"{rw}.FT101.Flow": m["ft101"],
            f"{rw}.T1.Level": m["t1"],
            f"{rw}.T1.Volume": m["t1"] / 100.0 * self.t1.capacity,
            f"{rw}.T1.Temperature": m["tt101"],
            f"{rw}.T1.FillLow": self.fill_low,
            f"{rw}.T1.FillHigh": self.fill_high,
            **self._pump_values(f"{tr}.P101", p1, m["p101"]),
            **self._pump_values(f"{tr}.P102", p2, m["p102"]),
            f"{tr}.FCV102.Position": self.fcv102.position,
            f"{tr}.FT102.Flow": m["ft102"],
            f"{tr}.FQ102.Total": self.total,
            f"{tr}.LIC101.PV": m["t2"],
            f"{tr}.LIC101.SP": lic.setpoint,
            f"{tr}.LIC101.OUT": lic.output,
            f"{tr}.LIC101.Mode": MODE_AUTO if lic.auto else MODE_MAN,
            f"{tr}.DryRunLevel": self.dry_run_level,
            "Plant.Treated.T2.Level": m["t2"],
            "Plant.Treated.T2.Volume": m["t2"] / 100.0 * self.t2.capacity,
            "Plant.Treated.FT103.Flow": m["ft103"],
            "Plant.System.Heartbeat": int(self.time),
            "Plant.System.PlantTime": self.time,
            **{f"Plant.Faults.{f.value}": f in self.faults for f in Fault},
        }

    def bad_points(self) -> frozenset[str]:
        """Points whose value comes from a failed transmitter."""
        bad: set[str] = set()
        if Fault.T1_LEVEL_FAIL in self.faults:
            bad |= {"Plant.RawWater.T1.Level", "Plant.RawWater.T1.Volume"}
        if Fault.T2_LEVEL_FAIL in self.faults:
            bad |= {"Plant.Treated.T2.Level", "Plant.Treated.T2.Volume", "Plant.Transfer.LIC101.PV"}
        return frozenset(bad)

    # --- dynamics -------------------------------------------------------------------------

    def step(self) -> None:
        cfg, dt, rng = self.config, DT, self._rng
        self.time += dt
        if self.fill_auto:
            if Fault.T1_LEVEL_FAIL in self.faults:
                self.xv101.command_open = False  # fail safe: no level, no filling
            elif self._meas["t1"] < self.fill_low:
                self.xv101.command_open = True
            elif self._meas["t1"] > self.fill_high:
                self.xv101.command_open = False
        self.xv101.step(dt)
        supply = 1.0 + self._supply_noise.step(rng, dt)
        inflow = cfg.inflow_max * (self.xv101.position / 100.0) ** 1.5 * supply
        self.inflow = lag(self.inflow, inflow, dt, 1.0)

        pv = None if Fault.T2_LEVEL_FAIL in self.faults else self._meas["t2"]
        self.lic101.step(pv, dt)
        self.fcv102.demand = self.lic101.output
        self.fcv102.step(dt)

        pumps = (self.p101, self.p102)
        running = sum(p.running for p in pumps)
        suction = clamp(self.t1.level / 3.0, 0.0, 1.0)
        transfer = cfg.pump_capacity[running] * _valve_flow_fraction(self.fcv102.position) * suction
        self.transfer = lag(self.transfer, transfer, dt, 1.5)
        for pump in pumps:
            pump.step(dt, self.transfer / running if pump.running else 0.0)
            if pump.running and self.t1.level < self.dry_run_level:
                pump.trip()

        hour = self.hour
        demand = cfg.demand_base * _demand_profile(hour) * (1.0 + self._demand_noise.step(rng, dt))
        self.outflow = demand * clamp(self.t2.level / 2.0, 0.0, 1.0)
        self.t1.step(self.inflow, self.transfer, dt)
        self.t2.step(self.transfer, self.outflow, dt)
        self.total += self.transfer * dt / 3600.0
        self._measure(dt)

    def _measure(self, dt: float = DT) -> None:
        rng, n, m = self._rng, self._noise, self._meas
        noise = {key: signal.step(rng, dt) for key, signal in n.items()}
        if Fault.T1_LEVEL_FAIL not in self.faults or "t1" not in m:
            m["t1"] = clamp(self.t1.level + noise["t1"], 0.0, 100.0)
        if Fault.T2_LEVEL_FAIL not in self.faults or "t2" not in m:
            m["t2"] = clamp(self.t2.level + noise["t2"], 0.0, 100.0)
        m["ft101"] = _cutoff(self.inflow + noise["ft101"])
        m["ft102"] = _cutoff(self.transfer + noise["ft102"])
        m["ft103"] = _cutoff(self.outflow + noise["ft103"])
        day = 2.0 * math.pi * (self.hour - 9.0) / 24.0
        drift = self._temp_drift.step(rng, dt)
        m["tt101"] = 11.5 + 1.2 * math.sin(day) + drift + noise["tt101"]
        for key, pump in (("p101", self.p101), ("p102", self.p102)):
            m[key] = max(0.0, pump.current + noise[key]) if pump.current > 0.0 else 0.0

    # --- writes ---------------------------------------------------------------------------

    def _apply(self, name: str, value: Value) -> None:
        area_equipment, _, attribute = name.rpartition(".")
        pump = {"Transfer.P101": self.p101, "Transfer.P102": self.p102}.get(area_equipment)
        if pump is not None:
            if attribute == "Run":
                pump.command(bool(value))
            elif value:  # Reset: a rising write resets; the point reads back False
                pump.reset()
        elif area_equipment == "Faults":
            self.set_fault(attribute, bool(value))
        elif name == "RawWater.XV101.Auto":
            self.fill_auto = bool(value)
        elif name == "RawWater.XV101.Open":
            if not self.fill_auto:
                self.xv101.command_open = bool(value)
        elif name == "RawWater.T1.FillLow":
            self.fill_low = float(value)
        elif name == "RawWater.T1.FillHigh":
            self.fill_high = float(value)
        elif name == "Transfer.DryRunLevel":
            self.dry_run_level = float(value)
        elif name == "Transfer.LIC101.SP":
            self.lic101.setpoint = float(value)
        elif name == "Transfer.LIC101.OUT":
            if not self.lic101.auto:
                self.lic101.output = float(value)
        elif name == "Transfer.LIC101.Mode":
            bad_pv = Fault.T2_LEVEL_FAIL in self.faults
            self.lic101.auto = value == MODE_AUTO and not bad_pv

    @staticmethod
    def _pump_values(prefix: str, pump: Pump, current: float) -> dict[str, Value]:
        return {
            f"{prefix}.Run": pump.run_command,
            f"{prefix}.Reset": False,
            f"{prefix}.Running": pump.running,
            f"{prefix}.Fault": pump.fault,
            f"{prefix}.Current": current,
            f"{prefix}.RunHours": pump.run_hours,
            f"{prefix}.Starts": pump.starts,
        }
