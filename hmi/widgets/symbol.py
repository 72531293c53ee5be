"""A P&ID symbol (built-in or an SVG in the project) coloured by the state of a tag."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

from hmi.model.errors import HmiError
from hmi.model.screen import Look, SymbolSpec
from hmi.model.value import TagValue
from hmi.resources import BUILTIN_SYMBOLS, symbol_path
from hmi.widgets.base import (
    TagBinding,
    color_property,
    draw_styled_background,
    match_state,
    set_style_property,
)
from hmi.widgets.context import WidgetContext

log = logging.getLogger(__name__)

FILL_TOKEN = "#FILL"
STROKE_TOKEN = "#STROKE"
MARK_TOKEN = "#MARK"


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


class SymbolWidget(QWidget):
    """The SVG's ``#FILL`` and ``#STROKE`` placeholders take the colours of the current look,
    which the theme sets as ``qproperty-<look>Fill``, ``qproperty-strokeColor`` and
    ``qproperty-disabledStroke``; ``#MARK`` (a letter, an impeller) takes the stroke colour on a
    light fill and ``qproperty-contrastMark`` on a dark one.

    Without a tag the look is ``normal``; with a tag and no states a non-zero value is
    ``active``, zero ``normal``; a value in no state row is ``abnormal``."""

    normalFill = color_property("normalFill", "#e6e6e6")
    activeFill = color_property("activeFill", "#4a4a4a")
    transitionFill = color_property("transitionFill", "#a0a0a0")
    abnormalFill = color_property("abnormalFill", "#7fa3d9")
    alarmFill = color_property("alarmFill", "#e00000")
    disabledFill = color_property("disabledFill", "#d4d4d4")
    strokeColor = color_property("strokeColor", "#2e2e2e")
    disabledStroke = color_property("disabledStroke", "#9a9a9a")
    contrastMark = color_property("contrastMark", "#f2f2f2")

    def __init__(self, spec: SymbolSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._colors: dict[str, QColor] = {}
        self.problem = ""
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setProperty("look", Look.NORMAL.value)
        self.path = self._locate(spec.symbol, ctx.project_root)
        if spec.tooltip:
            self.setToolTip(spec.tooltip)
        self.binding: TagBinding | None = None
        if spec.tag:
            self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
            self.binding.bind()

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
        if set_style_property(self, "look", self.look_for(value.value).value):
            self.update()

    def colors(self, look: Look | None = None) -> tuple[str, str, str]:
        """(fill, stroke, mark) of a look as the theme sets them."""
        look = look or self.look
        fill: QColor = getattr(self, f"{look.value}Fill")
        stroke: QColor = self.disabledStroke if look is Look.DISABLED else self.strokeColor
        mark = self.contrastMark if fill.lightnessF() < 0.45 else stroke
        hex_rgb = QColor.NameFormat.HexRgb
        return fill.name(hex_rgb), stroke.name(hex_rgb), mark.name(hex_rgb)

    def renderer(self) -> QSvgRenderer | None:
        if self.path is None:
            return None
        try:
            mtime = self.path.stat().st_mtime_ns
            return _renderer(str(self.path), mtime, *self.colors())
        except (OSError, UnicodeDecodeError) as exc:
            self.problem = str(exc)
            return None

    def apply_scale(self, scale: float) -> None:
        if self.binding is not None:
            self.binding.apply_scale(scale)
        self.update()

    def release(self) -> None:
        if self.binding is not None:
            self.binding.release()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw_styled_background(self, painter)
        box = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        renderer = self.renderer()
        if renderer is None or not renderer.isValid():
            painter.setPen(QPen(QColor("#c000c0"), 2, Qt.PenStyle.DashLine))
            painter.drawRect(box)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")
            painter.end()
            return
        turned = self.spec.rotation in (90, 270)
        size = QSizeF(box.height(), box.width()) if turned else box.size()
        if renderer.aspectRatioMode() == Qt.AspectRatioMode.KeepAspectRatio:
            size = renderer.viewBoxF().size().scaled(size, Qt.AspectRatioMode.KeepAspectRatio)
        painter.translate(box.center())
        painter.rotate(self.spec.rotation)
        if self.spec.mirror:
            painter.scale(-1, 1)
        renderer.render(painter, QRectF(-size.width() / 2, -size.height() / 2, *size.toTuple()))
        painter.end()
