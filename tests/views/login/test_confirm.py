"""The confirmation policies through the REAL dialogs (typed into, clicked): confirm with
Cancel as the default, reason, electronic signature and second-person verification. Nothing
is sent unless approved, and every outcome ends in an audit record with what was asked for,
the reason, the signature's meaning and the verifier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.runtime.commands import CommandResult, Outcome
from hmi.storage.users import SIGN_IN_REFUSED
from hmi.views.login.confirm import ConfirmDialog, QtConfirmer
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
from tests.views.text_fit import cut_texts


@pytest.fixture
def station(qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path) -> Iterator[Station]:
    station = start_station(qtbot, tmp_path / "project", Clock())
    station.window.show()
    login(qtbot, station, "olga")
    yield station
    stop_station(qtbot, station)


def ask(qtbot: QtBot, station: Station, tag: str, value: float) -> tuple[Any, ConfirmDialog]:
    """Submit a write and return (its task, the dialog it opened)."""
    task = station.bridge.submit_write(tag, value, origin="test/entry")
    confirmer = station.guard.confirmer
    assert isinstance(confirmer, QtConfirmer)
    qtbot.waitUntil(lambda: bool(confirmer.open_dialogs))
    dialog = confirmer.open_dialogs[-1]
    qtbot.waitExposed(dialog)
    assert cut_texts(dialog) == []  # nothing cut, the reason's hint included
    return task, dialog


def ok(qtbot: QtBot, dialog: ConfirmDialog) -> None:
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def last_write(station: Station) -> AuditRecord:
    return [r for r in records(station) if r.action is AuditAction.WRITE][-1]


def shown(dialog: ConfirmDialog, name: str) -> str:
    label = dialog.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


def test_confirm_shows_old_and_new_and_cancel_is_the_default(
    qtbot: QtBot, station: Station
) -> None:
    task, dialog = ask(qtbot, station, "SP.Confirm", 62.5)
    assert dialog.windowTitle() == "Confirm change"
    assert dialog.heading.text() == "Change Dosing setpoint?"
    assert (shown(dialog, "ConfirmTag"), shown(dialog, "OldValue"), shown(dialog, "NewValue")) == (
        "SP.Confirm", "50.0 l/h", "62.5 l/h",
    )  # fmt: skip
    assert dialog.cancel_button.isDefault() and not dialog.ok_button.isDefault()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter cancels
    result: CommandResult = finished(qtbot, task)
    assert result.outcome is Outcome.CANCELLED
    assert station.broker.latest("SP.Confirm").value == 50.0  # nothing was sent
    record = last_write(station)
    assert (record.result, record.new_value, record.old_value, record.user_id) == (
        AuditResult.CANCELLED, 62.5, 50.0, "olga",
    )  # fmt: skip

    task, dialog = ask(qtbot, station, "SP.Confirm", 62.5)
    ok(qtbot, dialog)
    assert finished(qtbot, task).ok
    assert station.broker.latest("SP.Confirm").value == 62.5
    assert last_write(station).result is AuditResult.DONE


def test_reason_is_required_and_recorded(qtbot: QtBot, station: Station) -> None:
    task, dialog = ask(qtbot, station, "SP.Reason", 25.0)
    assert not dialog.ok_button.isEnabled()  # no reason yet
    assert dialog.reason_edit is not None
    qtbot.keyClicks(dialog.reason_edit, "   ")
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.reason_edit, "raw water turbidity up, per SOP-12")
    ok(qtbot, dialog)
    assert finished(qtbot, task).ok
    record = last_write(station)
    assert record.reason == "raw water turbidity up, per SOP-12"
    assert (record.result, record.meaning, record.origin) == (
        AuditResult.DONE, "", "test/entry",
    )  # fmt: skip


def test_electronic_signature_flow(qtbot: QtBot, station: Station) -> None:
    task, dialog = ask(qtbot, station, "SP.Signed", 35.0)
    assert shown(dialog, "Signer") == "Olga Operator (olga)"
    assert shown(dialog, "Meaning") == "performed by"
    assert dialog.password_edit is not None
    qtbot.keyClicks(dialog.password_edit, "not-my-password")
    ok(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible())  # shown in the dialog
    assert dialog.error_label.text() == SIGN_IN_REFUSED
    assert dialog.isVisible() and not task.done() and dialog.password_edit.text() == ""
    qtbot.keyClicks(dialog.password_edit, PASSWORD)
    ok(qtbot, dialog)
    assert finished(qtbot, task).ok
    assert station.broker.latest("SP.Signed").value == 35.0

    found = records(station)
    failed = [r for r in found if r.action is AuditAction.LOGIN_FAILED][-1]
    assert (failed.user_id, failed.origin) == ("olga", "signature (performed by)")
    record = last_write(station)
    assert (record.result, record.meaning, record.user_id, record.new_value) == (
        AuditResult.DONE, "performed by", "olga", 35.0,
    )  # fmt: skip


def test_second_person_verification_flow(qtbot: QtBot, station: Station) -> None:
    task, dialog = ask(qtbot, station, "SP.Verified", 1.5)
    assert dialog.windowTitle() == "Second-person verification"
    assert shown(dialog, "Meaning") == "verified by"
    assert dialog.reason_edit and dialog.verifier_edit and dialog.verifier_password
    qtbot.keyClicks(dialog.reason_edit, "new dosing curve from the lab")
    qtbot.keyClicks(dialog.verifier_edit, "olga")  # not oneself
    qtbot.keyClicks(dialog.verifier_password, PASSWORD)
    ok(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible())
    assert "must be another user" in dialog.error_label.text()

    dialog.verifier_edit.clear()
    qtbot.keyClicks(dialog.verifier_edit, "otto")  # an operator may not verify
    qtbot.keyClicks(dialog.verifier_password, PASSWORD)
    ok(qtbot, dialog)
    qtbot.waitUntil(lambda: "may not verify" in dialog.error_label.text())
    assert dialog.error_label.text().startswith("otto (operator) may not verify writes")

    dialog.verifier_edit.clear()
    qtbot.keyClicks(dialog.verifier_edit, "Sam ")  # as typed; the password is wrong
    qtbot.keyClicks(dialog.verifier_password, "not-his-password")
    ok(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error_label.text() == SIGN_IN_REFUSED)
    dialog.verifier_edit.clear()
    qtbot.keyClicks(dialog.verifier_edit, "nobody")  # no such user
    qtbot.keyClicks(dialog.verifier_password, PASSWORD)
    ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.verifier_password.text() == "")
    refused = [r for r in records(station) if r.action is AuditAction.SIGNATURE]
    assert [(r.result, r.user_id, r.verifier_id, r.verifier_name, r.meaning, r.target_tag)
            for r in refused] == [
        (AuditResult.DENIED, "olga", "olga", "Olga Operator", "verified by", "SP.Verified"),
        (AuditResult.DENIED, "olga", "otto", "Otto Operator", "verified by", "SP.Verified"),
        (AuditResult.DENIED, "olga", "sam", "Sam Supervisor", "verified by", "SP.Verified"),
        (AuditResult.DENIED, "olga", "nobody", "", "verified by", "SP.Verified"),
    ]  # fmt: skip
    assert "must be another user" in refused[0].error
    assert refused[1].error.startswith("otto (operator) may not verify writes")
    assert refused[2].error.startswith("signature refused: ")

    dialog.verifier_edit.clear()
    qtbot.keyClicks(dialog.verifier_edit, "sam")
    qtbot.keyClicks(dialog.verifier_password, PASSWORD)
    dialog.grab().save(artifact("audit_confirm.png"))
    ok(qtbot, dialog)
    assert finished(qtbot, task).ok
    record = last_write(station)
    assert (record.result, record.user_id, record.new_value, record.reason) == (
        AuditResult.DONE, "olga", 1.5, "new dosing curve from the lab",
    )  # fmt: skip
    assert (record.meaning, record.verifier_id, record.verifier_name) == (
        "verified by", "sam", "Sam Supervisor",
    )  # fmt: skip
    assert station.broker.latest("SP.Verified").value == 1.5


def test_cancelled_verification_is_recorded_with_its_reason(qtbot: QtBot, station: Station) -> None:
    task, dialog = ask(qtbot, station, "SP.Verified", 2.0)
    assert dialog.reason_edit is not None
    qtbot.keyClicks(dialog.reason_edit, "trial")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    result = finished(qtbot, task)
    assert result.outcome is Outcome.CANCELLED and result.message == "cancelled by the operator"
    record = last_write(station)
    assert (record.result, record.reason, record.verifier_id) == (
        AuditResult.CANCELLED, "trial", "",
    )  # fmt: skip
    status = station.window.status.command_label
    qtbot.waitUntil(lambda: status.property("outcome") == "cancelled")
    assert station.broker.latest("SP.Verified").value == 40.0
