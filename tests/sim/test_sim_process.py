"""The process model on its own: physics, equipment behaviour, faults. No servers, no clocks."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from hmi.sim.points import MODE_AUTO, MODE_MAN, POINTS
from hmi.sim.process import DT, CommandRejected, Fault, Plant

RW, TR, TW = "Plant.RawWater", "Plant.Transfer", "Plant.Treated"


def manual_inlet(plant: Plant, open_: bool) -> None:
    plant.write(f"{RW}.XV101.Auto", False)
    plant.write(f"{RW}.XV101.Open", open_)


def stop_pumps(plant: Plant) -> None:
    plant.write(f"{TR}.P101.Run", False)
    plant.write(f"{TR}.P102.Run", False)


def test_values_cover_every_point_with_its_type() -> None:
    values = Plant().values()
    assert set(values) == {p.name for p in POINTS}
    for point in POINTS:
        value = values[point.name]
        expected = {"Boolean": bool, "Double": float, "UInt32": int, "Int32": int}[point.kind]
        assert type(value) is expected, point.name


def test_level_rises_with_inflow_and_pumps_stopped() -> None:
    plant = Plant(seed=1)
    stop_pumps(plant)
    manual_inlet(plant, True)
    plant.advance(10.0)
    before, net_m3 = plant.t1.volume, 0.0
    for _ in range(round(60.0 / DT)):
        plant.step()
        net_m3 += (plant.inflow - plant.transfer) * DT / 3600.0
    assert plant.transfer < 0.1
    assert plant.t1.volume - before == pytest.approx(net_m3, rel=1e-9)
    assert plant.t1.volume - before == pytest.approx(60.0 * 60 / 3600, rel=0.1)  # ~60 m³/h


def test_stopping_the_pumps_overflows_t1_within_minutes() -> None:
    plant = Plant(seed=2)
    stop_pumps(plant)
    manual_inlet(plant, True)
    plant.advance(300.0)
    assert plant.values()[f"{RW}.T1.Level"] > 99.0
    assert plant.t1.spilled > 0.0


def test_level_falls_with_pumps_running_and_inlet_closed() -> None:
    plant = Plant(seed=3)
    manual_inlet(plant, False)
    plant.write(f"{TR}.LIC101.Mode", MODE_MAN)
    plant.write(f"{TR}.LIC101.OUT", 80.0)
    plant.advance(10.0)
    before, t2_before = plant.t1.level, plant.t2.level
    plant.advance(60.0)
    assert plant.inflow < 0.01
    assert plant.t1.level < before - 5.0
    assert plant.values()[f"{TR}.FT102.Flow"] > 30.0
    assert plant.t2.level > t2_before  # transfer beats demand with FCV102 at 80 %


def test_pumps_trip_when_t1_runs_dry() -> None:
    plant = Plant(seed=4)
    manual_inlet(plant, False)
    plant.write(f"{TR}.P102.Run", True)
    plant.write(f"{TR}.LIC101.Mode", MODE_MAN)
    plant.write(f"{TR}.LIC101.OUT", 100.0)
    plant.advance(400.0)
    values = plant.values()
    assert values[f"{TR}.P101.Fault"] and values[f"{TR}.P102.Fault"]
    assert not values[f"{TR}.P101.Running"]
    assert plant.t1.level < 3.0


def test_t2_runs_low_when_the_pumps_stop() -> None:
    plant = Plant(seed=5)
    stop_pumps(plant)
    plant.advance(900.0)
    assert plant.values()[f"{TW}.T2.Level"] < 20.0


def test_pump_start_delay_current_and_counters() -> None:
    plant = Plant(seed=6)
    starts, hours = plant.p102.starts, plant.p102.run_hours
    assert plant.values()[f"{TR}.P102.Current"] == 0.0
    plant.write(f"{TR}.P102.Run", True)
    plant.advance(1.0)
    values = plant.values()
    assert not values[f"{TR}.P102.Running"]
    assert values[f"{TR}.P102.Current"] > 30.0  # inrush
    assert values[f"{TR}.P102.Starts"] == starts + 1
    plant.advance(1.5)
    assert plant.values()[f"{TR}.P102.Running"]
    plant.advance(30.0)
    values = plant.values()
    assert 6.0 < values[f"{TR}.P102.Current"] < 20.0
    assert values[f"{TR}.P102.RunHours"] > hours
    plant.write(f"{TR}.P102.Run", False)
    plant.step()
    assert not plant.values()[f"{TR}.P102.Running"]
    assert plant.values()[f"{TR}.P102.Current"] == 0.0


def test_pump_trip_latches_until_reset() -> None:
    plant = Plant(seed=7)
    plant.set_fault(Fault.P101_TRIP)
    plant.step()
    values = plant.values()
    assert values[f"{TR}.P101.Fault"] and not values[f"{TR}.P101.Running"]
    assert not values[f"{TR}.P101.Run"] and values[f"{TR}.P101.Current"] == 0.0
    assert not values["Plant.Faults.P101Trip"]  # the trigger clears, the pump latches
    plant.write(f"{TR}.P101.Run", True)  # interlocked: ignored while tripped
    plant.advance(5.0)
    assert not plant.values()[f"{TR}.P101.Running"]
    plant.write(f"{TR}.P101.Reset", True)
    values = plant.values()
    assert not values[f"{TR}.P101.Fault"] and not values[f"{TR}.P101.Reset"]
    plant.write(f"{TR}.P101.Run", True)
    plant.advance(3.0)
    assert plant.values()[f"{TR}.P101.Running"]


def test_pump_trip_through_its_fault_point() -> None:
    plant = Plant(seed=8)
    plant.write("Plant.Faults.P102Trip", True)
    assert plant.values()[f"{TR}.P102.Fault"]


def test_inlet_valve_travels_in_five_seconds() -> None:
    plant = Plant(seed=9)
    assert plant.values()[f"{RW}.XV101.Opened"]
    manual_inlet(plant, False)
    plant.advance(2.5)
    values = plant.values()
    assert values[f"{RW}.XV101.Position"] == pytest.approx(50.0, abs=2.5)
    assert not values[f"{RW}.XV101.Opened"] and not values[f"{RW}.XV101.Closed"]
    plant.advance(2.6)
    assert plant.values()[f"{RW}.XV101.Closed"]


def test_stuck_valve_ignores_commands() -> None:
    plant = Plant(seed=10)
    plant.write("Plant.Faults.XV101Stuck", True)
    manual_inlet(plant, False)
    plant.advance(10.0)
    values = plant.values()
    assert values[f"{RW}.XV101.Position"] == 100.0 and values[f"{RW}.XV101.Opened"]
    assert not values[f"{RW}.XV101.Open"]  # the command went through, the valve did not
    plant.set_fault(Fault.XV101_STUCK, False)
    plant.advance(5.5)
    assert plant.values()[f"{RW}.XV101.Closed"]


def test_fill_control_keeps_t1_between_its_switch_points() -> None:
    plant = Plant(seed=11)
    levels = []
    for _ in range(60):
        plant.advance(60.0)
        levels.append(plant.t1.level)
    assert min(levels) > 30.0 and max(levels) < 90.0
    assert max(levels) - min(levels) > 20.0  # it does cycle


def test_fill_control_follows_its_settings() -> None:
    """FillLow/FillHigh are the fill control's switch points, changed while it runs."""
    plant = Plant(seed=11)
    plant.write(f"{RW}.T1.FillHigh", 60.0)
    plant.write(f"{RW}.T1.FillLow", 50.0)
    levels = []
    for _ in range(60):
        plant.advance(30.0)
        levels.append(plant.t1.level)
    assert max(levels[10:]) < 66.0 and min(levels[10:]) > 44.0
    values = plant.values()
    assert (values[f"{RW}.T1.FillLow"], values[f"{RW}.T1.FillHigh"]) == (50.0, 60.0)
    with pytest.raises(CommandRejected, match=r"FillLow .* below"):
        plant.write(f"{RW}.T1.FillLow", 70.0)


def test_dry_running_trip_level_is_a_setting() -> None:
    """With the trip level raised to 30 %, the pumps trip as T1 passes 30 %, not 2 %."""
    plant = Plant(seed=4)
    plant.write(f"{TR}.DryRunLevel", 30.0)
    manual_inlet(plant, False)
    plant.write(f"{TR}.LIC101.Mode", MODE_MAN)
    plant.write(f"{TR}.LIC101.OUT", 100.0)
    for _ in range(4000):
        plant.step()
        if plant.values()[f"{TR}.P101.Fault"]:
            break
    assert 27.0 < plant.t1.level < 30.0
    assert plant.values()[f"{TR}.DryRunLevel"] == 30.0


def test_pid_tracks_a_setpoint_step_in_auto() -> None:
    plant = Plant(seed=12)
    out_before = plant.lic101.output
    plant.write(f"{TR}.LIC101.SP", 70.0)
    plant.advance(900.0)
    values = plant.values()
    assert values[f"{TR}.LIC101.Mode"] == MODE_AUTO
    assert values[f"{TR}.LIC101.PV"] == pytest.approx(70.0, abs=2.0)
    assert values[f"{TR}.LIC101.OUT"] != out_before


def test_man_to_auto_is_bumpless() -> None:
    plant = Plant(seed=13)
    plant.write(f"{TR}.LIC101.Mode", MODE_MAN)
    plant.write(f"{TR}.LIC101.OUT", 35.0)
    plant.advance(60.0)
    assert plant.lic101.output == 35.0
    plant.write(f"{TR}.LIC101.Mode", MODE_AUTO)
    plant.step()
    assert plant.lic101.output == pytest.approx(35.0, abs=1.0)


def test_out_is_ignored_in_auto() -> None:
    plant = Plant(seed=14)
    out = plant.lic101.output
    plant.write(f"{TR}.LIC101.OUT", 99.0)
    assert plant.lic101.output == out


def test_no_windup_while_the_control_valve_is_stuck() -> None:
    plant = Plant(seed=15)
    plant.write("Plant.Faults.FCV102Stuck", True)
    plant.write(f"{TR}.LIC101.SP", 95.0)
    plant.advance(600.0)
    assert plant.lic101.output > 95.0
    plant.write("Plant.Faults.FCV102Stuck", False)
    plant.write(f"{TR}.LIC101.SP", max(plant.t2.level - 10.0, 0.0))
    plant.advance(5.0)
    assert plant.lic101.output < 60.0  # off the stop at once, no wound-up integral to unwind


def test_totaliser_counts_up_with_transfer_flow() -> None:
    plant = Plant(seed=16)
    totals = []
    for _ in range(120):
        plant.advance(5.0)
        totals.append(plant.values()[f"{TR}.FQ102.Total"])
    assert all(b >= a for a, b in itertools.pairwise(totals))
    assert totals[-1] - totals[0] > 1.0
    stop_pumps(plant)
    plant.advance(10.0)
    total = plant.values()[f"{TR}.FQ102.Total"]
    plant.advance(10.0)
    assert plant.values()[f"{TR}.FQ102.Total"] - total < 0.01


def test_sensor_failure_freezes_and_flags_the_level_and_sheds_the_loop() -> None:
    plant = Plant(seed=17)
    assert plant.bad_points() == frozenset()
    plant.set_fault(Fault.T2_LEVEL_FAIL)
    frozen = plant.values()[f"{TW}.T2.Level"]
    plant.advance(30.0)
    values = plant.values()
    assert {f"{TW}.T2.Level", f"{TR}.LIC101.PV"} <= plant.bad_points()
    assert values[f"{TW}.T2.Level"] == frozen
    assert values[f"{TR}.LIC101.Mode"] == MODE_MAN
    plant.write(f"{TR}.LIC101.Mode", MODE_AUTO)  # refused while the PV is bad
    assert plant.values()[f"{TR}.LIC101.Mode"] == MODE_MAN
    plant.set_fault(Fault.T2_LEVEL_FAIL, False)
    plant.step()
    assert plant.bad_points() == frozenset()
    assert plant.values()[f"{TW}.T2.Level"] != frozen


def test_t1_sensor_failure_closes_the_fill_valve() -> None:
    plant = Plant(seed=18)
    plant.write("Plant.Faults.T1LevelFail", True)
    plant.advance(6.0)
    assert plant.values()[f"{RW}.XV101.Closed"]
    assert f"{RW}.T1.Level" in plant.bad_points()


def test_same_seed_same_trajectory() -> None:
    a, b, c = Plant(seed=42), Plant(seed=42), Plant(seed=43)
    for plant in (a, b, c):
        plant.advance(120.0)
    assert a.values() == b.values()
    assert a.values() != c.values()


def test_measurements_are_noisy_but_close() -> None:
    plant = Plant(seed=19)
    readings = []
    for _ in range(50):
        plant.step()
        readings.append(plant.values()[f"{TW}.T2.Level"] - plant.t2.level)
    assert len(set(readings)) > 10
    assert max(abs(r) for r in readings) < 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (f"{RW}.T1.Level", 10.0),  # read-only
        ("Plant.Nowhere", 1.0),
        (f"{TR}.P101.Run", 1),  # not a bool
        (f"{TR}.LIC101.SP", True),
        (f"{TR}.LIC101.SP", 150.0),
        (f"{TR}.LIC101.SP", math.nan),
        (f"{TR}.LIC101.Mode", 2),
        (f"{TR}.LIC101.Mode", 1.0),
        (f"{TR}.DryRunLevel", 120.0),
        (f"{RW}.T1.FillHigh", 30.0),  # below FillLow
    ],
)
def test_refused_writes(name: str, value: object) -> None:
    with pytest.raises(CommandRejected):
        Plant().write(name, value)  # type: ignore[arg-type]


def test_docs_list_every_point() -> None:
    """docs/plant.md is the engineers' copy of the point table; keep it in step."""
    lines = (Path(__file__).parents[2] / "docs" / "plant.md").read_text(encoding="utf-8")
    rows = lines.splitlines()
    for point in POINTS:
        ref, width = point.modbus, max(point.kind.registers, 1)
        offsets = f"{ref.offset}" if width == 1 else f"{ref.offset}-{ref.offset + width - 1}"
        modbus = f"| {ref.table} | {offsets} |"
        assert any(f"`{point.name}`" in row and modbus in row for row in rows), point.name
        assert any(row.startswith(f"| `{point.name}` | {point.kind.value} |") for row in rows)
