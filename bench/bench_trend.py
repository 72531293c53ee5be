"""Trend frames with 8 pens x 1,000,000 samples, all of them in view, live.

Two paths, same run, same arrays, same plot size, offscreen:

- **ours**: a real ``TrendWidget`` on a real broker and bridge. Each frame appends a few
  samples per pen to its ring buffers and does what its 10 Hz timer does: scroll the view to
  now, reduce each pen to min/max per pixel column (through the buffers' block summaries), hand
  the few thousand points to pyqtgraph, paint (``grab`` of the plot).
- **bare**: a ``pg.PlotWidget`` with one ``PlotDataItem`` per pen using pyqtgraph's own
  reduction (``setDownsampling(auto=True, mode="peak")``, ``setClipToView(True)``), given the
  same 1,000,000-sample views each frame with ``setData``, the same scroll, the same paint.

Printed: ms per frame for both (median, p90, max), our frame split into reduce+setData and
paint, and the ratio. Targets: ours <= 16 ms per frame and >= 3x faster than bare.

Run: ``.venv/bin/python bench/bench_trend.py [--frames 40] [--points 1000000] [--pens 8]
[--width 1600] [--check]``. ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pyqtgraph as pg
from figures import figure
from PySide6.QtWidgets import QApplication

from hmi.drivers.defaults import default_registry
from hmi.model.screens.schema import TrendSpec
from hmi.model.tags import TagConfig
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.widgets.context import WidgetContext
from hmi.widgets.trend.axis import time_axis
from hmi.widgets.trend.widget import TrendWidget

TARGET_FRAME_MS = 16.0
TARGET_RATIO = 3.0
DT = 0.08  # s between samples: 1M samples span 22 h, inside a trend's longest live window (1 day)
PER_FRAME = 5  # samples appended per pen per frame


def signal(n: int, seed: int) -> np.ndarray:
    """A process-like signal: slow waves, noise, and a few one-sample spikes."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    v = 50 + 20 * np.sin(i / (20_000 + 3_000 * seed)) + 5 * np.sin(i / 700) + rng.normal(0, 1, n)
    v[rng.integers(0, n, 20)] += rng.choice([-40.0, 40.0], 20)
    return v


def build_trend(pens: int, points: int, width: int, start: float) -> tuple[TrendWidget, list]:
    tags = {
        f"Bench.P{i}": TagConfig(name=f"Bench.P{i}", address=f"local://bench_p{i}?type=float")
        for i in range(pens)
    }
    broker = TagBroker(tags, default_registry(), {})
    bridge = QtTagBridge(broker, CommandService(broker))
    ctx = WidgetContext(bridge, tags, lambda _: None, lambda *_: None, Path("."), "bench")
    spec = TrendSpec(
        type="trend", tags=tuple(tags), span_s=points * DT, rect=(0, 0, width, 700), y_axes="shared"
    )
    widget = TrendWidget(spec, ctx, capacity=points)
    widget.frame_timer.stop()  # the bench drives the frames
    t = start + np.arange(points) * DT
    for seed, pen in enumerate(widget.traces.values()):
        pen.buffer.clear()  # drop the Initial sample made at bind
        pen.buffer.extend(t, signal(points, seed))
    widget.resize(width, 700)
    widget.show()
    return widget, list(widget.traces.values())


def build_bare(pens: int, size: tuple[int, int]) -> tuple[pg.PlotWidget, list[pg.PlotDataItem]]:
    axis = pg.DateAxisItem(orientation="bottom", utcOffset=None)  # pyqtgraph's own, styled as ours
    ours = time_axis()
    axis.setPen(ours.pen())
    axis.setTickPen(ours.tickPen())
    axis.setTextPen(ours.textPen())
    axis.enableAutoSIPrefix(False)
    axis.setStyle(maxTickLevel=0, tickAlpha=255)
    plot = pg.PlotWidget(background="#e8e8e8", axisItems={"bottom": axis})
    # On the PlotItem: it applies both to every item added (and would override an item's own).
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    items = []
    for i in range(pens):
        item = pg.PlotDataItem(pen=pg.mkPen(pg.intColor(i, pens), width=1))
        plot.addItem(item)
        items.append(item)
    plot.setMouseEnabled(x=True, y=False)
    plot.resize(*size)
    plot.show()
    assert all(i.opts["autoDownsample"] and i.opts["clipToView"] for i in items)
    return plot, items


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(values):6.2f}  p90 {p90:6.2f}  max {max(values):6.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--pens", type=int, default=8)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    start = time.time() - args.points * DT
    clock = {"now": start + args.points * DT}
    set_up = time.perf_counter()
    widget, pens = build_trend(args.pens, args.points, args.width, start)
    widget.clock = lambda: clock["now"]
    app.processEvents()
    plot_size = (widget.plot.width(), widget.plot.height())
    bare, items = build_bare(args.pens, plot_size)
    app.processEvents()
    print(
        f"{args.pens} pens x {len(pens[0].buffer):,} samples in view, plot {plot_size[0]}x"
        f"{plot_size[1]} px ({widget.columns()} columns), set-up {time.perf_counter() - set_up:.1f} s"
    )

    def append() -> None:
        clock["now"] += PER_FRAME * DT
        t = clock["now"] - DT * np.arange(PER_FRAME)[::-1]
        for seed, pen in enumerate(pens):
            pen.buffer.extend(t, 50 + np.random.default_rng(seed).normal(0, 1, PER_FRAME))

    def ours_reduce() -> None:
        widget.tick()  # scroll to now + decimate + setData (the 10 Hz timer's work)

    def bare_reduce() -> None:
        for pen, item in zip(pens, items, strict=True):
            item.setData(pen.buffer.times(), pen.buffer.values())
        bare.setXRange(clock["now"] - args.points * DT, clock["now"], padding=0)

    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    warm_up = 3
    for frame in range(args.frames + warm_up):
        append()
        a = timed(ours_reduce)
        b = timed(widget.plot.grab)
        c = timed(bare_reduce)
        d = timed(bare.grab)
        if frame >= warm_up:
            ours.append((a, b))
            theirs.append((c, d))
        app.processEvents()

    ours_total = [a + b for a, b in ours]
    bare_total = [c + d for c, d in theirs]
    ratio = statistics.median(bare_total) / statistics.median(ours_total)
    print(f"ours  frame  {summary(ours_total)}")
    print(f"        reduce+setData {summary([a for a, _ in ours])}")
    print(f"        paint          {summary([b for _, b in ours])}")
    print(f"bare  frame  {summary(bare_total)}")
    print(f"        setData+range  {summary([c for c, _ in theirs])}")
    print(f"        paint          {summary([d for _, d in theirs])}")
    print(f"ratio bare/ours (median frame): {ratio:.1f}x")
    met_frame = statistics.median(ours_total) <= TARGET_FRAME_MS
    met_ratio = ratio >= TARGET_RATIO
    figure("trend", "trend frame (reduce + paint), median", statistics.median(ours_total), "ms",
           target=f"<= {TARGET_FRAME_MS:g}; bare/ours >= {TARGET_RATIO:g}",
           met=statistics.median(ours_total) <= TARGET_FRAME_MS and met_ratio,
           raw=statistics.median(bare_total), raw_name="bare pyqtgraph PlotDataItem")  # fmt: skip
    print(
        f"targets: ours <= {TARGET_FRAME_MS:g} ms {'met' if met_frame else 'MISSED'}, "
        f">= {TARGET_RATIO:g}x bare {'met' if met_ratio else 'MISSED'}"
    )
    widget.release()
    return 0 if (met_frame and met_ratio) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
