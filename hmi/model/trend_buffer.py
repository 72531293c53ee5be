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

from hmi.model.decimate import FloatArray, minmax_decimate
from hmi.model.quality import QualityLevel
from hmi.model.value import TagValue

__all__ = ["LEVELS", "TrendBuffer", "sample_of", "value_at"]

LEVELS = (16, 64, 256, 1024, 4096)  # samples per summary block, finest first
BAD = int(QualityLevel.BAD)


def sample_of(value: TagValue) -> tuple[float, float, int]:
    """``(time, value, quality level)`` of a tag value as a trend stores it: numbers and
    booleans as floats; Bad, missing and text values as NaN."""
    level = int(value.quality.level)
    raw = value.value
    number = math.nan
    if level != BAD and isinstance(raw, (bool, int, float)):
        number = float(raw)
    return value.timestamp, number, level


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
    """Min and max (with their times) and the first NaN time of each block of ``block``
    samples, in a mirrored ring of its own so any run of blocks is one slice."""

    def __init__(self, block: int, capacity: int) -> None:
        self.block = block
        self.slots = capacity // block
        self.done = 0  # blocks completed since the start (block k holds samples kB..kB+B-1)
        self.data = np.empty((5, 2 * self.slots))  # min_t, min_v, max_t, max_v, nan_t

    def update(self, times: FloatArray, values: FloatArray, count: int, capacity: int) -> None:
        """Summarise blocks completed by the samples up to ``count`` that are still held."""
        total = count // self.block
        first = max(self.done, -(-(count - capacity) // self.block))
        self.done = total
        if total <= first:
            return
        blocks = np.arange(first, total)
        index = ((blocks * self.block) % capacity)[:, None] + np.arange(self.block)
        tt, vv = times[index], values[index]
        nan = np.isnan(vv)
        rows = np.arange(len(blocks))
        i_min = np.where(nan, np.inf, vv).argmin(axis=1)
        i_max = np.where(nan, -np.inf, vv).argmax(axis=1)
        i_nan = nan.argmax(axis=1)
        nan_t = np.where(nan[rows, i_nan], tt[rows, i_nan], np.nan)
        summary = np.stack(
            [tt[rows, i_min], vv[rows, i_min], tt[rows, i_max], vv[rows, i_max], nan_t]
        )
        slots = blocks % self.slots
        self.data[:, slots] = summary
        self.data[:, slots + self.slots] = summary

    def points(self, first: int, last: int) -> tuple[FloatArray, FloatArray]:
        """Blocks ``first`` to ``last - 1`` as a time-ordered line: per block its min and max
        in time order, with a NaN between them where the block held a Bad sample."""
        if last <= first:
            return np.empty(0), np.empty(0)
        start = first % self.slots
        min_t, min_v, max_t, max_v, nan_t = self.data[:, start : start + last - first]
        min_first = min_t <= max_t
        t_a = np.where(min_first, min_t, max_t)
        t_b = np.where(min_first, max_t, min_t)
        v_a = np.where(min_first, min_v, max_v)
        v_b = np.where(min_first, max_v, min_v)
        has_nan = ~np.isnan(nan_t)
        pts_t = np.stack([t_a, np.clip(nan_t, t_a, t_b), t_b], axis=1)
        pts_v = np.stack([v_a, np.full(len(t_a), np.nan), v_b], axis=1)
        keep = np.ones(pts_t.shape, dtype=bool)
        keep[:, 1] = has_nan
        return pts_t[keep], pts_v[keep]


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

    def _summarise(self) -> None:
        for summary in self._summaries:
            if self._count // summary.block > summary.done:
                summary.update(self._t, self._v, self._count, self.capacity)

    def window(self, t0: float, t1: float) -> tuple[FloatArray, FloatArray, npt.NDArray[np.uint8]]:
        """Views of the samples with ``t0 <= t <= t1``."""
        t = self.times()
        lo = int(np.searchsorted(t, t0, side="left"))
        hi = int(np.searchsorted(t, t1, side="right"))
        return t[lo:hi], self.values()[lo:hi], self.qualities()[lo:hi]

    def decimate(self, t0: float, t1: float, columns: int) -> tuple[FloatArray, FloatArray]:
        """``minmax_decimate`` of the held samples over ``[t0, t1]``. Where a column spans at
        least two summary blocks, whole blocks are read from the coarsest such summary and
        only the partial blocks at both ends from the samples."""
        t, v = self.times(), self.values()
        if len(t) == 0 or columns < 1 or not t1 > t0:
            return minmax_decimate(t, v, t0, t1, columns)
        self._summarise()
        lo = max(int(np.searchsorted(t, t0, side="left")) - 1, 0)
        hi = min(int(np.searchsorted(t, t1, side="right")) + 1, len(t))
        per_column = (hi - lo) / columns
        usable = [s for s in self._summaries if s.block * 2 <= per_column]
        if not usable:
            return minmax_decimate(t, v, t0, t1, columns)
        summary = usable[-1]
        base = self._count - len(t)  # sequence number of t[0]
        first = -(-(base + lo) // summary.block)
        last = min((base + hi) // summary.block, summary.done)
        head = first * summary.block - base
        tail = last * summary.block - base
        mid_t, mid_v = summary.points(first, last)
        line_t = np.concatenate((t[lo:head], mid_t, t[tail:hi]))
        line_v = np.concatenate((v[lo:head], mid_v, v[tail:hi]))
        return minmax_decimate(line_t, line_v, t0, t1, columns)
