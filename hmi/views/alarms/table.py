"""The alarm summary's table: a model of ``AlarmStatus`` rows that filters by list (summary,
unacknowledged, shelved, ...), priority and text, and sorts (priority then newest by default)
by itself, so that a flood stays cheap:

- ``apply(statuses)`` takes the alarms that changed since the last refresh; each one moves by a
  bisect insertion (``AlarmList``), no re-sort, and the views hear of the whole batch in at most
  four signals (rows appended, one layout change, rows removed, one ``dataChanged``) whatever
  its size; rows are matched by alarm id, so selection and scrolling survive.
- Unacknowledged rows blink by repainting: ``BlinkDelegate`` paints the dark phase (no tint,
  the priority mark unlit) and the view updates its viewport once per phase. The model's data
  is the same in both phases: the blink emits no model signal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import (
    ANNUNCIATED,
    UNACKNOWLEDGED,
    AlarmState,
    AlarmStatus,
)
from hmi.model.tags import TagConfig
from hmi.runtime.alarms import AlarmList, Descending
from hmi.views.alarms.banner import clock
from hmi.views.cell_table import RowDelegate
from hmi.views.cell_text import CellTexts
from hmi.views.table_model import RowTableModel
from hmi.widgets.alarm_mark import PRIORITY_COLORS, PRIORITY_NUMBER, priority_pixmap

__all__ = [
    "COLUMNS",
    "LISTS",
    "STATUS_ROLE",
    "AlarmTableModel",
    "BlinkDelegate",
    "column_widths",
    "state_text",
]

COLUMNS = ("Time", "Priority", "Tag", "Message", "Value", "State")
TIME, PRIORITY, TAG, MESSAGE, VALUE, STATE = range(len(COLUMNS))
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's AlarmStatus
ICON_PX = 16

S = AlarmState
LISTS: dict[str, frozenset[AlarmState]] = {
    "Alarm summary": ANNUNCIATED,
    "Unacknowledged": UNACKNOWLEDGED,
    "Shelved": frozenset({S.SHELVED}),
    "Suppressed by design": frozenset({S.SUPPRESSED}),
    "Out of service": frozenset({S.OUT_OF_SERVICE}),
    "All": frozenset(AlarmState) - {S.NORMAL},
}
"""The lists an operator switches between (ISA-18.2: shelved, suppressed and out-of-service
alarms are listed apart from the summary)."""

_STATE_TEXT = {
    S.UNACK: "Unacknowledged",
    S.ACKED: "Acknowledged",
    S.RTN_UNACK: "Returned, unacknowledged",
    S.LATCHED_UNACK: "Latched, unacknowledged",
    S.LATCHED_ACKED: "Latched, reset needed",
    S.SUPPRESSED: "Suppressed by design",
    S.OUT_OF_SERVICE: "Out of service",
    S.NORMAL: "Normal",
}
_BASE = QColor("#e8e8e8")
_MASKED = frozenset({S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE})
_MASKED_TEXT = QColor("#5e5e5e")  # hidden from the summary: shown, but quieter
_PAD = 4  # px between a cell's edge and its text


def state_text(status: AlarmStatus) -> str:
    if status.state is S.SHELVED:
        if status.one_shot:
            return "Shelved until it clears"
        return f"Shelved until {clock(status.shelved_until)}"
    return _STATE_TEXT[status.state]


def value_text(status: AlarmStatus, tags: Mapping[str, TagConfig]) -> str:
    config = tags.get(status.tag)
    if config is not None:
        return config.display(status.value)
    if status.value is None:
        return "----"
    if isinstance(status.value, float):
        return f"{status.value:.4g}"
    return str(status.value)


def column_widths(font: QFont, tags: Mapping[str, TagConfig]) -> dict[int, int]:
    """Widths that fit any time, priority, state and the project's tag names and units (in
    bold, as unacknowledged rows are), set once: sizing the columns to their contents would
    ask for every visible cell again on each refresh (the Message column stretches)."""
    heavy = QFont(font)
    heavy.setBold(True)
    metrics = QFontMetrics(heavy)
    pad = 2 * _PAD + metrics.horizontalAdvance("M")

    def fit(*texts: str) -> int:
        return max(metrics.horizontalAdvance(text) for text in texts) + pad

    priorities = [f"{PRIORITY_NUMBER[p]} {p.value.title()}" for p in Priority]
    units = max((config.units for config in tags.values()), key=len, default="")
    names = sorted(tags, key=len)[-20:] or ["Tag"]
    return {
        TIME: fit("88-88 88:88:88", COLUMNS[TIME]),
        PRIORITY: fit(*priorities) + ICON_PX + 4,
        TAG: min(fit(*names, COLUMNS[TAG]), 24 * metrics.horizontalAdvance("M")),
        VALUE: fit(f"-88888.8 {units}", COLUMNS[VALUE]),
        STATE: fit(*_STATE_TEXT.values(), "Shelved until 88-88 88:88:88"),
    }


def _tint(color: QColor, share: float = 0.3) -> QColor:
    return QColor(
        round(color.red() * share + _BASE.red() * (1 - share)),
        round(color.green() * share + _BASE.green() * (1 - share)),
        round(color.blue() * share + _BASE.blue() * (1 - share)),
    )


def _when(status: AlarmStatus) -> float:
    return status.activated_at if status.activated_at is not None else status.since


class AlarmTableModel(RowTableModel[AlarmStatus]):
    """Every alarm that is not normal (``apply``, ``load``); ``rows`` are those the filter
    (``set_filter``) shows, in the order of ``sort``."""

    def __init__(
        self, tags: Mapping[str, TagConfig] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(COLUMNS, parent)
        self.tags = tags or {}
        self.states: frozenset[AlarmState] = LISTS["Alarm summary"]
        self.priorities: set[Priority] = set(Priority)
        self.text = ""
        self.sort_column = PRIORITY
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._all: dict[str, AlarmStatus] = {}
        self._shown = AlarmList(self._key(), self.accepts)
        self._texts: dict[str, tuple[AlarmStatus, tuple[str, ...]]] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # -- cells ---------------------------------------------------------------------------------

    def cell(self, status: AlarmStatus, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.texts(status)[column]
        if role == STATUS_ROLE:
            return status
        if role == Qt.ItemDataRole.DecorationRole and column == PRIORITY:
            return priority_pixmap(status.priority, ICON_PX)
        if role == Qt.ItemDataRole.BackgroundRole and status.state in UNACKNOWLEDGED:
            return _tint(QColor(PRIORITY_COLORS[status.priority]))  # the lit phase
        if role == Qt.ItemDataRole.ForegroundRole and status.state in _MASKED:
            return _MASKED_TEXT
        if role == Qt.ItemDataRole.FontRole and status.state is S.UNACK:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and column == VALUE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{status.alarm_id}: {status.message}"
        return None

    def _text(self, status: AlarmStatus, column: int) -> str:
        if column == TIME:
            return clock(_when(status))
        if column == PRIORITY:
            return f"{PRIORITY_NUMBER[status.priority]} {status.priority.value.title()}"
        if column == TAG:
            return status.tag
        if column == MESSAGE:
            return status.message
        if column == VALUE:
            return value_text(status, self.tags)
        return state_text(status)

    def texts(self, status: AlarmStatus) -> tuple[str, ...]:
        """What each column shows for ``status``, made once per status (the painter asks for
        it on every repaint)."""
        held = self._texts.get(status.alarm_id)
        if held is not None and held[0] is status:
            return held[1]
        texts = tuple(self._text(status, column) for column in range(len(COLUMNS)))
        self._texts[status.alarm_id] = (status, texts)
        return texts

    def forget_texts(self) -> None:
        """Make the texts again when next painted (the date in a time changes at midnight)."""
        self._texts.clear()

    def status_at(self, row: int) -> AlarmStatus:
        return self.rows[row]

    # -- filter and order ----------------------------------------------------------------------

    def accepts(self, status: AlarmStatus) -> bool:
        """Whether the filter shows ``status``: in the list, of a ticked priority, and with
        the text (if any) in its id, tag or message."""
        if status.state not in self.states or status.priority not in self.priorities:
            return False
        if not self.text:
            return True
        return any(self.text in field.lower() for field in (status.alarm_id, status.tag,
                                                             status.message))  # fmt: skip

    def _key(self) -> Callable[[AlarmStatus], Any]:
        """The sort key of the current column, unique per alarm (ties: by alarm id)."""
        column = self.sort_column
        if column == TIME:

            def key(s: AlarmStatus) -> Any:
                return (_when(s), s.alarm_id)
        elif column == PRIORITY:

            def key(s: AlarmStatus) -> Any:
                return (s.priority.rank, -_when(s), s.alarm_id)
        elif column == VALUE:

            def key(s: AlarmStatus) -> Any:
                value = s.value
                if isinstance(value, (int, float)) and value == value:
                    return (0, float(value), "", s.alarm_id)
                return (1, 0.0, str(value), s.alarm_id)
        else:

            def key(s: AlarmStatus) -> Any:
                return (self._text(s, column).lower(), s.alarm_id)

        if self.sort_order == Qt.SortOrder.DescendingOrder:
            return lambda s: Descending(key(s))
        return key

    def set_filter(
        self,
        *,
        states: frozenset[AlarmState] | None = None,
        priorities: set[Priority] | None = None,
        text: str | None = None,
    ) -> None:
        if states is not None:
            self.states = states
        if priorities is not None:
            self.priorities = set(priorities)
        if text is not None:
            self.text = text.strip().lower()
        self._rebuild()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """What a click on a column header asks for (``QTableView.sortByColumn``)."""
        if not 0 <= column < len(COLUMNS):
            return
        self.sort_column, self.sort_order = column, order
        self._shown = AlarmList(self._key(), self.accepts)
        self._rebuild()

    def _rebuild(self) -> None:
        old = self.rows
        self._shown.reset(self._all.values())
        self._publish(old, list(self._shown.rows))

    # -- changes -------------------------------------------------------------------------------

    def load(self, statuses: Iterable[AlarmStatus]) -> None:
        """Every alarm that is not normal, afresh (at start, or when changes were lost)."""
        self._all = {s.alarm_id: s for s in statuses if s.state is not S.NORMAL}
        self._texts.clear()
        self._rebuild()

    def apply(self, statuses: Iterable[AlarmStatus]) -> None:
        """The alarms that changed since the last refresh, as they are now (a normal one
        leaves the table); the views hear of it once, in at most four signals."""
        old = self.rows
        shown = self._shown
        changed = False
        for status in statuses:
            alarm_id = status.alarm_id
            held = self._all.get(alarm_id)
            if held is status or held == status:  # unchanged: the engine's same object
                continue
            if status.state is S.NORMAL:
                if self._all.pop(alarm_id, None) is None:
                    continue
                shown.remove(alarm_id)
                self._texts.pop(alarm_id, None)
            else:
                self._all[alarm_id] = status
                shown.put(status)
            changed = True
        if changed:
            self._publish(old, list(shown.rows))

    def _publish(self, old: list[AlarmStatus], new: list[AlarmStatus]) -> None:
        """Show ``new`` instead of ``old``: new rows are appended, then one layout change puts
        every row where it belongs (persistent indexes, hence the selection, follow their
        alarm), then the rows that left are removed from the end; one ``dataChanged`` covers
        the rows that stayed but show something else."""
        old_at = {s.alarm_id: i for i, s in enumerate(old)}
        if len(old) == len(new) and all(
            a.alarm_id == b.alarm_id for a, b in zip(old, new, strict=True)
        ):
            self.rows = new
            self._changed(old, new, old_at)
            return
        new_at = {s.alarm_id: i for i, s in enumerate(new)}
        added = [s for s in new if s.alarm_id not in old_at]
        gone = [s for s in old if s.alarm_id not in new_at]
        if added:
            self.beginInsertRows(QModelIndex(), len(old), len(old) + len(added) - 1)
            self.rows = old + added
            self.endInsertRows()
        self.layoutAboutToBeChanged.emit()
        interim = new + gone
        place = {s.alarm_id: i for i, s in enumerate(interim)}
        current = self.rows
        sources = self.persistentIndexList()
        targets = [
            self.index(place[current[index.row()].alarm_id], index.column()) for index in sources
        ]
        self.changePersistentIndexList(sources, targets)
        self.rows = interim
        self.layoutChanged.emit()
        if gone:
            self.beginRemoveRows(QModelIndex(), len(new), len(interim) - 1)
            self.rows = new
            self.endRemoveRows()
        self._changed(old, new, old_at)

    def _changed(
        self, old: list[AlarmStatus], new: list[AlarmStatus], old_at: dict[str, int]
    ) -> None:
        rows = [
            i
            for i, status in enumerate(new)
            if (at := old_at.get(status.alarm_id)) is not None and old[at] is not status
        ]
        if rows:
            last = len(self.columns) - 1
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), last), [])

    def alarm_ids(self) -> list[str]:
        """Every alarm the table holds, shown or not."""
        return list(self._all)


class BlinkDelegate(RowDelegate):
    """Paints a cell straight from its row's status: one Python call per cell, no ``data()``
    per role and no style round trip (a repaint of the summary in a flood is cheap), and the
    blink: in the dark phase (``lit`` False) an unacknowledged row loses its tint and its
    priority mark is drawn unlit. The view flips ``lit`` and updates its viewport (one repaint
    per phase); the model is not touched."""

    def __init__(self, model: AlarmTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.lit = True
        self._tints = {p: _tint(QColor(c)) for p, c in PRIORITY_COLORS.items()}
        self._marks: dict[tuple[Priority, bool], QPixmap] = {}
        self._font = QFont()
        self._fonts: tuple[QFont, QFontMetrics, QFont, QFontMetrics] | None = None
        self._cells = CellTexts()

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
        rows = self.model.rows
        if not 0 <= row < len(rows) or not cells:
            return
        status = rows[row]
        state = status.state
        unack = state in UNACKNOWLEDGED
        left, right = cells[0][0], cells[-1][0] + cells[-1][1]
        if selected:
            painter.fillRect(left, y, right - left, height, palette.highlight())
            pen = palette.highlightedText().color()
        else:
            if unack and self.lit:
                painter.fillRect(left, y, right - left, height, self._tints[status.priority])
            pen = _MASKED_TEXT if state in _MASKED else palette.text().color()
        shown = self._font_for(font, bold=state is S.UNACK)[0]
        painter.setPen(pen)
        painter.setFont(shown)
        texts = self.model.texts(status)
        draw = self._cells.draw_in
        for x, width, column in cells:
            x, width = x + _PAD, width - 2 * _PAD
            if column == PRIORITY:
                mark = self._mark(status.priority, self.lit or not unack)
                painter.drawPixmap(x, y + (height - ICON_PX) // 2, mark)
                x, width = x + ICON_PX + 4, width - ICON_PX - 4
            draw(painter, x, y, width, height, texts[column], shown, right=column == VALUE)

    def _mark(self, priority: Priority, lit: bool) -> QPixmap:
        mark = self._marks.get((priority, lit))
        if mark is None:
            mark = self._marks[(priority, lit)] = priority_pixmap(priority, ICON_PX, lit=lit)
        return mark

    def _font_for(self, base: QFont, *, bold: bool) -> tuple[QFont, QFontMetrics]:
        if self._fonts is None or base != self._font:
            heavy = QFont(base)
            heavy.setBold(True)
            self._font = QFont(base)
            self._fonts = (self._font, QFontMetrics(base), heavy, QFontMetrics(heavy))
        plain, plain_metrics, heavy, heavy_metrics = self._fonts
        return (heavy, heavy_metrics) if bold else (plain, plain_metrics)
