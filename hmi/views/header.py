"""The header of the main window: project name, screen title, the alarm banner and the tool
buttons (ad-hoc trend, alarm history, alarm KPIs, audit trail)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from hmi.runtime.alarms import AlarmEngineService
from hmi.views.alarms.banner import AlarmBanner

__all__ = ["HeaderButton", "HeaderText", "StationHeader"]


class HeaderButton(QPushButton):
    """A tool button of the header that a short row never cuts: the theme's ``min-width``
    (set when the style sheet polishes it) would let the layout squeeze it below its text;
    its floor is raised to its whole text each time it is polished."""

    def event(self, event: QEvent) -> bool:
        done = super().event(event)
        if event.type() == QEvent.Type.Polish:
            self.setMinimumWidth(max(self.minimumWidth(), self.sizeHint().width()))
        return done


class HeaderText(QLabel):
    """The project name or screen title: the text that gives way when the row is short (1280 px
    with every tool button), drawn elided with the whole text in its tooltip, so that no
    button is ever cut instead. (The screen title is also in the navigation bar.)"""

    def __init__(self, text: str, parent: QWidget) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        floor = self.fontMetrics().horizontalAdvance("M" * 5)
        return QSize(min(hint.width(), floor), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        room = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, room.width()
        )
        if shown == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.drawText(room, int(self.alignment()), shown)


class StationHeader(QFrame):
    """``alarms`` None keeps a quiet "No active alarms" slot; ``with_journal`` False leaves out
    the alarm history and KPI buttons. The buttons only emit; the window opens the tools."""

    trend_requested = Signal()
    history_requested = Signal()
    kpis_requested = Signal()
    auditor_requested = Signal()
    summary_requested = Signal()

    def __init__(
        self,
        project_name: str,
        *,
        alarms: AlarmEngineService | None,
        with_journal: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 4, 12, 4)
        self.project_label = HeaderText(project_name, self)
        self.project_label.setObjectName("ProjectName")
        self.title_label = HeaderText("", self)
        self.title_label.setObjectName("ScreenTitle")
        if alarms is not None:
            banner = AlarmBanner(alarms, parent=self)
            banner.open_summary.connect(self.summary_requested.emit)
            self.alarm_banner: QFrame = banner
            self.alarm_placeholder = banner.placeholder
        else:
            self.alarm_banner = QFrame(self)
            self.alarm_banner.setObjectName("AlarmBanner")
            banner_row = QHBoxLayout(self.alarm_banner)
            banner_row.setContentsMargins(8, 2, 8, 2)
            self.alarm_placeholder = QLabel("No active alarms", self.alarm_banner)
            self.alarm_placeholder.setObjectName("AlarmBannerText")
            banner_row.addWidget(self.alarm_placeholder)
        row.addWidget(self.project_label)
        row.addSpacing(24)
        row.addWidget(self.title_label)
        row.addSpacing(24)
        row.addWidget(self.alarm_banner, 1)
        row.addSpacing(12)
        self.trend_button = self._button(
            row,
            "Trend…",
            "AdhocTrendButton",
            "an ad-hoc trend of any tags",
            self.trend_requested.emit,
        )
        self.alarm_history_button: QPushButton | None = None
        self.alarm_kpis_button: QPushButton | None = None
        if with_journal:
            self.alarm_history_button = self._button(
                row,
                "Alarm history",
                "AlarmHistoryOpenButton",
                "journalled alarm events: search by time, tag, priority, action",
                self.history_requested.emit,
            )
            self.alarm_kpis_button = self._button(
                row,
                "Alarm KPIs",
                "AlarmKpisOpenButton",
                "alarm load, floods, bad actors, chattering and stale alarms",
                self.kpis_requested.emit,
            )
        self.audit_button = self._button(
            row,
            "Audit trail",
            "AuditButton",
            "the audit trail: who did what, when, why (needs view_audit)",
            self.auditor_requested.emit,
        )

    def _button(
        self, row: QHBoxLayout, text: str, name: str, tip: str, emit: Callable[[], object]
    ) -> QPushButton:
        button = HeaderButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        # Tab reaches it, a click does not keep it focused: the focus frame (theme) would stay
        # on the button after its window opened and read as a latched state.
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(lambda: emit())  # not clicked's "checked" argument
        row.addWidget(button)
        return button
