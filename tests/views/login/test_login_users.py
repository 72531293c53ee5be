"""User administration at the station: only for those holding ``manage_users``; adding a user
through the dialog (the password policy applies), changing a role, disabling; all recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction, AuditResult
from hmi.views.login.users import AddUserDialog, UsersDialog
from tests.views.audit_station import (
    PASSWORD,
    USERS,
    Clock,
    login,
    records,
    start_station,
    stop_station,
)
from tests.views.conftest import _run_async
from tests.views.text_fit import cut_texts


@pytest.fixture
def station(qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path) -> Iterator[Station]:
    station = start_station(qtbot, tmp_path / "project", Clock())
    add = station.users.add
    _run_async(
        qtbot, station.trail.call(add, "boss", "Bo Boss", "admin", PASSWORD, must_change=False)
    )
    station.window.show()
    yield station
    stop_station(qtbot, station)


def test_users_dialog_adds_changes_and_disables(qtbot: QtBot, station: Station) -> None:
    status, ui = station.window.status, station.session_ui
    login(qtbot, station, "olga")
    assert not status.user_actions["users"].isVisible()
    login(qtbot, station, "boss")
    assert status.user_actions["users"].isVisible()
    status.user_actions["users"].trigger()
    dialog = ui.users_dialog
    assert isinstance(dialog, UsersDialog)
    qtbot.waitUntil(lambda: len(dialog.users) == len(USERS) + 1)
    assert dialog.buttons["reset"].text() == "Reset password…"
    assert cut_texts(dialog) == []  # "Reset password…" read "set passwor"

    qtbot.mouseClick(dialog.buttons["add"], Qt.MouseButton.LeftButton)
    add = dialog.findChild(AddUserDialog)
    assert add is not None
    qtbot.keyClicks(add.user_edit, "nina")
    qtbot.keyClicks(add.name_edit, "Nina Night")
    add.role_combo.setCurrentText("supervisor")
    qtbot.keyClicks(add.fields.new, "nina")
    assert not add.ok_button.isEnabled()  # the policy: too short, contains the user name
    add.fields.new.clear()
    qtbot.keyClicks(add.fields.new, "Quiet-Harbour-31")
    qtbot.keyClicks(add.fields.repeat, "Quiet-Harbour-31")
    qtbot.mouseClick(add.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(u.user_id == "nina" for u in dialog.users))
    row = next(i for i, u in enumerate(dialog.users) if u.user_id == "nina")
    assert dialog.table.item(row, 3).text() == "must change password"

    dialog.table.selectRow(row)
    dialog.role_combo.setCurrentText("operator")
    qtbot.mouseClick(dialog.buttons["role"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.users[row].role == "operator")
    dialog.table.selectRow(row)
    qtbot.mouseClick(dialog.buttons["disable"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.item(row, 3).text() == "disabled")

    login(qtbot, station, "olga")  # the dialog is the administrator's: it closes
    assert ui.users_dialog is None
    changes = [r for r in records(station) if r.target_address == "user:nina"]
    assert [(r.action, r.result, r.user_id) for r in changes] == [
        (AuditAction.USER_ADD, AuditResult.DONE, "boss"),
        (AuditAction.USER_CHANGE, AuditResult.DONE, "boss"),
        (AuditAction.USER_DISABLE, AuditResult.DONE, "boss"),
    ]
    assert changes[1].new_value == "name=Nina Night, role=operator"
