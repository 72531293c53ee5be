"""Alarm KPIs for a time range: load per operator station (average and maximum per 10 min,
flood periods), the top 10 bad actors, chattering and stale alarms. The database counts (see
``AlarmJournal.kpis``) on a worker thread; targets as in ISA-18.2 / EEMUA 191 are noted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QIcon, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import CHATTER_WINDOW_S, FLOOD_ABOVE, AlarmKpis
from hmi.model.audit.record import us_from_datetime
from hmi.views.alarms.history import aware, qt_time
from hmi.widgets.alarm_mark import priority_pixmap
from hmi.widgets.theme.chrome import wear_sheet

__all__ = ["AlarmKpiView", "KpiSource"]

log = logging.getLogger(__name__)

RANGES = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30}


class KpiSource(Protocol):
    """``hmi.storage.alarm_journal.AlarmJournal`` (blocking)."""

    def kpis(self, start_us: int, end_us: int) -> AlarmKpis: ...


def _local(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6).strftime("%Y-%m-%d %H:%M")


def _age(seconds: float) -> str:
    return f"{seconds / 86400:.1f} d" if seconds >= 86400 else f"{seconds / 3600:.1f} h"


class AlarmKpiView(QWidget):
    computed = Signal(object)  # AlarmKpis

    def __init__(self, journal: KpiSource, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        wear_sheet(self)  # a window of the station (also shown on its own)
        self.setObjectName("AlarmKpis")
        self.journal = journal
        self.kpis: AlarmKpis | None = None
        self._task: asyncio.Task[None] | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.range = QComboBox(self)
        self.range.addItems([*RANGES, "Custom"])
        self.range.currentTextChanged.connect(self._preset)
        self.since = QDateTimeEdit(self)
        self.until = QDateTimeEdit(self)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.compute_button = QPushButton("Compute", self)
        self.compute_button.setObjectName("AlarmKpiButton")
        self.compute_button.clicked.connect(self.compute)
        for widget in (QLabel("Range", self), self.range, QLabel("from", self), self.since,
                       QLabel("to", self), self.until, self.compute_button):  # fmt: skip
            bar.addWidget(widget)
        bar.addStretch(1)
        column.addLayout(bar)
        self.summary = QLabel("Choose a range and compute.", self)
        self.summary.setObjectName("AlarmKpiNote")
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        grid = QGridLayout()
        self.load = self._table(grid, 0, 0, f"Load per operator station (flood: more than "
                                f"{FLOOD_ABOVE} per 10 min; target about 1 per 10 min)",
                                ("Station", "Activations", "Avg/10 min", "Max/10 min",
                                 "Floods", "In flood"))  # fmt: skip
        self.actors = self._table(grid, 0, 1, "Top 10 bad actors",
                                  ("Alarm", "Priority", "Tag", "Activations", "Share"))  # fmt: skip
        self.chatter = self._table(grid, 1, 0, f"Chattering (3 or more within "
                                   f"{CHATTER_WINDOW_S} s)",
                                   ("Alarm", "Bursts", f"Most in {CHATTER_WINDOW_S} s",
                                    "Activations"))  # fmt: skip
        self.stale = self._table(grid, 1, 1, "Stale (active for more than 24 h)",
                                 ("Alarm", "Priority", "State", "Active since", "Age",
                                  "Message"))  # fmt: skip
        column.addLayout(grid, 1)
        self._preset(self.range.currentText())
        self._computed = False

    def showEvent(self, event: QShowEvent) -> None:
        """Opens on the last 24 hours, already computed."""
        super().showEvent(event)
        if not self._computed:
            self.compute()

    def _table(
        self, grid: QGridLayout, row: int, col: int, title: str, headers: Sequence[str]
    ) -> QTableWidget:
        box = QGroupBox(title, self)
        table = QTableWidget(0, len(headers), box)
        table.setHorizontalHeaderLabels(list(headers))
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(box)
        layout.addWidget(table)
        grid.addWidget(box, row, col)
        return table

    def _preset(self, name: str) -> None:
        days = RANGES.get(name)
        custom = days is None
        self.since.setEnabled(custom)
        self.until.setEnabled(custom)
        if days is not None:
            now = QDateTime.currentDateTime()
            self.since.setDateTime(now.addDays(-days))
            self.until.setDateTime(now)

    def set_range(self, start: datetime, end: datetime) -> None:
        """A custom range (aware datetimes, or naive local ones)."""
        self.range.setCurrentText("Custom")
        self.since.setDateTime(qt_time(start))
        self.until.setDateTime(qt_time(end))

    def compute(self) -> asyncio.Task[None]:
        self._computed = True
        if self.range.currentText() in RANGES:
            self._preset(self.range.currentText())
        start = us_from_datetime(aware(self.since.dateTime()))
        end = us_from_datetime(aware(self.until.dateTime()))
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.get_event_loop().create_task(self._compute(start, end))
        return self._task

    async def _compute(self, start_us: int, end_us: int) -> None:
        self.summary.setText("Computing…")
        self.compute_button.setEnabled(False)
        try:
            kpis = await asyncio.to_thread(self.journal.kpis, start_us, end_us)
        except Exception as exc:
            log.warning("alarm KPIs failed: %s", exc)
            self.summary.setText(f"The alarm journal cannot be read: {exc}")
            return
        finally:
            self.compute_button.setEnabled(True)
        self.show_kpis(kpis)

    def show_kpis(self, kpis: AlarmKpis) -> None:
        self.kpis = kpis
        flood = max((s.flood_share for s in kpis.stations), default=0.0)
        self.summary.setText(
            f"{_local(kpis.start_us)} to {_local(kpis.end_us)}: {kpis.activations} "
            f"activation(s); worst station {flood:.1%} of 10-minute periods in flood; "
            f"{len(kpis.chattering)} chattering, {len(kpis.stale)} stale."
        )
        _fill(self.load, [(s.workstation or "-", s.activations, f"{s.average:.2f}", s.maximum,
                           s.flood_periods, f"{s.flood_share:.1%}") for s in kpis.stations])  # fmt: skip
        _fill(self.actors, [(b.alarm_id, b.priority, b.tag, b.activations, f"{b.share:.1%}")
                            for b in kpis.bad_actors])  # fmt: skip
        _fill(self.chatter, [(c.alarm_id, c.bursts, c.most_in_window, c.activations)
                             for c in kpis.chattering])  # fmt: skip
        _fill(self.stale, [(s.alarm_id, s.priority, s.state.value, _local(s.active_since_us),
                            _age(s.age_s), s.message) for s in kpis.stale])  # fmt: skip
        self.computed.emit(kpis)


def _fill(table: QTableWidget, rows: Sequence[Sequence[object]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem()
            if isinstance(value, Priority):
                item.setIcon(QIcon(priority_pixmap(value, 14)))
                item.setText(value.value)
            else:
                item.setText(str(value))
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
