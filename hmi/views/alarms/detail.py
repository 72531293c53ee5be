"""The alarm summary's detail pane: the selected alarm with its rationalisation (cause,
consequence, corrective action), as the master alarm database states it, and who shelved it
or took it out of service, and why."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from hmi.model.alarms.states import AlarmState, AlarmStatus
from hmi.model.tags import TagConfig
from hmi.views.alarms.banner import clock
from hmi.views.alarms.table import state_text, value_text
from hmi.widgets.alarm_mark import PRIORITY_NUMBER

__all__ = ["AlarmDetail"]

FIELDS = (
    ("alarm", "Alarm"), ("tag", "Tag"), ("state", "State"), ("message", "Message"),
    ("value", "Value"), ("since", "Since"), ("cause", "Cause"),
    ("consequence", "Consequence"), ("action", "Corrective action"), ("by", "By, reason"),
)  # fmt: skip


class AlarmDetail(QFrame):
    def __init__(self, tags: Mapping[str, TagConfig], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlarmDetail")
        self.setFixedWidth(300)
        self.tags = tags
        pane = QVBoxLayout(self)
        pane.setContentsMargins(10, 8, 10, 8)
        pane.setSpacing(1)
        self.fields: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for key, title in FIELDS:
            caption = QLabel(title, self)
            caption.setObjectName("AlarmDetailCaption")
            value = QLabel("", self)
            value.setObjectName("AlarmDetailValue")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            self.captions[key] = caption
            pane.addWidget(caption)
            pane.addWidget(value)
            pane.addSpacing(5)
        pane.addStretch(1)
        self.show_status(None)

    def show_status(self, status: AlarmStatus | None) -> None:
        """Show ``status`` (None: nothing selected, or more than one alarm)."""
        texts = dict.fromkeys(self.fields, "")
        if status is not None:
            when = status.activated_at if status.activated_at is not None else status.since
            texts.update(
                alarm=f"{status.alarm_id} — {status.kind}, priority "
                f"{PRIORITY_NUMBER[status.priority]} ({status.priority.value})",
                tag=status.tag, state=state_text(status), message=status.message,
                value=value_text(status, self.tags), since=clock(when),
                cause=status.cause or "—", consequence=status.consequence or "—",
                action=status.action or "—",
            )  # fmt: skip
            if status.state in (AlarmState.SHELVED, AlarmState.OUT_OF_SERVICE):
                texts["by"] = f"{status.by or '—'}: {status.reason or '—'}"
        for key, label in self.fields.items():
            label.setText(texts[key])
            shown = bool(texts[key]) or (status is not None and key != "by")
            label.setVisible(shown)
            self.captions[key].setVisible(shown)
