"""The canvas's geometry, without Qt: snapping to the grid and to other widgets' edges and
centres (with the guides to draw), resizing by a handle, align and distribute, rubber-band hits.

Every rect is ``(x, y, width, height)`` in the screen's design pixels, as in the screen file.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_GRID",
    "HANDLES",
    "Guide",
    "Rect",
    "Snap",
    "SnapTargets",
    "align",
    "bounds",
    "distribute",
    "hits",
    "resize",
    "snap_move",
    "snap_resize",
]

Rect = tuple[float, float, float, float]
Axis = Literal["x", "y"]
Alignment = Literal["left", "hcenter", "right", "top", "vcenter", "bottom"]

DEFAULT_GRID = 10
HANDLES = ("nw", "n", "ne", "e", "se", "s", "sw", "w")
"""Resize handles by compass point: ``"e"`` moves the right edge, ``"nw"`` the top-left corner."""


@dataclass(frozen=True)
class Guide:
    """An alignment guide: a line at ``at`` on ``axis`` (``"x"``: vertical line at x = at),
    drawn from ``start`` to ``end`` along the other axis."""

    axis: Axis
    at: float
    start: float
    end: float


@dataclass(frozen=True)
class Snap:
    """How the canvas snaps: ``grid`` px (0: no grid), to other widgets within ``reach`` px."""

    grid: int = DEFAULT_GRID
    reach: float = 6.0
    edges: bool = True


def bounds(rects: Sequence[Rect]) -> Rect:
    """The smallest rect holding every rect."""
    left = min(r[0] for r in rects)
    top = min(r[1] for r in rects)
    right = max(r[0] + r[2] for r in rects)
    bottom = max(r[1] + r[3] for r in rects)
    return (left, top, right - left, bottom - top)


def _lines(rect: Rect, axis: Axis) -> tuple[float, float, float]:
    start, size = (rect[0], rect[2]) if axis == "x" else (rect[1], rect[3])
    return (start, start + size / 2, start + size)


def _span(rect: Rect, axis: Axis) -> tuple[float, float]:
    """The rect's extent along the other axis (where a guide on ``axis`` runs)."""
    return (rect[1], rect[1] + rect[3]) if axis == "x" else (rect[0], rect[0] + rect[2])


def _grid(value: float, grid: int) -> float:
    return float(round(value / grid) * grid) if grid > 0 else value


class SnapTargets:
    """Other widgets' edges and centres, sorted per axis once (a drag snaps every frame)."""

    def __init__(self, rects: Sequence[Rect]) -> None:
        self._lines: dict[str, list[tuple[float, float, float]]] = {}
        self._keys: dict[str, list[float]] = {}
        for axis in ("x", "y"):
            lines = sorted(
                (line, *_span(rect, axis))
                for rect in rects
                for line in _lines(rect, axis)  # type: ignore[arg-type]
            )
            self._lines[axis] = lines
            self._keys[axis] = [line[0] for line in lines]

    def nearest(self, axis: Axis, lines: Sequence[float], reach: float) -> float | None:
        """The smallest shift within ``reach`` that puts one of ``lines`` on a target."""
        keys = self._keys[axis]
        best: float | None = None
        for line in lines:
            at = bisect_left(keys, line - reach)
            while at < len(keys) and keys[at] <= line + reach:
                delta = keys[at] - line
                if best is None or abs(delta) < abs(best):
                    best = delta
                at += 1
        return best

    def guides(self, axis: Axis, lines: Sequence[float], span: tuple[float, float]) -> list[Guide]:
        """A guide for each target that one of ``lines`` lies on, spanning what lines up."""
        keys, found = self._keys[axis], self._lines[axis]
        spans: dict[float, tuple[float, float]] = {}
        for line in lines:
            at = bisect_left(keys, line - 0.01)
            while at < len(keys) and keys[at] <= line + 0.01:
                target, low, high = found[at]
                seen = spans.get(target, span)
                spans[target] = (min(seen[0], low), max(seen[1], high))
                at += 1
        return [Guide(axis, at, low, high) for at, (low, high) in sorted(spans.items())]


def _edge_snap(
    lines: Sequence[float],
    moving: Rect,
    others: Sequence[Rect] | SnapTargets,
    axis: Axis,
    reach: float,
) -> tuple[float, list[Guide]] | None:
    """The smallest shift (within ``reach``) that puts one of ``lines`` on another widget's
    edge or centre, and the guides of every line that then coincides."""
    targets = others if isinstance(others, SnapTargets) else SnapTargets(others)
    best = targets.nearest(axis, lines, reach)
    if best is None:
        return None
    shifted = [line + best for line in lines]
    return best, targets.guides(axis, shifted, _span(moving, axis))


def snap_move(
    moving: Rect, others: Sequence[Rect] | SnapTargets, snap: Snap | None
) -> tuple[float, float, tuple[Guide, ...]]:
    """Where a dragged selection (its bounds ``moving``) lands: ``(x, y, guides)``. Another
    widget's edge or centre within reach wins over the grid, axis by axis; ``snap`` None
    (Alt held) places it where the pointer put it."""
    if snap is None:
        return moving[0], moving[1], ()
    x, y = moving[0], moving[1]
    guides: list[Guide] = []
    for axis in ("x", "y"):
        found = (
            _edge_snap(_lines(moving, axis), moving, others, axis, snap.reach)
            if snap.edges
            else None
        )
        if found is not None:
            delta, axis_guides = found
            guides.extend(axis_guides)
        else:
            start = x if axis == "x" else y
            delta = _grid(start, snap.grid) - start
        if axis == "x":
            x += delta
        else:
            y += delta
    if guides:  # the guides of one axis were measured before the other axis moved
        guides = [_reach_rect(g, (x, y, moving[2], moving[3])) for g in guides]
    return x, y, tuple(guides)


def _reach_rect(guide: Guide, rect: Rect) -> Guide:
    low, high = _span(rect, guide.axis)
    return Guide(guide.axis, guide.at, min(guide.start, low), max(guide.end, high))


def resize(rect: Rect, handle: str, dx: float, dy: float, *, least: float = 1.0) -> Rect:
    """``rect`` with the edges of ``handle`` moved by (dx, dy); never smaller than ``least``."""
    left, top, right, bottom = rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]
    if "w" in handle:
        left = min(left + dx, right - least)
    if "e" in handle:
        right = max(right + dx, left + least)
    if "n" in handle:
        top = min(top + dy, bottom - least)
    if "s" in handle:
        bottom = max(bottom + dy, top + least)
    return (left, top, right - left, bottom - top)


def snap_resize(
    rect: Rect,
    handle: str,
    others: Sequence[Rect] | SnapTargets,
    snap: Snap | None,
    *,
    least: float = 1.0,
) -> tuple[Rect, tuple[Guide, ...]]:
    """The rect a handle drag gives once its moving edges are snapped (edges, else grid)."""
    if snap is None:
        return rect, ()
    left, top, right, bottom = rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]
    guides: list[Guide] = []
    edges = {"w": left, "e": right, "n": top, "s": bottom}
    for side in handle:
        axis: Axis = "x" if side in "we" else "y"
        value = edges[side]
        found = _edge_snap((value,), rect, others, axis, snap.reach) if snap.edges else None
        if found is not None:
            edges[side] = value + found[0]
            guides.extend(found[1])
        else:
            edges[side] = _grid(value, snap.grid)
    left, right = edges["w"], max(edges["e"], edges["w"] + least)
    top, bottom = edges["n"], max(edges["s"], edges["n"] + least)
    return (left, top, right - left, bottom - top), tuple(guides)


def align(rects: Sequence[Rect], how: Alignment) -> list[Rect]:
    """Line the rects up on the selection's bounds: their left edges, centres, ..."""
    box = bounds(rects)
    out: list[Rect] = []
    for x, y, w, h in rects:
        if how == "left":
            x = box[0]
        elif how == "right":
            x = box[0] + box[2] - w
        elif how == "hcenter":
            x = box[0] + (box[2] - w) / 2
        elif how == "top":
            y = box[1]
        elif how == "bottom":
            y = box[1] + box[3] - h
        else:
            y = box[1] + (box[3] - h) / 2
        out.append((x, y, w, h))
    return out


def distribute(rects: Sequence[Rect], axis: Axis) -> list[Rect]:
    """Equal gaps between the rects along ``axis``, the outermost two staying where they are
    (fewer than three rects: unchanged). The result is in the order given."""
    if len(rects) < 3:
        return list(rects)
    index = 0 if axis == "x" else 1
    order = sorted(range(len(rects)), key=lambda i: rects[i][index])
    first, last = rects[order[0]], rects[order[-1]]
    span = last[index] + last[index + 2] - first[index]
    gap = (span - sum(r[index + 2] for r in rects)) / (len(rects) - 1)
    out = list(rects)
    at = first[index]
    for i in order:
        r = list(rects[i])
        r[index] = at
        out[i] = (r[0], r[1], r[2], r[3])
        at += rects[i][index + 2] + gap
    return out


def hits(rects: Sequence[Rect], band: Rect) -> list[int]:
    """The indices of the rects a rubber band touches."""
    bx, by, bw, bh = band
    return [
        i
        for i, (x, y, w, h) in enumerate(rects)
        if x < bx + bw and bx < x + w and y < by + bh and by < y + h
    ]
