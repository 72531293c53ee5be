"""One pen of a trend: its style, live samples, line, legend entry and the history joined to
its live buffer."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from hmi.model.tags import DataType
from hmi.model.trends.buffer import TrendBuffer, value_at
from hmi.model.trends.decimate import BucketSeries, FloatArray
from hmi.widgets.base import NO_VALUE, TagBinding
from hmi.widgets.trend.legend import LegendEntry
from hmi.widgets.trend.style import PenStyle


@dataclass(eq=False)
class TrendPen:
    style: PenStyle
    buffer: TrendBuffer
    curve: pg.PlotCurveItem
    view: pg.ViewBox
    entry: LegendEntry
    binding: TagBinding | None = None
    history: BucketSeries | None = None
    asked: tuple[int, float, float, int] | None = None  # latest request: id, start, end, buckets
    shown: bool = True
    _points: tuple[BucketSeries, FloatArray, FloatArray] | None = None  # history's line, kept

    @property
    def tag(self) -> str:
        return self.style.tag

    def _history_before_live(self) -> tuple[FloatArray, FloatArray]:
        """The history answer's line, cut at the live buffer's first sample."""
        series = self.history
        if series is None:
            return np.empty(0), np.empty(0)
        if self._points is None or self._points[0] is not series:
            self._points = (series, *series.points())
        _, t, v = self._points
        keep = t <= self.buffer.first_time
        return t[keep], v[keep]

    def line(self, x0: float, x1: float, columns: int, now: float) -> tuple[FloatArray, FloatArray]:
        """What to draw over ``[x0, x1]``: history up to the live buffer's first sample, live
        samples from there (both at most a few points per column), held on to ``now``."""
        parts_t, parts_v = [], []
        if x0 < self.buffer.first_time:
            t, v = self._history_before_live()
            parts_t.append(t)
            parts_v.append(v)
        t, v = self.buffer.decimate(x0, x1, columns)
        parts_t.append(t)
        parts_v.append(v)
        last = self.buffer.last_value
        if math.isfinite(last) and now > self.buffer.last_time:
            parts_t.append(np.array([now]))
            parts_v.append(np.array([last]))
        t, v = np.concatenate(parts_t), np.concatenate(parts_v)
        if self.style.step and len(t) > 1:
            t, v = np.repeat(t, 2)[1:], np.repeat(v, 2)[:-1]
        return t, v

    def value_at(self, x: float) -> float:
        """The value the pen shows at ``x`` (NaN where none or Bad)."""
        if x >= self.buffer.first_time:
            return value_at(self.buffer.times(), self.buffer.values(), x, step=self.style.step)
        return self.history.value_at(x) if self.history is not None else math.nan

    def reading_text(self, x: float) -> str:
        """The value at ``x`` as the tag shows it (state text, format, units)."""
        value = self.value_at(x)
        binding = self.binding
        if binding is None or not math.isfinite(value):
            return NO_VALUE
        config = binding.config
        shown: float | int | bool = value
        if config is not None and config.datatype is DataType.BOOL:
            shown = bool(round(value))
        elif config is not None and (config.datatype is DataType.INT or config.states):
            shown = round(value)
        return binding.display(shown)
