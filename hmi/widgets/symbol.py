"""A P&ID symbol (built-in or an SVG in the project) coloured by the state of a tag.

The SVG is drawn once per (file, colours, size, rotation) into a shared cached picture, when
the look, the colours, the quality outline or the size change, and shown as the label's
pixmap: Qt paints the symbol without Python (see ``hmi.widgets.picture``). The theme's quality
outline (``hmi.widgets.theme.dress``) is drawn into the same picture, round its edge, rather than
worn as a background of its own: a symbol has no fill, so that background was a picture of the
widget's size blended over every pixel of it at each paint, beside a palette and margins of its
own (about 60k instructions a symbol on a screen's first paint)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Property, QByteArray, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QResizeEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.errors import HmiError
from hmi.model.screens.schema import Look, SymbolSpec
from hmi.model.value import TagValue
from hmi.resources import BUILTIN_SYMBOLS, symbol_path
from hmi.widgets.base import (
    BoundHost,
    TagBinding,
    color_property,
    expression_bad,
    match_state,
    set_style_property,
)
from hmi.widgets.context import WidgetContext
from hmi.widgets.picture import PixmapCache
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, Line, paint_dress, quality_line

log = logging.getLogger(__name__)

FILL_TOKEN = "#FILL"
STROKE_TOKEN = "#STROKE"
MARK_TOKEN = "#MARK"
INSET = 3  # px between the widget's edge (its quality outline) and the symbol
BROKEN = "#c000c0"
THEME_COLORS = {
    "normalFill": "symbolNormalFill",
    "activeFill": "symbolActiveFill",
    "transitionFill": "symbolTransitionFill",
    "abnormalFill": "symbolAbnormalFill",
    "alarmFill": "symbolAlarmFill",
    "disabledFill": "symbolDisabledFill",
    "strokeColor": "symbolStroke",
    "disabledStroke": "symbolDisabledStroke",
    "contrastMark": "symbolContrastMark",
}
"""The widget's colour properties and the theme's colours they start from."""

_PICTURES = PixmapCache(limit=256)


@functools.lru_cache(maxsize=64)
def _svg_text(path: str, mtime_ns: int) -> str:
    return Path(path).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=512)
def _renderer(path: str, mtime_ns: int, fill: str, stroke: str, mark: str) -> QSvgRenderer:
    """One renderer per (file version, colours): shared by every widget showing that look."""
    text = _svg_text(path, mtime_ns)
    text = text.replace(FILL_TOKEN, fill).replace(STROKE_TOKEN, stroke).replace(MARK_TOKEN, mark)
    renderer = QSvgRenderer(QByteArray(text.encode("utf-8")))
    renderer.setAspectRatioMode(
        Qt.AspectRatioMode.IgnoreAspectRatio
        if 'preserveAspectRatio="none"' in text
        else Qt.AspectRatioMode.KeepAspectRatio
    )
    return renderer


def paint_symbol(
    painter: QPainter, box: QRectF, renderer: QSvgRenderer, rotation: int, mirror: bool
) -> None:
    """The SVG inside ``box``, turned and mirrored about its centre."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    turned = rotation in (90, 270)
    size = QSizeF(box.height(), box.width()) if turned else box.size()
    if renderer.aspectRatioMode() == Qt.AspectRatioMode.KeepAspectRatio:
        size = renderer.viewBoxF().size().scaled(size, Qt.AspectRatioMode.KeepAspectRatio)
    painter.translate(box.center())
    painter.rotate(rotation)
    if mirror:
        painter.scale(-1, 1)
    renderer.render(painter, QRectF(-size.width() / 2, -size.height() / 2, *size.toTuple()))


def _outlined(
    painter: QPainter, paint: Callable[[QPainter], None], line: Line, width: int, height: int
) -> None:
    """The quality outline round a ``width`` x ``height`` picture, then the picture."""
    paint_dress(painter, width, height, Dress(line=line))
    painter.save()
    paint(painter)
    painter.restore()


def paint_broken(painter: QPainter, box: QRectF, font: QFont) -> None:
    """A dashed magenta box with "?": the symbol file is missing or unreadable."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(BROKEN), 2, Qt.PenStyle.DashLine))
    painter.setFont(font)
    painter.drawRect(box)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")


def _look_color(name: str, default: str) -> Property:
    return color_property(name, default, changed="_show_picture")


class SymbolWidget(BoundHost, QLabel):
    """The SVG's ``#FILL`` and ``#STROKE`` placeholders take the colours of the current look,
    which start from the theme's ``symbol<Look>Fill``, ``symbolStroke`` and
    ``symbolDisabledStroke`` (``THEME_COLORS``); ``#MARK`` (a letter, an impeller) takes the stroke colour on a
    light fill and ``qproperty-contrastMark`` on a dark one.

    Without a tag the look is ``normal``; with a tag and no states a non-zero value is
    ``active``, zero ``normal``; a value in no state row is ``abnormal``."""

    normalFill = _look_color("normalFill", "#e6e6e6")
    activeFill = _look_color("activeFill", "#4a4a4a")
    transitionFill = _look_color("transitionFill", "#a0a0a0")
    abnormalFill = _look_color("abnormalFill", "#7fa3d9")
    alarmFill = _look_color("alarmFill", "#e00000")
    disabledFill = _look_color("disabledFill", "#d4d4d4")
    strokeColor = _look_color("strokeColor", "#2e2e2e")
    disabledStroke = _look_color("disabledStroke", "#9a9a9a")
    contrastMark = _look_color("contrastMark", "#f2f2f2")

    def __init__(self, spec: SymbolSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        colors = chrome.colors()
        self._colors: dict[str, QColor] = dict(colors.subset(THEME_COLORS)) if colors else {}
        self._line: Line | None = None  # the quality outline, drawn round the picture
        self._sized = False  # no picture before the first resize event: the size is not known
        self._shown: tuple[object, ...] | None = None
        self.problem = ""
        self.setProperty("look", Look.NORMAL.value)
        self.path = self._locate(spec.symbol, ctx.project_root)
        if spec.tooltip:
            self.setToolTip(spec.tooltip)
        self.binding: TagBinding | None = None
        if spec.tag:
            self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
            self.binding.bind()
            self.binding.dress_with(self.redress, on_resize=False)  # resizeEvent does

    def redress(self) -> None:
        """The picture, with the theme the quality's outline around it (drawn into it)."""
        colors = chrome.colors()
        if colors is not None:
            quality = self.binding.css if self.binding is not None else "good"
            self._line = quality_line(colors, quality, expression_bad(self))
        self._show_picture()

    def _locate(self, name: str, project_root: Path) -> Path | None:
        try:
            if name in BUILTIN_SYMBOLS:
                return symbol_path(name)
            path = project_root / name
            if not path.is_file():
                raise FileNotFoundError(f"symbol file not found: {path}")
            return path
        except (OSError, HmiError) as exc:
            self.problem = str(exc)
        log.warning("symbol %r: %s", name, self.problem)
        self.setProperty("broken", "true")
        self.setToolTip(self.problem)
        return None

    @property
    def look(self) -> Look:
        return Look(self.property("look"))

    def look_for(self, value: object) -> Look:
        if value is None:
            return Look.NORMAL
        if self.spec.states:
            row = match_state(self.spec.states, value)
            return row.look if row is not None else Look.ABNORMAL
        if isinstance(value, (bool, int, float)):
            return Look.ACTIVE if value else Look.NORMAL
        return Look.ABNORMAL

    def _on_value(self, value: TagValue) -> None:
        changed = set_style_property(self, "look", self.look_for(value.value).value)
        if changed:  # the outline follows the quality through redress
            self._show_picture()

    def colors(self, look: Look | None = None) -> tuple[str, str, str]:
        """(fill, stroke, mark) of a look as the theme sets them."""
        look = look or self.look
        fill: QColor = getattr(self, f"{look.value}Fill")
        stroke: QColor = self.disabledStroke if look is Look.DISABLED else self.strokeColor
        mark = self.contrastMark if fill.lightnessF() < 0.45 else stroke
        hex_rgb = QColor.NameFormat.HexRgb
        return fill.name(hex_rgb), stroke.name(hex_rgb), mark.name(hex_rgb)

    def renderer(self) -> QSvgRenderer | None:
        return self._renderer_for(self._source())

    def _source(self) -> tuple[str, int, str, str, str] | None:
        """What the picture is made of: (file, its version, fill, stroke, mark)."""
        if self.path is None:
            return None
        try:
            return (str(self.path), self.path.stat().st_mtime_ns, *self.colors())
        except OSError as exc:
            self.problem = str(exc)
            return None

    def _renderer_for(self, source: tuple[str, int, str, str, str] | None) -> QSvgRenderer | None:
        if source is None:
            return None
        try:
            return _renderer(*source)
        except (OSError, UnicodeDecodeError) as exc:
            self.problem = str(exc)
            return None

    def apply_scale(self, scale: float) -> None:
        if self.binding is not None:
            self.binding.apply_scale(scale)

    def release(self) -> None:
        if self.binding is not None:
            self.binding.release()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._sized = True
        self.redress()  # once: the picture is worked out (and its memo looked up) only here

    # -- the picture (Python runs here, on look, colour and size changes; never while painting)

    def _show_picture(self) -> None:
        """The pixmap fills the contents rect (inside the theme's outline); the symbol sits
        ``INSET`` px inside the widget's edge."""
        if not self._sized:
            return
        area = self.contentsRect()
        if area.isEmpty():
            self._shown = None
            self.clear()
            return
        box = QRectF(self.rect()).adjusted(INSET, INSET, -INSET, -INSET)
        box.translate(-area.x(), -area.y())
        source = self._source()
        renderer = self._renderer_for(source)
        paint: Callable[[QPainter], None]
        if renderer is not None and renderer.isValid():
            rotation, mirror = self.spec.rotation, self.spec.mirror
            key: tuple[object, ...] = (source, rotation, mirror, box.getRect())
            paint = functools.partial(
                paint_symbol, box=box, renderer=renderer, rotation=rotation, mirror=mirror
            )
        else:
            font = QFont(self.font())
            key = ("broken", font.key(), box.getRect())
            paint = functools.partial(paint_broken, box=box, font=font)
        line = self._line
        if line is not None:  # round the widget's edge, as a worn outline would be
            paint = functools.partial(
                _outlined, paint=paint, line=line, width=area.width(), height=area.height()
            )
        shown = ((key, line), area.width(), area.height(), self.devicePixelRatioF())
        if shown == self._shown:
            return
        self._shown = shown
        self.setPixmap(_PICTURES.get(*shown, paint))
