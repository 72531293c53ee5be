"""Texts drawn by table delegates, laid out once: ``QPainter.drawText`` into a rectangle lays
its text out again on every call (about 45 µs a cell, plus 12 µs to elide it), so a repaint of
an alarm table cost 15-30 ms of the UI thread. ``CellTexts`` keeps a prepared ``QStaticText``
per text, room and font (elided to its room, or wrapped in it) and draws it in about 11 µs."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QStaticText, QTextOption, QTransform

__all__ = ["CellTexts"]


class CellTexts:
    """Draws a cell's text, vertically centred, left or right aligned; elided (``elide``) in
    one line, or wrapped to the room's width (``wrap``; ``height`` says how tall). Holds at most ``limit`` layouts per
    font (then starts over)."""

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
        width = room.width()
        if width <= 0 or not text:
            return
        entry = self._laid(text, width, font, wrap, elide)
        x = room.x() + (width - entry.width if right else 0)
        y = room.y() + (room.height() - entry.height) // 2
        painter.setFont(font)
        painter.drawStaticText(x, y, entry.static)

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
    __slots__ = ("height", "static", "width")

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
        shown = text if wrap else metrics.elidedText(text, elide, width)
        static = QStaticText(shown)
        static.setTextFormat(Qt.TextFormat.PlainText)
        if wrap:  # as Qt's item views wrap: at words, a word longer than the room anywhere
            option = QTextOption()
            option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
            static.setTextOption(option)
            static.setTextWidth(width)
        static.prepare(QTransform(), font)
        size = static.size()
        self.static = static
        self.width = round(size.width())
        self.height = round(size.height())
