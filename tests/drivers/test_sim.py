"""SimDriver: generated values, intervals, subscriptions, health, read-only."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable

import pytest

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext, ValueBatch
from hmi.drivers.sim import SimDriver
from hmi.model import QualityLevel, QualityReason, TagAddress, TagValue, WriteFailed, parse_address


class Sink:
    """Where the driver publishes: every batch and every health report, in order."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[TagAddress, TagValue]]] = []
        self.health: list[ConnectionHealth] = []
        self.context = DriverContext(self._publish, self.health.append)

    def _publish(self, batch: ValueBatch) -> None:
        self.batches.append(list(batch))

    def values(self, address: TagAddress) -> list[TagValue]:
        return [v for batch in self.batches for a, v in batch if a == address]


def driver(sink: Sink, clock: Callable[[], float] | None = None) -> SimDriver:
    if clock is None:
        return SimDriver("sim", None, sink.context)
    return SimDriver("sim", None, sink.context, clock=clock)


async def first_value(raw: str, t: float) -> TagValue:
    """The first value of ``raw`` computed at POSIX time ``t``."""
    sink = Sink()
    sim = driver(sink, clock=lambda: t)
    address = parse_address(raw)
    sim.subscribe([address])
    await sim.start()
    try:
        for _ in range(1000):
            if sink.values(address):
                break
            await asyncio.sleep(0.001)
        return sink.values(address)[0]
    finally:
        await sim.stop()


def value_at(raw: str, t: float) -> object:
    return asyncio.run(first_value(raw, t)).value


@pytest.mark.parametrize(
    ("t", "expected"), [(0.0, 50.0), (2.5, 100.0), (5.0, 50.0), (7.5, 0.0), (10.0, 50.0)]
)
def test_sine_follows_the_time(t: float, expected: float) -> None:
    assert value_at("sim://sine?period=10", t) == pytest.approx(expected, abs=1e-9)


def test_sine_scaled_into_min_max() -> None:
    assert value_at("sim://sine?period=4&min=-5&max=15", 1.0) == pytest.approx(15.0)
    assert value_at("sim://sine?period=4&min=-5&max=15", 3.0) == pytest.approx(-5.0)


@pytest.mark.parametrize(("t", "expected"), [(0.0, 10.0), (5.0, 15.0), (9.0, 19.0), (10.0, 10.0)])
def test_ramp_is_a_saw_tooth(t: float, expected: float) -> None:
    assert value_at("sim://ramp?period=10&min=10&max=20", t) == pytest.approx(expected)


@pytest.mark.parametrize(("t", "expected"), [(0.0, 5.0), (2.9, 5.0), (3.0, 1.0), (9.9, 1.0)])
def test_square_high_for_duty_of_the_period(t: float, expected: float) -> None:
    assert value_at("sim://square?period=10&duty=0.3&min=1&max=5", t) == expected


def test_counter_steps_once_per_interval_and_wraps() -> None:
    raw = "sim://counter?min=0&max=4&step=2&interval=0.5"  # 0, 2, 4, 0, ...
    assert [value_at(raw, t) for t in (0.0, 0.5, 1.0, 1.5, 2.0)] == [0, 2, 4, 0, 2]
    assert isinstance(value_at(raw, 0.5), int)
    assert value_at("sim://counter?min=0&max=1&step=0.25", 3.0) == pytest.approx(0.75)


def test_constant() -> None:
    assert value_at("sim://constant?value=42.5", 123.0) == 42.5
    assert value_at("sim://constant", 0.0) == 0.0


def test_every_value_is_good_with_the_tick_time_as_source_time() -> None:
    value = asyncio.run(first_value("sim://sine", 1234.5))
    assert value.quality.is_good
    assert value.source_time == 1234.5


async def collect(raws: list[str], enough: int) -> tuple[Sink, list[TagAddress]]:
    """Run the driver on the real clock until every address has ``enough`` values."""
    sink = Sink()
    sim = driver(sink)
    addresses = [parse_address(raw) for raw in raws]
    sim.subscribe(addresses)
    await sim.start()
    for _ in range(1000):
        if all(len(sink.values(a)) >= enough for a in addresses):
            break
        await asyncio.sleep(0.01)
    await sim.stop()
    return sink, addresses


def test_values_stay_in_range_on_the_real_clock() -> None:
    raws = [
        f"sim://{f}?period=0.2&min=-3&max=7&interval=0.01"
        for f in ("sine", "ramp", "square", "random", "counter")
    ]
    sink, addresses = asyncio.run(collect(raws, 20))
    for address in addresses:
        values = [v.value for v in sink.values(address)]
        assert len(values) >= 20, address
        assert all(-3 <= x <= 7 for x in values), (address, values)


def test_random_walk_is_seeded_bounded_and_moves_by_at_most_step() -> None:
    raw = "sim://random?min=0&max=10&step=1&interval=0.01&seed=7"

    async def walk() -> list[float]:
        sink, (address,) = await collect([raw], 20)
        return [v.value for v in sink.values(address)]

    first, second = asyncio.run(walk()), asyncio.run(walk())
    n = min(len(first), len(second))
    assert n >= 20
    assert first[:n] == second[:n], "the same seed gives the same walk"
    assert len(set(first)) > 1, "the walk moves"
    assert all(0 <= x <= 10 for x in first)
    assert all(abs(b - a) <= 1 + 1e-9 for a, b in zip([5.0, *first], first, strict=False))
    other = asyncio.run(first_value("sim://random?seed=8&step=1&min=0&max=10", 0))
    assert other.value != first[0]


def test_each_interval_ticks_in_its_own_batches(until) -> None:
    fast = "sim://sine?interval=0.02"
    slow = "sim://ramp?interval=0.2"

    async def main() -> tuple[Sink, list[TagAddress], int]:
        sink = Sink()
        sim = driver(sink)
        addresses = [parse_address(fast), parse_address(slow), parse_address(fast + "&min=1")]
        sim.subscribe(addresses)
        await sim.start()
        await until(lambda: len(sink.values(addresses[1])) >= 3, what="three slow ticks")
        tasks = sum(1 for t in asyncio.all_tasks() if t.get_name().startswith("sim tick"))
        await sim.stop()
        return sink, addresses, tasks

    sink, (f1, s1, f2), tasks = asyncio.run(main())
    assert tasks == 2, "one task per distinct interval"
    for batch in sink.batches:
        assert {a for a, _ in batch} in ({f1, f2}, {s1})
    fast_times = [v.source_time for v in sink.values(f1)]
    slow_times = [v.source_time for v in sink.values(s1)]
    assert slow_times[-1] - slow_times[0] == pytest.approx(0.4, abs=0.1)
    assert len(fast_times) >= 12, "about ten fast ticks for each slow one"
    gaps = [b - a for a, b in itertools.pairwise(fast_times)]
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(0.02, abs=0.01)


def test_subscribe_while_running_gets_a_value_at_once_and_unsubscribe_stops_it(until) -> None:
    async def main() -> None:
        sink = Sink()
        sim = driver(sink)
        await sim.start()
        slow = parse_address("sim://sine?interval=30")
        sim.subscribe([slow])
        await until(lambda: sink.values(slow), timeout=1.0, what="the first value")
        other = parse_address("sim://ramp?interval=30")
        sim.subscribe([other])  # same interval, task already ticking
        await until(lambda: sink.values(other), timeout=1.0, what="the second address")
        assert len(sink.values(slow)) == 1, "the running group is not re-published"
        assert sim.subscribed == {slow, other}

        fast = parse_address("sim://counter?interval=0.01")
        sim.subscribe([fast])
        await until(lambda: len(sink.values(fast)) >= 3, what="fast ticks")
        sim.unsubscribe([fast])
        await asyncio.sleep(0)
        count = len(sink.values(fast))
        await until(
            lambda: not any(t.get_name() == "sim tick 0.01s" for t in asyncio.all_tasks()),
            what="the emptied interval's task to end",
        )
        for _ in range(10):  # the producer is gone: let anything already queued run
            await asyncio.sleep(0)
        assert len(sink.values(fast)) == count
        await sim.stop()

    asyncio.run(main())


def test_health_connected_on_start_and_stopped_on_stop() -> None:
    async def main() -> None:
        sink = Sink()
        sim = driver(sink)
        assert sim.health.state is ConnectionState.CONNECTING
        await sim.start()
        assert sim.health.state is ConnectionState.CONNECTED
        assert sim.health.ok
        await sim.stop()
        assert [h.state for h in sink.health] == [
            ConnectionState.CONNECTED,
            ConnectionState.STOPPED,
        ]
        assert all(h.key == "sim" for h in sink.health)

    asyncio.run(main())


def test_write_is_refused_with_a_clear_message() -> None:
    sim = driver(Sink())
    with pytest.raises(WriteFailed, match=r"sim://constant\?value=1 is a simulated signal"):
        asyncio.run(sim.write(parse_address("sim://constant?value=1"), 5))


@pytest.mark.parametrize(
    "raw",
    [
        "sim://sine?min=5&max=5",
        "sim://ramp?min=10&max=0",
        "sim://counter?step=0",
        "sim://random?step=-1",
        "sim://square?duty=2",
    ],
)
def test_bad_parameters_give_bad_config_error(raw: str) -> None:
    value = asyncio.run(first_value(raw, 0.0))
    assert value.quality.level is QualityLevel.BAD
    assert value.quality.reason is QualityReason.CONFIG_ERROR
    assert value.value is None


def test_sine_default_range_and_period() -> None:
    assert value_at("sim://sine", 2.5) == pytest.approx(100.0)
    assert not math.isnan(value_at("sim://sine", 1e9))  # type: ignore[arg-type]
