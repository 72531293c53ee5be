"""Live trend samples of one pen: a fixed-capacity ring of time (float64 POSIX seconds), value
(float64, NaN where the sample was Bad) and quality (uint8 ``QualityLevel``).

Every sample is written twice, at ``i`` and ``i + capacity``, so the newest ``n`` samples are
always one contiguous slice: appends are O(1) and every read is a numpy view, never a copy.
Alongside, a min/max summary per block of 16, 64, 256, 1024 and 4096 samples (brought up to
date, vectorised, whenever a window is decimated) lets ``decimate`` reduce a window of millions
of samples by reading thousands: the cost of a frame follows the plot's width, not the
history's length.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hmi.model.quality import QualityLevel
from hmi.model.trends.columns import ColumnCache, grid_columns, grid_width
from hmi.model.trends.decimate import FloatArray, minmax_decimate, pick_columns, sample_range
from hmi.model.trends.historian import sample_of

__all__ = ["LEVELS", "TrendBuffer", "sample_of", "value_at"]

LEVELS = (16, 64, 256, 1024, 4096)  # samples per summary block, finest first
BAD = int(QualityLevel.BAD)


def value_at(t: FloatArray, v: FloatArray, x: float, *, step: bool) -> float:
    """The value a line through ``(t, v)`` shows at time ``x``: the last sample at or before
    ``x`` (held), or for a linear pen interpolated towards the next sample; NaN before the
    first sample or inside a Bad stretch."""
    i = int(np.searchsorted(t, x, side="right")) - 1
    if i < 0:
        return math.nan
    held = float(v[i])
    if step or i + 1 >= len(t) or not math.isfinite(held):
        return held
    after = float(v[i + 1])
    span = float(t[i + 1] - t[i])
    if not math.isfinite(after) or span <= 0:
        return held
    return held + (after - held) * (x - float(t[i])) / span


class _Summary:
    """Per block of ``block`` samples: its minimum and maximum, NaN counted as +inf for the
    minimum and -inf for the maximum exactly as ``minmax_decimate`` counts them, and the
    sequence numbers (samples appended before) of its first minimum, first maximum and first
    NaN (+inf if none); rows of a float64 table, a mirrored ring of blocks, so any run of
    blocks is one slice."""

    def __init__(self, block: int, capacity: int) -> None:
        self.block = block
        self.slots = capacity // block
        self.done = 0  # blocks completed since the start (block k holds samples kB..kB+B-1)
        self.table = np.empty((5, 2 * self.slots))  # min, max, i_min, i_max, i_nan

    def update(self, values: FloatArray, count: int, capacity: int) -> None:
        """Summarise blocks completed by the samples up to ``count`` that are still held."""
        total = count // self.block
        first = max(self.done, -(-(count - capacity) // self.block))
        self.done = total
        if total <= first:
            return
        blocks = np.arange(first, total)
        start = blocks * self.block
        vv = values[(start % capacity)[:, None] + np.arange(self.block)]
        nan = np.isnan(vv)
        low = np.where(nan, np.inf, vv)
        high = np.where(nan, -np.inf, vv)
        i_min, i_max, i_nan = low.argmin(axis=1), high.argmax(axis=1), nan.argmax(axis=1)
        rows = np.arange(len(blocks))
        summary = np.stack(
            [
                low[rows, i_min],
                high[rows, i_max],
                start + i_min,
                start + i_max,
                np.where(nan[rows, i_nan], start + i_nan, np.inf),
            ]
        )
        slots = blocks % self.slots
        self.table[:, slots] = summary
        self.table[:, slots + self.slots] = summary

    def run(self, first: int, last: int) -> FloatArray:
        """Blocks ``first`` to ``last - 1``, one view (at most one block more than the ring
        holds: the last may be stale, for a ``reduceat`` end that is never read)."""
        start = first % self.slots
        return self.table[:, start : start + last - first]


def _fold(
    out: FloatArray, used: npt.NDArray[np.bool_], items: FloatArray, starts: npt.NDArray[np.intp]
) -> None:
    """Fold ``items`` (rows min, max, i_min, i_max, i_nan; the ``used`` columns' items from
    ``starts``, one after the other) into ``out`` (rows min, max, first i_min, first i_max,
    first i_nan per column). Ties go to the smaller sequence number, whatever the order of
    folds."""
    if not used.any():
        return
    low, high, i_low, i_high, i_nan = items
    lengths = np.diff(np.append(starts, items.shape[1]))
    lo = np.minimum.reduceat(low, starts)
    hi = np.maximum.reduceat(high, starts)
    at_lo = np.minimum.reduceat(np.where(low == np.repeat(lo, lengths), i_low, np.inf), starts)
    at_hi = np.minimum.reduceat(np.where(high == np.repeat(hi, lengths), i_high, np.inf), starts)
    old_lo, old_hi, old_at_lo, old_at_hi = out[0, used], out[1, used], out[2, used], out[3, used]
    out[2, used] = np.where(
        lo < old_lo, at_lo, np.where(lo == old_lo, np.minimum(at_lo, old_at_lo), old_at_lo)
    )
    out[3, used] = np.where(
        hi > old_hi, at_hi, np.where(hi == old_hi, np.minimum(at_hi, old_at_hi), old_at_hi)
    )
    out[0, used] = np.minimum(lo, old_lo)
    out[1, used] = np.maximum(hi, old_hi)
    out[4, used] = np.minimum(np.minimum.reduceat(i_nan, starts), out[4, used])


class TrendBuffer:
    """The newest ``capacity`` samples of one pen. Times are kept non-decreasing (a sample
    older than the newest is moved up to it), so ranges are found by binary search."""

    def __init__(self, capacity: int) -> None:
        block = LEVELS[0]
        capacity = max(block, -(-int(capacity) // LEVELS[-1]) * LEVELS[-1])
        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._v = np.zeros(2 * capacity)
        self._q = np.zeros(2 * capacity, dtype=np.uint8)
        self._count = 0  # samples appended since the start
        self._last_t = -math.inf
        self._summaries = tuple(_Summary(b, capacity) for b in LEVELS)
        self._columns = ColumnCache()

    def __len__(self) -> int:
        return min(self._count, self.capacity)

    @property
    def appended(self) -> int:
        """Samples appended since the start (the ring keeps the newest ``capacity``)."""
        return self._count

    def _slice(self) -> slice:
        n = len(self)
        start = (self._count - n) % self.capacity
        return slice(start, start + n)

    def times(self) -> FloatArray:
        return self._t[self._slice()]

    def values(self) -> FloatArray:
        return self._v[self._slice()]

    def qualities(self) -> npt.NDArray[np.uint8]:
        return self._q[self._slice()]

    @property
    def first_time(self) -> float:
        return float(self._t[self._slice().start]) if self._count else math.inf

    @property
    def last_time(self) -> float:
        return self._last_t

    @property
    def last_value(self) -> float:
        return float(self._v[(self._count - 1) % self.capacity]) if self._count else math.nan

    def append(self, t: float, v: float, q: int = QualityLevel.GOOD) -> None:
        """Add one sample: two stores per array (block summaries are brought up to date when
        the buffer is next decimated, for all new blocks at once)."""
        if t < self._last_t:
            t = self._last_t
        self._last_t = t
        if q == BAD:
            v = math.nan
        count = self._count
        i = count % self.capacity
        j = i + self.capacity
        times, values, qualities = self._t, self._v, self._q
        times[i] = t
        times[j] = t
        values[i] = v
        values[j] = v
        qualities[i] = q
        qualities[j] = q
        self._count = count + 1

    def extend(self, t: FloatArray, v: FloatArray, q: npt.ArrayLike | None = None) -> None:
        """Add many samples at once (vectorised); only the newest ``capacity`` are kept."""
        t = np.asarray(t, dtype=np.float64)
        v = np.array(v, dtype=np.float64)
        qa = np.full(len(t), QualityLevel.GOOD, np.uint8) if q is None else np.asarray(q, np.uint8)
        if len(t) == 0:
            return
        t = np.maximum.accumulate(np.maximum(t, self._last_t))
        self._last_t = float(t[-1])
        v[qa == BAD] = np.nan
        skip = max(0, len(t) - self.capacity)
        t, v, qa = t[skip:], v[skip:], qa[skip:]
        self._count += skip
        at = self._count % self.capacity
        head = min(len(t), self.capacity - at)
        for arr, new in ((self._t, t), (self._v, v), (self._q, qa)):
            for offset in (0, self.capacity):
                arr[offset + at : offset + at + head] = new[:head]
                arr[offset : offset + len(t) - head] = new[head:]
        self._count += len(t)

    def clear(self) -> None:
        self._count = 0
        self._last_t = -math.inf
        for summary in self._summaries:
            summary.done = 0
        self._columns = ColumnCache()

    def window(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray, npt.NDArray[np.uint8]]:
        """Views of the samples with ``t0 <= t <= t1``."""
        t = self.times()
        lo = int(np.searchsorted(t, t0, side="left"))
        hi = int(np.searchsorted(t, t1, side="right"))
        return t[lo:hi], self.values()[lo:hi], self.qualities()[lo:hi]

    def decimate(self, t0: float, t1: float, columns: int) -> tuple[FloatArray, FloatArray]:
        """The points a trend draws of the held samples over ``[t0, t1]`` at ``columns`` pixel
        columns: the samples themselves where there are at most two a column; else, per column
        of the time-fixed grid (``hmi.model.trends.columns``), its first minimum, first Bad
        sample (NaN) and first maximum in time order, with the sample just before the first
        column and the one just after the last, so the line runs to both edges.

        Exact (the same points as a plain loop over the samples), and cheap: complete columns
        are kept from the previous call, so a live frame reduces only the newest columns; a
        column never seen before is reduced from the block summaries where that reads fewer
        values than the samples."""
        t, v = self.times(), self.values()
        if len(t) == 0 or columns < 1 or not t1 > t0:
            return minmax_decimate(t, v, t0, t1, columns)
        lo, hi = sample_range(t, t0, t1)
        if hi - lo <= 2 * columns:
            return t[lo:hi], v[lo:hi]
        width = grid_width(t0, t1, columns)
        k0, k1 = grid_columns(t0, t1, width)
        base = self._count - len(t)  # sequence number of t[0]
        cache = self._columns
        cache.keep(width, k0, k1, base)
        newest = math.floor(self._last_t / width)  # its column may still grow
        if len(cache.starts) == 0:
            starts, counts, drawn = self._reduce(k0, k1 + 1, width)
            done = max(0, min(newest, k1 + 1) - k0)
            upto = int(counts[:done].sum())
            cache.add(k0, starts[:done], counts[:done], drawn[:upto])
        else:
            cache.add(k0, *self._reduce(k0, cache.first, width))  # complete: before a kept one
            right = cache.end
            starts, counts, drawn = self._reduce(right, k1 + 1, width)
            done = max(0, min(newest, k1 + 1) - right)
            upto = int(counts[:done].sum())
            cache.add(right, starts[:done], counts[:done], drawn[:upto])
            starts = cache.starts
            drawn = np.concatenate((cache.drawn, drawn[upto:]))
        m = len(t)
        at = drawn - base
        before = int(starts[0]) - base - 1
        after = int(np.searchsorted(t, (k1 + 1) * width, side="left"))
        if before >= 0 or after < m:
            edges = ([before] if before >= 0 else [], at, [after] if after < m else [])
            at = np.concatenate(edges).astype(np.int64)
        return t[at], v[at]

    def _reduce(
        self, ka: int, kb: int, width: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Grid columns ``ka .. kb - 1``: per column the sequence number of its first sample
        (the next column's where it has none) and how many points it draws, and the sequence
        numbers of those points (``pick_columns``), column after column."""
        empty = np.empty(0, dtype=np.int64)
        if kb <= ka:
            return empty, empty, empty
        t, v = self.times(), self.values()
        base = self._count - len(t)
        edges = np.searchsorted(t, np.arange(ka, kb + 1, dtype=np.float64) * width, side="left")
        first = edges[:-1].astype(np.int64) + base
        end = edges[1:].astype(np.int64) + base
        out = self._extremes(first, end)
        m = len(t)

        def position(seq: FloatArray) -> npt.NDArray[np.intp]:
            return np.where(np.isinf(seq), m, seq - base).astype(np.intp)

        rows = pick_columns(v, position(out[2]), position(out[4]), position(out[3]))
        shown = rows < m
        return first, shown.sum(axis=1).astype(np.int64), rows[shown].astype(np.int64) + base

    def _extremes(self, first: npt.NDArray[np.int64], end: npt.NDArray[np.int64]) -> FloatArray:
        """Per column of samples ``[first, end)`` (sequence numbers, held, in order): rows min,
        max, first min, first max and first NaN (sequence numbers; +inf where none). Whole
        summary blocks inside a column are read as blocks, of the size that makes blocks and
        single samples fewest, when that reads fewer values than the samples themselves."""
        v = self.values()
        base = self._count - len(v)
        n = len(first)
        out = np.empty((5, n))
        out[0], out[1], out[2:] = np.inf, -np.inf, np.inf
        m = int(end[-1] - first[0])
        cost = {s.block: m / s.block + n * s.block for s in self._summaries}
        block = min(cost, key=cost.__getitem__)
        if cost[block] < m / 4:
            summary = next(s for s in self._summaries if s.block == block)
            if self._count // block > summary.done:
                summary.update(self._v, self._count, self.capacity)
            b0, b1 = -(-first // block), end // block  # per column, its whole blocks [b0, b1)
            whole = b1 > b0
        else:
            b0 = b1 = first
            whole = np.zeros(n, dtype=bool)
        if whole.any():
            k0, k1 = int(b0[whole][0]), int(b1[whole][-1])
            starts = np.clip(np.stack([b0, np.maximum(b0, b1)], axis=1).ravel(), k0, k1) - k0
            used = np.zeros(2 * n, dtype=bool)
            used[0::2] = whole
            _fold_pairs(out, whole, summary.run(k0, k1 + 1), starts, used)
        # Single samples: before the first whole block and after the last, per column.
        a_stop = np.where(whole, b0 * block, end)
        c_start = np.where(whole, b1 * block, end)
        lengths = np.stack([a_stop - first, end - c_start], axis=1).ravel()
        if lengths.any():
            seq = np.repeat(np.stack([first, c_start], axis=1).ravel(), lengths) + _local(lengths)
            values = v[seq - base]
            nan = np.isnan(values)
            seq_f = seq.astype(np.float64)
            items = np.stack(
                [
                    np.where(nan, np.inf, values),
                    np.where(nan, -np.inf, values),
                    seq_f,
                    seq_f,
                    np.where(nan, seq_f, np.inf),
                ]
            )
            per_column = lengths.reshape(-1, 2).sum(axis=1)
            has = per_column > 0
            starts = (np.cumsum(per_column) - per_column)[has]
            _fold(out, has, items, starts)
        return out


def _fold_pairs(
    out: FloatArray,
    whole: npt.NDArray[np.bool_],
    blocks: FloatArray,
    starts: npt.NDArray[np.int64],
    used: npt.NDArray[np.bool_],
) -> None:
    """Fold a contiguous run of ``blocks`` cut at ``starts`` (per column, the start and end of
    its whole blocks; the pieces between belong to no column) into the ``whole`` columns."""
    low, high, i_low, i_high, i_nan = blocks
    lengths = np.diff(np.append(starts, blocks.shape[1]))
    lo = np.minimum.reduceat(low, starts)
    hi = np.maximum.reduceat(high, starts)
    at_lo = np.minimum.reduceat(np.where(low == np.repeat(lo, lengths), i_low, np.inf), starts)
    at_hi = np.minimum.reduceat(np.where(high == np.repeat(hi, lengths), i_high, np.inf), starts)
    first_nan = np.minimum.reduceat(i_nan, starts)
    out[0, whole], out[1, whole] = lo[used], hi[used]
    out[2, whole], out[3, whole], out[4, whole] = at_lo[used], at_hi[used], first_nan[used]


def _local(n: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``0, 1, ..., n[0]-1, 0, 1, ..., n[1]-1, ...``"""
    total = int(n.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
