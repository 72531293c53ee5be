"""Backfill of a trend from its ``HistorySource``: for each pen, the part of the view before
its live buffer, one bucket per pixel column; asked as asyncio tasks on the running loop,
skipped while an earlier answer (or request) still covers the view, and dropped when the answer
is for a range no longer wanted."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Iterable

from hmi.runtime.history import HistorySource
from hmi.widgets.trend.pen import TrendPen

log = logging.getLogger(__name__)

Ask = tuple[int, float, float, int]  # request id, start, end, buckets


def covers(have: tuple[float, float, int], start: float, end: float, buckets: int) -> bool:
    """An answer over ``have`` (start, end, buckets) serves ``[start, end)`` in ``buckets``:
    it spans it to within one bucket, at no less than half and no more than twice the
    resolution."""
    h_start, h_end, h_buckets = have
    width = (end - start) / buckets
    h_width = (h_end - h_start) / h_buckets
    return 0.5 <= h_width / width <= 2.0 and h_start <= start + width and h_end >= end - width


class Backfill:
    def __init__(self, source: HistorySource, on_answer: Callable[[TrendPen], None]) -> None:
        self.source = source
        self.on_answer = on_answer
        self.dropped = 0  # stale answers dropped
        self.tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._closed = False

    def ask(self, pens: Iterable[TrendPen], x0: float, x1: float, columns: int, now: float) -> None:
        if self._closed or not x1 > x0:
            return
        for pen in pens:
            end = min(x1, pen.buffer.first_time, now)
            if not end > x0:
                continue
            buckets = max(1, round(columns * (end - x0) / (x1 - x0)))
            have = pen.asked[1:] if pen.asked is not None else None
            if have is None and pen.history is not None:
                have = (pen.history.start, pen.history.end, pen.history.buckets)
            if have is not None and covers(have, x0, end, buckets):
                continue
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                log.warning("trend cannot ask for history: no asyncio event loop")
                return
            ask = pen.asked = (next(self._ids), x0, end, buckets)
            task = loop.create_task(self._fetch(pen, ask))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _fetch(self, pen: TrendPen, ask: Ask) -> None:
        _, start, end, buckets = ask
        try:
            series = await self.source.query(pen.tag, start, end, buckets)
        except Exception:
            log.exception("history of %s for the trend failed", pen.tag)
            if pen.asked == ask:
                pen.asked = None
            return
        if self._closed or pen.asked != ask:
            self.dropped += 1
            log.debug("dropped a stale history answer for %s", pen.tag)
            return
        pen.history = series
        pen.asked = None
        self.on_answer(pen)

    async def wait(self) -> None:
        """Until every request made so far has been answered."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def close(self) -> None:
        self._closed = True
        for task in list(self.tasks):
            task.cancel()
