"""A screen widget's look as Qt paints it alone: a palette, and for an outline a cached picture.

A ``Dress`` is a fill, a text colour and an optional line around the widget (solid, dotted or
dashed; all round or along the bottom). ``put_on`` gives the widget a shared ``QPalette``:
the fill as the background brush Qt fills the widget with (``autoFillBackground``), the text as
its foreground. With a line the brush is a picture of the widget's size, fill and line drawn
once per (dress, size, pixel ratio) into a shared cache. So a quality outline, a writable
value's underline or a group's frame costs no Python while painting, as the pictures of
``hmi.widgets.picture`` do, and a change of look is one ``setPalette`` instead of the style
sheet's re-polish.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Literal, NamedTuple

from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

from hmi.widgets.picture import EVERY_ROLE, PixmapCache
from hmi.widgets.theme.colors import ScreenColors

__all__ = [
    "Dress",
    "Line",
    "dress_for",
    "frame_indent",
    "paint_dress",
    "palette_of",
    "picture_of",
    "put_on",
    "quality_line",
]

Stroke = Literal["solid", "dotted", "dashed"]
_PEN = {
    "solid": Qt.PenStyle.SolidLine,
    "dotted": Qt.PenStyle.DotLine,
    "dashed": Qt.PenStyle.DashLine,
}


class Line(NamedTuple):
    """A line along the widget's edges: ``rgba`` colour, ``width`` px, all round or only the
    bottom edge. A tuple: a key of the caches, hashed in C."""

    rgba: int
    width: int = 2
    stroke: Stroke = "solid"
    bottom_only: bool = False


class Dress(NamedTuple):
    """What a widget looks like: fill and text colours (``None``: none of its own), a line,
    and what a style fills a pressed button's panel with (``None``: the fill). Colours as
    ``QColor.rgba()`` numbers, so a dress is a key of the caches."""

    fill: int | None = None
    text: int | None = None
    line: Line | None = None
    pressed: int | None = None


_INDENTS: dict[tuple[str, int, bool], int] = {}  # by font: measuring text is not free


def frame_indent(label: QLabel) -> int:
    """What a ``QLabel`` keeps between its text and its aligned edge when it has a frame
    (half an "x"), as it did inside the style sheet's border: set with ``setIndent``."""
    font = label.font()
    key = (font.family(), font.pixelSize(), font.bold())
    found = _INDENTS.get(key)
    if found is None:
        found = _INDENTS[key] = label.fontMetrics().horizontalAdvance("x") // 2
    return found


def quality_line(colors: ScreenColors, css: str, expression_bad: bool = False) -> Line | None:
    """The quality convention's outline: dotted for uncertain, dashed for bad, disconnected
    or a ``visible:`` expression that cannot be evaluated; none for good."""
    if expression_bad or css in ("bad", "disconnected"):
        return Line(colors.rgba("untrusted"), 2, "dashed")
    if css == "uncertain":
        return Line(colors.rgba("untrusted"), 2, "dotted")
    return None


def paint_dress(painter: QPainter, width: int, height: int, dress: Dress) -> None:
    """The fill and the line of ``dress`` in a ``width`` x ``height`` picture."""
    if dress.fill is not None:
        painter.fillRect(0, 0, width, height, QColor.fromRgba(dress.fill))
    line = dress.line
    if line is None or line.width <= 0:
        return
    pen = QPen(QColor.fromRgba(line.rgba), line.width, _PEN[line.stroke])
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    # each edge on its own, from its top or left end, as Qt's style sheets draw borders: a
    # dash or dot starts in every corner and the pattern does not creep round the frame
    half = line.width / 2
    bottom = QLineF(0, height - half, width, height - half)
    if line.bottom_only:
        painter.drawLine(bottom)
        return
    painter.drawLine(QLineF(0, half, width, half))
    painter.drawLine(QLineF(half, 0, half, height))
    painter.drawLine(QLineF(width - half, 0, width - half, height))
    painter.drawLine(bottom)


_PICTURES = PixmapCache(limit=512)
_PALETTES: OrderedDict[tuple[object, ...], QPalette] = OrderedDict()
_PALETTE_LIMIT = 1024
_BARE = Dress()
_WORN = "_hmi_dress"  # the key of what a widget wears, kept on its Python wrapper
_SIZED = Qt.WidgetAttribute.WA_Resized  # placed by its parent (a canvas sets every geometry)


_DRESSES: dict[tuple[object, ...], Dress] = {}
_DRESS_LIMIT = 4096


def dress_for(colors: ScreenColors, state: tuple[object, ...], make: Callable[[], Dress]) -> Dress:
    """The dress of a widget ``state`` (its class, look, quality, ...) in ``colors``, worked out
    by ``make`` once for every widget in that state: asking Qt for colours and building lines
    cost more than the lookup (an indicator's look: 14 us, a screen has hundreds)."""
    key = (colors, *state)
    found = _DRESSES.get(key)
    if found is None:
        if len(_DRESSES) >= _DRESS_LIMIT:
            _DRESSES.clear()
        found = _DRESSES[key] = make()
    return found


def picture_of(dress: Dress, width: int, height: int, dpr: float) -> QPixmap:
    """The fill and line of ``dress`` at that size, drawn once and shared."""
    return _PICTURES.get(
        dress, width, height, dpr, lambda painter: paint_dress(painter, width, height, dress)
    )


def palette_of(dress: Dress, width: int, height: int, dpr: float) -> QPalette:
    """The shared palette of ``dress`` for a widget of that size (``put_on`` sets it)."""
    return _palette(dress, width, height, dpr)


def _palette(dress: Dress, width: int, height: int, dpr: float) -> QPalette:
    key = (dress, width, height, dpr) if dress.line is not None else (dress,)
    found = _PALETTES.get(key)
    if found is not None:
        _PALETTES.move_to_end(key)
        return found
    palette = QPalette()
    if dress.line is not None:
        picture = picture_of(dress, width, height, dpr)
        palette.setBrush(QPalette.ColorRole.Window, QBrush(picture))
        panel = dress.fill if dress.pressed is None else dress.pressed
        if panel is not None:  # what a style fills a pressed button's panel with
            palette.setColor(QPalette.ColorRole.Button, QColor.fromRgba(panel))
    elif dress.fill is not None:
        palette.setColor(QPalette.ColorRole.Window, QColor.fromRgba(dress.fill))
    if dress.text is not None:
        text = QColor.fromRgba(dress.text)
        for role in (
            QPalette.ColorRole.WindowText,
            QPalette.ColorRole.Text,
            QPalette.ColorRole.ButtonText,
        ):
            palette.setColor(role, text)
    # every role its own (those not set: the application's, as a parent would give them), so
    # Qt wears it as it is: no palette resolved against the parent's for each widget
    palette.setResolveMask(EVERY_ROLE)
    _PALETTES[key] = palette
    if len(_PALETTES) > _PALETTE_LIMIT:
        _PALETTES.popitem(last=False)
    return palette


def put_on(widget: QWidget, dress: Dress) -> bool:
    """Dress ``widget`` (again after a resize: an outline's picture has the widget's size);
    nothing happens when it already wears exactly that. True when it changed."""
    if dress.line is None:
        key: tuple[object, ...] = (dress,)
        width = height = 0
        dpr = 1.0
    else:
        width, height = widget.width(), widget.height()
        if width <= 0 or height <= 0 or not widget.testAttribute(_SIZED):
            return False  # not placed yet: its first resize dresses it (TagBinding, resizeEvent)
        dpr = widget.devicePixelRatioF()
        key = (dress, width, height, dpr)
    worn = widget.__dict__.get(_WORN)  # a miss through getattr asks Qt's meta-object: 1.5 us
    if worn == key or (worn is None and dress == _BARE):
        return False  # the same, or nothing to put on a widget that wears nothing of ours
    widget.__dict__[_WORN] = key
    fills = dress.fill is not None or dress.line is not None
    filled = worn is not None and (worn[0].fill is not None or worn[0].line is not None)
    if filled != fills:
        widget.setAutoFillBackground(fills)
    widget.setPalette(_palette(dress, width, height, dpr))
    return True
