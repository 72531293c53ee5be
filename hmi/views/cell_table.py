"""A table view that paints its visible cells in one Python call per repaint.

``QTableView`` paints a cell by making a ``QStyleOptionViewItem`` and calling the delegate's
``paint`` through the bindings: about 20-30 µs of the UI thread a cell before the delegate draws
anything, 6-10 ms for a page of an alarm table, on every blink and every refresh of a flood.
``CellTableView`` paints the same page in one loop over the visible rows and columns, calling
its painter's ``paint_row`` with each cell's rectangle, as Qt would lay it out (grid lines
included), and drawing the grid in ``gridline-color``. Its delegate keeps ``paint`` for Qt's
own uses (a drag pixmap, ``grab`` of a single index), so both paths draw the same cell."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

__all__ = ["CellTableView", "RowDelegate"]


class CellTableView(QTableView):
    """``QTableView`` for models whose rows are painted by ``cell_painter`` (no editors, no
    alternating colours, no per-cell decorations from the style)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cell_painter: RowDelegate | None = None
        self.paints = 0  # repaints of the viewport, for tests and benches

    def paintEvent(self, event: QPaintEvent) -> None:
        painter_of = self.cell_painter
        model = self.model()
        if painter_of is None or model is None:
            super().paintEvent(event)
            return
        self.paints += 1
        area = event.rect()
        rows, columns = model.rowCount(), model.columnCount()
        if rows == 0 or columns == 0:
            return
        first = self.rowAt(area.top())
        last = self.rowAt(area.bottom())
        first, last = max(first, 0), rows - 1 if last < 0 else last
        placed = [
            (self.columnViewportPosition(c), self.columnWidth(c), c)
            for c in range(columns)
            if not self.isColumnHidden(c)
        ]
        spans = [(x, w, c) for x, w, c in placed if x <= area.right() and x + w > area.left()]
        grid = 1 if self.showGrid() else 0
        palette, font = self.palette(), self.font()
        selection = self.selectionModel()
        root = QModelIndex()
        painter = QPainter(self.viewport())
        try:
            right = max((x + w for x, w, _ in spans), default=0)
            cells = [(x, w - grid, c) for x, w, c in spans]
            bottom = 0
            for row in range(first, last + 1):
                if self.isRowHidden(row):
                    continue
                y, height = self.rowViewportPosition(row), self.rowHeight(row)
                bottom = y + height
                selected = selection is not None and selection.isRowSelected(row, root)
                painter_of.paint_row(
                    painter, row, y, height - grid, cells,
                    selected=selected, palette=palette, font=font,
                )  # fmt: skip
                if y > area.bottom():
                    break
            if grid:
                painter.setPen(QPen(self._grid_color()))
                for row in range(first, last + 1):
                    if not self.isRowHidden(row):
                        line = self.rowViewportPosition(row) + self.rowHeight(row) - 1
                        painter.drawLine(0, line, right - 1, line)
                for x, width, _ in spans:
                    painter.drawLine(x + width - 1, 0, x + width - 1, bottom - 1)
        finally:
            painter.end()

    def _grid_color(self) -> QColor:
        option = QStyleOptionViewItem()
        option.initFrom(self)
        hint = self.style().styleHint(QStyle.StyleHint.SH_Table_GridLineColor, option, self)
        return QColor.fromRgba(hint & 0xFFFFFFFF)


class RowDelegate(QStyledItemDelegate):
    """A delegate whose cells are painted by ``paint_row`` : Qt's own
    one-cell paths (a drag, a single index) go through it too, so both draw the same."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        rect = option.rect  # type: ignore[attr-defined]
        self.paint_row(
            painter, index.row(), rect.y(), rect.height(), [(rect.x(), rect.width(), index.column())],
            selected=bool(option.state & QStyle.StateFlag.State_Selected),  # type: ignore[attr-defined]
            palette=option.palette, font=option.font,  # type: ignore[attr-defined]
        )  # fmt: skip

    def paint_row(
        self, painter: QPainter, row: int, y: int, height: int, cells: list[tuple[int, int, int]],
        *, selected: bool, palette: QPalette, font: QFont,
    ) -> None:  # fmt: skip
        """Row ``row``'s cells: ``cells`` holds ``(x, width, column)`` of each visible column,
        the cell ``QRect(x, y, width, height)`` (grid line left out, as Qt lays it out)."""
        raise NotImplementedError
