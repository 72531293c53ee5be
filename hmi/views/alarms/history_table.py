"""The alarm history's table: the model (one page of journalled events, newest first, their
display texts made once per event, and the merge that brings the first page up to date with the
events stored since it was read: rows inserted where they belong, no reset) and the delegate
that paints a cell from those texts in one call."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QFont, QPainter, QPalette, QPixmap

from hmi.model.alarms.kpi import JournalEvent
from hmi.model.tags import TagConfig
from hmi.views.cell_table import RowDelegate
from hmi.views.cell_text import CellTexts
from hmi.views.table_model import Index, RowTableModel
from hmi.widgets.alarm_mark import PRIORITY_NUMBER, priority_pixmap

__all__ = ["COLUMNS", "AlarmHistoryModel", "HistoryDelegate", "page_order", "value_shown"]

COLUMNS = ("Time", "Priority", "Alarm", "Tag", "Action", "From", "To", "Value", "Message",
           "User", "Comment", "Station")  # fmt: skip
MESSAGE = COLUMNS.index("Message")
PRIORITY = COLUMNS.index("Priority")
COMMENT = COLUMNS.index("Comment")
ICON_PX = 14
PAD = 4  # px between a cell's edge and its text (the widths and heights fitted allow for it)


def local_stamp(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def value_shown(tag: TagConfig | None, text: str | None) -> str:
    """A journalled value (text, floats exact: ``62.283910654347615``) as the tag's screens
    show it: its format, units or state text (``62.3 %``, ``AUTO``)."""
    if text is None:
        return "----"
    if tag is None:
        return text
    if text in ("True", "False"):
        return tag.display(text == "True")
    try:
        number = float(text)
    except ValueError:
        return text
    value: float | int = int(number) if number.is_integer() else number
    return tag.display(value)


def page_order(event: JournalEvent) -> tuple[int, int]:
    """The history's order (descending): time, then the journal's row id."""
    return event.time_us, event.id or 0


class AlarmHistoryModel(RowTableModel[JournalEvent]):
    """One page of journalled events, newest first; values in their tag's format."""

    def __init__(
        self, parent: QObject | None = None, *, tags: Mapping[str, TagConfig] | None = None
    ) -> None:
        super().__init__(COLUMNS, parent)
        self.tags: Mapping[str, TagConfig] = tags or {}
        # by event (object id; the event kept, so that its id is not reused): made once
        self._texts: dict[int, tuple[JournalEvent, tuple[str, ...]]] = {}
        self.modelReset.connect(self._texts.clear)
        self.dataChanged.connect(self._texts.clear)
        self.rowsRemoved.connect(self._forget)

    @property
    def events(self) -> list[JournalEvent]:
        return self.rows

    def merge_newer(self, fresh: Sequence[JournalEvent], limit: int) -> int:
        """Bring the page up to date with ``fresh`` (events stored since it was read): the
        newest ``limit`` of both, in order, by inserting the new rows where they belong and
        removing those pushed off the end (a reset only when no row stays). Selection and
        current row stay with their event. Returns how many rows were pushed off the end."""
        known = {e.id for e in self.rows if e.id is not None}
        new = sorted(
            (e for e in fresh if e.id is None or e.id not in known),
            key=page_order,
            reverse=True,
        )
        if not new:
            return 0
        merged = list(heapq.merge(self.rows, new, key=page_order, reverse=True))[:limit]
        fresh_ids = {id(e) for e in new}
        stay = sum(1 for e in merged if id(e) not in fresh_ids)
        cut = len(self.rows) - stay
        if stay == 0:
            self.replace_rows(merged)
            return cut
        self.remove_rows(stay, cut)  # the kept old rows are the page's first ``stay``
        at = 0
        while at < len(merged):  # invariant: rows[:at] == merged[:at]
            if id(merged[at]) not in fresh_ids:
                at += 1
                continue
            end = at
            while end < len(merged) and id(merged[end]) in fresh_ids:
                end += 1
            self.insert_rows(at, merged[at:end])
            at = end
        return cut

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The display texts of a row are made once per event, not once per cell and paint
        (a repaint during a flood stays cheap)."""
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return super().data(index, role)
        if not 0 <= index.row() < len(self.rows):
            return None
        texts = self.texts(index.row())
        return texts[index.column()] if index.column() < len(texts) else None

    def texts(self, row: int) -> tuple[str, ...]:
        """The display texts of row ``row`` (in range), made once per event."""
        event = self.rows[row]
        kept = self._texts.get(id(event))
        if kept is None:
            kept = self._texts[id(event)] = (event, self._display(event))
        return kept[1]

    def _forget(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        if len(self._texts) > 2 * len(self.rows):
            shown = {id(e) for e in self.rows}
            for key in [k for k in self._texts if k not in shown]:
                del self._texts[key]

    def _display(self, e: JournalEvent) -> tuple[str, ...]:
        return (
            local_stamp(e.time_us),
            f"{PRIORITY_NUMBER[e.priority]} {e.priority.value.title()}",
            e.alarm_id, e.tag, e.action.value, e.from_state.value, e.to_state.value,
            value_shown(self.tags.get(e.tag), e.value), e.message, e.user, e.comment,
            e.workstation,
        )  # fmt: skip

    def cell(self, e: JournalEvent, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(e)[column]
        if role == Qt.ItemDataRole.DecorationRole and column == PRIORITY:
            return priority_pixmap(e.priority, 14)
        if role == Qt.ItemDataRole.ToolTipRole:  # in full, where the column elides it
            if column in (MESSAGE, COMMENT):
                return e.comment or e.message
            return self._display(e)[column]
        return None


class HistoryDelegate(RowDelegate):
    """Paints a cell from its row's texts: one Python call per cell, no ``data()`` per role
    and no style sheet round trip, each text laid out once (``CellTexts``): a repaint of the
    page cost 30 ms of the UI thread with Qt's delegate or ``drawText``, 5-10 ms now. The
    message wraps in its cell; other texts too wide are elided in the middle (a tag's both
    ends tell), in full in the tooltip."""

    def __init__(self, model: AlarmHistoryModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._marks: dict[Any, QPixmap] = {}
        self.cells = CellTexts()
        self._font = QFont()

    def paint_row(
        self,
        painter: QPainter,
        row: int,
        y: int,
        height: int,
        cells: list[tuple[int, int, int]],
        *,
        selected: bool,
        palette: QPalette,
        font: QFont,
    ) -> None:
        """Row ``row``'s visible cells (``RowDelegate``), the row's colours, font and texts
        looked up once for all of them."""
        if not 0 <= row < self.model.rowCount() or not cells:
            return
        if selected:
            left, right = cells[0][0], cells[-1][0] + cells[-1][1]
            painter.fillRect(left, y, right - left, height, palette.highlight())
            painter.setPen(palette.highlightedText().color())
        else:
            painter.setPen(palette.text().color())
        if font != self._font:
            self._font = QFont(font)
        font = self._font
        painter.setFont(font)
        texts = self.model.texts(row)
        draw = self.cells.draw_in
        middle = Qt.TextElideMode.ElideMiddle
        for x, width, column in cells:
            x, width = x + PAD, width - 2 * PAD
            if column == PRIORITY:
                priority = self.model.rows[row].priority
                mark = self._marks.get(priority)
                if mark is None:
                    mark = self._marks[priority] = priority_pixmap(priority, ICON_PX)
                painter.drawPixmap(x, y + (height - ICON_PX) // 2, mark)
                x, width = x + ICON_PX + 4, width - ICON_PX - 4
            if column == MESSAGE:
                draw(painter, x, y, width, height, texts[column], font, wrap=True)
            else:
                draw(painter, x, y, width, height, texts[column], font, elide=middle)
