"""A trend: pens over one time axis, live or browsing the past, drawn at a bounded rate and at
screen resolution whatever the amount of data.

Values arrive through the bridge into a ring buffer per pen (``hmi.model.trends.buffer``); a
timer (10 Hz) scrolls the live view and redraws. What is drawn is reduced to min and max per
pixel column of the visible range, so a frame costs the same for an hour or a month. Where the
view reaches before a pen's live buffer, the trend asks its ``HistorySource`` for that span, one
bucket per pixel column, and joins the answer to the live data at the buffer's first sample:
history before it, live from it, no gap and nothing twice. Requests run as asyncio tasks,
debounced while the operator drags; an answer for a range no longer wanted is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from hmi.model.screens.schema import TrendSpec
from hmi.model.trends.buffer import TrendBuffer, sample_of
from hmi.model.value import TagValue
from hmi.runtime.history import HistorySource
from hmi.widgets.base import (
    BADGE_PX,
    QualityBadge,
    TagBinding,
    scale_font,
    screen_font_px,
    set_style_property,
)
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, put_on
from hmi.widgets.trend.axis import YAxes, time_axis
from hmi.widgets.trend.backfill import Backfill
from hmi.widgets.trend.cursor import TrendCursor, local_time, offset_text
from hmi.widgets.trend.export import ExportColumn, raw_samples, write_csv
from hmi.widgets.trend.frame import dress_trend
from hmi.widgets.trend.legend import TrendLegend
from hmi.widgets.trend.pen import TrendPen
from hmi.widgets.trend.style import PLOT_BACKGROUND, resolve_pen
from hmi.widgets.trend.toolbar import TrendToolbar, span_text

log = logging.getLogger(__name__)

DESIGN_FONT_PX = 12.0
REDRAW_HZ = 10.0  # the frame timer; a live view scrolls at most once a pixel column
LIVE_DRAW_S = 1.0  # in a column longer than twice this, its new samples are drawn this often
DEBOUNCE_MS = 250
LIVE_RATE_HZ = 10.0  # the bridge delivers at most this often per tag: sizes the live buffer
MIN_SPAN_S, MAX_SPAN_S = 1.0, 400 * 86_400.0


class TrendWidget(QFrame):
    """``pens[tag]`` is the legend's value label of each pen (marked by quality like any
    value); ``traces[tag]`` the pen itself. ``history`` defaults to ``ctx.history`` if the
    context has one; without any, the trend shows what it received since it opened."""

    def __init__(
        self,
        spec: TrendSpec,
        ctx: WidgetContext,
        parent: QWidget | None = None,
        *,
        history: HistorySource | None = None,
        capacity: int | None = None,
    ) -> None:
        super().__init__(parent)
        self._outlined = dress_trend(self, "good", None)  # before its parts: see trend.frame
        self.spec = spec
        self.ctx = ctx
        if history is None:
            history = getattr(ctx, "history", None)  # the seam, once the context carries one
        self.history: HistorySource | None = history
        self.capacity = capacity or int(max(spec.span_s * 2, 3600) * LIVE_RATE_HZ)
        self.clock: Callable[[], float] = time.time
        self.span_s = spec.span_s
        self.live = True
        self.ticks = 0  # timer ticks and redraws done, for tests and the bench
        self.frames = 0
        self.pens: dict[str, QLabel] = {}
        self.traces: dict[str, TrendPen] = {}
        self.backfill = Backfill(history, self._on_history) if history is not None else None
        self.exports: set[asyncio.Task[int]] = set()  # CSV exports under way
        self._dirty = True
        self._drawn_at = float("-inf")  # clock time of the last redraw
        self._scrolled_to = float("-inf")  # the right edge the live view last scrolled to
        self._released = False
        self._scale = 1.0
        self.compact = False  # too small for a legend: see _fit_parts
        self.badge = QualityBadge(self)
        self.badge.set_state("good")

        self.toolbar = TrendToolbar(spec.presets_s, self)
        self.note = self.toolbar.note
        colors = chrome.colors()
        if colors is not None:
            put_on(self.note, Dress(text=colors.rgba("trendNote")))
        self.plot = pg.PlotWidget(
            self, background=PLOT_BACKGROUND, axisItems={"bottom": time_axis()}
        )
        self.plot.setObjectName("TrendPlot")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=1.0)
        self.view = item.vb
        self.view.setMouseEnabled(x=True, y=False)
        self.view.setLimits(minXRange=MIN_SPAN_S, maxXRange=MAX_SPAN_S)
        self.view.sigRangeChangedManually.connect(self._on_user_range)
        self.view.sigXRangeChanged.connect(self._on_range)
        self.view.sigResized.connect(self._on_range)
        self.axes = YAxes(item)
        self.cursor = TrendCursor(item)
        self.cursor.moved.connect(self._show_cursor_values)
        self.legend = TrendLegend(self)
        self.legend.visibility.connect(self.set_pen_visible)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)

        bar = self.toolbar
        bar.preset.connect(self.show_last)
        bar.zoom.connect(self.zoom)
        bar.fit.connect(self.axes.autorange)
        bar.live.connect(self.set_live)
        bar.cursor.connect(self.set_cursor)
        bar.export_csv.connect(self._start_export)
        bar.export_png.connect(self.export_png)

        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(round(1000 / REDRAW_HZ))
        self.frame_timer.timeout.connect(self.tick)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.ask_history)

        for tag in spec.tags:
            self.add_pen(tag)
        self._scroll(self.clock())
        self._show_state()
        self.apply_scale(1.0)
        self.frame_timer.start()

    # -- pens ----------------------------------------------------------------------------------

    def add_pen(self, tag: str) -> TrendPen:
        """Add a pen for ``tag`` (styled by the spec if it names it); the existing one if any."""
        if tag in self.traces:
            return self.traces[tag]
        config = self.ctx.tags.get(tag)
        style = resolve_pen(self.spec, tag, len(self.traces), config)
        view = self.axes.view_for(style)
        curve = pg.PlotCurveItem(pen=style.qpen(), connect="finite", antialias=False)
        view.addItem(curve)
        entry = self.legend.add(style, tag)
        if config is not None and config.description:
            entry.name.setToolTip(config.description)
        pen = TrendPen(style, TrendBuffer(self.capacity), curve, view, entry)
        self.traces[tag] = pen
        self.pens[tag] = entry.value
        show = functools.partial(self._on_value, pen)
        binding = pen.binding = TagBinding(entry.value, self.ctx, tag, show, note=self.spec.tooltip)
        self._style_entry(pen)
        binding.bind()
        binding.dress_with(lambda: entry.dress_value(binding.css))
        self._dirty = True
        if not self._released:
            self._debounce.start()
        return pen

    def remove_pen(self, tag: str) -> None:
        pen = self.traces.pop(tag, None)
        if pen is None:
            return
        self.pens.pop(tag, None)
        if pen.binding is not None:
            pen.binding.release()
        pen.view.removeItem(pen.curve)
        self.axes.remove(pen.style)
        self.legend.remove(tag)
        pen.asked = None  # an answer still on its way is dropped

    def set_pen_visible(self, tag: str, shown: bool) -> None:
        pen = self.traces.get(tag)
        if pen is not None:
            pen.shown = shown
            pen.curve.setVisible(shown)
            pen.entry.check.setChecked(shown)
            self._dirty = True

    def _on_value(self, pen: TrendPen, value: TagValue) -> None:
        t, v, q = sample_of(value)
        pen.buffer.append(t, v, q)
        if self.live or t <= self.view.viewRange()[0][1]:
            self._dirty = True
        if not self.cursor.active and pen.binding is not None:
            pen.entry.value.setText(pen.binding.display(value.value))
        if self.compact:
            self._mark_quality()

    # -- range ---------------------------------------------------------------------------------

    def visible_range(self) -> tuple[float, float]:
        x0, x1 = self.view.viewRange()[0]
        return float(x0), float(x1)

    def columns(self) -> int:
        """Pixel columns of the plot area: what decimation and history buckets aim at."""
        return max(16, round(self.view.width() * self.devicePixelRatioF()))

    def _scroll(self, now: float) -> None:
        self._scrolled_to = now
        self._dirty = True  # the live line's last column is drawn up to now
        self.view.setXRange(now - self.span_s, now, padding=0)

    def show_last(self, seconds: float) -> None:
        """A preset: the last ``seconds``, live."""
        self.span_s = min(max(seconds, MIN_SPAN_S), MAX_SPAN_S)
        self.set_live(True)

    def set_live(self, live: bool) -> None:
        """Live scrolls the view over the last ``span_s`` to now; paused keeps it still."""
        self.live = live
        if live:
            self.set_cursor(False)
            self._scroll(self.clock())
            self._debounce.start()
        self._show_state()

    def set_range(self, t0: float, t1: float) -> None:
        """Show ``[t0, t1]`` (paused); history for it follows after the debounce."""
        self.live = False
        self.view.setXRange(t0, t1, padding=0)
        self._debounce.start()
        self._show_state()

    def zoom(self, factor: float) -> None:
        """Scale the time span: live keeps its right edge at now, paused its centre."""
        if self.live:
            self.show_last(self.span_s * factor)
            return
        x0, x1 = self.visible_range()
        middle, half = (x0 + x1) / 2, (x1 - x0) / 2 * factor
        self.set_range(middle - half, middle + half)

    def _on_user_range(self, *_: object) -> None:
        self.live = False
        self._debounce.start()
        self._show_state()

    def _on_range(self, *_: object) -> None:
        self._dirty = True
        if not self.live:
            self._show_state()

    def _show_state(self) -> None:
        x0, x1 = self.visible_range()
        if self.live:
            self.toolbar.set_note(f"Live trend · last {span_text(self.span_s)}")
        else:
            start, end = local_time(x0), local_time(x1)
            same_day = start.date() == end.date()
            fmt = "%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S"  # both ends to the second
            # the start's offset only where it differs (the repeated hour at the end of DST)
            since = "" if offset_text(start) == offset_text(end) else f" {offset_text(start)}"
            short = (
                f"Paused · {start:%H:%M:%S}{since} – {end:%H:%M:%S} {offset_text(end)}"
                if same_day
                else f"Paused · {start:%m-%d %H:%M}{since} – {end:%m-%d %H:%M} {offset_text(end)}"
            )
            self.toolbar.set_note(
                f"Paused · {start:%Y-%m-%d %H:%M:%S}{since} – {end.strftime(fmt)} "
                f"{offset_text(end)}",
                short,
                "Paused",
                keep=True,
            )
        self.toolbar.show_state(
            live=self.live, span_s=self.span_s if self.live else 0.0, cursor=self.cursor.active
        )

    # -- frames --------------------------------------------------------------------------------

    def column_s(self) -> float:
        """Seconds one pixel column of the plot covers: how far time must move before a
        live view has anything new to show."""
        x0, x1 = self.visible_range()
        return max(0.0, x1 - x0) / self.columns()

    def tick(self) -> None:
        """One frame (the timer's). Live, the view scrolls only once time has moved a pixel
        column (a 15 min trend on 1,000 px: about once a second, not ten times), and new
        samples are drawn with that scroll: a repaint in between would show the same pixels,
        and the axis would work out its ticks again for nothing. In a column longer than twice
        `LIVE_DRAW_S` (an hour on 1,000 px: 3.6 s), new samples within it (its extremes may
        grow) are drawn every `LIVE_DRAW_S`; in a shorter one the next scroll draws them, so a
        sample reaches the plot within 2 s (a draw in between, at 1 s, made two frames a column
        of 1-2 s for the newest pixel column alone). Paused, it redraws when anything changed."""
        if self._released:
            return
        self.ticks += 1
        if self.live:
            now, column = self.clock(), self.column_s()
            if abs(now - self._scrolled_to) >= column:
                self._scroll(now)  # and dirty
                self.ask_history()
            elif column <= 2 * LIVE_DRAW_S or now - self._drawn_at < LIVE_DRAW_S:
                return  # nothing a pixel wide has happened; the legend shows the live values
        if self._dirty:
            self.redraw()
            # pyqtgraph moves its views (the new range, the y autorange) as the paint begins,
            # so each line's bounds change inside the paint and Qt paints the frame a second
            # time: the views settled now, it is painted once
            self.plot.scene().prepareForPaint()

    def redraw(self) -> None:
        """Draw every shown pen over the visible range at screen resolution."""
        self._dirty = False
        x0, x1 = self.visible_range()
        columns, now = self.columns(), self.clock()
        self._drawn_at = now
        for pen in self.traces.values():
            if pen.shown:
                t, v = pen.line(x0, x1, columns, now)
                pen.curve.setData(t, v, connect="finite")
        self.frames += 1

    # -- history -------------------------------------------------------------------------------

    def ask_history(self) -> None:
        """Ask for the part of the view before each pen's live buffer (if not yet covered)."""
        if self.backfill is not None and not self._released:
            x0, x1 = self.visible_range()
            self.backfill.ask(self.traces.values(), x0, x1, self.columns(), self.clock())

    async def wait_history(self) -> None:
        """Until every history request made so far has been answered (tests, export)."""
        if self.backfill is not None:
            await self.backfill.wait()

    def _on_history(self, pen: TrendPen) -> None:
        self._dirty = True

    # -- cursor --------------------------------------------------------------------------------

    def set_cursor(self, shown: bool) -> None:
        """Show the cursor (pausing the trend) in the middle of the view, or hide it."""
        if shown == self.cursor.active:
            return
        if shown:
            self.live = False
            x0, x1 = self.visible_range()
            self.cursor.show_at((x0 + x1) / 2)
        else:
            self.cursor.hide()
            for pen in self.traces.values():
                if pen.binding is not None:
                    pen.entry.value.setText(pen.binding.display())
        self._show_state()

    def readings(self, seconds: float) -> dict[str, float]:
        """Every pen's value at ``seconds`` (NaN where none or Bad)."""
        return {tag: pen.value_at(seconds) for tag, pen in self.traces.items()}

    def _show_cursor_values(self, seconds: float) -> None:
        for pen in self.traces.values():
            pen.entry.value.setText(pen.reading_text(seconds))

    # -- export --------------------------------------------------------------------------------

    async def export_csv(self, path: Path | str) -> int:
        """The stored samples of every pen over the visible range to CSV (see
        ``trend_export``: raw, with quality, UTC and local times); the number of rows."""
        x0, x1 = self.visible_range()
        columns = [
            ExportColumn(
                tag, pen.style.units, await raw_samples(self.history, tag, pen.buffer, x0, x1)
            )
            for tag, pen in self.traces.items()
        ]
        return write_csv(Path(path), columns, x0, x1)

    def _start_export(self, path: str) -> None:
        """The toolbar's CSV export: the query runs on the loop, the file follows."""
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            log.warning("trend cannot export: no asyncio event loop")
            return
        task = loop.create_task(self.export_csv(path))
        self.exports.add(task)
        task.add_done_callback(self._export_done)

    def _export_done(self, task: asyncio.Task[int]) -> None:
        self.exports.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("trend export failed: %s", task.exception())

    def export_png(self, path: Path | str) -> bool:
        """The trend as shown (plot, toolbar and legend) to a PNG file."""
        for part in (self.toolbar, self.legend, self):
            part.layout().activate()  # a layout change still queued shows in the file too
        return self.grab().save(str(path), "PNG")

    # -- screen --------------------------------------------------------------------------------

    def apply_scale(self, scale: float) -> None:
        self._scale = scale
        size = self.spec.font_size or DESIGN_FONT_PX
        for widget in (self.note, *self.toolbar.findChildren(QWidget)):
            scale_font(widget, size, scale)
        for pen in self.traces.values():
            self._style_entry(pen)
        self.legend.entry_px = round(240 * scale)
        self.badge.set_size(round(BADGE_PX * scale))
        font = self.note.font()
        font.setPixelSize(screen_font_px(size * 0.95, scale))
        self.axes.set_font(font)
        self.toolbar.fit_width(self.toolbar.width())
        self._fit_parts()

    def _style_entry(self, pen: TrendPen) -> None:
        pen.entry.apply_scale(self.spec.font_size or DESIGN_FONT_PX, self._scale)
        if pen.binding is not None:
            pen.binding.apply_scale(self._scale)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_parts()
        if self._outlined:
            self.redress()  # the outline is a picture of its size

    def redress(self) -> None:
        """The trend's fill and 1 px frame (a ``QFrame`` box in the palette's text colour, set
        before its children exist: no palette to hand down to every part of the plot); while
        compact, its worst pen's quality outline instead (a picture of its size)."""
        css = str(self.property("quality") or "good")
        self._outlined = dress_trend(self, css, self._outlined)

    def _fit_parts(self) -> None:
        """On a small trend (a faceplate, a thumbnail) the toolbar, then the legend and the
        axis titles, give way to the plot."""
        h = self.height() / max(self._scale, 0.1)
        self.toolbar.setVisible(h >= 150)
        compact = h < 100
        self.legend.setVisible(not compact)
        if compact != self.compact:
            self.compact = compact
            self.axes.show_labels(not compact)
            self._mark_quality()
        self.badge.place()

    def _mark_quality(self) -> None:
        """Without a legend the trend itself carries its worst pen's quality (outline and
        badge, as any widget), so a Bad or stale pen never looks good."""
        css = "good"
        qualities = [p.binding.quality for p in self.traces.values() if p.binding is not None]
        if self.compact and qualities:
            css = min(qualities, key=lambda q: q.level).css_name
        if set_style_property(self, "quality", css):
            self.badge.set_state(css)
            self.redress()

    def release(self) -> None:
        """Unbind every pen and stop drawing and asking; idempotent."""
        if self._released:
            return
        self._released = True
        self.frame_timer.stop()
        self._debounce.stop()
        for pen in self.traces.values():
            if pen.binding is not None:
                pen.binding.release()
        if self.backfill is not None:
            self.backfill.close()
