"""What a trend draws: at most a few points per pixel column, whatever the history length.

``minmax_decimate`` keeps, for every pixel column of the visible range, the smallest and the
largest sample in the order they happened, so a one-sample spike among millions survives; a
column holding a Bad sample (NaN) keeps a NaN between them, so the line breaks there.
``bucketize`` is the same reduction for history: per bucket first, last, min, max, count and
the worst quality, as a ``BucketSeries`` any history source returns.

Pure numpy, no Qt: the widget, the in-memory history and the SQL historian share it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hmi.model.quality import QualityLevel

__all__ = [
    "BucketSeries",
    "FloatArray",
    "bucketize",
    "column_edges",
    "column_starts",
    "minmax_decimate",
    "pick_columns",
    "pick_extremes",
    "sample_range",
]

FloatArray = npt.NDArray[np.float64]
_EMPTY = np.empty(0, dtype=np.float64)


def column_edges(t0: float, t1: float, columns: int) -> FloatArray:
    """``columns + 1`` equally spaced times from ``t0`` to ``t1``."""
    return np.linspace(t0, t1, columns + 1)


def sample_range(t: FloatArray, t0: float, t1: float) -> tuple[int, int]:
    """Index range of the samples in ``[t0, t1]`` plus one neighbour on each side, so the line
    runs to both edges of the plot."""
    lo = int(np.searchsorted(t, t0, side="left"))
    hi = int(np.searchsorted(t, t1, side="right"))
    return max(lo - 1, 0), min(hi + 1, len(t))


def _first(
    hit: npt.NDArray[np.bool_], starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp], m: int
) -> npt.NDArray[np.intp]:
    """Per column ``[start, end)``: the index of its first hit, or ``m`` if it has none."""
    where = np.flatnonzero(hit)
    if len(where) == 0:
        return np.full(len(starts), m, dtype=np.intp)
    at = np.searchsorted(where, starts)
    found = where[np.minimum(at, len(where) - 1)]
    return np.where((at < len(where)) & (found < ends), found, m)


def column_starts(ts: FloatArray, t0: float, t1: float, columns: int) -> npt.NDArray[np.intp]:
    """Start index in ``ts`` (a ``minmax_decimate`` range, neighbours included) of each
    non-empty pixel column of ``[t0, t1]``; a column ends where the next one starts, the last
    at ``len(ts)``. The left neighbour belongs to the first column, the right one to the last."""
    m = len(ts)
    starts = np.searchsorted(ts, column_edges(t0, t1, columns)[:-1], side="left")
    starts[0] = 0
    new = np.empty(len(starts), dtype=bool)  # non-empty columns: where the start moves on
    new[0] = True
    np.not_equal(starts[1:], starts[:-1], out=new[1:])
    return starts[new & (starts < m)]


def pick_columns(
    v: FloatArray,
    i_min: npt.NDArray[np.intp],
    i_nan: npt.NDArray[np.intp],
    i_max: npt.NDArray[np.intp],
) -> npt.NDArray[np.intp]:
    """Per column, a row of the indices to draw in time order, ``m = len(v)`` where none, from
    its first minimum, first NaN and first maximum in ``v`` (``m`` where a column has none):
    a NaN minimum (an all-NaN column) is dropped, as is a maximum that is the minimum or a
    NaN."""
    m = len(v)
    i_min[np.isnan(v[np.minimum(i_min, m - 1)]) & (i_min < m)] = m
    i_max[(i_max == i_min) | np.isnan(v[np.minimum(i_max, m - 1)])] = m
    # Indices are positions in a time-sorted array: in index order is in time order.
    return np.sort(np.stack([i_min, i_nan, i_max], axis=1), axis=1)


def pick_extremes(
    v: FloatArray,
    i_min: npt.NDArray[np.intp],
    i_nan: npt.NDArray[np.intp],
    i_max: npt.NDArray[np.intp],
) -> npt.NDArray[np.intp]:
    """``pick_columns``' indices, column after column, in one array."""
    rows = pick_columns(v, i_min, i_nan, i_max)
    return rows[rows < len(v)]


def minmax_decimate(
    t: FloatArray, v: FloatArray, t0: float, t1: float, columns: int
) -> tuple[FloatArray, FloatArray]:
    """Reduce the samples of ``[t0, t1]`` (``t`` sorted ascending) to min and max per column.

    Returns ``(t_out, v_out)``, time ordered, with the samples' own times. Per non-empty column:
    its first min and first max sample in time order, and where the column holds a NaN (a Bad
    sample) a NaN at the first NaN's time between them, so ``connect="finite"`` breaks the line.
    With no more than two samples per column the samples are returned as they are (views, no
    copy).
    """
    if columns < 1 or not t1 > t0 or len(t) == 0:
        return _EMPTY, _EMPTY
    lo, hi = sample_range(t, t0, t1)
    ts, vs = t[lo:hi], v[lo:hi]
    m = len(ts)
    if m <= 2 * columns:
        return ts, vs
    starts = column_starts(ts, t0, t1, columns)
    ends = np.append(starts[1:], m)
    counts = ends - starts

    nan = np.isnan(vs)
    gaps = bool(nan.any())
    low = np.where(nan, np.inf, vs) if gaps else vs
    high = np.where(nan, -np.inf, vs) if gaps else vs
    i_min = _first(low == np.repeat(np.minimum.reduceat(low, starts), counts), starts, ends, m)
    i_max = _first(high == np.repeat(np.maximum.reduceat(high, starts), counts), starts, ends, m)
    i_nan = _first(nan, starts, ends, m) if gaps else np.full(len(starts), m, dtype=np.intp)
    picked = pick_extremes(vs, i_min, i_nan, i_max)
    return ts[picked], vs[picked]


@dataclass(frozen=True, slots=True)
class BucketSeries:
    """History of one tag over ``[start, end)`` in equal buckets (one per pixel column).

    Per bucket: ``first``/``last``/``min``/``max`` of its Good and Uncertain samples (NaN where
    it holds none), ``count`` of samples and ``quality``, the worst ``QualityLevel`` in it
    (``GOOD`` for an empty bucket). ``prior`` is the value in effect at ``start`` (the last
    sample before it; NaN if none or Bad), so a line starts at the left edge even for a tag
    that changes rarely.
    """

    start: float
    end: float
    times: FloatArray  # start time of each bucket
    first: FloatArray
    last: FloatArray
    min: FloatArray
    max: FloatArray
    count: npt.NDArray[np.int64]
    quality: npt.NDArray[np.uint8]
    prior: float = float("nan")

    @property
    def buckets(self) -> int:
        return len(self.times)

    @property
    def width(self) -> float:
        return (self.end - self.start) / max(1, len(self.times))

    @staticmethod
    def empty(start: float, end: float, buckets: int) -> BucketSeries:
        n = max(1, buckets)
        nan = np.full(n, np.nan)
        return BucketSeries(
            start,
            end,
            column_edges(start, end, n)[:-1],
            nan,
            nan,
            nan,
            nan,
            np.zeros(n, dtype=np.int64),
            np.full(n, QualityLevel.GOOD, dtype=np.uint8),
        )

    def points(self) -> tuple[FloatArray, FloatArray]:
        """A drawable line: per non-empty bucket first, min, max and last across its width,
        with a NaN in the middle of a bucket that held a Bad sample (unless its first or last
        value already breaks the line); the prior value at
        ``start``. The last point of the last bucket lies at ``end``, where live data joins."""
        used = self.count > 0
        t = self.times[used]
        ends = np.append(self.times[1:], self.end)[used]  # exactly the next bucket's start
        bad = self.quality[used] == QualityLevel.BAD
        quarter = (ends - t) / 4
        pts_t = np.stack([t, t + quarter, t + 2 * quarter, t + 3 * quarter, ends], axis=1)
        gap = np.full(len(t), np.nan)
        pts_v = np.stack(
            [self.first[used], self.min[used], gap, self.max[used], self.last[used]], axis=1
        )
        keep = np.ones_like(pts_v, dtype=bool)
        keep[:, 2] = bad & np.isfinite(pts_v[:, 0]) & np.isfinite(pts_v[:, 4])  # else it breaks
        out_t, out_v = pts_t[keep], pts_v[keep]
        if np.isfinite(self.prior):
            out_t = np.concatenate(([self.start], out_t))
            out_v = np.concatenate(([self.prior], out_v))
        return out_t, out_v

    def value_at(self, x: float) -> float:
        """The value in effect at ``x``: the last value of the bucket holding ``x`` or of the
        nearest earlier bucket with samples; ``prior`` before any; NaN outside the series."""
        if not self.start <= x < self.end:
            return float("nan")
        index = min(int((x - self.start) / self.width), len(self.times) - 1)
        used = np.flatnonzero(self.count[: index + 1] > 0)
        return float(self.last[used[-1]]) if len(used) else self.prior


def bucketize(
    t: FloatArray,
    v: FloatArray,
    q: npt.NDArray[np.uint8],
    start: float,
    end: float,
    buckets: int,
) -> BucketSeries:
    """Reduce samples (``t`` sorted, ``v`` NaN where Bad, ``q`` quality levels) over
    ``[start, end)`` to ``buckets`` equal buckets. Vectorised: cost O(samples in range)."""
    series = BucketSeries.empty(start, end, buckets)
    lo = int(np.searchsorted(t, start, side="left"))
    hi = int(np.searchsorted(t, end, side="left"))
    prior = float(v[lo - 1]) if lo > 0 else float("nan")
    if hi <= lo or not end > start:
        return replace(series, prior=prior)
    ts, vs, qs = t[lo:hi], v[lo:hi], q[lo:hi]
    n = series.buckets
    starts_all = np.searchsorted(ts, series.times, side="left")
    counts_all = np.diff(np.append(starts_all, len(ts)))
    used = counts_all > 0
    starts = starts_all[used]
    ends = np.append(starts[1:], len(ts)) - 1
    first, last, low, high = (np.full(n, np.nan) for _ in range(4))
    quality = np.full(n, QualityLevel.GOOD, dtype=np.uint8)
    first[used] = vs[starts]
    last[used] = vs[ends]
    low[used] = np.fmin.reduceat(vs, starts)  # fmin/fmax skip NaN
    high[used] = np.fmax.reduceat(vs, starts)
    quality[used] = np.minimum.reduceat(qs, starts)
    count = counts_all.astype(np.int64)
    return BucketSeries(start, end, series.times, first, last, low, high, count, quality, prior)
