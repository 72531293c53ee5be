"""The auditor's filter bar: time range, user, action, tag, result and free text. Any change
is applied after a short pause (typing does not start a query per key)."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from hmi.model.audit.record import AuditAction, AuditResult
from hmi.storage.audit import AuditQuery

__all__ = ["APPLY_DELAY_MS", "AuditFilterBar"]

APPLY_DELAY_MS = 300
ANY = "any"


def _to_datetime(edit: QDateTimeEdit) -> datetime:
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)


class AuditFilterBar(QFrame):
    """``changed(AuditQuery)`` after the fields settle; ``query()`` reads them now."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AuditFilters")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(8)
        now = QDateTime.currentDateTime()
        self.since_check = QCheckBox("From", self)
        self.since_edit = self._date_edit(now.addDays(-1), "SinceEdit")
        self.until_check = QCheckBox("To", self)
        self.until_edit = self._date_edit(now.addSecs(3600), "UntilEdit")
        self.user_edit = self._line("UserFilter", "user id (* wildcard)")
        self.tag_edit = self._line("TagFilter", "tag (* wildcard)")
        self.text_edit = self._line("TextSearch", "search reason, error, names, values…")
        self.action_combo = QComboBox(self)
        self.action_combo.setObjectName("ActionFilter")
        self.action_combo.addItems([ANY, *(a.value for a in AuditAction)])
        self.result_combo = QComboBox(self)
        self.result_combo.setObjectName("ResultFilter")
        self.result_combo.addItems([ANY, *(r.value for r in AuditResult)])
        self.clear_button = QPushButton("Clear filters", self)
        self.clear_button.setObjectName("ClearFilters")

        grid.addWidget(self.since_check, 0, 0)
        grid.addWidget(self.since_edit, 0, 1)
        grid.addWidget(self.until_check, 0, 2)
        grid.addWidget(self.until_edit, 0, 3)
        grid.addWidget(QLabel("User", self), 0, 4)
        grid.addWidget(self.user_edit, 0, 5)
        grid.addWidget(QLabel("Action", self), 0, 6)
        grid.addWidget(self.action_combo, 0, 7)
        grid.addWidget(QLabel("Tag", self), 1, 0)
        grid.addWidget(self.tag_edit, 1, 1)
        grid.addWidget(QLabel("Result", self), 1, 2)
        grid.addWidget(self.result_combo, 1, 3)
        grid.addWidget(QLabel("Search", self), 1, 4)
        grid.addWidget(self.text_edit, 1, 5, 1, 2)
        grid.addWidget(self.clear_button, 1, 7)
        grid.setColumnStretch(5, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(APPLY_DELAY_MS)
        self._timer.timeout.connect(self.apply)
        for check in (self.since_check, self.until_check):
            check.toggled.connect(self._schedule)
        for edit in (self.since_edit, self.until_edit):
            edit.dateTimeChanged.connect(self._schedule)
        for line in (self.user_edit, self.tag_edit, self.text_edit):
            line.textChanged.connect(self._schedule)
            line.returnPressed.connect(self.apply)
        for combo in (self.action_combo, self.result_combo):
            combo.currentIndexChanged.connect(self._schedule)
        self.clear_button.clicked.connect(self.clear)

    def _date_edit(self, value: QDateTime, name: str) -> QDateTimeEdit:
        edit = QDateTimeEdit(value, self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        return edit

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        return edit

    def _schedule(self, *_args: object) -> None:
        self._timer.start()

    def query(self) -> AuditQuery:
        action = self.action_combo.currentText()
        result = self.result_combo.currentText()
        return AuditQuery(
            since=_to_datetime(self.since_edit) if self.since_check.isChecked() else None,
            until=_to_datetime(self.until_edit) if self.until_check.isChecked() else None,
            user_id=self.user_edit.text().strip().lower() or None,
            actions=() if action == ANY else (AuditAction(action),),
            results=() if result == ANY else (AuditResult(result),),
            tag=self.tag_edit.text().strip() or None,
            text=self.text_edit.text().strip() or None,
        )

    def apply(self) -> None:
        self._timer.stop()
        self.changed.emit(self.query())

    def clear(self) -> None:
        for widget in (self, *self.findChildren(QWidget)):
            widget.blockSignals(True)
        try:
            self.since_check.setChecked(False)
            self.until_check.setChecked(False)
            for line in (self.user_edit, self.tag_edit, self.text_edit):
                line.clear()
            self.action_combo.setCurrentIndex(0)
            self.result_combo.setCurrentIndex(0)
        finally:
            for widget in (self, *self.findChildren(QWidget)):
                widget.blockSignals(False)
        self.apply()
