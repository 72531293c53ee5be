"""The lock screen: covers the whole main window while the session is locked (after inactivity
or on request). The user who locked it unlocks with their password; another user may log in
instead, which ends the first user's session (recorded as such by the session service)."""

from __future__ import annotations

import asyncio
import logging
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from hmi.runtime.session import SessionService
from hmi.views.login.dialogs import describe_error
from hmi.views.main_window import MainWindow

__all__ = ["LockScreen"]

log = logging.getLogger(__name__)


class LockScreen(QFrame):
    """A child of the main window kept over all of it (screens, navigation, status bar)."""

    def __init__(self, sessions: SessionService, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("LockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._sessions = sessions
        self._window = window
        self._task: asyncio.Task[None] | None = None
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.panel = QFrame(self)
        self.panel.setObjectName("LockPanel")
        self.panel.setFixedWidth(460)
        row.addWidget(self.panel)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        column = QVBoxLayout(self.panel)
        column.setContentsMargins(24, 20, 24, 20)
        column.setSpacing(10)
        self.title = QLabel("Station locked", self.panel)
        self.title.setObjectName("LockTitle")
        title_font = self.title.font()  # bigger than the rest: the theme sets no font sizes
        title_font.setPointSizeF(title_font.pointSizeF() * 1.8)
        self.title.setFont(title_font)
        self.who = QLabel("", self.panel)
        self.who.setObjectName("LockWho")
        self.who.setWordWrap(True)
        self.user_edit = QLineEdit(self.panel)
        self.user_edit.setObjectName("UserIdEdit")
        self.user_edit.setPlaceholderText("another user's id")
        self.user_edit.hide()
        self.password_edit = QLineEdit(self.panel)
        self.password_edit.setObjectName("PasswordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("password")
        self.error_label = QLabel("", self.panel)
        self.error_label.setObjectName("DialogError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        buttons = QHBoxLayout()
        self.switch_button = QPushButton("Log in as another user", self.panel)
        self.switch_button.setObjectName("SwitchUserButton")
        self.unlock_button = QPushButton("Unlock", self.panel)
        self.unlock_button.setObjectName("OkButton")
        self.unlock_button.setDefault(True)
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        for widget in (self.title, self.who, self.user_edit, self.password_edit, self.error_label):
            column.addWidget(widget)
        column.addLayout(buttons)

        self.unlock_button.clicked.connect(self._submit)
        self.password_edit.returnPressed.connect(self._submit)
        self.user_edit.returnPressed.connect(self.password_edit.setFocus)
        self.switch_button.clicked.connect(self._toggle_other_user)
        window.resized.connect(self._cover)
        self.hide()

    @property
    def other_user(self) -> bool:
        return not self.user_edit.isHidden()

    def _cover(self) -> None:
        self.setGeometry(self._window.rect())

    def present(self, who: str, reason: str = "") -> None:
        """Cover the window: ``who`` locked it (name, id, role)."""
        why = f" ({reason})" if reason else ""
        self.who.setText(
            f"Locked at {time.strftime('%H:%M')} for {who}{why}. Their password unlocks it; "
            "another user may log in instead, which ends this session."
        )
        self._set_other_user(False)
        self.password_edit.clear()
        self.error_label.hide()
        self.setGeometry(self._window.rect())
        self.show()
        self.raise_()
        self.password_edit.setFocus()

    def _toggle_other_user(self) -> None:
        self._set_other_user(self.user_edit.isHidden())

    def _set_other_user(self, other: bool) -> None:
        self.user_edit.setVisible(other)
        self.user_edit.clear()
        self.switch_button.setText("Unlock as myself" if other else "Log in as another user")
        self.unlock_button.setText("Log in" if other else "Unlock")
        (self.user_edit if other else self.password_edit).setFocus()

    @property
    def busy(self) -> bool:
        """A password check (or a change of user) is under way."""
        return self._task is not None and not self._task.done()

    def _submit(self) -> None:
        if self.busy:
            return
        if not self.password_edit.text() or (self.other_user and not self.user_edit.text()):
            return
        self.error_label.hide()
        self.unlock_button.setEnabled(False)
        self._task = asyncio.get_event_loop().create_task(self._run())

    async def _run(self) -> None:
        password = self.password_edit.text()
        try:
            if self.other_user:
                await self._sessions.login(self.user_edit.text().strip(), password)
            else:
                await self._sessions.unlock(password)
        except Exception as exc:
            text, kind = describe_error(exc)
            self.error_label.setText(text)
            self.error_label.setProperty("kind", kind)
            self.error_label.style().unpolish(self.error_label)
            self.error_label.style().polish(self.error_label)
            self.error_label.show()
            self.password_edit.clear()
            self.password_edit.setFocus()
        finally:
            self.unlock_button.setEnabled(True)
            self._task = None
            current = self._sessions.current
            if current is None or not current.locked:
                self.hide()
