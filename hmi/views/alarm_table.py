"""The alarm summary's table: a model of ``AlarmStatus`` rows kept in step with the service by
alarm id (so selection and scrolling survive updates), and a proxy that filters by list
(summary, unacknowledged, shelved, ...), priority and text, and sorts by priority then newest.

Unacknowledged rows blink from ONE timer for the whole table: ``toggle_blink`` flips the
``lit`` phase and signals the change of the roles that depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont

from hmi.model.alarm_states import (
    ANNUNCIATED,
    UNACKNOWLEDGED,
    AlarmState,
    AlarmStatus,
)
from hmi.model.alarms import Priority
from hmi.model.tags import TagConfig
from hmi.views.alarm_banner import clock
from hmi.views.table_model import Index, RowTableModel
from hmi.widgets.alarm_mark import PRIORITY_COLORS, PRIORITY_NUMBER, priority_pixmap

__all__ = [
    "BLINK_ROLE",
    "COLUMNS",
    "LISTS",
    "STATUS_ROLE",
    "AlarmFilter",
    "AlarmTableModel",
    "state_text",
]

COLUMNS = ("Time", "Priority", "Tag", "Message", "Value", "State")
TIME, PRIORITY, TAG, MESSAGE, VALUE, STATE = range(len(COLUMNS))
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's AlarmStatus
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
BLINK_ROLE = Qt.ItemDataRole.UserRole + 3  # True while an unacknowledged row is lit
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


def _tint(color: QColor, share: float = 0.3) -> QColor:
    return QColor(
        round(color.red() * share + _BASE.red() * (1 - share)),
        round(color.green() * share + _BASE.green() * (1 - share)),
        round(color.blue() * share + _BASE.blue() * (1 - share)),
    )


def _when(status: AlarmStatus) -> float:
    return status.activated_at if status.activated_at is not None else status.since


class AlarmTableModel(RowTableModel[AlarmStatus]):
    def __init__(
        self, tags: Mapping[str, TagConfig] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(COLUMNS, parent)
        self.tags = tags or {}
        self.lit = True
        self._bold = QFont()
        self._bold.setBold(True)

    def cell(self, status: AlarmStatus, column: int, role: int) -> Any:
        unack = status.state in UNACKNOWLEDGED
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(status, column)
        if role == STATUS_ROLE:
            return status
        if role == SORT_ROLE:
            if column == TIME:
                return _when(status)
            if column == PRIORITY:
                return (status.priority.rank, -_when(status))
            if column == VALUE:
                value = status.value
                number = isinstance(value, (int, float)) and value == value
                return (0, float(value), "") if number else (1, 0.0, str(value))
            return self._text(status, column).lower()
        if role == BLINK_ROLE:
            return unack and self.lit
        if role == Qt.ItemDataRole.DecorationRole and column == PRIORITY:
            return priority_pixmap(status.priority, ICON_PX, lit=self.lit or not unack)
        if role == Qt.ItemDataRole.BackgroundRole and unack and self.lit:
            return _tint(QColor(PRIORITY_COLORS[status.priority]))
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

    def status_at(self, row: int) -> AlarmStatus:
        return self.rows[row]

    def set_statuses(self, statuses: Iterable[AlarmStatus]) -> None:
        """Bring the rows in line with ``statuses`` by alarm id: changed rows update in place,
        gone ones are removed, new ones appended (the proxy sorts)."""
        self.merge_rows(statuses, key=lambda status: status.alarm_id)

    def toggle_blink(self) -> bool:
        """Flip the blink phase; True if any row blinks."""
        self.lit = not self.lit
        roles = [BLINK_ROLE, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.DecorationRole]
        blinking = False
        for row, status in enumerate(self.rows):
            if status.state in UNACKNOWLEDGED:
                blinking = True
                self.row_changed(row, roles)
        return blinking


class AlarmFilter(QSortFilterProxyModel):
    """Which rows show: one of ``LISTS``, the ticked priorities, a text in id, tag or message."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.states: frozenset[AlarmState] = LISTS["Alarm summary"]
        self.priorities: set[Priority] = set(Priority)
        self.text = ""
        self.setSortRole(SORT_ROLE)

    def set_filter(
        self,
        *,
        states: frozenset[AlarmState] | None = None,
        priorities: set[Priority] | None = None,
        text: str | None = None,
    ) -> None:
        self.beginFilterChange()
        if states is not None:
            self.states = states
        if priorities is not None:
            self.priorities = set(priorities)
        if text is not None:
            self.text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, AlarmTableModel)
        status = model.status_at(source_row)
        if status.state not in self.states or status.priority not in self.priorities:
            return False
        if not self.text:
            return True
        return any(self.text in field.lower() for field in (status.alarm_id, status.tag,
                                                             status.message))  # fmt: skip

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a == b:
            return str(left.data(STATUS_ROLE).alarm_id) < str(right.data(STATUS_ROLE).alarm_id)
        return bool(a < b)
