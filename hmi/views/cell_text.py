"""Texts drawn by table delegates, laid out once they repeat: ``QPainter.drawText`` into a
rectangle lays its text out again on every call (about 40 µs a cell, plus 10 µs to elide it),
so a repaint of an alarm table cost 15-30 ms of the UI thread. A prepared ``QStaticText`` draws
in about 6 µs, but making one costs about 110 µs: in a flood most texts are new and drawn once
or twice before they scroll away. So ``CellTexts`` draws a one-line text the first time with
``drawText`` (its elided form and size kept) and lays it out as a ``QStaticText`` the second
time it is drawn (a wrapped text is laid out at once): a page that repaints (the blink, a scroll) draws from prepared texts, and a
page of new rows costs what ``drawText`` costs, not three times that."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QStaticText, QTextOption, QTransform

__all__ = ["CellTexts"]

_LINE = int(Qt.AlignmentFlag.AlignLeft.value) | int(Qt.AlignmentFlag.AlignTop.value)


class CellTexts:
    """Draws a cell's text, vertically centred, left or right aligned; elided (``elide``) in
    one line, or wrapped to the room's width (``wrap``; ``height`` says how tall). Holds at
    most ``limit`` texts per font (then starts over)."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._fonts: dict[str, tuple[QFontMetrics, dict[tuple[str, int, int], _Laid]]] = {}
        self._font: QFont | None = None
        self._known: tuple[QFontMetrics, dict[tuple[str, int, int], _Laid]] = (
            QFontMetrics(QFont()),
            {},
        )

    def draw(
        self,
        painter: QPainter,
        room: QRect,
        text: str,
        font: QFont,
        *,
        right: bool = False,
        wrap: bool = False,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        painter.setFont(font)
        self.draw_in(
            painter, room.x(), room.y(), room.width(), room.height(), text, font,
            right=right, wrap=wrap, elide=elide,
        )  # fmt: skip

    def draw_in(
        self,
        painter: QPainter,
        x: int,
        y: int,
        width: int,
        height: int,
        text: str,
        font: QFont,
        *,
        right: bool = False,
        wrap: bool = False,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        """As ``draw``, in the room at ``x, y`` of ``width, height``, with ``font`` already
        the painter's (a row's cells share it)."""
        if width <= 0 or not text:
            return
        entry = self._laid(text, width, font, wrap, elide)
        if right:
            x += width - entry.width
        y += (height - entry.height) // 2
        static = entry.static
        if static is not None:
            painter.drawStaticText(x, y, static)
        elif entry.drawn:  # the second time: lay it out for every later repaint
            painter.drawStaticText(x, y, entry.prepare(font))
        else:
            entry.drawn = True
            painter.drawText(QRect(x, y, entry.width + 1, entry.height), _LINE, entry.shown)

    def height(self, text: str, width: int, font: QFont) -> int:
        """How tall ``text`` is, wrapped to ``width`` (as ``draw(..., wrap=True)`` lays it)."""
        if width <= 0 or not text:
            return 0
        return self._laid(text, width, font, True, Qt.TextElideMode.ElideRight).height

    def _laid(
        self, text: str, width: int, font: QFont, wrap: bool, elide: Qt.TextElideMode
    ) -> _Laid:
        if font is self._font:  # the caller's font object again: no lookup
            metrics, laid = self._known
        else:
            known = self._fonts.get(font.key())
            if known is None:
                known = self._fonts[font.key()] = (QFontMetrics(font), {})
            self._font, self._known = font, known
            metrics, laid = known
        key = (text, width, -1 if wrap else int(elide.value))
        entry = laid.get(key)
        if entry is None:
            if len(laid) >= self.limit:
                laid.clear()
            entry = laid[key] = _Laid(text, width, font, metrics, wrap=wrap, elide=elide)
        return entry


class _Laid:
    """One text in one room: what is shown (elided to the room, or the whole text to wrap), its
    size, and once it has been drawn twice its prepared ``QStaticText``."""

    __slots__ = ("drawn", "height", "room", "shown", "static", "width", "wrap")

    def __init__(
        self,
        text: str,
        width: int,
        font: QFont,
        metrics: QFontMetrics,
        *,
        wrap: bool,
        elide: Qt.TextElideMode,
    ) -> None:
        self.wrap, self.room = wrap, width
        self.static: QStaticText | None = None
        self.drawn = False
        if wrap:  # laid out at once: drawText has no "at words, else anywhere" wrap
            self.shown = text
            size = self.prepare(font).size()
            self.width, self.height = round(size.width()), round(size.height())
        elif len(text) * metrics.maxWidth() <= width:  # fits for sure: no eliding to measure
            self.shown = text
            self.width, self.height = metrics.horizontalAdvance(text), metrics.height()
        else:
            self.shown = metrics.elidedText(text, elide, width)
            self.width, self.height = metrics.horizontalAdvance(self.shown), metrics.height()

    def prepare(self, font: QFont) -> QStaticText:
        static = QStaticText(self.shown)
        static.setTextFormat(Qt.TextFormat.PlainText)
        if self.wrap:  # as Qt's item views wrap: at words, a word longer than the room anywhere
            option = QTextOption()
            option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
            static.setTextOption(option)
            static.setTextWidth(self.room)
        static.prepare(QTransform(), font)
        self.static = static
        return static
