"""Plant equipment as small state machines, each advanced by ``step(dt)`` in seconds.

Pure Python, no I/O: the process model (``hmi.sim.process``) wires these together.
Units: levels and positions in %, flows in m³/h, volumes in m³, currents in A.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


def clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def lag(value: float, target: float, dt: float, tau: float) -> float:
    """First-order lag: move ``value`` toward ``target`` with time constant ``tau`` s."""
    return target + (value - target) * math.exp(-dt / tau) if tau > 0 else target


@dataclass(slots=True)
class Tank:
    """An open tank with vertical walls; spills over the top, cannot go below empty."""

    area: float  # m²
    height: float  # m
    volume: float = 0.0  # m³
    spilled: float = 0.0  # m³ lost over the top since start

    @property
    def capacity(self) -> float:
        return self.area * self.height

    @property
    def level(self) -> float:
        """Level in % of height."""
        return 100.0 * self.volume / self.capacity

    def step(self, inflow: float, outflow: float, dt: float) -> None:
        self.volume += (inflow - outflow) * dt / 3600.0
        if self.volume > self.capacity:
            self.spilled += self.volume - self.capacity
            self.volume = self.capacity
        elif self.volume < 0.0:
            self.volume = 0.0


@dataclass(slots=True)
class OnOffValve:
    """A motorised open/close valve with limit switches. ``stuck`` freezes it where it is:
    commands are still accepted but nothing moves (the limit switches tell on it)."""

    travel_time: float = 5.0  # s for a full stroke
    position: float = 0.0  # %
    command_open: bool = False
    stuck: bool = False

    @property
    def opened(self) -> bool:
        return self.position >= 99.5

    @property
    def closed(self) -> bool:
        return self.position <= 0.5

    def step(self, dt: float) -> None:
        if self.stuck:
            return
        target = 100.0 if self.command_open else 0.0
        stroke = 100.0 * dt / self.travel_time
        self.position = clamp(target, self.position - stroke, self.position + stroke)


@dataclass(slots=True)
class ControlValve:
    """A modulating valve: the positioner follows ``demand`` at a limited speed."""

    speed: float = 20.0  # %/s
    position: float = 0.0
    demand: float = 0.0
    stuck: bool = False

    def step(self, dt: float) -> None:
        if self.stuck:
            return
        stroke = self.speed * dt
        self.position = clamp(
            clamp(self.demand, 0.0, 100.0), self.position - stroke, self.position + stroke
        )


@dataclass(slots=True)
class Pump:
    """A fixed-speed transfer pump started direct-on-line.

    ``running`` (the feedback) comes ``start_delay`` s after the run command; a trip latches
    ``fault``, drops the run command (it will not restart by itself) and holds until reset.
    """

    start_delay: float = 2.0
    nominal_flow: float = 48.0  # m³/h at which the motor draws full-load current
    no_load_current: float = 7.0  # A, shut-off head
    full_load_current: float = 16.0  # A
    inrush_factor: float = 5.0
    run_command: bool = False
    running: bool = False
    fault: bool = False
    starting_for: float = 0.0
    run_hours: float = 0.0
    starts: int = 0
    current: float = 0.0  # true motor current, A

    @property
    def starting(self) -> bool:
        return self.run_command and not self.running

    def command(self, run: bool) -> None:
        if run and not self.run_command and not self.fault:
            self.run_command = True
            self.starting_for = 0.0
            self.starts += 1
        elif not run:
            self.run_command = False

    def trip(self) -> None:
        self.fault = True
        self.run_command = False
        self.running = False
        self.current = 0.0

    def reset(self) -> None:
        self.fault = False

    def step(self, dt: float, flow: float) -> None:
        """``flow`` is what this pump delivers now (m³/h); it sets the motor load."""
        if not self.run_command:
            self.running = False
            self.current = 0.0
            return
        if not self.running:
            self.starting_for += dt
            left = 1.0 - self.starting_for / self.start_delay
            self.current = self.full_load_current * (1.0 + (self.inrush_factor - 1.0) * left)
            if self.starting_for >= self.start_delay:
                self.running = True
            return
        load = clamp(flow / self.nominal_flow, 0.0, 1.3)
        self.current = self.no_load_current + (self.full_load_current - self.no_load_current) * load
        self.run_hours += dt / 3600.0


@dataclass(slots=True)
class PidController:
    """A PI controller in positional form, output 0-100 %.

    In MAN the integral term tracks the output, so switching to AUTO is bumpless; in AUTO a
    saturated output pulls the integral back (back-calculation), so it does not wind up.
    A bad PV sheds the loop to MAN with the output held.
    """

    kp: float
    ti: float  # s
    setpoint: float = 50.0
    auto: bool = True
    output: float = 0.0
    integral: float = 0.0
    out_low: float = 0.0
    out_high: float = 100.0

    def step(self, pv: float | None, dt: float) -> None:
        if pv is None:
            self.auto = False
            return
        error = self.setpoint - pv
        if not self.auto:
            self.integral = self.output - self.kp * error
            return
        self.integral += self.kp * error * dt / self.ti
        unclamped = self.kp * error + self.integral
        self.output = clamp(unclamped, self.out_low, self.out_high)
        if unclamped != self.output:
            self.integral = self.output - self.kp * error


@dataclass(slots=True)
class NoisySignal:
    """Coloured measurement noise: an AR(1) process with standard deviation ``sigma`` and
    correlation time ``tau`` s, as a damped transmitter shows it."""

    sigma: float
    tau: float = 1.0
    value: float = 0.0

    def step(self, rng: random.Random, dt: float) -> float:
        a = math.exp(-dt / self.tau)
        self.value = a * self.value + math.sqrt(1.0 - a * a) * self.sigma * rng.gauss(0.0, 1.0)
        return self.value
