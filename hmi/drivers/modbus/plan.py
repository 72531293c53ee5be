"""The poll plan: the few requests that read every subscribed address. Pure and deterministic.

Addresses are grouped by unit, table and poll period, then merged left to right into blocks
that stay within one request's limit (125 registers for FC3/FC4, 2000 bits for FC1/FC2, or a
smaller limit configured per device) and bridge unused gaps up to ``max_gap`` registers
(``16 * max_gap`` bits). All offsets are 0-based protocol addresses.

A device that answers a block with an exception teaches us something. ``cut_for`` picks the
boundary that bisects the block; ``Knowledge`` keeps the cuts and the ranges found refused,
so the next plan reads the good neighbours in few blocks and the refused addresses not at all.
The knowledge is forgotten now and then (``relearn_s``) so a device that was fixed is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hmi.model.address import TagAddress

from .codec import Point
from .pdu import BIT_TABLES, MAX_READ_BITS, MAX_READ_REGISTERS, READ_FUNCTION


@dataclass(frozen=True, slots=True)
class Limits:
    """How big a request may get, from the connection settings."""

    max_registers: int = MAX_READ_REGISTERS
    max_bits: int = MAX_READ_BITS
    max_gap: int = 8
    unit_max_registers: Mapping[int, int] = field(default_factory=dict)

    def span(self, unit: int, table: str) -> int:
        """Most registers (or bits) one read of ``table`` on ``unit`` may ask for."""
        if table in BIT_TABLES:
            return min(self.max_bits, MAX_READ_BITS)
        return min(self.unit_max_registers.get(unit, self.max_registers), MAX_READ_REGISTERS)

    def gap(self, table: str) -> int:
        return self.max_gap * 16 if table in BIT_TABLES else self.max_gap


@dataclass(frozen=True, slots=True)
class Block:
    """One read request, repeated every ``period_ms``: ``count`` registers (or bits) from the
    0-based ``start``, serving ``points``."""

    unit: int
    table: str
    start: int
    count: int
    period_ms: float
    points: tuple[Point, ...]

    @property
    def end(self) -> int:
        return self.start + self.count

    @property
    def function(self) -> int:
        return READ_FUNCTION[self.table]

    @property
    def key(self) -> tuple[int, str, int, int, float]:
        return (self.unit, self.table, self.start, self.count, self.period_ms)

    def __str__(self) -> str:
        return f"unit {self.unit} {self.table} {self.start}..{self.end - 1}"


class Knowledge:
    """What the devices taught us, kept across plan rebuilds.

    ``cuts``: positions no multi-address block may span (a block holding both ``pos - 1`` and
    ``pos``). ``refused``: ranges a device answered with an exception even when read alone;
    never polled and never bridged until forgotten. Finding a refused range drops the cuts of
    that table: they were steps of the bisection and are relearned if still needed."""

    def __init__(self) -> None:
        self.cuts: dict[tuple[int, str], set[int]] = {}
        self.refused: dict[tuple[int, str, int, int], str] = {}
        self.since: float | None = None

    def __bool__(self) -> bool:
        return bool(self.cuts or self.refused)

    def add_cut(self, unit: int, table: str, position: int, now: float = 0.0) -> None:
        self.cuts.setdefault((unit, table), set()).add(position)
        self.since = now if self.since is None else self.since

    def refuse(self, block: Block, why: str, now: float = 0.0) -> None:
        self.refused[(block.unit, block.table, block.start, block.end)] = why
        self.cuts.pop((block.unit, block.table), None)
        self.since = now if self.since is None else self.since

    def refusal(self, point: Point) -> str | None:
        return self.refused.get((point.unit, point.table, point.offset, point.end))

    def forget(self) -> None:
        self.cuts.clear()
        self.refused.clear()
        self.since = None

    def barriers(
        self, unit: int, table: str
    ) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
        cuts = tuple(sorted(self.cuts.get((unit, table), ())))
        ranges = tuple((s, e) for (u, t, s, e) in self.refused if u == unit and t == table)
        return cuts, ranges


def cut_for(block: Block) -> int | None:
    """Where to bisect a block a device refused: the middle boundary between its addresses;
    None when it reads one range only (then that range itself is refused)."""
    inside = sorted(
        {b for p in block.points for b in (p.offset, p.end) if block.start < b < block.end}
    )
    return inside[len(inside) // 2] if inside else None


@dataclass(frozen=True, slots=True)
class PollPlan:
    """The blocks to poll, and the addresses left out with the reason for each."""

    blocks: tuple[Block, ...] = ()
    left_out: Mapping[TagAddress, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def requests_per_cycle(self) -> int:
        """Requests to read every block once (each at its own period)."""
        return len(self.blocks)

    def requests_per_second(self) -> float:
        return sum(1000.0 / block.period_ms for block in self.blocks)

    @staticmethod
    def build(
        points: Iterable[Point], limits: Limits, knowledge: Knowledge | None = None
    ) -> PollPlan:
        knowledge = knowledge or Knowledge()
        left_out: dict[TagAddress, str] = {}
        groups: dict[tuple[int, str, float], list[Point]] = {}
        for point in points:
            why = knowledge.refusal(point)
            span = limits.span(point.unit, point.table)
            if why is None and point.width > span:
                why = f"needs {point.width} registers; one read takes at most {span}"
            if why is not None:
                left_out[point.address] = why
                continue
            groups.setdefault((point.unit, point.table, point.poll_ms), []).append(point)
        blocks: list[Block] = []
        for (unit, table, period), group in sorted(groups.items()):
            cuts, ranges = knowledge.barriers(unit, table)
            blocks.extend(
                _merge(unit, table, period, group, limits.span(unit, table), limits.gap(table),
                       cuts, ranges)
            )  # fmt: skip
        return PollPlan(tuple(blocks), MappingProxyType(left_out))


def _merge(
    unit: int,
    table: str,
    period: float,
    points: list[Point],
    span: int,
    gap: int,
    cuts: tuple[int, ...],
    ranges: tuple[tuple[int, int], ...],
) -> list[Block]:
    """Greedy left-to-right merge; an address alone always makes a block, so a cut or a
    refused range only ever stops merging."""

    def forbidden(start: int, end: int) -> bool:
        return any(start < c < end for c in cuts) or any(start < e and s < end for s, e in ranges)

    points.sort(key=lambda p: (p.offset, p.end, p.address.raw))
    blocks: list[Block] = []
    current = [points[0]]
    start, end = points[0].offset, points[0].end
    for point in points[1:]:
        new_end = max(end, point.end)
        if (
            new_end - start <= span
            and point.offset - end <= gap
            and not (forbidden(start, new_end) if cuts or ranges else False)
        ):
            current.append(point)
            end = new_end
            continue
        blocks.append(Block(unit, table, start, end - start, period, tuple(current)))
        current = [point]
        start, end = point.offset, point.end
    blocks.append(Block(unit, table, start, end - start, period, tuple(current)))
    return blocks
