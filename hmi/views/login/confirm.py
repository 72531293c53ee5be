"""The confirmation dialogs of the one write path (``session.Confirmer``): what a tag's
``write.confirm`` policy asks of the operator before anything is sent.

* ``confirm``: old -> new value, tag and units; Cancel is the default button.
* ``reason``: the same, and a reason that goes on the record.
* ``signature``: the operator re-enters their own password: an electronic signature meaning
  "performed by".
* ``verify``: a reason, and a second person (user id + password) whose signature means
  "verified by".

Enter never sends. The dialog was opened by a keystroke (Enter in a setpoint entry), so a
second one, or a key held down, must not approve the change: Enter in a filled field goes on
to the next empty one and then to Send (focus only; in an empty one it stays), Enter on Send
does nothing, and Enter anywhere else answers Cancel. Send is pressed by a click or by Space on it.

Passwords become ``Signature``s through ``SessionService.sign``: a wrong one is shown in the
dialog, counts toward lockout and is recorded. The dialog returns a ``ConfirmationResult``;
the guard checks it again, and only then does the command service write.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget
from shiboken6 import isValid

from hmi.model.audit.record import SignatureMeaning
from hmi.model.errors import HmiError
from hmi.model.security import Permission
from hmi.model.tags import ConfirmPolicy, TagConfig
from hmi.runtime.audit import ConfirmationResult, Signature
from hmi.runtime.session import SessionService
from hmi.storage.users import AuthenticationFailed
from hmi.views.login.dialogs import FormDialog

__all__ = ["ConfirmDialog", "QtConfirmer"]

_TITLES = {
    ConfirmPolicy.CONFIRM: ("Confirm change", "Send"),
    ConfirmPolicy.REASON: ("Change with reason", "Send"),
    ConfirmPolicy.SIGNATURE: ("Electronic signature", "Sign and send"),
    ConfirmPolicy.VERIFY: ("Second-person verification", "Verify and send"),
}


def _value(tag: TagConfig, value: Any) -> str:
    return "----" if value is None else tag.display(value)


class ConfirmDialog(FormDialog):
    """One write to confirm under ``policy``. ``result`` is what the guard receives: approved
    only if OK went through (and, for signatures, the password was right)."""

    def __init__(
        self,
        policy: ConfirmPolicy,
        tag: TagConfig,
        old: Any,
        new: Any,
        sessions: SessionService,
        *,
        parent: QWidget | None = None,
    ) -> None:
        title, ok_text = _TITLES.get(policy, ("Confirm change", "Send"))
        what = tag.description or tag.name
        super().__init__(
            title, f"Change {what}?", object_name="ConfirmDialog", ok_text=ok_text,
            ok_is_default=False, parent=parent,
        )  # fmt: skip
        self.setProperty("policy", policy.value)
        self.policy = policy
        self.tag = tag
        self._sessions = sessions
        self.result_value = ConfirmationResult(False)
        self._cancel_requested = False
        self._value_row("Tag", tag.name, "ConfirmTag")
        self._value_row("Current value", _value(tag, old), "OldValue")
        self._value_row("New value", _value(tag, new), "NewValue")
        self.reason_edit: QLineEdit | None = None
        self.password_edit: QLineEdit | None = None
        self.verifier_edit: QLineEdit | None = None
        self.verifier_password: QLineEdit | None = None
        if policy in (ConfirmPolicy.REASON, ConfirmPolicy.VERIFY):
            self.reason_edit = self.line_edit("Reason (required)", "ReasonEdit")
            self.reason_edit.setPlaceholderText("why: it goes on the audit record")
        session = sessions.current
        if policy is ConfirmPolicy.SIGNATURE and session is not None:
            user = session.user
            self._value_row("Signed by", f"{user.full_name} ({user.user_id})", "Signer")
            self._value_row("Meaning", SignatureMeaning.PERFORMED.value, "Meaning")
            self.password_edit = self.line_edit("Your password", "PasswordEdit", password=True)
        if policy is ConfirmPolicy.VERIFY and session is not None:
            user = session.user
            self._value_row("Changed by", f"{user.full_name} ({user.user_id})", "Signer")
            self._value_row("Meaning", SignatureMeaning.VERIFIED.value, "Meaning")
            self.verifier_edit = self.line_edit("Verifier's user", "VerifierEdit")
            self.verifier_password = self.line_edit(
                "Verifier's password", "VerifierPasswordEdit", password=True
            )
        if self.entries:
            hint = QLabel(f"Enter moves to the next field; only {ok_text} sends the change.", self)
            hint.setObjectName("ConfirmHint")
            hint.setWordWrap(True)
            self.form.addRow("", hint)
        first = self.reason_edit or self.password_edit
        if first is not None:
            first.setFocus()
        else:
            self.cancel_button.setFocus()
        self.update_ok()

    @property
    def entries(self) -> list[QLineEdit]:
        """The fields to fill, in the order the operator meets them."""
        edits = (self.reason_edit, self.password_edit, self.verifier_edit, self.verifier_password)
        return [edit for edit in edits if edit is not None]

    def on_enter(self) -> None:
        """Never sends: see the module's docstring."""
        focused = self.focusWidget()
        entries = self.entries
        if focused in entries:
            assert isinstance(focused, QLineEdit)
            if not focused.text().strip():
                return  # this one first
            after = entries[entries.index(focused) + 1 :] + entries[: entries.index(focused)]
            empty = [edit for edit in after if not edit.text().strip()]
            if empty:
                empty[0].setFocus()
            elif self.ok_button.isEnabled():
                self.ok_button.setFocus()
            return
        if focused is self.ok_button:
            return
        self.cancel_button.click()

    def _value_row(self, label: str, text: str, name: str) -> QLabel:
        shown = QLabel(text, self)
        shown.setObjectName(name)
        self.form.addRow(label, shown)
        return shown

    def _reason(self) -> str:
        return self.reason_edit.text().strip() if self.reason_edit is not None else ""

    def ready(self) -> bool:
        needs = [self.password_edit, self.verifier_edit, self.verifier_password]
        if any(edit is not None and not edit.text().strip() for edit in needs):
            return False
        return self.reason_edit is None or bool(self._reason())

    async def submit(self) -> None:
        reason = self._reason()
        signature: Signature | None = None
        verifier: Signature | None = None
        session = self._sessions.current
        if session is None or session.locked:
            raise HmiError("nobody is logged in at this station any more; the change is not sent")
        if self.password_edit is not None:
            signature = await self._sessions.sign(
                session.user.user_id, self.password_edit.text(), SignatureMeaning.PERFORMED
            )
        typed = ""
        if self.verifier_edit is not None and self.verifier_password is not None:
            typed = self.verifier_edit.text().strip()
            verifier = await self._verify(session.user.user_id, typed, self.verifier_password)
        if self._sessions.current != session:
            raise HmiError("the station was locked or the user changed; the change is not sent")
        self.result_value = ConfirmationResult(True, reason, verifier, signature, typed)

    async def _verify(self, performer: str, typed: str, password: QLineEdit) -> Signature:
        """The second person's signature; a refusal is recorded (who tried, and why) before
        the dialog shows it."""
        refused = self._sessions.verification_refused
        if typed.lower() == performer:
            why = "the verifier must be another user, not the one making the change"
            await refused(self.tag, typed, why)
            raise HmiError(why)
        try:
            verifier = await self._sessions.sign(typed, password.text(), SignatureMeaning.VERIFIED)
        except AuthenticationFailed as exc:
            await refused(self.tag, typed, f"signature refused: {exc.detail}")
            raise
        if not self._sessions.security.can(verifier.role, Permission.VERIFY_WRITE):
            self._sessions.redeem(verifier)  # used up: it verifies nothing
            why = f"{verifier.user_id} ({verifier.role}) may not verify writes; ask a supervisor"
            await refused(self.tag, typed, why, verifier)
            raise HmiError(why)
        return verifier

    def failed(self, exc: BaseException) -> None:
        for edit in (self.password_edit, self.verifier_password):
            if edit is not None:
                edit.clear()

    def cancel(self) -> None:
        """Answer Cancel now, or as soon as a password check under way has finished."""
        self._cancel_requested = True
        self.reject()

    def accept(self) -> None:
        if self._cancel_requested:
            self.result_value = ConfirmationResult(False, self._reason())
            super().reject()
            return
        super().accept()

    def reject(self) -> None:
        if not self.busy:
            self.result_value = ConfirmationResult(False, self._reason())
        super().reject()


class QtConfirmer:
    """``session.Confirmer`` with Qt dialogs: each confirmation opens a window-modal dialog
    (without blocking the loop) and waits for it. ``cancel_all`` answers every open one with
    Cancel (the station was locked or the user logged out)."""

    def __init__(self, sessions: SessionService, parent: QWidget | None = None) -> None:
        self._sessions = sessions
        self.parent = parent
        self.open_dialogs: list[ConfirmDialog] = []

    async def confirm(
        self, kind: ConfirmPolicy, tag: TagConfig, old: Any, new: Any
    ) -> ConfirmationResult:
        dialog = ConfirmDialog(kind, tag, old, new, self._sessions, parent=self.parent)
        answered: asyncio.Future[ConfirmationResult] = asyncio.get_running_loop().create_future()

        def finished(_code: int) -> None:
            if not answered.done():
                answered.set_result(dialog.result_value)

        dialog.finished.connect(finished)
        self.open_dialogs.append(dialog)
        dialog.open()
        try:
            return await answered
        finally:
            self.open_dialogs.remove(dialog)
            dialog.deleteLater()

    def cancel_all(self) -> None:
        for dialog in list(self.open_dialogs):
            if isValid(dialog):
                dialog.cancel()
