"""A table model of one Python object per row under fixed column titles: what the alarm summary,
the alarm history and the audit trail models share (counts, header, bounds checks, and the
ways their rows change), so that each of them only says what a cell shows in a role."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

__all__ = ["Index", "RowTableModel"]

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex


class RowTableModel(QAbstractTableModel, Generic[Row]):
    """A flat table: ``rows`` holds one object per row, ``columns`` the header titles, and a
    subclass's ``cell(row, column, role)`` what a cell shows (None: nothing in that role).

    Change ``rows`` through the methods here, never in place, so that views hear about it:
    ``replace_rows`` (a reset: selection and scrolling start over), ``append_rows``,
    ``insert_rows``, ``remove_rows``, ``merge_rows`` (by key, in place: selection and scrolling survive) and ``row_changed``."""

    def __init__(self, columns: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.rows: list[Row] = []

    # -- what a subclass says ------------------------------------------------------------------

    def cell(self, row: Row, column: int, role: int) -> Any:
        """What the cell of ``row`` in ``column`` shows in ``role``; None for nothing."""
        raise NotImplementedError

    # -- Qt model ------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.cell(self.rows[index.row()], index.column(), role)

    # -- rows ----------------------------------------------------------------------------------

    def row_at(self, row: int) -> Row | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def replace_rows(self, rows: Iterable[Row]) -> None:
        """Show ``rows`` instead (a model reset)."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def append_rows(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def insert_rows(self, at: int, rows: Sequence[Row]) -> None:
        """Insert ``rows`` before row ``at`` (selection and current row stay with their rows)."""
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), at, at + len(rows) - 1)
        self.rows[at:at] = rows
        self.endInsertRows()

    def remove_rows(self, first: int, count: int) -> None:
        """Remove ``count`` rows from row ``first`` on."""
        if count <= 0:
            return
        self.beginRemoveRows(QModelIndex(), first, first + count - 1)
        del self.rows[first : first + count]
        self.endRemoveRows()

    def merge_rows(self, rows: Iterable[Row], key: Callable[[Row], Hashable]) -> None:
        """Bring the rows in line with ``rows``, matched by ``key``: rows that changed are
        updated in place, gone ones removed, new ones appended (in the order given)."""
        fresh = {key(row): row for row in rows}
        for at in range(len(self.rows) - 1, -1, -1):
            if key(self.rows[at]) not in fresh:
                self.beginRemoveRows(QModelIndex(), at, at)
                del self.rows[at]
                self.endRemoveRows()
        for at, old in enumerate(self.rows):
            new = fresh.pop(key(old))
            if new != old:
                self.rows[at] = new
                self.row_changed(at)
        self.append_rows(list(fresh.values()))

    def row_changed(self, row: int, roles: Sequence[int] = ()) -> None:
        """Tell the views that row ``row`` shows something else (in ``roles``; all if none)."""
        self.dataChanged.emit(
            self.index(row, 0), self.index(row, len(self.columns) - 1), list(roles)
        )
