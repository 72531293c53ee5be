"""The columns a live trend is reduced to: a grid fixed in time, and what each column drew.

A live trend scrolls a little every frame. Were its columns cut where the plot's pixels happen
to fall, every column would move with every frame: each frame would reduce the whole history
again, and the drawn extremes would jitter as samples change column. Instead the columns are
those of a grid anchored at time zero, ``k * width`` to ``(k + 1) * width``, with ``width`` the
view's span over its pixel columns rounded to six significant digits (so a span computed as
``now - start`` each frame gives the same grid). A column that holds no newer sample's time is
complete: its first minimum, first maximum and first Bad sample never change, and
``ColumnCache`` keeps them from frame to frame. A frame then reduces only the columns it has
not seen (the newest, on scrolling; all of them, on a zoom).

Pure numpy, no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["ColumnCache", "grid_columns", "grid_width"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def grid_width(t0: float, t1: float, columns: int) -> float:
    """The grid's column width for ``columns`` columns over ``[t0, t1]`` (``t1 > t0``):
    their width rounded to six significant digits."""
    return float(f"{(t1 - t0) / columns:.6g}")


def grid_columns(t0: float, t1: float, width: float) -> tuple[int, int]:
    """Grid indices of the first and the last column that ``[t0, t1]`` touches."""
    return math.floor(t0 / width), math.floor(t1 / width)


@dataclass
class ColumnCache:
    """The complete columns ``first .. first + len(starts) - 1`` of one grid: per column the
    sequence number of its first sample (of the next column's, where it holds none) and how
    many points it draws; ``drawn``, the sequence numbers of those points, column after
    column."""

    width: float = math.nan
    first: int = 0
    starts: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    counts: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    drawn: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def end(self) -> int:
        return self.first + len(self.starts)

    def reset(self, width: float, first: int) -> None:
        self.width, self.first = width, first
        self.starts = self.counts = self.drawn = np.empty(0, dtype=np.int64)

    def keep(self, width: float, k0: int, k1: int, oldest: int) -> None:
        """Forget all but the columns of ``[k0, k1]`` still wholly held (first sample at or
        after sequence ``oldest``); on another grid, or with nothing left, start over at
        ``k0``."""
        if width != self.width:
            self.reset(width, k0)
            return
        lo = max(k0, self.first)
        evicted = int(np.searchsorted(self.starts, oldest, side="left"))
        lo = max(lo, self.first + evicted)
        hi = min(k1 + 1, self.end)
        if hi <= lo:
            self.reset(width, k0)
            return
        a, b = lo - self.first, hi - self.first
        if a or b < len(self.starts):
            skip, upto = int(self.counts[:a].sum()), int(self.counts[:b].sum())
            self.drawn = self.drawn[skip:upto]
            self.starts, self.counts = self.starts[a:b], self.counts[a:b]
            self.first = lo

    def add(self, first: int, starts: IntArray, counts: IntArray, drawn: IntArray) -> None:
        """Columns ``first ..`` computed just now, next to the cached ones (before or after)."""
        if len(starts) == 0:
            return
        if len(self.starts) == 0:
            self.first, self.starts, self.counts, self.drawn = first, starts, counts, drawn
        elif first + len(starts) == self.first:
            self.starts = np.concatenate((starts, self.starts))
            self.counts = np.concatenate((counts, self.counts))
            self.drawn = np.concatenate((drawn, self.drawn))
            self.first = first
        elif first == self.end:
            self.starts = np.concatenate((self.starts, starts))
            self.counts = np.concatenate((self.counts, counts))
            self.drawn = np.concatenate((self.drawn, drawn))
