"""The design overlay: a transparent sheet over the screen canvas that takes every mouse and key
event (so nothing reaches the widgets underneath, nor the command service) and draws the design
chrome: a quiet grid, the selection with its handles, alignment guides and the rubber band.

Dragging previews on the canvas and becomes one edit on release; Alt held disables snapping."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QRegion,
)
from PySide6.QtWidgets import QWidget

from hmi.model.design.edits import WidgetPath
from hmi.model.design.geometry import (
    HANDLES,
    Rect,
    SnapTargets,
    bounds,
    hits,
    resize,
    snap_move,
    snap_resize,
)
from hmi.model.design.gestures import outermost
from hmi.views.designer.editor import ScreenEditor

__all__ = ["HANDLE_PX", "PALETTE_MIME", "DesignOverlay"]

HANDLE_PX = 7  # screen pixels, whatever the zoom
SELECTION = QColor("#2f6db5")  # a calm blue: no operator screen uses it (ISA-101 greys)
GUIDE = QColor("#b8489c")
GRID = QColor(47, 109, 181, 28)
GRID_LINE = QColor(GRID.red(), GRID.green(), GRID.blue())  # drawn opaque, then GRID's alpha
BAND_FILL = QColor(47, 109, 181, 30)
CLICK_SLOP = 2  # screen px before a press becomes a drag


@dataclass
class _Drag:
    kind: str  # "move", "resize", "band"
    start: tuple[float, float]  # design px
    rects: dict[WidgetPath, Rect]  # where the dragged widgets started
    handle: str = ""
    band: Rect | None = None
    moved: bool = False
    others: SnapTargets | None = None  # what it snaps to, found once per drag


PALETTE_MIME = "application/x-hmi-palette"
"""A palette entry being dragged: ``type<TAB>template`` (the template empty for a widget type)."""


class DesignOverlay(QWidget):
    """Lies over ``editor.canvas``, following its size."""

    def __init__(self, editor: ScreenEditor) -> None:
        canvas = editor.canvas
        super().__init__(canvas)
        self.setObjectName("DesignOverlay")
        self.editor = editor
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setAcceptDrops(True)  # widget types and templates dragged from the palette
        self._drag: _Drag | None = None
        self.setGeometry(canvas.rect())
        canvas.installEventFilter(self)
        self._painted = QRegion()  # where the chrome was last drawn
        self._grid_key: object = None
        self._grid = QPixmap()
        editor.changed.connect(self._on_changed)
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor.canvas and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.editor.canvas.rect())
            self.raise_()
        return False

    def _on_changed(self) -> None:
        """Repaint where the chrome was and where it is now, not the whole sheet: the widgets
        under a transparent overlay would all repaint with it (a full screen's paint)."""
        now = self.chrome_region()
        self.update(self._painted.united(now))
        self._painted = now

    def chrome_region(self) -> QRegion:
        """Where the selection, its handles, the guides and the rubber band are drawn."""
        editor = self.editor
        region = QRegion()
        pad = HANDLE_PX
        for path in editor.selection:
            box = self.to_screen(editor.preview_rect(path)).toAlignedRect()
            region = region.united(box.adjusted(-pad, -pad, pad, pad))
        x0, y0, _w, _h = editor.canvas.stage_rect()
        scale = editor.canvas.scale or 1.0
        for guide in editor.guides:
            at = round((x0 if guide.axis == "x" else y0) + guide.at * scale)
            low = round((y0 if guide.axis == "x" else x0) + guide.start * scale)
            high = round((y0 if guide.axis == "x" else x0) + guide.end * scale)
            if guide.axis == "x":
                region = region.united(QRect(at - 2, low - 2, 5, high - low + 5))
            else:
                region = region.united(QRect(low - 2, at - 2, high - low + 5, 5))
        drag = self._drag
        if drag is not None and drag.band is not None:
            region = region.united(self.to_screen(drag.band).toAlignedRect().adjusted(-2, -2, 2, 2))
        return region

    # -- drops from the palette ---------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.editor.drop is not None and event.mimeData().hasFormat(PALETTE_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(PALETTE_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Place what was dragged where it was let go (centred there, as a double-click places
        it at the screen's centre)."""
        drop = self.editor.drop
        if drop is None or not event.mimeData().hasFormat(PALETTE_MIME):
            return
        payload = bytes(event.mimeData().data(PALETTE_MIME).data()).decode("utf-8")
        if drop(payload, self.to_design(event.position())):
            event.acceptProposedAction()
            self.setFocus()

    # -- coordinates ---------------------------------------------------------------------------

    def to_design(self, point: QPointF) -> tuple[float, float]:
        x0, y0, _w, _h = self.editor.canvas.stage_rect()
        scale = self.editor.canvas.scale or 1.0
        return (point.x() - x0) / scale, (point.y() - y0) / scale

    def to_screen(self, rect: Rect) -> QRectF:
        x0, y0, _w, _h = self.editor.canvas.stage_rect()
        s = self.editor.canvas.scale or 1.0
        return QRectF(x0 + rect[0] * s, y0 + rect[1] * s, rect[2] * s, rect[3] * s)

    def handle_rects(self, rect: Rect) -> dict[str, QRectF]:
        box = self.to_screen(rect)
        xs = {"w": box.left(), "": box.center().x(), "e": box.right()}
        ys = {"n": box.top(), "": box.center().y(), "s": box.bottom()}
        half = HANDLE_PX / 2
        out: dict[str, QRectF] = {}
        for handle in HANDLES:
            y = ys["n" if "n" in handle else "s" if "s" in handle else ""]
            x = xs["w" if "w" in handle else "e" if "e" in handle else ""]
            out[handle] = QRectF(x - half, y - half, HANDLE_PX, HANDLE_PX)
        return out

    def _handle_at(self, point: QPointF) -> str:
        if len(self.editor.selection) != 1:
            return ""
        rect = self.editor.rect(self.editor.selection[0])
        for handle, box in self.handle_rects(rect).items():
            if box.adjusted(-2, -2, 2, 2).contains(point):
                return handle
        return ""

    # -- mouse ---------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()
        self.setFocus()
        if event.button() != Qt.MouseButton.LeftButton:
            return
        editor = self.editor
        point = event.position()
        here = self.to_design(point)
        add = bool(
            event.modifiers()
            & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
        )
        handle = "" if add else self._handle_at(point)
        if handle:
            path = editor.selection[0]
            self._drag = _Drag("resize", here, {path: editor.rect(path)}, handle=handle)
            return
        hit = editor.widget_at(*here)
        if hit is None:
            if not add:
                editor.select([])
            self._drag = _Drag("band", here, {}, band=(here[0], here[1], 0, 0))
            return
        if add:
            editor.select([hit], add=True)
        elif hit not in editor.selection:
            editor.select([hit])
        chosen = outermost(editor.selection)
        self._drag = _Drag("move", here, {p: editor.rect(p) for p in chosen})

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.accept()
        drag = self._drag
        if drag is None:
            return
        here = self.to_design(event.position())
        dx, dy = here[0] - drag.start[0], here[1] - drag.start[1]
        scale = self.editor.canvas.scale or 1.0
        if not drag.moved and max(abs(dx), abs(dy)) * scale < CLICK_SLOP:
            return
        drag.moved = True
        self.drag_to(dx, dy, snapping=not event.modifiers() & Qt.KeyboardModifier.AltModifier)

    def drag_to(self, dx: float, dy: float, *, snapping: bool = True) -> None:
        """Where the current drag is now, ``(dx, dy)`` design px from where it started."""
        drag = self._drag
        if drag is None:
            return
        drag.moved = True
        editor = self.editor
        snap = editor.snap if snapping else None
        if drag.kind == "band":
            x0, y0 = drag.start
            drag.band = (min(x0, x0 + dx), min(y0, y0 + dy), abs(dx), abs(dy))
            self._on_changed()
            return
        if drag.others is None:
            drag.others = SnapTargets(editor.others(list(drag.rects)))
        others = drag.others
        if drag.kind == "resize":
            ((path, start),) = drag.rects.items()
            rect, guides = snap_resize(
                resize(start, drag.handle, dx, dy), drag.handle, others, snap
            )
            editor.set_guides(guides)
            editor.preview({path: rect})
            return
        box = bounds(list(drag.rects.values()))
        x, y, guides = snap_move((box[0] + dx, box[1] + dy, box[2], box[3]), others, snap)
        sx, sy = x - box[0], y - box[1]
        editor.set_guides(guides)
        editor.preview({p: (r[0] + sx, r[1] + sy, r[2], r[3]) for p, r in drag.rects.items()})

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()
        self.finish_drag()

    def finish_drag(self) -> None:
        """The drag's one edit (or the rubber band's selection)."""
        drag, self._drag = self._drag, None
        if drag is None or not drag.moved:
            return
        editor = self.editor
        if drag.kind == "band":
            assert drag.band is not None
            top = [p for p in editor.rects() if len(p) == 1]
            found = [top[i] for i in hits([editor.rect(p) for p in top], drag.band)]
            editor.select(found, add=bool(editor.selection))
            self._on_changed()
            return
        shown = {p: self._shown_rect(p) for p in drag.rects}
        editor.set_rects(shown, "Resize" if drag.kind == "resize" else "Move")

    def _shown_rect(self, path: WidgetPath) -> Rect:
        """Where the preview put a widget, read back in design px from the canvas."""
        return self.editor.preview_rect(path)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        event.accept()  # never a widget's double click (a setpoint's entry)

    # -- keys ----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        arrows = {
            Qt.Key.Key_Left: (-step, 0), Qt.Key.Key_Right: (step, 0),
            Qt.Key.Key_Up: (0, -step), Qt.Key.Key_Down: (0, step),
        }  # fmt: skip
        event.accept()
        if key in arrows:
            self.editor.nudge(*arrows[key])
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.editor.delete()
        elif key == Qt.Key.Key_Escape:
            if self._drag is not None:
                self._drag = None
                self.editor.cancel_preview()
            else:
                self.editor.select([])

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        event.accept()

    # -- painting ------------------------------------------------------------------------------

    def _grid_picture(self, grid: int) -> QPixmap:
        """Every fifth grid line over the stage (a quiet sheet, not graph paper), drawn once
        per size and grid."""
        stage = self.editor.canvas.stage_rect()
        key = (self.width(), self.height(), stage, grid, self.editor.canvas.scale)
        if self._grid_key != key:
            x0, y0, w, h = stage
            picture = QPixmap(max(1, self.width()), max(1, self.height()))
            picture.fill(Qt.GlobalColor.transparent)
            painter = QPainter(picture)
            painter.setPen(QPen(GRID_LINE, 1))
            step = grid * 5 * (self.editor.canvas.scale or 1.0)
            x: float = x0
            while x <= x0 + w:
                painter.drawLine(QPointF(x, y0), QPointF(x, y0 + h))
                x += step
            y: float = y0
            while y <= y0 + h:
                painter.drawLine(QPointF(x0, y), QPointF(x0 + w, y))
                y += step
            # Qt's raster engine draws a translucent line ten times slower than an opaque
            # one (20 ms for a 1920 x 1080 grid, a tenth of opening a large screen for
            # design): the lines go in opaque, then take the grid's alpha in one pass
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
            painter.fillRect(picture.rect(), GRID)
            painter.end()
            self._grid_key, self._grid = key, picture
        return self._grid

    def paintEvent(self, event: QPaintEvent) -> None:
        editor = self.editor
        painter = QPainter(self)
        x0, y0, w, h = editor.canvas.stage_rect()
        scale = editor.canvas.scale or 1.0
        grid = editor.snap.grid
        if grid > 0:  # only the repainted area of the grid, from a picture drawn once
            area = event.rect()
            painter.drawPixmap(area, self._grid_picture(grid), area)
        painter.setPen(QPen(SELECTION, 1, Qt.PenStyle.DashLine))
        painter.drawRect(QRectF(x0, y0, w - 1, h - 1))
        drag = self._drag
        moving = drag is not None and drag.kind != "band" and drag.moved
        outline = QPen(SELECTION, 1.5)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for path in editor.selection:
            rect = editor.preview_rect(path) if moving else editor.rect(path)
            painter.setPen(outline)
            painter.drawRect(self.to_screen(rect))
        if len(editor.selection) == 1:
            path = editor.selection[0]
            rect = editor.preview_rect(path) if moving else editor.rect(path)
            painter.setPen(QPen(SELECTION, 1))
            painter.setBrush(QColor("#ffffff"))
            for box in self.handle_rects(rect).values():
                painter.drawRect(box)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(GUIDE, 1, Qt.PenStyle.DashLine))
        for guide in editor.guides:
            if guide.axis == "x":
                x = x0 + guide.at * scale
                painter.drawLine(
                    QPointF(x, y0 + guide.start * scale), QPointF(x, y0 + guide.end * scale)
                )
            else:
                y = y0 + guide.at * scale
                painter.drawLine(
                    QPointF(x0 + guide.start * scale, y), QPointF(x0 + guide.end * scale, y)
                )
        if drag is not None and drag.kind == "band" and drag.band is not None:
            painter.setPen(QPen(SELECTION, 1))
            painter.setBrush(BAND_FILL)
            painter.drawRect(self.to_screen(drag.band))
        painter.end()
