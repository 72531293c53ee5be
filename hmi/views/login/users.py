"""User administration at the station (needs ``manage_users``): list, add, change role, reset
a password (the user must change it at next login), disable, enable, unlock. Every change and
every refusal is recorded by ``UserAdministration``; users are never deleted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.runtime.session import SessionService, UserAdministration
from hmi.storage.users import User
from hmi.views.login.dialogs import FormDialog, PasswordFields, describe_error
from hmi.widgets.dialog import OperatorDialog

__all__ = ["AddUserDialog", "ResetPasswordDialog", "UsersDialog"]

log = logging.getLogger(__name__)
_COLUMNS = ("User", "Name", "Role", "State", "Password changed")


class AddUserDialog(FormDialog):
    def __init__(
        self, admin: UserAdministration, sessions: SessionService, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            "Add user", "A new user; they choose their own password at first login.",
            object_name="AddUserDialog", ok_text="Add user", parent=parent,
        )  # fmt: skip
        self._admin = admin
        self.user_edit = self.line_edit("User", "UserIdEdit")
        self.name_edit = self.line_edit("Full name", "FullNameEdit")
        self.role_combo = QComboBox(self)
        self.role_combo.setObjectName("RoleCombo")
        self.role_combo.addItems(list(sessions.security.role_names))
        self.role_combo.setCurrentText("operator")
        self.form.addRow("Role", self.role_combo)
        self.fields = PasswordFields(
            self, sessions.security.password,
            lambda: (self.user_edit.text().strip(), self.name_edit.text().strip()),
        )  # fmt: skip
        self.update_ok()

    def ready(self) -> bool:
        return bool(self.user_edit.text().strip() and self.name_edit.text().strip()) and (
            self.fields.acceptable()
        )

    async def submit(self) -> None:
        await self._admin.add(
            self.user_edit.text().strip(), self.name_edit.text().strip(),
            self.role_combo.currentText(), self.fields.new.text(),
        )  # fmt: skip


class ResetPasswordDialog(FormDialog):
    def __init__(
        self,
        admin: UserAdministration,
        sessions: SessionService,
        user: User,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Reset password", f"A new password for {user.full_name} ({user.user_id}); they "
            "must change it at their next login.", object_name="ResetPasswordDialog",
            ok_text="Reset password", parent=parent,
        )  # fmt: skip
        self._admin = admin
        self._user = user
        self.fields = PasswordFields(
            self, sessions.security.password, lambda: (user.user_id, user.full_name)
        )
        self.update_ok()

    def ready(self) -> bool:
        return self.fields.acceptable()

    async def submit(self) -> None:
        await self._admin.reset_password(self._user.user_id, self.fields.new.text())


class UsersDialog(OperatorDialog):
    def __init__(
        self, admin: UserAdministration, sessions: SessionService, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("UsersDialog")
        self.setWindowTitle("Users")
        self.resize(820, 480)
        self._admin = admin
        self._sessions = sessions
        self.users: list[User] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        column = QVBoxLayout(self)
        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setObjectName("UsersTable")
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        column.addWidget(self.table, 1)
        self.role_combo = QComboBox(self)
        self.role_combo.setObjectName("RoleCombo")
        self.role_combo.addItems(list(sessions.security.role_names))
        self.message = QLabel("", self)
        self.message.setObjectName("DialogError")
        self.message.setWordWrap(True)
        self.message.hide()
        column.addWidget(self.message)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, handler in (
            ("add", "Add…", self._add), ("role", "Set role:", self._set_role),
            ("reset", "Reset password…", self._reset), ("disable", "Disable", self._disable),
            ("enable", "Enable", self._enable), ("unlock", "Unlock", self._unlock),
        ):  # fmt: skip
            button = QPushButton(text, self)
            button.setObjectName(f"Users{key.title()}")
            button.clicked.connect(handler)
            row.addWidget(button)
            self.buttons[key] = button
            if key == "role":
                row.addWidget(self.role_combo)
        row.addStretch(1)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        row.addWidget(close)
        column.addLayout(row)
        # The theme's min-width is a hard minimum the layout squeezes to ("Reset password…"
        # read "set passwor"): never narrower than the text, the dialog widens instead.
        for each in (*self.buttons.values(), close):
            each.ensurePolished()
            each.setMinimumWidth(each.sizeHint().width())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()  # each time it is opened

    def _spawn(self, work: Callable[[], Awaitable[Any]]) -> None:
        async def run() -> None:
            try:
                await work()
            except Exception as exc:
                text, kind = describe_error(exc)
                self.message.setText(text)
                self.message.setProperty("kind", kind)
                self.message.show()
            else:
                self.message.hide()
            try:
                users = await self._admin.list()
            except Exception as exc:  # the permission went, or the database is away
                self.message.setText(describe_error(exc)[0])
                self.message.show()
                return
            self._show(users)

        task = asyncio.get_event_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def refresh(self) -> None:
        async def nothing() -> None:
            return None

        self._spawn(nothing)

    def _show(self, users: list[User]) -> None:
        self.users = users
        self.table.setRowCount(len(users))
        for row, user in enumerate(users):
            cells = (user.user_id, user.full_name, user.role, user.state,
                     f"{user.password_changed_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))

    def selected(self) -> User | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows and rows[0].row() < len(self.users) else None

    def _on_user(self, act: Callable[[str], Awaitable[Any]]) -> None:
        user = self.selected()
        if user is not None:
            self._spawn(lambda: act(user.user_id))

    def _add(self) -> None:
        dialog = AddUserDialog(self._admin, self._sessions, self)
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def _reset(self) -> None:
        user = self.selected()
        if user is not None:
            dialog = ResetPasswordDialog(self._admin, self._sessions, user, self)
            dialog.accepted.connect(self.refresh)
            dialog.open()

    def _set_role(self) -> None:
        role = self.role_combo.currentText()
        self._on_user(lambda uid: self._admin.change(uid, role=role))

    def _disable(self) -> None:
        self._on_user(self._admin.disable)

    def _enable(self) -> None:
        self._on_user(self._admin.enable)

    def _unlock(self) -> None:
        self._on_user(self._admin.unlock)
