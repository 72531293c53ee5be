"""Login through the real dialogs: the status bar's user button, lockout after N failures
shown in the dialog, permission denials on the one write path, password changes under the
site's policy, and the first-run administrator; every attempt lands in the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction, AuditResult
from hmi.runtime.commands import Outcome
from hmi.storage.users import SIGN_IN_REFUSED
from hmi.views.login.dialogs import ChangePasswordDialog, FirstAdminDialog, LoginDialog
from tests.views.audit_station import (
    PASSWORD,
    Clock,
    artifact,
    finished,
    login,
    records,
    start_station,
    stop_station,
)
from tests.views.conftest import _run_async


@pytest.fixture
def station(qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path) -> Iterator[Station]:
    station = start_station(qtbot, tmp_path / "project", Clock())
    yield station
    stop_station(qtbot, station)


def type_into(qtbot: QtBot, dialog: QWidget, name: str, text: str) -> None:
    edit = dialog.findChild(QWidget, name)
    assert edit is not None, name
    edit.clear()  # type: ignore[attr-defined]
    qtbot.keyClicks(edit, text)


def click_ok(qtbot: QtBot, dialog: QWidget) -> None:
    button = dialog.findChild(QWidget, "OkButton")
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_login(qtbot: QtBot, station: Station) -> LoginDialog:
    status = station.window.status
    assert status.user_label.text() == "not logged in"
    qtbot.mouseClick(status.user_label, Qt.MouseButton.LeftButton)
    dialog = station.session_ui.dialog
    assert isinstance(dialog, LoginDialog)
    qtbot.waitExposed(dialog)
    return dialog


def test_login_from_the_status_bar(qtbot: QtBot, station: Station) -> None:
    station.window.show()
    dialog = open_login(qtbot, station)
    type_into(qtbot, dialog, "UserIdEdit", "Olga")
    type_into(qtbot, dialog, "PasswordEdit", PASSWORD)
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: station.sessions.current is not None)
    qtbot.waitUntil(lambda: station.session_ui.dialog is None)
    assert station.window.status.user_label.text() == "Olga Operator (operator)"
    assert not station.window.audit_button.isEnabled()  # an operator may not view the trail

    station.session_ui.logout()
    qtbot.waitUntil(lambda: station.sessions.current is None)
    assert station.window.status.user_label.text() == "not logged in"
    actions = [(r.action, r.user_id) for r in records(station)]
    assert actions[-2:] == [(AuditAction.LOGIN, "olga"), (AuditAction.LOGOUT, "olga")]


def test_lockout_after_three_failures_is_shown_in_the_dialog(
    qtbot: QtBot, station: Station
) -> None:
    station.window.show()
    dialog = open_login(qtbot, station)
    error = dialog.error_label
    for attempt in range(1, 4):
        type_into(qtbot, dialog, "UserIdEdit", "olga")
        type_into(qtbot, dialog, "PasswordEdit", f"wrong-{attempt}")
        click_ok(qtbot, dialog)
        qtbot.waitUntil(lambda: error.isVisible() and not dialog.busy)
        if attempt < 3:
            assert error.text() == SIGN_IN_REFUSED
            assert error.property("kind") == "error"
            error.hide()
    # the lockout reads like any refusal: the prompt tells a stranger nothing about olga
    assert error.text() == SIGN_IN_REFUSED and "olga" not in error.text()
    assert error.property("kind") == "error"
    assert dialog.password_edit.text() == ""  # cleared for the next try
    dialog.grab().save(artifact("audit_login.png"))

    type_into(qtbot, dialog, "PasswordEdit", PASSWORD)  # the right one: still locked out
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.busy and error.isVisible())
    assert error.text() == SIGN_IN_REFUSED and station.sessions.current is None
    assert dialog.isVisible()

    found = [(r.action, r.result, r.error) for r in records(station) if r.user_id == "olga"]
    assert [(a, r) for a, r, _ in found] == [
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
        (AuditAction.LOCKOUT, AuditResult.DONE),
        (AuditAction.LOGIN_FAILED, AuditResult.DENIED),
    ]
    assert found[-1][2] == "locked out"


def test_a_viewer_cannot_write_and_the_denial_is_recorded(qtbot: QtBot, station: Station) -> None:
    bridge = station.bridge
    nobody = finished(qtbot, bridge.submit_write("SP.Free", 20.0, origin="test/free"))
    assert nobody.outcome is Outcome.DENIED and "nobody is logged in" in nobody.message
    login(qtbot, station, "vic")
    result = finished(qtbot, bridge.submit_write("SP.Free", 21.0, origin="test/free"))
    assert result.outcome is Outcome.DENIED
    assert result.message == "the role 'viewer' may not write tags"
    status = station.window.status.command_label
    qtbot.waitUntil(lambda: status.property("outcome") == "denied")
    assert "may not write" in status.text()
    assert station.broker.latest("SP.Free").value == 10.0  # nothing was sent

    writes = [r for r in records(station) if r.action is AuditAction.WRITE]
    assert [(r.user_id, r.result, r.new_value) for r in writes] == [
        ("", AuditResult.DENIED, 20.0), ("vic", AuditResult.DENIED, 21.0),
    ]  # fmt: skip
    assert writes[1].role == "viewer" and writes[1].origin == "test/free"
    assert writes[1].target_address == "local://free?type=float&initial=10"


def test_an_operator_writes_and_is_told_done_after_the_record(
    qtbot: QtBot, station: Station
) -> None:
    login(qtbot, station, "olga")
    result = finished(qtbot, station.bridge.submit_write("SP.Free", 42.5, origin="test"))
    assert result.ok
    write = records(station)[-1]  # durable when the operator hears "done"
    assert (write.action, write.result, write.old_value, write.new_value, write.read_back) == (
        AuditAction.WRITE, AuditResult.DONE, 10.0, 42.5, 42.5,
    )  # fmt: skip
    assert write.user_name == "Olga Operator" and write.workstation == "TEST-ST"


def test_password_change_enforces_the_policy(qtbot: QtBot, station: Station) -> None:
    station.window.show()
    login(qtbot, station, "olga")
    dialog = station.session_ui.show_password()
    assert isinstance(dialog, ChangePasswordDialog)
    qtbot.waitExposed(dialog)
    type_into(qtbot, dialog, "OldPasswordEdit", PASSWORD)
    type_into(qtbot, dialog, "NewPasswordEdit", "olga2025")
    rules = dialog.fields.rules
    assert "use at least 10" in rules.text() and "contains the user name" in rules.text()
    assert not dialog.ok_button.isEnabled()
    type_into(qtbot, dialog, "NewPasswordEdit", "Tide-Gate-Valve-7")
    type_into(qtbot, dialog, "RepeatPasswordEdit", "Tide-Gate-Valve-8")
    assert "the two entries differ" in rules.text() and not dialog.ok_button.isEnabled()
    type_into(qtbot, dialog, "RepeatPasswordEdit", "Tide-Gate-Valve-7")
    assert rules.property("kind") == "ok"
    type_into(qtbot, dialog, "OldPasswordEdit", "not my password")
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible())
    assert dialog.error_label.text() == "your current password is wrong"
    type_into(qtbot, dialog, "OldPasswordEdit", PASSWORD)
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: station.session_ui.dialog is None)

    _run_async(qtbot, station.sessions.logout())
    login_with_new = station.sessions.login("olga", "Tide-Gate-Valve-7")
    assert _run_async(qtbot, login_with_new).user.user_id == "olga"
    changes = [r for r in records(station) if r.action is AuditAction.PASSWORD_CHANGE]
    assert [r.result for r in changes] == [AuditResult.DENIED, AuditResult.DONE]
    assert all("Tide-Gate" not in str(r.as_dict()) for r in records(station))


def test_a_password_set_by_an_administrator_must_be_changed_at_login(
    qtbot: QtBot, station: Station
) -> None:
    station.window.show()
    add = station.users.add
    _run_async(qtbot, station.trail.call(add, "newbie", "New Person", "operator", PASSWORD))
    dialog = open_login(qtbot, station)
    type_into(qtbot, dialog, "UserIdEdit", "newbie")
    type_into(qtbot, dialog, "PasswordEdit", PASSWORD)
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: isinstance(station.session_ui.dialog, ChangePasswordDialog))
    change = station.session_ui.dialog
    assert change is not None and "set by an administrator" in change.heading.text()
    change.reject()  # no own password: no session
    qtbot.waitUntil(lambda: station.sessions.current is None)
    logout = records(station)[-1]
    assert (logout.action, logout.reason) == (
        AuditAction.LOGOUT, "required password change not made",
    )  # fmt: skip


def test_first_start_creates_the_administrator(
    qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path
) -> None:
    station = start_station(qtbot, tmp_path / "project", Clock(), users=False)
    try:
        ui = station.session_ui
        task = qloop.create_task(ui.first_run(station.users, station.trail))
        qtbot.waitUntil(lambda: isinstance(ui.dialog, FirstAdminDialog))
        dialog = ui.dialog
        assert dialog is not None
        type_into(qtbot, dialog, "UserIdEdit", "root")
        type_into(qtbot, dialog, "FullNameEdit", "Rita Root")
        type_into(qtbot, dialog, "NewPasswordEdit", "rita")
        assert not dialog.findChild(QWidget, "OkButton").isEnabled()  # type: ignore[union-attr]
        type_into(qtbot, dialog, "NewPasswordEdit", "Harbour-Lights-9")
        type_into(qtbot, dialog, "RepeatPasswordEdit", "Harbour-Lights-9")
        QApplication.processEvents()
        click_ok(qtbot, dialog)
        qtbot.waitUntil(task.done, timeout=10000)
        assert task.result() is True
        session = station.sessions.current
        assert session is not None and session.user.role == "admin"
        assert not _run_async(qtbot, station.trail.call(station.users.needs_admin))
        added, logged_in = records(station)[-2:]
        assert (added.action, added.origin, added.target_address) == (
            AuditAction.USER_ADD, "first start", "user:root",
        )  # fmt: skip
        assert added.new_value == "name=Rita Root, role=admin"
        assert (logged_in.action, logged_in.user_id) == (AuditAction.LOGIN, "root")
    finally:
        stop_station(qtbot, station)
