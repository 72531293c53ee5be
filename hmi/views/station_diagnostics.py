"""Station diagnostics: one table of everything the station depends on, beyond its screens.

Each connection to the plant, the audit trail (central, spooling or holding), event forwarding
to the SIEM (collector, backlog, what was delivered, the last error) and the historian's writer
(queued, written, dropped, failures). The status bar shows one short mark of each; a click on any
of them opens this view, where the whole of it is readable at once, live. The rows are worked
out by plain functions (`connection_row`, ...), so what the view says is tested without Qt
wording tricks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.drivers.base import ConnectionHealth
from hmi.runtime.forwarding import ForwardStatus
from hmi.runtime.historian import RecorderStatus
from hmi.storage.trail import TrailStatus
from hmi.widgets.theme.chrome import wear_sheet

__all__ = [
    "STATE_ROLE",
    "DiagnosticRow",
    "StationDiagnostics",
    "StationDiagnosticsView",
    "connection_row",
    "forwarding_row",
    "historian_row",
    "trail_row",
]

STATE_ROLE = 0x0100 + 7
"""Qt.UserRole + 7 of the State column: "ok" or "bad"."""
POLL_MS = 1000
_TOP_LEFT = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
"""How often the view asks the polled parts (the historian's writer) for their figures."""


@dataclass(frozen=True, slots=True)
class DiagnosticRow:
    part: str  # "plant_ua (connection)", "Audit trail", ...
    state: str  # one word or two: "connected", "spooling", "failing"
    ok: bool
    detail: str  # everything else, in the plant's words


def connection_row(health: ConnectionHealth) -> DiagnosticRow:
    return DiagnosticRow(
        f"{health.key} (connection)", health.state.value, health.ok, health.detail or "-"
    )


def trail_row(status: TrailStatus) -> DiagnosticRow:
    if status.hold:
        state = "refusing" if status.refusing else "holding"
        return DiagnosticRow("Audit trail", state, False, f"spool rejected: {status.hold}")
    if status.blocked:
        return DiagnosticRow("Audit trail", "blocked", False, status.blocked)
    if status.trust:
        return DiagnosticRow("Audit trail", "chain behind", False, status.trust)
    if status.spooling:
        why = "audit key refused" if status.key_refused else "central database unreachable"
        detail = f"{why}; {status.pending} record(s) kept on this station"
        return DiagnosticRow(
            "Audit trail",
            "spooling",
            False,
            detail + (f"; {status.detail}" if status.detail else ""),
        )
    return DiagnosticRow("Audit trail", "central", True, "records stored in the central database")


def forwarding_row(status: ForwardStatus, *, now: float | None = None) -> DiagnosticRow:
    delivered = status.delivered
    parts = [
        status.collector,
        f"backlog {status.backlog}",
        f"delivered up to audit #{delivered.audit}, alarm event #{delivered.alarms}",
        f"{status.sent} message(s) sent",
    ]
    if status.failing_since is not None:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.failing_since))
        for_s = max(0.0, (time.time() if now is None else now) - status.failing_since)
        parts.append(f"failing since {since} ({for_s:.0f} s)")
    if status.last_error:
        parts.append(f"last error: {status.last_error}")
    state = "failing" if status.failing else status.state
    return DiagnosticRow("Event forwarding (SIEM)", state, not status.failing, "; ".join(parts))


def historian_row(status: RecorderStatus) -> DiagnosticRow:
    detail = (
        f"{status.tags} tag(s) recorded; {status.queued} sample(s) queued, {status.written} "
        f"written, {status.dropped} dropped, {status.failures} failed write(s)"
    )
    if status.last_error:
        detail += f"; last error: {status.last_error}"
    return DiagnosticRow(
        "Historian", "failing" if status.failing else "recording", not status.failing, detail
    )


class StationDiagnostics(QObject):
    """The latest report of every part, as the status bar receives them, and the parts that are
    asked (`add_probe`) rather than report. ``changed`` after each report."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reported: dict[str, DiagnosticRow] = {}
        self._probes: dict[str, Callable[[], DiagnosticRow]] = {}

    def report(self, key: str, row: DiagnosticRow) -> None:
        if self._reported.get(key) != row:
            self._reported[key] = row
            self.changed.emit()

    def add_probe(self, key: str, probe: Callable[[], DiagnosticRow]) -> None:
        self._probes[key] = probe
        self.changed.emit()

    def rows(self) -> list[DiagnosticRow]:
        """Connections first (as the status bar orders them), then the station's own parts."""
        rows = list(self._reported.values())
        for key, probe in self._probes.items():
            try:
                rows.append(probe())
            except Exception as exc:  # a part that cannot say how it is, is not well
                rows.append(DiagnosticRow(key, "unknown", False, f"no status: {exc}"))
        return sorted(rows, key=lambda row: (not row.part.endswith("(connection)"),))


class StationDiagnosticsView(QWidget):
    """The table, refreshed on every report and every second (for the polled parts): only
    what changed is set, so a second when nothing did repaints nothing (nor while hidden)."""

    HEADERS = ("Part", "State", "Detail")

    def __init__(self, diagnostics: StationDiagnostics, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        wear_sheet(self)  # a window of the station (also shown on its own)
        self.setObjectName("StationDiagnostics")
        self.diagnostics = diagnostics
        self.summary = QLabel("", self)
        self.summary.setObjectName("DiagnosticsSummary")
        self.table = QTableWidget(0, len(self.HEADERS), self)
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(False)  # one fact a line: the detail's parts go one under another
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self._shown: list[DiagnosticRow] | None = None  # the rows the table shows
        diagnostics.changed.connect(self.refresh)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()
        self.refresh()

    def _poll(self) -> None:
        if self.isVisible():  # a hidden view is brought up to date as it is shown
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        rows = self.diagnostics.rows()
        if rows == self._shown:
            return
        self._shown = rows
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            state = row.state if row.ok else row.state.upper()  # bold capitals: not well
            detail = row.detail.replace("; ", "\n")
            for column, text in enumerate((row.part, state, detail)):
                item = self.table.item(index, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(index, column, item)
                if item.text() != text:
                    item.setText(text)
                    item.setToolTip(text)
                    item.setTextAlignment(_TOP_LEFT)
                if column == 1:
                    font = item.font()
                    font.setBold(not row.ok)
                    item.setFont(font)
                    item.setData(STATE_ROLE, "ok" if row.ok else "bad")
        self.table.resizeRowsToContents()
        bad = [row.part for row in rows if not row.ok]
        self.summary.setText(
            "Everything the station depends on is well."
            if not bad
            else f"{len(bad)} part(s) need attention: {', '.join(bad)}"
        )
        state = "bad" if bad else "ok"
        if self.summary.property("state") != state:
            self.summary.setProperty("state", state)
            style = self.summary.style()
            style.unpolish(self.summary)
            style.polish(self.summary)
