"""PollPlan: merging, gaps, protocol and per-device limits, rates, splitting on exceptions."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from hmi.drivers.modbus import Block, Knowledge, Limits, Point, PollPlan
from hmi.drivers.modbus.plan import cut_for
from hmi.model import parse_address


def points(*raw: str) -> list[Point]:
    return [Point.from_address(parse_address(r), 500) for r in raw]


def registers(
    offsets: Iterable[int], unit: int = 1, table: str = "holding", q: str = ""
) -> list[Point]:
    return points(*(f"modbus://plc/{unit}/{table}/{o}{q}" for o in offsets))


def spans(plan: PollPlan) -> list[tuple[int, int]]:
    return [(b.start, b.count) for b in plan.blocks]


def test_contiguous_registers_make_one_request() -> None:
    plan = PollPlan.build(registers(range(10)), Limits())
    assert spans(plan) == [(0, 10)]
    assert plan.requests_per_cycle == 1
    assert len(plan.blocks[0].points) == 10


def test_gaps_up_to_max_gap_are_bridged() -> None:
    assert spans(PollPlan.build(registers([0, 9]), Limits(max_gap=8))) == [(0, 10)]
    assert spans(PollPlan.build(registers([0, 10]), Limits(max_gap=8))) == [(0, 1), (10, 1)]
    assert spans(PollPlan.build(registers([0, 1]), Limits(max_gap=0))) == [(0, 2)]
    assert spans(PollPlan.build(registers([0, 2]), Limits(max_gap=0))) == [(0, 1), (2, 1)]


def test_fc3_reads_at_most_125_registers() -> None:
    plan = PollPlan.build(registers(range(300)), Limits())
    assert spans(plan) == [(0, 125), (125, 125), (250, 50)]


def test_a_value_is_never_cut_across_two_requests() -> None:
    plan = PollPlan.build(registers(range(0, 130, 2), q="?type=float32"), Limits())
    assert spans(plan) == [(0, 124), (124, 6)]
    assert all(p.end <= b.end for b in plan.blocks for p in b.points)


def test_a_smaller_maximum_for_the_connection_and_for_one_unit() -> None:
    pts = registers(range(40), unit=1) + registers(range(40), unit=2)
    plan = PollPlan.build(pts, Limits(max_registers=30, unit_max_registers={2: 16}))
    assert [(b.unit, b.start, b.count) for b in plan.blocks] == [
        (1, 0, 30), (1, 30, 10), (2, 0, 16), (2, 16, 16), (2, 32, 8),
    ]  # fmt: skip


def test_coils_are_read_2000_at_a_time_and_gaps_count_bits() -> None:
    plan = PollPlan.build(registers(range(2500), table="coil"), Limits())
    assert spans(plan) == [(0, 2000), (2000, 500)]
    assert plan.blocks[0].function == 1
    # max_gap=8 registers is 128 unused bits.
    assert spans(PollPlan.build(registers([0, 129], table="discrete"), Limits(max_gap=8))) == [
        (0, 130)
    ]
    assert len(PollPlan.build(registers([0, 130], table="discrete"), Limits(max_gap=8)).blocks) == 2
    assert spans(PollPlan.build(registers(range(100), table="coil"), Limits(max_bits=64))) == [
        (0, 64), (64, 36),
    ]  # fmt: skip


def test_units_tables_and_poll_rates_are_separate_requests() -> None:
    pts = (
        registers([0, 1], unit=1)
        + registers([0, 1], unit=2)
        + registers([0, 1], table="input")
        + registers([2, 3], q="?poll=100")
    )
    plan = PollPlan.build(pts, Limits())
    assert sorted((b.unit, b.table, b.period_ms, b.start, b.count) for b in plan.blocks) == [
        (1, "holding", 100.0, 2, 2),
        (1, "holding", 500.0, 0, 2),
        (1, "input", 500.0, 0, 2),
        (2, "holding", 500.0, 0, 2),
    ]
    assert plan.requests_per_second() == pytest.approx(10 + 3 * 2)


def test_overlapping_addresses_share_their_registers() -> None:
    pts = points("modbus://plc/1/holding/0?type=float32", "modbus://plc/1/holding/1",
                 "modbus://plc/1/holding/1?bit=3")  # fmt: skip
    assert spans(PollPlan.build(pts, Limits())) == [(0, 2)]


def test_an_address_wider_than_one_request_is_left_out_with_the_reason() -> None:
    wide = points("modbus://plc/1/holding/0?type=string&length=300")[0]
    plan = PollPlan.build([wide], Limits())
    assert plan.blocks == ()
    assert "needs 150 registers; one read takes at most 125" in plan.left_out[wide.address]


def test_requests_per_cycle_against_one_per_tag() -> None:
    # 1000 one-register tags at every register from 0: 8 requests instead of 1000.
    assert PollPlan.build(registers(range(1000)), Limits()).requests_per_cycle == 8


# -- learning from exception answers ---------------------------------------------------------


def learn(
    pts: list[Point], invalid: set[int], limits: Limits | None = None
) -> tuple[PollPlan, Knowledge, int]:
    """Poll a simulated device that answers IllegalDataAddress for any read touching
    ``invalid`` registers, learning as the driver does, until every block succeeds.
    Returns the final plan, the knowledge and how many refused reads it took."""
    knowledge = Knowledge()
    limits = limits or Limits()
    refused_reads = 0
    for _ in range(1000):
        plan = PollPlan.build(pts, limits, knowledge)
        bad = [b for b in plan.blocks if invalid & set(range(b.start, b.end))]
        if not bad:
            return plan, knowledge, refused_reads
        for block in bad:
            refused_reads += 1
            position = cut_for(block)
            if position is None:
                knowledge.refuse(block, f"{block} refused")
            else:
                knowledge.add_cut(block.unit, block.table, position)
            break  # the driver re-plans after every refusal
    raise AssertionError("learning did not converge")


def test_a_refused_block_is_bisected_until_the_bad_address_stands_alone() -> None:
    pts = registers(range(100))
    plan, knowledge, refused_reads = learn(pts, invalid={57})
    assert spans(plan) == [(0, 57), (58, 42)]  # the neighbours keep working, in two reads
    bad = next(p for p in pts if p.offset == 57)
    assert list(plan.left_out) == [bad.address]
    assert "refused" in plan.left_out[bad.address]
    assert refused_reads <= 9  # about log2(100) + 1
    # The learned split is kept: the same knowledge plans the same reads, none refused.
    assert spans(PollPlan.build(pts, Limits(), knowledge)) == spans(plan)


def test_a_refused_multi_register_value_is_isolated_and_its_neighbours_kept() -> None:
    pts = registers(range(0, 40, 2), q="?type=float32")
    plan, _, _ = learn(pts, invalid={21})
    assert [str(a) for a in plan.left_out] == ["modbus://plc/1/holding/20?type=float32"]
    read = {p.offset for b in plan.blocks for p in b.points}
    assert read == set(range(0, 40, 2)) - {20}


def test_an_unreadable_gap_is_no_longer_bridged() -> None:
    pts = registers(list(range(10)) + list(range(20, 30)))
    plan, knowledge, _ = learn(pts, invalid=set(range(10, 20)), limits=Limits(max_gap=10))
    assert spans(plan) == [(0, 10), (20, 10)]
    assert plan.left_out == {}
    assert knowledge.cuts


def test_two_bad_addresses_and_forgetting() -> None:
    pts = registers(range(60))
    plan, knowledge, _ = learn(pts, invalid={5, 40})
    assert sorted(p.offset for p in pts if p.address in plan.left_out) == [5, 40]
    assert spans(plan) == [(0, 5), (6, 34), (41, 19)]
    knowledge.forget()
    assert not knowledge
    assert spans(PollPlan.build(pts, Limits(), knowledge)) == [(0, 60)]


def test_cut_for_picks_an_inner_boundary_or_none() -> None:
    block = PollPlan.build(registers(range(4)), Limits()).blocks[0]
    assert cut_for(block) == 2
    lone = Block(1, "holding", 0, 2, 500, tuple(registers([0], q="?type=float32")))
    assert cut_for(lone) is None
    assert str(block) == "unit 1 holding 0..3"
