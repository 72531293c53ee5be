"""What every screen widget shares, composed in rather than inherited: one ``TagBinding`` per
bound tag (last value, ``quality`` property, tooltip, quality badge) and a few style helpers;
the one thing inherited is ``BoundHost``, through which a widget's own resize and hover events
reach its bindings.

The quality convention lives in the theme (``resources/theme/isa101.qss``, its colours worn
through ``hmi.widgets.theme``); this module sets the ``quality`` property, asks the host to
dress for it (``redress``: outline, greyed text) and draws the badge, whose shape (not only
colour) tells uncertain ("?", hollow) from bad or disconnected (cross, solid).

The badge, like every screen widget, is painted by Qt alone (``hmi.widgets.picture``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import shiboken6
from PySide6.QtCore import Property, QEvent, QObject, QPointF, QRectF, Qt, Slot
from PySide6.QtGui import QColor, QEnterEvent, QFont, QPainter, QPen, QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.errors import HmiError
from hmi.model.quality import Quality, QualityLevel, QualityReason
from hmi.model.screens.schema import StateLook
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.qt_bridge import Binding
from hmi.widgets.context import WidgetContext
from hmi.widgets.picture import CornerMark, PixmapCache
from hmi.widgets.theme import chrome
from hmi.widgets.theme.selectors import restyle

log = logging.getLogger(__name__)
_RESIZE_DUE = Qt.WidgetAttribute.WA_PendingResizeEvent
_TOOLTIP = QEvent.Type.ToolTip
_BINDINGS = "_hmi_bindings"  # a host's TagBindings, kept on its Python wrapper (BoundHost)
_EXPRESSION_BAD = "_hmi_expression_bad"  # kept on the Python wrapper (mark_expression)

NO_VALUE = "----"
MIN_FONT_PX = 9
"""No text on a screen is drawn smaller than this, whatever the scale: at 1366×768 a
1920×1080 screen is scaled to 0.62, which would put an 11 px caption at 7 px. The geometry
still scales (the whole screen stays in view, nothing to pan to); only fonts stop at the floor,
so screen files leave room for small text to grow (the demo is checked at 1366×768)."""


def screen_font_px(design_px: float, scale: float) -> int:
    """A design font size in screen pixels at ``scale``, never under ``MIN_FONT_PX``."""
    return max(MIN_FONT_PX, round(design_px * scale))


BADGE_PX = 14.0  # design size of the quality badge


def resize_due(widget: QWidget) -> bool:
    """Qt will send ``widget`` a resize event before it is first shown (made or placed while
    hidden): size-bound work (outlines, parts' geometry) waits for it, not done twice."""
    return widget.testAttribute(_RESIZE_DUE)


def repolish(widget: QWidget, *, children: bool = True) -> None:
    """Re-apply the style sheet after a dynamic property changed (children too, for rules
    such as ``SetpointWidget[quality="bad"] QLineEdit``). A widget not yet polished is left
    alone: its first polish reads the property, and polishing early would drop its font."""
    for each in (widget, *(widget.findChildren(QWidget) if children else ())):
        if not each.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
            continue
        # polish() alone matches the rules again (it drops the widget's cached ones, as Qt's
        # own re-polish after a style-sheet change does; an unpolish() first costs a third
        # more for nothing). It restores the font the widget had when first styled, undoing
        # the canvas's scaling: keep the current one across the re-polish.
        font = each.font()
        each.style().polish(each)
        each.setFont(font)
        each.update()


def mark_expression(widget: QWidget, bad: bool) -> bool:
    """Whether ``widget``'s ``visible:`` expression cannot be evaluated: its ``expression``
    property and, for ``expression_bad`` to read while dressing, an attribute. True: changed."""
    widget.__dict__[_EXPRESSION_BAD] = bad
    return set_style_property(widget, "expression", "bad" if bad else "good")


def expression_bad(widget: QWidget) -> bool:
    """``mark_expression``'s last word (False for a widget with no ``visible:`` rule), read
    without asking Qt for the property: a widget's look is computed at every change."""
    return bool(widget.__dict__.get(_EXPRESSION_BAD, False))


def set_style_property(widget: QWidget, name: str, value: str) -> bool:
    """Set a dynamic property the style sheet may select on; re-polish only when it changed,
    and only what a rule of the style sheet reads it for (``hmi.widgets.theme.selectors``)."""
    if widget.property(name) == value:
        return False
    widget.setProperty(name, value)
    needs = restyle(widget, name)
    if needs.widget:
        repolish(widget, children=needs.children)
    return True


def scale_font(widget: QWidget, design_px: float, scale: float, *, bold: bool = False) -> None:
    font = QFont(widget.font())
    font.setPixelSize(screen_font_px(design_px, scale))
    font.setBold(bold)
    widget.setFont(font)


def color_property(name: str, default: str, *, changed: str = "update") -> Property:
    """A QColor Qt property the theme sets with ``qproperty-<name>``; kept in ``self._colors``.
    The method named ``changed`` runs when the colour really changes (each re-polish sets it
    again, mostly to the same colour)."""
    fallback = QColor(default)

    def getter(self: Any) -> QColor:
        return QColor(self._colors.get(name, fallback))

    def setter(self: Any, color: QColor) -> None:
        if color == self._colors.get(name, fallback):
            return
        self._colors[name] = QColor(color)
        getattr(self, changed)()

    return Property(QColor, getter, setter)


def origin(ctx: WidgetContext, widget_id: str | None) -> str:
    """Where a command came from, for the audit trail: ``<screen>/<widget id>``."""
    return f"{ctx.screen_id}/{widget_id or ''}"


def _same(row: object, value: object) -> bool:
    numbers = (bool, int, float)
    if isinstance(row, numbers) and isinstance(value, numbers):
        return float(row) == float(value)
    return str(row) == str(value)


def match_state(states: Iterable[StateLook], value: Any) -> StateLook | None:
    """The first row of a multi-state table whose value equals ``value`` (1 == 1.0 == True)."""
    if value is None:
        return None
    for row in states:
        if _same(row.value, value):
            return row
    return None


def local_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def quality_text(quality: Quality) -> str:
    if quality.is_good and quality.reason is QualityReason.NONE:
        return "Good"
    return f"{quality.level.name.title()} — {quality.reason.value}"


def paint_badge(
    painter: QPainter, box: QRectF, state: str, mark: QColor, glyph: QColor, font: QFont
) -> None:
    """The badge of a quality state ("uncertain", else bad) in ``box``."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    box = box.adjusted(0.5, 0.5, -0.5, -0.5)
    pen_width = max(1.0, box.width() / 8)
    if state == "uncertain":
        painter.setPen(QPen(mark, pen_width))
        painter.setBrush(glyph)
        painter.drawRect(box.adjusted(pen_width / 2, pen_width / 2, -pen_width / 2, -pen_width / 2))
        font = QFont(font)
        font.setPixelSize(max(6, round(box.height() * 0.85)))
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(mark)
        painter.drawRect(box)
        inset = box.width() * 0.27
        inner = box.adjusted(inset, inset, -inset, -inset)
        pen = QPen(glyph, pen_width * 1.3)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(inner.topLeft(), inner.bottomRight())
        painter.drawLine(QPointF(inner.right(), inner.top()), inner.bottomLeft())


_BADGES = PixmapCache(limit=64)


class QualityBadge(CornerMark):
    """A small marker in the top-right corner of a bound widget: hollow square with "?" for
    uncertain, solid square with a cross for bad/disconnected, nothing for good. Its cached
    picture is chosen when the state, size or colours change."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        colors = chrome.colors()
        self._mark = QColor(colors["untrusted"] if colors else "#c000c0")
        self._glyph = QColor(colors["untrustedGlyph"] if colors else "#ffffff")
        self._shown: tuple[object, ...] | None = None
        self.state = "disconnected"
        self._size = round(BADGE_PX)
        self.resize(self._size, self._size)
        self._show_picture()

    def _get_mark(self) -> QColor:
        return self._mark

    def _set_mark(self, color: QColor) -> None:
        if QColor(color) != self._mark:
            self._mark = QColor(color)
            self._show_picture()

    def _get_glyph(self) -> QColor:
        return self._glyph

    def _set_glyph(self, color: QColor) -> None:
        if QColor(color) != self._glyph:
            self._glyph = QColor(color)
            self._show_picture()

    markColor = Property(QColor, _get_mark, _set_mark)
    glyphColor = Property(QColor, _get_glyph, _set_glyph)

    def set_state(self, css_name: str) -> None:
        self.state = css_name
        self.setVisible(css_name != "good")
        self._show_picture()

    def set_size(self, size: int) -> None:
        self._size = max(8, size)
        self.place()

    def place(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        size = min(self._size, max(8, host.height() - 2))
        self.setGeometry(host.width() - size - 1, 1, size, size)
        self.raise_()
        self._show_picture()

    def _show_picture(self) -> None:
        if self.state == "good":
            return
        look = "uncertain" if self.state == "uncertain" else "bad"
        font = self.font()
        width, height, dpr = self.width(), self.height(), self.devicePixelRatioF()
        key = (
            look,
            self._mark.rgba(),
            self._glyph.rgba(),
            font.family() if look == "uncertain" else "",
        )
        if (key, width, height, dpr) == self._shown:
            return
        self._shown = (key, width, height, dpr)
        mark, glyph, box = QColor(self._mark), QColor(self._glyph), QRectF(0, 0, width, height)
        self.show_picture(
            _BADGES.get(
                key,
                width,
                height,
                dpr,
                lambda painter: paint_badge(painter, box, look, mark, glyph, font),
            )
        )


class BoundHost:
    """What a widget whose tags a ``TagBinding`` binds is, before its Qt class
    (``class ValueWidget(BoundHost, QLabel)``): its own resize and hover events tell its
    bindings (dress again for the new size, place the marks; a tooltip asked while the mouse
    is over it), rather than an event filter of each binding, which would run Python for
    every event of the widget, paints included (12 on a first show alone)."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)  # type: ignore[misc]
        for binding in self.__dict__.get(_BINDINGS, ()):
            binding.host_resized()

    def enterEvent(self, event: QEnterEvent) -> None:
        for binding in self.__dict__.get(_BINDINGS, ()):
            binding.host_entered()
        super().enterEvent(event)  # type: ignore[misc]

    def leaveEvent(self, event: QEvent) -> None:
        for binding in self.__dict__.get(_BINDINGS, ()):
            binding.host_left()
        super().leaveEvent(event)  # type: ignore[misc]


class BoundLabel(BoundHost, QLabel):
    """A plain label whose tag a ``TagBinding`` binds (a trend pen's value)."""


class TagBinding(QObject):
    """One bound tag of one widget: ``TagBinding(...)``, assign it, then ``.bind()``. Keeps the
    last ``TagValue``, sets the host's ``quality`` property (re-polish only on change), fills
    the tooltip when it is asked for, shows the quality badge (and, given ``ctx.alarms``, the
    alarm mark in the opposite corner), then hands the value to the widget's own ``on_value``.

    A tag the project does not know, or one whose driver cannot be made, shows as
    Bad(ConfigError) with the reason in the tooltip instead of breaking the whole screen.
    """

    def __init__(
        self,
        host: QWidget,
        ctx: WidgetContext,
        tag: str,
        on_value: Callable[[TagValue], None],
        *,
        note: str = "",
    ) -> None:
        if not isinstance(host, BoundHost):  # before anything is made on it
            raise TypeError(f"{type(host).__name__} binds a tag but is no BoundHost")
        super().__init__(host)
        self.host = host
        self._ctx = ctx
        self.tag = tag
        self.note = note
        self.config: TagConfig | None = ctx.tags.get(tag)
        self.value = TagValue.initial()
        self.problem = ""
        self._formatted: dict[str, TagConfig] = {}
        self._on_value = on_value
        self._binding: Binding | None = None
        self.refusal: str | None = None  # why this user may not write the tag now (watch_access)
        self._access: Callable[[], None] | None = None
        self.badge = QualityBadge(host)
        self.alarm_mark = ctx.alarms.attach(host, tag) if ctx.alarms is not None else None
        host.setProperty("quality", "disconnected")
        self._css = "disconnected"  # the host's "quality": not read back at every value
        self._redress: Callable[[], None] | None = None
        self._redress_on_resize = True
        host.__dict__.setdefault(_BINDINGS, []).append(self)

    def bind(self) -> TagBinding:
        """Subscribe; the current value arrives at once, so call this once the widget's
        ``binding`` attribute is set."""
        if self._binding is not None or self.problem:
            return self
        try:
            if self.config is None:
                raise HmiError(f"unknown tag {self.tag!r}: the project defines no such tag")
            self._binding = self._ctx.bridge.bind(self.tag, self._deliver)
        except HmiError as exc:
            log.warning("widget on %s cannot bind: %s", self.tag, exc)
            self.problem = str(exc)
            self._deliver(
                TagValue(None, Quality.bad(QualityReason.CONFIG_ERROR), None, time.time())
            )
        return self

    def dress_with(self, redress: Callable[[], None], *, on_resize: bool = True) -> None:
        """Once the host is built, with a theme: dress it (now, or at the resize event Qt sends
        it before it is first shown: its size is not known before), and again on every change
        of quality and (``on_resize``; else the host's own ``resizeEvent`` does) of size: an
        outline is a picture of the host's size."""
        if chrome.colors() is not None:
            self._redress = redress
            self._redress_on_resize = on_resize
            if not resize_due(self.host):
                redress()  # else the resize event Qt sends before it is first shown does

    @property
    def css(self) -> str:
        """The quality as the host's ``quality`` property names it (good, uncertain, ...)."""
        return self._css

    @property
    def dressing(self) -> bool:
        """``dress_with`` was called, with a theme: the host is built and dresses itself."""
        return self._redress is not None

    def watch_access(self, changed: Callable[[], None]) -> None:
        """A writing widget's ``refusal`` (why the user here may not write now; None: they may),
        kept at every login, logout, lock and unlock, then ``changed``; the tooltip leads with it."""
        self._access = changed
        self.refusal = self._ctx.bridge.write_refusal(self.tag)
        self._ctx.bridge.access_changed.connect(self._on_access)

    @Slot()  # a slot of the class: connecting it costs a third of a plain method's
    def _on_access(self) -> None:
        if not shiboken6.isValid(self.host) or self._access is None:
            return
        self.refusal = self._ctx.bridge.write_refusal(self.tag)
        self._access()

    @property
    def writable_now(self) -> bool:
        """The tag is writable, this user may write it, and its value is usable."""
        config = self.config
        return config is not None and config.writable and self.refusal is None and self.usable

    @property
    def quality(self) -> Quality:
        return self.value.quality

    @property
    def usable(self) -> bool:
        """Received, and not Bad: what write widgets require to be enabled."""
        return self.value.quality.level is not QualityLevel.BAD

    def display(self, value: Any = None, *, units: bool = True, fmt: str | None = None) -> str:
        """``value`` (default: the last one) as the tag shows it, with an optional format."""
        shown = self.value.value if value is None else value
        if self.config is None:
            return NO_VALUE if shown is None else str(shown)
        config = self.config
        if fmt:
            config = self._formatted.get(fmt) or self._formatted.setdefault(
                fmt, config.model_copy(update={"format": fmt})
            )
        return config.display(shown, units=units)

    def _deliver(self, value: TagValue) -> None:
        if not shiboken6.isValid(self.host):
            self.release()
            return
        self.value = value
        css = value.quality.css_name
        if css != self._css:
            self._css = css
            if set_style_property(self.host, "quality", css):
                self.badge.set_state(css)
                if self._redress is not None:
                    self._redress()
        self._on_value(value)

    def tooltip_text(self) -> str:
        lines = [f"Not available: {self.refusal}"] if self.refusal else []
        if self.note:
            lines.append(self.note)
        config = self.config
        lines.append(
            f"{self.tag} — {config.description}" if config and config.description else self.tag
        )
        if config is not None:
            lines.append(str(config.address))
        if self.problem:
            lines.append(self.problem)
        lines.append(f"Value: {self.display()}")
        lines.append(f"Quality: {quality_text(self.value.quality)}")
        if self.value.detail:
            lines.append(self.value.detail)
        lines.append(f"Source time: {local_time(self.value.source_time)}")
        lines.append(f"Received: {local_time(self.value.receive_time)}")
        if self._ctx.alarms is not None:
            lines.extend(self._ctx.alarms.describe(self.tag))
        return "\n".join(lines)

    def host_resized(self) -> None:
        """The host's ``resizeEvent`` (``BoundHost``): an outline is a picture of its size,
        the marks sit in its corners."""
        if self._redress is not None and self._redress_on_resize:
            self._redress()
        self.badge.place()
        if self.alarm_mark is not None:
            self.alarm_mark.place()

    def host_entered(self) -> None:
        """The mouse is over the host: its tooltip, when asked, is made then (the value, its
        quality and times as they are at that moment)."""
        self.host.installEventFilter(self)

    def host_left(self) -> None:  # the host's leaveEvent
        self.host.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.host and event.type() == _TOOLTIP:
            self.host.setToolTip(self.tooltip_text())
        return False

    def apply_scale(self, scale: float) -> None:
        self.badge.set_size(round(BADGE_PX * scale))
        if self.alarm_mark is not None:
            self.alarm_mark.set_size(round(BADGE_PX * scale))

    def release(self) -> None:
        """End the subscription; idempotent."""
        if self._access is not None:
            self._access = None
            self._ctx.bridge.access_changed.disconnect(self._on_access)
        if self._binding is not None:
            self._binding.release()
            self._binding = None
        if self.alarm_mark is not None and self._ctx.alarms is not None:
            self._ctx.alarms.detach(self.alarm_mark, self.tag)
            self.alarm_mark = None
