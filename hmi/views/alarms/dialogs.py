"""Dialogs of the alarm summary: shelving (a duration no longer than the alarm may be shelved,
and a reason) and a reason or comment for the other actions. Both are opened with ``open()``
(window-modal, not blocking the loop) and report through ``accepted``."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi.model.alarms.states import AlarmStatus
from hmi.widgets.dialog import OperatorDialog

__all__ = ["SHELVE_PRESETS_S", "ReasonDialog", "ShelveDialog", "duration_text", "shelve_choices"]

SHELVE_PRESETS_S = (15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600)


def duration_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def shelve_choices(max_s: float, *, active: bool) -> list[tuple[str, float | None]]:
    """(label, duration_s) for the presets up to ``max_s``, the maximum itself if it is no
    preset, and a one-shot shelve (until the alarm clears) when its condition is active."""
    choices: list[tuple[str, float | None]] = [
        (duration_text(s), float(s)) for s in SHELVE_PRESETS_S if s <= max_s
    ]
    if max_s > 0 and max_s not in SHELVE_PRESETS_S and max_s < SHELVE_PRESETS_S[-1]:
        choices.append((f"{duration_text(max_s)} (the maximum)", float(max_s)))
    if active and max_s > 0:
        choices.append(("Until it clears (one-shot)", None))
    return choices


def _heading(status: AlarmStatus, parent: QWidget) -> QLabel:
    label = QLabel(f"<b>{status.alarm_id}</b> — {status.message}", parent)
    label.setObjectName("AlarmDialogHeading")
    label.setWordWrap(True)
    return label


class _ReasonRequired(OperatorDialog):
    """A form whose one purpose is its OK button (shelve, comment, ...): Enter in the reason
    presses it once the reason is given. It acts on the alarm system, never on the plant."""

    def _build(self, status: AlarmStatus, ok_text: str, required: bool) -> QFormLayout:
        self.setObjectName("AlarmDialog")
        self.required = required
        column = QVBoxLayout(self)
        column.addWidget(_heading(status, self))
        form = QFormLayout()
        column.addLayout(form)
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setObjectName("AlarmReason")
        self.reason_edit.setPlaceholderText("required" if required else "optional")
        self.reason_edit.textChanged.connect(self._check)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, parent=self)
        self.ok = QPushButton(ok_text, self)
        self.buttons.addButton(self.ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self.set_enter_button(self.ok)
        self.setMinimumWidth(440)
        return form

    def _check(self) -> None:
        self.ok.setEnabled(not self.required or bool(self.reason))

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()


class ShelveDialog(_ReasonRequired):
    """Shelve one alarm: a duration from the presets (capped at ``max_s``) and a reason."""

    def __init__(self, status: AlarmStatus, max_s: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Shelve {status.alarm_id}")
        self.status = status
        form = self._build(status, "Shelve", required=True)
        self.choices = shelve_choices(max_s, active=status.active)
        self.duration = QComboBox(self)
        self.duration.setObjectName("AlarmShelveDuration")
        for label, _ in self.choices:
            self.duration.addItem(label)
        form.addRow("Shelve for", self.duration)
        form.addRow("Reason", self.reason_edit)
        note = QLabel(f"This alarm may be shelved for {duration_text(max_s)} at most.", self)
        note.setObjectName("AlarmDialogNote")
        form.addRow("", note)
        self._check()

    @property
    def duration_s(self) -> float | None:
        """Seconds, or None for a one-shot shelve."""
        return self.choices[self.duration.currentIndex()][1]


class ReasonDialog(_ReasonRequired):
    """A reason (out of service, return to service) or a comment for one alarm."""

    def __init__(
        self,
        status: AlarmStatus,
        *,
        title: str,
        ok_text: str,
        label: str = "Reason",
        required: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.status = status
        form = self._build(status, ok_text, required)
        form.addRow(label, self.reason_edit)
        self._check()
