"""The seam between trends and stored history.

A trend asks a ``HistorySource`` for the span its live buffer does not hold, at the resolution
it can show: one bucket per pixel column. The SQL historian (``hmi.storage``) implements the
same protocol; ``MemoryHistory`` keeps every change of every tag in bounded ring buffers, so a
station without a historian database still shows the recent past when a screen opens, and tests
have a real source to trend against.

Times are POSIX seconds (UTC). ``end`` is exclusive: a trend asks up to the first sample of its
live buffer and draws live data from there, so nothing is drawn twice and nothing is missing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hmi.model.trends.historian import sample_of
from hmi.model.value import TagValue

if TYPE_CHECKING:  # numpy loads with the first buffer or query, not with the station
    import numpy as np
    import numpy.typing as npt

    from hmi.model.trends.buffer import TrendBuffer
    from hmi.model.trends.decimate import BucketSeries, FloatArray

__all__ = ["HistorySource", "MemoryHistory", "RawSamples", "SampleSource"]


@runtime_checkable
class HistorySource(Protocol):
    """Where a trend gets the past from."""

    async def query(self, tag: str, start: float, end: float, buckets: int) -> BucketSeries:
        """``tag`` over ``[start, end)`` reduced to ``buckets`` equal buckets (per bucket first,
        last, min, max, count, worst quality; the value in effect at ``start``). A tag with no
        history gives empty buckets, not an error."""
        ...


@dataclass(frozen=True, slots=True)
class RawSamples:
    """One tag's samples as stored, for exports: times in integer µs (UTC), values (NaN where
    none), quality codes (``hmi.model.trends.historian.quality_code``), and where they came from."""

    times_us: npt.NDArray[np.int64]
    values: FloatArray
    codes: npt.NDArray[np.int64]
    source: str  # "historian", "memory"


@runtime_checkable
class SampleSource(Protocol):
    """A history that can also give its raw samples (the SQL historian, ``MemoryHistory``)."""

    async def samples(self, tag: str, start: float, end: float) -> RawSamples | None:
        """``tag``'s stored samples with ``start <= t <= end``; None if it does not keep the
        tag."""
        ...


class MemoryHistory:
    """Every change of every tag it is fed, newest ``capacity`` samples per tag.

    Feed it from the broker, which hands every change (not only the batched latest) to its
    listeners: ``broker.add_listener(history.record)``. ``extend`` loads many samples at once
    (generated data, a file). ``latency`` delays each answer, as a database would (tests use it
    to overtake an answer with a newer request).
    """

    def __init__(
        self,
        capacity: int = 200_000,
        *,
        latency: float = 0.0,
        only: Collection[str] | None = None,
    ) -> None:
        """``capacity`` samples per tag (17 bytes each, allocated on a tag's first value);
        ``only``: record just these tags (the trended ones), ignore the rest."""
        self.capacity = capacity
        self.latency = latency
        self.queries: deque[tuple[str, float, float, int]] = deque(maxlen=256)  # newest last
        self._only = None if only is None else frozenset(only)
        self._buffers: dict[str, TrendBuffer] = {}

    def _buffer(self, tag: str) -> TrendBuffer:
        buffer = self._buffers.get(tag)
        if buffer is None:
            from hmi.model.trends.buffer import TrendBuffer

            buffer = self._buffers[tag] = TrendBuffer(self.capacity)
        return buffer

    def tags(self) -> list[str]:
        return sorted(self._buffers)

    def record(self, tag: str, value: TagValue) -> None:
        """One change of one tag (the broker listener's signature)."""
        if self._only is not None and tag not in self._only:
            return
        self._buffer(tag).append(*sample_of(value))

    def extend(
        self, tag: str, t: FloatArray, v: FloatArray, q: npt.ArrayLike | None = None
    ) -> None:
        """Many samples of one tag, time ordered; ``q`` quality levels (default Good)."""
        self._buffer(tag).extend(t, v, q)

    def span(self, tag: str) -> tuple[float, float] | None:
        """First and last time held for ``tag``, or None."""
        buffer = self._buffers.get(tag)
        if buffer is None or not len(buffer):
            return None
        return buffer.first_time, buffer.last_time

    async def query(self, tag: str, start: float, end: float, buckets: int) -> BucketSeries:
        from hmi.model.trends.decimate import BucketSeries, bucketize

        self.queries.append((tag, start, end, buckets))
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        buffer = self._buffers.get(tag)
        if buffer is None:
            return BucketSeries.empty(start, end, buckets)
        t, v, q = buffer.times(), buffer.values(), buffer.qualities()
        return bucketize(t, v, q, start, end, max(1, buckets))

    async def samples(self, tag: str, start: float, end: float) -> RawSamples | None:
        """Every change held for ``tag`` in ``[start, end]`` (quality levels, no reasons)."""
        buffer = self._buffers.get(tag)
        if buffer is None:
            return None
        import numpy as np

        t, v, q = buffer.window(start, end)
        times = np.round(t * 1e6).astype(np.int64)
        return RawSamples(times, v.copy(), q.astype(np.int64) << 8, "memory")
