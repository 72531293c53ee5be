"""Login, password change and the first-run administrator: dialogs whose OK runs a coroutine
of the session service (argon2 checks run on the audit trail's worker, never on the UI loop).

Every refusal is shown in the dialog itself, in words the person at the station can act on:
a refused sign-in (the same words for a wrong password, an unknown user and a locked account),
each broken rule of the password policy.
The session service records every attempt; the dialogs only show and ask.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi.model.errors import HmiError
from hmi.model.security import PasswordPolicy, PasswordRejected
from hmi.runtime.session import Session, SessionService
from hmi.storage.users import AuthenticationFailed
from hmi.widgets.dialog import CommandButton, OperatorDialog

__all__ = [
    "ChangePasswordDialog",
    "FirstAdminDialog",
    "FormDialog",
    "LoginDialog",
    "PasswordFields",
    "describe_error",
]

log = logging.getLogger(__name__)


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(text, kind) for an error shown in a dialog. A lockout reads like any refused sign-in
    (``SIGN_IN_REFUSED``): the prompt must not tell a stranger which accounts exist or are
    locked; the audit trail records the lockout with the user."""
    if isinstance(exc, PasswordRejected):
        return "Password not accepted:\n• " + "\n• ".join(exc.problems), "error"
    if isinstance(exc, HmiError):
        return str(exc), "error"
    return f"the user database does not answer ({type(exc).__name__}: {exc})", "error"


class FormDialog(OperatorDialog):
    """A modal form whose OK runs ``submit()`` (a coroutine) on the asyncio loop; an error is
    shown in the dialog and it stays open, success closes it. Enter presses OK (log in,
    change a password: the form's one purpose); ``ok_is_default`` False makes Cancel the
    button Enter presses (confirmations, which refine it further)."""

    def __init__(
        self,
        title: str,
        heading: str,
        *,
        object_name: str,
        ok_text: str = "OK",
        ok_is_default: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(440)
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 16, 20, 16)
        column.setSpacing(10)
        self.heading = QLabel(heading, self)
        self.heading.setObjectName("DialogHeading")
        self.heading.setWordWrap(True)
        column.addWidget(self.heading)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        column.addLayout(self.form)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("DialogError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        column.addWidget(self.error_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("CancelButton")
        # OK of a confirmation sends a write: a CommandButton, which Enter never presses.
        self.ok_button = (
            QPushButton(ok_text, self) if ok_is_default else CommandButton(ok_text, self)
        )
        self.ok_button.setObjectName("OkButton")
        self.set_enter_button(self.ok_button if ok_is_default else self.cancel_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        column.addLayout(row)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self._on_ok)
        self._task: asyncio.Task[None] | None = None

    def line_edit(self, label: str, name: str, *, password: bool = False) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        if password:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.textChanged.connect(self.update_ok)
        self.form.addRow(label, edit)
        return edit

    # -- to override ---------------------------------------------------------------------------

    def ready(self) -> bool:
        """Whether OK can be pressed (every required field given)."""
        return True

    async def submit(self) -> None:
        """Do what OK means; raise to keep the dialog open with the error shown."""

    def failed(self, exc: BaseException) -> None:
        """After an error was shown (clear a password field, ...)."""

    # -- running -------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def update_ok(self) -> None:
        self.ok_button.setEnabled(not self.busy and self.ready())

    def show_error(self, text: str, kind: str = "error") -> None:
        self.error_label.setText(text)
        self.error_label.setProperty("kind", kind)
        _restyle(self.error_label)
        self.error_label.setVisible(bool(text))

    def _on_ok(self) -> None:
        if self.busy or not self.ready():
            return
        self.show_error("")
        self._task = asyncio.get_event_loop().create_task(self._run())
        self.update_ok()

    async def _run(self) -> None:
        try:
            await self.submit()
        except Exception as exc:
            if not isinstance(exc, HmiError):
                log.exception("%s failed", self.objectName())
            self.show_error(*describe_error(exc))
            self._task = None
            self.update_ok()
            self.failed(exc)
            return
        self._task = None
        self.accept()

    def reject(self) -> None:
        if self.busy:
            return  # a check is running; its answer decides
        super().reject()


class PasswordFields:
    """New password + repeat, with every rule of the policy the new one still breaks listed
    live below them."""

    def __init__(
        self, dialog: FormDialog, policy: PasswordPolicy, who: Callable[[], tuple[str, str]]
    ) -> None:
        self._policy = policy
        self._who = who  # (user id, full name) the password is for
        self.new = dialog.line_edit("New password", "NewPasswordEdit", password=True)
        self.repeat = dialog.line_edit("Repeat it", "RepeatPasswordEdit", password=True)
        self.rules = QLabel("", dialog)
        self.rules.setObjectName("PasswordRules")
        self.rules.setWordWrap(True)
        dialog.form.addRow("", self.rules)
        for edit in (self.new, self.repeat):
            edit.textChanged.connect(self.show_rules)
        self.show_rules()

    def problems(self) -> list[str]:
        user_id, full_name = self._who()
        found = self._policy.check(user_id, self.new.text(), full_name=full_name)
        if self.new.text() and self.repeat.text() and self.new.text() != self.repeat.text():
            found.append("the two entries differ")
        return found

    def acceptable(self) -> bool:
        return (
            bool(self.new.text())
            and self.new.text() == self.repeat.text()
            and not (self.problems())
        )

    def show_rules(self) -> None:
        if not self.new.text():
            policy = self._policy
            text = (
                f"At least {policy.min_length} characters, mixing {policy.min_classes} of: "
                "lower-case, upper-case, digits, other; not your user name or name."
            )
            self.rules.setProperty("kind", "hint")
        elif problems := self.problems():
            text = "Not yet: " + "; ".join(problems) + "."
            self.rules.setProperty("kind", "problem")
        else:
            text = "The password meets the site's rules."
            self.rules.setProperty("kind", "ok")
        self.rules.setText(text)
        _restyle(self.rules)


class LoginDialog(FormDialog):
    """User id and password; a refusal or a lockout is shown in the dialog."""

    def __init__(
        self, sessions: SessionService, *, user_id: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(
            "Log in", "Log in to operate this station.", object_name="LoginDialog",
            ok_text="Log in", parent=parent,
        )  # fmt: skip
        self._sessions = sessions
        self.session: Session | None = None
        self.user_edit = self.line_edit("User", "UserIdEdit")
        self.password_edit = self.line_edit("Password", "PasswordEdit", password=True)
        self.user_edit.setText(user_id)
        (self.password_edit if user_id else self.user_edit).setFocus()
        self.update_ok()

    def ready(self) -> bool:
        return bool(self.user_edit.text().strip() and self.password_edit.text())

    async def submit(self) -> None:
        self.session = await self._sessions.login(
            self.user_edit.text().strip(), self.password_edit.text()
        )

    def failed(self, exc: BaseException) -> None:
        self.password_edit.clear()
        self.password_edit.setFocus()


class ChangePasswordDialog(FormDialog):
    """The logged-in user chooses a new password (the site's policy applies). ``why`` says why
    it is asked for (set by an administrator, expired); then it is required."""

    def __init__(
        self, sessions: SessionService, *, why: str = "", parent: QWidget | None = None
    ) -> None:
        session = sessions.current
        name = session.user.full_name if session else ""
        super().__init__(
            "Change password", why or f"Choose a new password for {name}.",
            object_name="ChangePasswordDialog", ok_text="Change password", parent=parent,
        )  # fmt: skip
        self._sessions = sessions
        self.old_edit = self.line_edit("Current password", "OldPasswordEdit", password=True)

        def who() -> tuple[str, str]:
            current = sessions.current
            return (current.user.user_id, current.user.full_name) if current else ("", "")

        self.fields = PasswordFields(self, sessions.security.password, who)
        self.update_ok()

    def ready(self) -> bool:
        return bool(self.old_edit.text()) and self.fields.acceptable()

    async def submit(self) -> None:
        try:
            await self._sessions.change_password(self.old_edit.text(), self.fields.new.text())
        except AuthenticationFailed:
            raise HmiError("your current password is wrong") from None


class FirstAdminDialog(FormDialog):
    """First start: nobody may manage users yet, so the first administrator is created here.
    ``create(user_id, full_name, password)`` adds (and records) the user."""

    def __init__(
        self,
        policy: PasswordPolicy,
        create: Callable[[str, str, str], Awaitable[Any]],
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "First start: administrator",
            "No administrator exists yet. Create the first one: they add the other users "
            "(operators, supervisors, auditors) and are recorded as such in the audit trail.",
            object_name="FirstAdminDialog", ok_text="Create administrator", parent=parent,
        )  # fmt: skip
        self._create = create
        self.user_edit = self.line_edit("User", "UserIdEdit")
        self.name_edit = self.line_edit("Full name", "FullNameEdit")
        self.fields = PasswordFields(
            self, policy, lambda: (self.user_edit.text().strip(), self.name_edit.text().strip())
        )
        self.user_edit.textChanged.connect(lambda _text: self.fields.show_rules())
        self.update_ok()

    def ready(self) -> bool:
        return (
            bool(self.user_edit.text().strip() and self.name_edit.text().strip())
            and self.fields.acceptable()
        )

    async def submit(self) -> None:
        await self._create(
            self.user_edit.text().strip(), self.name_edit.text().strip(), self.fields.new.text()
        )
