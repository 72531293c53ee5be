"""Alarm evaluations per second over 10,000 definitions, against the raw work.

10,000 limit alarms: 2,500 analog tags with HiHi/Hi/Lo/LoLo each (deadband, some with delays).
Pre-made value streams walk every tag through its normal band, with about 1 % of values
crossing a limit (so alarms do raise, clear and chatter-filter, and listeners get events). Measured
in the same run:

- **engine**: ``AlarmEngine.update`` for each value, 4 evaluations each;
- **raw**: a bare Python loop over the same values doing the same four comparisons with the
  same per-tag limits (a dict look-up and four compares: the least any engine must do);
- **broker**: the same values through ``TagBroker.publish`` with the alarm engine as its
  every-change listener (the path the station runs);
- **mixed**: 10,000 definitions of every kind (limit, digital, deviation, rate, bad quality);
- **tick**: one ``tick`` over all 10,000 alarms, with 1 % of them in an on-delay.

Run: ``.venv/bin/python bench/bench_alarms.py [--seconds 3] [--tags 2500] [--check]``;
``--check`` exits 1 when the engine misses 200,000 evaluations/s.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure
from pydantic import TypeAdapter

from hmi.drivers.defaults import default_registry
from hmi.model.alarms.definitions import AlarmDefinition
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.states import AlarmEvent
from hmi.model.quality import GOOD
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker

TARGET = 200_000  # evaluations/s
ROUNDS = 16  # value sets cycled through, every tag changing in each
LIMITS = {"hihi": 95.0, "hi": 85.0, "lo": 15.0, "lolo": 5.0}
DEFINITIONS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])


def limit_alarms(tags: list[str]) -> list[AlarmDefinition]:
    raw = [
        {"id": f"{tag}.{kind}", "tag": tag, "kind": kind, "limit": limit, "deadband": 1.0,
         "on_delay_s": 2.0 if i % 10 == 0 else 0.0, "message": "{tag} {value:.1f}"}
        for i, tag in enumerate(tags)
        for kind, limit in LIMITS.items()
    ]  # fmt: skip
    return DEFINITIONS.validate_python(raw)


def mixed_alarms(tags: list[str]) -> list[AlarmDefinition]:
    """Per tag: Hi, Lo, a digital on a status tag, a deviation, a rate, a bad quality."""
    raw: list[dict[str, Any]] = []
    for tag in tags:
        raw += [
            {"id": f"{tag}.hi", "tag": tag, "kind": "hi", "limit": 85, "deadband": 1},
            {"id": f"{tag}.lo", "tag": tag, "kind": "lo", "limit": 15, "deadband": 1},
            {"id": f"{tag}.dev", "tag": tag, "kind": "deviation", "setpoint": "SP", "band": 40},
            {"id": f"{tag}.rate", "tag": tag, "kind": "rate", "rate": 50, "window_s": 5},
            {"id": f"{tag}.comm", "tag": tag, "kind": "bad_quality"},
        ]
    return DEFINITIONS.validate_python(raw)


def make_stream(tags: list[str], seed: int = 1) -> list[tuple[str, TagValue]]:
    """ROUNDS x tags values, time advancing 0.1 s per round; ~1 % cross a limit."""
    rng = random.Random(seed)
    stream = []
    for r in range(ROUNDS):
        t = 1_000_000.0 + r * 0.1
        for tag in tags:
            spike = rng.random() < 0.01
            value = rng.choice((2.0, 12.0, 88.0, 97.0)) if spike else rng.uniform(30, 70)
            stream.append((tag, TagValue(value, GOOD, t, t)))
    return stream


def timed(work: Callable[[], int], seconds: float) -> tuple[float, int]:
    """Repeat ``work`` (returns how many evaluations it did) for ``seconds``; rate and count."""
    gc.collect()
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        done += work()
    return done / (time.perf_counter() - start), done


def bench_engine(tags: list[str], seconds: float) -> tuple[float, int]:
    engine = AlarmEngine(limit_alarms(tags))
    events: list[AlarmEvent] = []
    engine.add_listener(events.append)
    stream = make_stream(tags)
    update = engine.update
    per_pass = len(stream) * len(LIMITS)
    passes = [0]

    def work() -> int:
        # Timestamps move on every pass so delays and time stay meaningful.
        passes[0] += 1
        for name, value in stream:
            update(name, value)
        engine.tick(stream[-1][1].timestamp + passes[0])
        return per_pass

    rate, _ = timed(work, seconds)
    return rate, len(events)


def bench_raw(tags: list[str], seconds: float) -> float:
    stream = make_stream(tags)
    limits = {tag: tuple(LIMITS.values()) for tag in tags}
    per_pass = len(stream) * len(LIMITS)

    def work() -> int:
        for name, value in stream:
            v = value.value
            hihi, hi, lo, lolo = limits[name]
            _ = v > hihi, v > hi, v < lo, v < lolo
        return per_pass

    return timed(work, seconds)[0]


def bench_broker(tags: list[str], seconds: float) -> float:
    configs = {t: TagConfig(name=t, address=f"local://{t.replace('.', '_')}") for t in tags}
    broker = TagBroker(configs, default_registry(), {})
    engine = AlarmEngine(limit_alarms(tags))
    broker.add_listener(engine.update)
    stream = make_stream(tags)
    batches = []
    for i in range(0, len(stream), 1000):
        batches.append([(configs[n].address, v) for n, v in stream[i : i + 1000]])
    per_pass = len(stream) * len(LIMITS)

    def work() -> int:
        for batch in batches:
            broker.publish(batch)
        broker.take_changes()
        return per_pass

    return timed(work, seconds)[0]


def bench_mixed(tags: list[str], seconds: float) -> tuple[float, int]:
    definitions = mixed_alarms(tags[: len(tags) * 4 // 5])  # 5 per tag: ~10,000 alarms
    engine = AlarmEngine(definitions)
    names = sorted({d.tag for d in definitions})
    stream = make_stream(names, seed=2)
    sp = TagValue(50.0, GOOD, 1_000_000.0, 1_000_000.0)
    engine.update("SP", sp)
    per_value = len(definitions) / len(names)

    def work() -> int:
        for name, value in stream:
            engine.update(name, value)
        engine.tick(stream[-1][1].timestamp)
        return int(len(stream) * per_value)

    return timed(work, seconds)[0], len(definitions)


def bench_tick(tags: list[str]) -> float:
    engine = AlarmEngine(limit_alarms(tags))
    t = 1_000_000.0
    for i, tag in enumerate(tags):
        engine.update(tag, TagValue(99.0 if i % 25 == 0 else 50.0, GOOD, t, t))
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        engine.tick(t + 1)  # delays not yet due: the work of an ordinary tick
    return (time.perf_counter() - start) / runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--tags", type=int, default=2500, help="analog tags, 4 alarms each")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    tags = [f"Area{i // 100}.T{i}.PV" for i in range(args.tags)]
    alarms = len(tags) * len(LIMITS)

    ours, events = bench_engine(tags, args.seconds)
    raw = bench_raw(tags, args.seconds)
    broker = bench_broker(tags, args.seconds)
    mixed, mixed_count = bench_mixed(tags, args.seconds)
    tick = bench_tick(tags)

    print(f"alarms: {alarms:,} limit alarms on {len(tags):,} tags, {ROUNDS} value rounds")
    print(f"engine: ours {ours:,.0f} evaluations/s, raw {raw:,.0f}/s, ratio {ours / raw:.2f} "
          f"({1e9 / ours:.0f} ns per evaluation; {events:,} events)")  # fmt: skip
    print(f"broker: {broker:,.0f} evaluations/s through TagBroker.publish (ratio to raw "
          f"{broker / raw:.2f})")  # fmt: skip
    print(f"mixed:  {mixed:,.0f} evaluations/s over {mixed_count:,} alarms of every kind")
    print(
        f"tick:   {tick * 1e6:,.0f} us per tick over {alarms:,} alarms ({alarms // 100:,} pending)"
    )
    ok = ours >= TARGET and mixed >= TARGET
    print(f"target: >= {TARGET:,} evaluations/s: {'met' if ok else 'MISSED'}")
    figure("alarms", "alarm evaluations (limit alarms)", ours, "evaluations/s",
           target=f">= {TARGET:,}", met=ours >= TARGET, raw=raw,
           raw_name="bare comparisons in a loop")  # fmt: skip
    figure("alarms", "alarm evaluations (every kind)", mixed, "evaluations/s",
           target=f">= {TARGET:,}", met=mixed >= TARGET)  # fmt: skip
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
