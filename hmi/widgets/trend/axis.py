"""Axes of a trend: local date-time along the bottom, and y axes made as pens need them.

The first y axis is the plot's own (left); each further one is a ``ViewBox`` of its own with an
axis on the right, its time axis linked to the plot's, laid over the plot's view. The overlays
let every mouse event through to the plot's own view (pan, zoom, the cursor), and the grid is
drawn under every line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

from hmi.widgets.trend.style import AXIS, GRID, PenStyle

Y_PADDING = 0.03


class TimeAxis(pg.DateAxisItem):
    """pyqtgraph's date axis, with its ticks kept while the view scrolls at one zoom.

    pyqtgraph works out the ticks, their local-time offsets and their labels again at every
    frame, though a live trend scrolling over a fixed span shows the same ticks for a whole
    span. Here the ticks are made once for three spans around the view (at the view's density,
    so the same zoom level and skipping) and the view's share is cut from them until the view
    leaves that stretch or its span or size changes; labels are kept per tick. The ticks drawn
    are the ones pyqtgraph would draw for the view (tick positions depend on the spacing, never
    on where the range starts; it draws none outside the view). Sub-second ticks are made per
    frame as pyqtgraph makes them."""

    _LABELS = 512  # labels kept (a few views' worth)

    def __init__(self) -> None:
        super().__init__(orientation="bottom", utcOffset=None)
        self._made: tuple[float, float, float, float, list[tuple[float, np.ndarray]]] | None = None
        self._labels: dict[tuple[float, float, float], str] = {}

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        span = maxVal - minVal
        made = self._made
        if (
            made is None
            or made[2] != size
            or not math.isclose(made[3], span, rel_tol=1e-9)
            or not made[0] <= minVal <= maxVal <= made[1]
        ):
            self.setZoomLevelForDensity(span / size)
            if any(spec.spacing < 1 for spec in self.zoomLevel.tickSpecs):
                # sub-second ticks are stepped by adding fractions: from another start they
                # would differ in the last bits (and in their labels); made for the view
                self._made = None
                return self.zoomLevel.tickValues(minVal, maxVal, minSpc=self.minSpacing)
            wide = self.zoomLevel.tickValues(minVal - span, maxVal + span, minSpc=self.minSpacing)
            made = (
                minVal - span,
                maxVal + span,
                size,
                span,
                [(sp, np.asarray(v)) for sp, v in wide],
            )
            self._made = made
        # the ticks the axis draws: inside the view, the first one after its start
        return [(sp, v[(v > minVal) & (v <= maxVal)].tolist()) for sp, v in made[4]]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        labels = self._labels
        missing = [v for v in values if (v, scale, spacing) not in labels]
        if missing:
            if len(labels) > self._LABELS:
                labels.clear()
            made = super().tickStrings(missing, scale, spacing)
            labels.update(
                {(v, scale, spacing): text for v, text in zip(missing, made, strict=True)}
            )
        return [labels[(v, scale, spacing)] for v in values]


def time_axis() -> pg.DateAxisItem:
    """Bottom axis in the station's local time (with daylight saving: ``utcOffset=None``)."""
    axis = TimeAxis()
    _style(axis, AXIS)
    return axis


def _style(axis: pg.AxisItem, color: str) -> None:
    """Axis line dark, grid lines light and opaque: semi-transparent lines cost the raster
    engine ~10x more (about 15 ms a frame on a 1600 px plot), for the same look."""
    axis.setPen(pg.mkPen(AXIS))
    axis.setTickPen(pg.mkPen(GRID))
    axis.setTextPen(pg.mkPen(color))
    axis.enableAutoSIPrefix(False)
    axis.setStyle(maxTickLevel=0, tickAlpha=255)  # major lines only: a calm plot


class OverlayView(pg.ViewBox):
    """A view drawn over the plot that leaves the mouse to what lies under it."""

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:
        ev.ignore()  # type: ignore[attr-defined]

    def mouseClickEvent(self, ev: object) -> None:
        ev.ignore()  # type: ignore[attr-defined]

    def wheelEvent(self, ev: object, axis: int | None = None) -> None:
        ev.ignore()  # type: ignore[attr-defined]


@dataclass
class YAxis:
    key: str
    view: pg.ViewBox
    axis: pg.AxisItem
    pens: dict[str, PenStyle] = field(default_factory=dict)
    placed: bool = False  # in the plot's layout


class YAxes:
    """The y axes of one plot, keyed by ``PenStyle.axis``."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.axes: dict[str, YAxis] = {}
        self._font = QFont()
        self._labels = True
        for name in ("left", "bottom"):  # the axes that draw the grid: behind the lines
            plot.getAxis(name).setZValue(-1)
        for name in ("top", "right"):  # hidden, yet each range change set their label's HTML
            plot.getAxis(name).enableAutoSIPrefix(False)
        plot.vb.sigResized.connect(self._sync)

    @property
    def main(self) -> pg.ViewBox:
        return self.plot.vb

    def view_for(self, style: PenStyle) -> pg.ViewBox:
        """The view a pen is drawn in, making its axis on first use."""
        entry = self.axes.get(style.axis)
        if entry is None:
            entry = self._make(style.axis)
        entry.pens[style.tag] = style
        self._update(entry)
        return entry.view

    def remove(self, style: PenStyle) -> None:
        entry = self.axes.get(style.axis)
        if entry is None:
            return
        entry.pens.pop(style.tag, None)
        if entry.pens or entry.view is self.main:
            self._update(entry)
            return
        del self.axes[style.axis]
        if entry.placed:
            self.plot.layout.removeItem(entry.axis)
        self.plot.scene().removeItem(entry.axis)
        self.plot.scene().removeItem(entry.view)
        self._relayout()

    def _make(self, key: str) -> YAxis:
        if not any(a.view is self.main for a in self.axes.values()):
            axis = self.plot.getAxis("left")
            entry = YAxis(key, self.main, axis)
        else:
            view = OverlayView(enableMenu=False)
            view.setMouseEnabled(x=False, y=False)
            view.setZValue(1)
            self.plot.scene().addItem(view)
            view.setXLink(self.main)
            axis = pg.AxisItem("right")
            axis.linkToView(view)
            entry = YAxis(key, view, axis)
        _style(axis, AXIS)
        axis.setStyle(tickFont=self._font)
        axis.label.setFont(self._font)
        self.axes[key] = entry
        self._relayout()
        return entry

    def _relayout(self) -> None:
        """Extra axes side by side right of the plot, in the order they were made."""
        extra = [a for a in self.axes.values() if a.view is not self.main]
        for entry in extra:
            if entry.placed:
                self.plot.layout.removeItem(entry.axis)
        for column, entry in enumerate(extra, start=3):
            self.plot.layout.addItem(entry.axis, 2, column)
            entry.placed = True
        self._sync()

    def _update(self, entry: YAxis) -> None:
        pens = list(entry.pens.values())
        units = sorted({p.units for p in pens if p.units})
        if len(pens) == 1:
            text = f"{pens[0].tag} [{pens[0].units}]" if pens[0].units else pens[0].tag
        else:
            text = ", ".join(units)
        color = pens[0].color if len(pens) == 1 else AXIS
        entry.axis.setLabel(text=text, color=QColor(color).name())
        entry.axis.showLabel(self._labels)
        entry.axis.setTextPen(pg.mkPen(color))
        ticks = {p.ticks for p in pens}
        entry.axis.setTicks([list(ticks.pop())] if len(ticks) == 1 and pens[0].ticks else None)
        ranges = [p.y_range for p in pens if p.y_range is not None]
        if ranges:
            low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
            entry.view.disableAutoRange(axis=pg.ViewBox.YAxis)
            entry.view.setYRange(low, high, padding=Y_PADDING)
        else:
            self.autorange(entry)

    def autorange(self, entry: YAxis | None = None) -> None:
        """Let the y axis follow the data in view (all axes when ``entry`` is None)."""
        for each in [entry] if entry is not None else list(self.axes.values()):
            each.view.setAutoVisible(y=True)
            each.view.enableAutoRange(axis=pg.ViewBox.YAxis)

    def show_labels(self, shown: bool) -> None:
        """Axis titles on or off (off on a trend too small to spare the room)."""
        self._labels = shown
        for entry in self.axes.values():
            entry.axis.showLabel(shown)

    def set_font(self, font: QFont) -> None:
        self._font = QFont(font)
        for entry in self.axes.values():
            entry.axis.setStyle(tickFont=font)
            entry.axis.label.setFont(font)

    def _sync(self) -> None:
        rect = self.main.sceneBoundingRect()
        for entry in self.axes.values():
            if entry.view is not self.main:
                entry.view.setGeometry(rect)
                entry.view.linkedViewChanged(self.main, pg.ViewBox.XAxis)
