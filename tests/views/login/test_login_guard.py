"""A user row changed behind the station's back (raw SQL on its database file), signed in
through the real dialog: the prompt gives the usual answer, the station's message line says
what was found, and the audit trail records it with the user."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction, AuditResult
from hmi.storage.users import SIGN_IN_REFUSED
from tests.views.audit_station import PASSWORD, Clock, records, start_station, stop_station
from tests.views.login.test_login import click_ok, open_login, type_into


@pytest.fixture
def station(qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path) -> Iterator[Station]:
    station = start_station(qtbot, tmp_path / "project", Clock())
    yield station
    stop_station(qtbot, station)


def test_a_promoted_row_is_refused_and_the_station_says_so(qtbot: QtBot, station: Station) -> None:
    database = station.trail.store.engine.url.database
    assert database
    connection = sqlite3.connect(database)  # the file's owner needs no HMI at all
    connection.execute("UPDATE users SET role = 'admin' WHERE user_id = 'olga'")
    connection.commit()
    connection.close()

    station.window.resize(1280, 800)
    station.window.show()
    dialog = open_login(qtbot, station)
    type_into(qtbot, dialog, "UserIdEdit", "olga")
    type_into(qtbot, dialog, "PasswordEdit", PASSWORD)
    click_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible() and not dialog.busy)
    assert dialog.error_label.text() == SIGN_IN_REFUSED and station.sessions.current is None

    message = station.window.status.command_label
    qtbot.waitUntil(lambda: message.text().startswith("users: sign-in of olga refused"))
    assert message.property("outcome") == "failed"
    assert "changed outside the audited path" in message.text()
    last = records(station)[-1]
    assert (last.action, last.result, last.target_address) == (
        AuditAction.LOGIN_FAILED, AuditResult.DENIED, "user:olga",
    )  # fmt: skip
    assert last.error in message.text()
    station.window.grab().save("/tmp/user-guard-tampered.png")
