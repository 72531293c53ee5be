"""``CellTableView`` paints each visible cell once per repaint, where Qt would (its rectangle
less the grid line), draws the grid in the style sheet's colour; ``CellTexts`` draws a text the
same the first time (``drawText``) and once it is prepared (``QStaticText``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication

from hmi.views.cell_table import CellTableView
from hmi.views.cell_text import CellTexts
from hmi.views.table_model import RowTableModel


class Model(RowTableModel[int]):
    def cell(self, row: int, column: int, role: int) -> Any:
        return f"{row}:{column}" if role == Qt.ItemDataRole.DisplayRole else None


class Recorder:
    def __init__(self) -> None:
        self.cells: list[tuple[int, int, QRect, bool]] = []

    def paint_row(
        self, painter: QPainter, row: int, y: int, height: int,
        cells: list[tuple[int, int, int]], *, selected: bool, palette: QPalette, font: QFont,
    ) -> None:  # fmt: skip
        for x, width, column in cells:
            rect = QRect(x, y, width, height)
            self.cells.append((row, column, rect, selected))
            painter.fillRect(rect, QColor("#00ff00") if selected else QColor("#0000ff"))


def test_each_visible_cell_is_painted_once_in_its_place(qapp: QApplication) -> None:
    model = Model(["a", "b", "c"])
    model.replace_rows(range(100))
    view = CellTableView()
    view.setStyleSheet("QTableView { gridline-color: #ff0000; }")
    view.setModel(model)
    recorder = Recorder()
    view.cell_painter = recorder
    view.resize(400, 200)
    view.selectRow(1)
    image = view.grab().toImage()
    assert view.paints >= 1
    visible = {(r, c) for r, c, _, _ in recorder.cells}
    last = view.rowAt(view.viewport().height() - 1)
    assert visible == {(r, c) for r in range(last + 1) for c in range(3)}
    assert len(recorder.cells) == len(visible) * view.paints  # once a repaint
    for row, column, rect, selected in recorder.cells:
        expected = view.visualRect(model.index(row, column))
        assert rect == expected  # Qt's own cell rectangle: the grid line left out
        assert selected == (row == 1)
    origin = view.viewport().mapTo(view, view.viewport().rect().topLeft())
    cell = view.visualRect(model.index(2, 1))
    grid_x = origin.x() + cell.right() + 1  # the line right of the cell
    mid_y = origin.y() + cell.center().y()
    assert image.pixelColor(grid_x, mid_y) == QColor("#ff0000")  # the grid, in its colour
    assert image.pixelColor(grid_x - 3, mid_y) == QColor("#0000ff")  # the cell
    selected = view.visualRect(model.index(1, 0))
    assert image.pixelColor(origin + selected.center()) == QColor("#00ff00")


def test_a_text_looks_the_same_drawn_first_and_from_its_layout(qapp: QApplication) -> None:
    cells = CellTexts()
    font = QFont()

    def ink(text: str, room: QRect, **kwargs: Any) -> set[tuple[int, int]]:
        image = QImage(300, 120, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setPen(Qt.GlobalColor.black)
        cells.draw(painter, room, text, font, **kwargs)
        painter.end()
        return {(x, y) for x in range(300) for y in range(120)
                if image.pixelColor(x, y).value() < 100}  # fmt: skip

    for text, room, kwargs in (
        ("Area07.T00123.PV high: 95.0", QRect(10, 10, 120, 24), {}),
        ("42.0", QRect(10, 10, 200, 24), {"right": True}),
        ("a long message that wraps in its room " * 2, QRect(5, 5, 150, 110), {"wrap": True}),
    ):
        first, second, third = (
            ink(text, room, **kwargs),
            ink(text, room, **kwargs),
            ink(text, room, **kwargs),
        )
        assert first and second == third  # the second draw prepared what later draws use
        box = lambda points: (min(x for x, _ in points), min(y for _, y in points),  # noqa: E731
                              max(x for x, _ in points), max(y for _, y in points))  # fmt: skip
        assert all(abs(a - b) <= 1 for a, b in zip(box(first), box(second), strict=True)), text
        assert all(room.left() <= x <= room.right() for x, _ in first | second)


def test_qt_one_cell_path_goes_through_paint_row(qapp: QApplication) -> None:
    """A plain ``QTableView`` (Qt's per-cell path: drags, single indexes) paints a
    ``RowDelegate``'s cells through the same ``paint_row``, one cell at a time."""
    from PySide6.QtWidgets import QTableView

    from hmi.views.cell_table import RowDelegate

    class Delegate(RowDelegate):
        def __init__(self) -> None:
            super().__init__()
            self.recorder = Recorder()

        def paint_row(self, *args: Any, **kwargs: Any) -> None:
            self.recorder.paint_row(*args, **kwargs)

    model = Model(["a", "b"])
    model.replace_rows(range(3))
    view = QTableView()
    view.setModel(model)
    delegate = Delegate()
    view.setItemDelegate(delegate)
    view.resize(300, 200)
    view.grab()
    cells = {(r, c): rect for r, c, rect, _ in delegate.recorder.cells}
    assert set(cells) == {(r, c) for r in range(3) for c in range(2)}
    assert all(rect == view.visualRect(model.index(r, c)) for (r, c), rect in cells.items())
