"""Enter submits the entry it is typed in, and nothing else.

The bug: Enter in the LIC101 faceplate's Setpoint field, in MAN, wrote the setpoint AND
``LIC101.Mode`` (the dialog's "Auto" button took Enter as its auto-default button). Here the
demo project runs on the demo plant; every faceplate of the demo (each template, with the
params of each instance the screens open) is opened, Enter is pressed in each of its entries
(and in each field of the confirmation it leads to), then in the value entries and the other
dialogs the demo shows. After each, the real SQLite audit trail holds exactly one new write,
of that entry's tag, from that entry's origin; Enter in a confirmation's fields sends nothing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.screens.loader import Project
from hmi.model.screens.schema import FaceplateAction
from hmi.model.tags import ConfirmPolicy
from hmi.views.faceplate import FaceplateWindow, faceplate_origin
from hmi.views.login.confirm import ConfirmDialog, QtConfirmer
from hmi.views.login.dialogs import LoginDialog
from hmi.widgets.button import ButtonWidget
from hmi.widgets.dialog import CommandButton
from hmi.widgets.setpoint import SetpointWidget
from hmi.widgets.value import ValueEntry, ValueWidget
from tests.views.audit_station import records
from tests.views.conftest import TEST_PASSWORD, _run_async

LIVE_MS = 20000
SCREENS = ("overview", "tank_farm", "pump_station", "diagnostics")
VERIFIER = "sam"  # a supervisor: may verify writes


def writes(station: Station) -> list[AuditRecord]:
    return [r for r in records(station) if r.action is AuditAction.WRITE]


def enter(qtbot: QtBot, widget: QWidget) -> None:
    """Focus ``widget`` and press Enter on it, as the operator's keyboard does."""
    widget.window().activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


def no_button_takes_enter(window: QWidget, allowed: QPushButton | None = None) -> None:
    """No button of ``window`` is a default or auto-default button, but ``allowed``; no
    button that acts is allowed."""
    for button in window.findChildren(QPushButton):
        if button is allowed:
            assert not isinstance(button, CommandButton), button.text()
            continue
        assert not button.autoDefault() and not button.isDefault(), button.text()


def station_for(qtbot: QtBot, make_station: Any, plant_project: Project) -> Station:
    """The demo on the plant, an administrator logged in (may write every demo tag), and a
    supervisor to verify."""
    station = make_station(plant_project, connected=True, role="admin")
    add = station.users.add
    call = station.trail.call(
        add, VERIFIER, "Sam Supervisor", "supervisor", TEST_PASSWORD, must_change=False
    )
    _run_async(qtbot, call)
    return station


def answer(qtbot: QtBot, station: Station, dialog: ConfirmDialog) -> None:
    """Fill every field of the confirmation, pressing Enter in each: nothing is sent, the
    dialog stays open and the focus goes on; then Send (a click) sends it."""
    texts = {
        "ReasonEdit": "Enter test: one write per entry",
        "PasswordEdit": TEST_PASSWORD,
        "VerifierEdit": VERIFIER,
        "VerifierPasswordEdit": TEST_PASSWORD,
    }
    before = len(writes(station))
    for edit in dialog.entries:
        enter(qtbot, edit)  # empty: stays, sends nothing
        assert dialog.isVisible() and QApplication.focusWidget() is edit
        qtbot.keyClicks(edit, texts[edit.objectName()])
        enter(qtbot, edit)
        assert dialog.isVisible(), f"Enter in {edit.objectName()} closed the confirmation"
        assert QApplication.focusWidget() is not edit or edit is dialog.entries[-1]
    assert QApplication.focusWidget() is dialog.ok_button  # Enter led to Send, no further
    qtbot.keyClick(dialog.ok_button, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert len(writes(station)) == before, "Enter in a confirmation sent something"
    no_button_takes_enter(dialog, dialog.cancel_button)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def enter_in(qtbot: QtBot, station: Station, entry: SetpointWidget, text: str, origin: str) -> None:
    """Type ``text`` into the entry, press Enter there, answer its confirmation if the tag
    has one: exactly one write goes out, of the entry's tag, from ``origin``."""
    qtbot.waitUntil(entry.isEnabled, timeout=LIVE_MS)
    tag = station.project.tags[entry.spec.tag]
    before = len(writes(station))
    entry.field.selectAll()
    qtbot.keyClicks(entry.field, text)
    enter(qtbot, entry.field)
    assert station.bridge.pending_writes == 1, f"Enter in {origin} submitted another write"
    assert tag.write is not None
    if tag.write.confirm is not ConfirmPolicy.NONE:
        confirmer = station.guard.confirmer
        assert isinstance(confirmer, QtConfirmer)
        qtbot.waitUntil(lambda: bool(confirmer.open_dialogs))
        dialog = confirmer.open_dialogs[-1]
        qtbot.waitExposed(dialog)
        assert dialog.policy is tag.write.confirm
        answer(qtbot, station, dialog)
    task = entry.last_write
    assert task is not None
    qtbot.waitUntil(lambda: task.done() and station.bridge.pending_writes == 0, timeout=LIVE_MS)
    new = [(r.target_tag, r.origin, r.result) for r in writes(station)[before:]]
    assert new == [(tag.name, origin, AuditResult.DONE)], new


def faceplates_of_the_demo(qtbot: QtBot, station: Station) -> list[tuple[str, dict[str, str]]]:
    """(template, params) of every faceplate a button of a demo screen opens."""
    found: list[tuple[str, dict[str, str]]] = []
    for screen_id in SCREENS:
        assert station.window.navigate(screen_id)
        canvas = station.window.canvas
        assert canvas is not None
        for widget in canvas.widgets():
            if isinstance(widget, ButtonWidget) and isinstance(widget.spec.action, FaceplateAction):
                key = (widget.spec.action.template, dict(widget.spec.action.params))
                if key not in found:
                    found.append(key)
    return found


def entries(window: FaceplateWindow) -> list[SetpointWidget]:
    return [w for w in window.canvas.widgets() if isinstance(w, SetpointWidget) and w.isVisible()]


def set_mode(qtbot: QtBot, station: Station, loop: str, mode: int) -> None:
    task = station.bridge.submit_write(f"{loop}.Mode", mode, origin="test/mode")
    qtbot.waitUntil(task.done, timeout=LIVE_MS)
    assert task.result().ok, task.result().message


def test_enter_in_every_faceplate_entry_writes_that_entry_only(
    qtbot: QtBot, make_station: Any, plant_project: Project, plant_baseline: None
) -> None:
    station = station_for(qtbot, make_station, plant_project)
    station.window.show()
    opened = faceplates_of_the_demo(qtbot, station)
    templates = {template for template, _ in opened}
    assert templates == set(station.project.templates) - {"pump_tile"}, "every faceplate"
    assert ("pump_faceplate", {"pump": "P102"}) in opened  # each instance's params
    tried: set[str] = set()
    for template, params in opened:
        station.window.open_faceplate(template, params)
        window = station.window.faceplates.get(template, params)
        assert window is not None
        qtbot.waitExposed(window)
        no_button_takes_enter(window)
        origin = faceplate_origin(template, params)
        loops = [params["loop"]] if template == "pid_faceplate" else [None]
        for loop in loops:  # the PID faceplate in AUTO, then in MAN (its manual output too)
            for mode in (1, 0) if loop else (None,):
                if loop is not None:
                    set_mode(qtbot, station, loop, mode)
                    manual = window.canvas.widget("manual_output")
                    assert manual is not None
                    qtbot.waitUntil(lambda m=mode, w=manual: w.isVisible() == (m == 0))
                for entry in entries(window):
                    qtbot.waitUntil(entry.isEnabled, timeout=LIVE_MS)  # a value to start from
                    text = "70" if entry.spec.tag.endswith(".SP") else entry.field.text()
                    enter_in(qtbot, station, entry, text, f"{origin}/{entry.spec.id}")
                    tried.add(entry.spec.tag)
                if loop is not None and mode == 0:  # the bug: MAN must stay MAN
                    assert station.broker.latest(f"{loop}.Mode").value == 0
        window.close()
    policies = {station.project.tags[t].write.confirm for t in tried}  # type: ignore[union-attr]
    assert {ConfirmPolicy.NONE, ConfirmPolicy.SIGNATURE, ConfirmPolicy.VERIFY} <= policies
    assert {"LIC101.SP", "LIC101.ManOut", "XV101.FillLow", "Pumps.DryRunLevel"} <= tried
    set_mode(qtbot, station, "LIC101", 1)


def test_enter_in_value_entries_and_the_other_dialogs(
    qtbot: QtBot, make_station: Any, plant_project: Project, plant_baseline: None
) -> None:
    """A writable value's entry (a click on the value) sends its own value on Enter; its
    state buttons take no Enter; the ad-hoc trend's filter, the users and password dialogs
    and the login form send no write (logging in is the login form's one purpose)."""
    station = station_for(qtbot, make_station, plant_project)
    station.window.show()
    numeric = 0
    for screen_id in SCREENS:
        assert station.window.navigate(screen_id)
        canvas = station.window.canvas
        assert canvas is not None
        for widget in list(canvas.widgets()):
            if not isinstance(widget, ValueWidget):
                continue
            tag = station.project.tags[widget.spec.tag]
            if tag.write is None:
                assert not widget.writable
                continue
            qtbot.waitUntil(lambda w=widget: w.writable, timeout=LIVE_MS)
            qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
            popup = widget.entry
            assert isinstance(popup, ValueEntry)
            qtbot.waitExposed(popup)
            no_button_takes_enter(popup)
            if popup.setpoint is None:  # state buttons: Enter presses none of them
                qtbot.keyClick(popup, Qt.Key.Key_Return)
                assert station.bridge.pending_writes == 0
                popup.close()
                continue
            numeric += 1
            text = popup.setpoint.field.text()
            enter_in(qtbot, station, popup.setpoint, text, f"{screen_id}/{widget.spec.id}")
            qtbot.waitUntil(lambda w=widget: w.entry is None)  # sent: the entry closed
    assert numeric >= 2

    before = len(writes(station))
    trend = station.window.open_adhoc_trend()
    qtbot.waitExposed(trend)
    no_button_takes_enter(trend)
    [search] = trend.findChildren(QLineEdit)
    qtbot.keyClicks(search, "LIC101")
    enter(qtbot, search)
    assert trend.trend is None, "Enter in the filter pressed Add"  # type: ignore[attr-defined]
    trend.close()

    ui = station.session_ui
    ui.open_users()  # the administrator's users dialog: Enter presses none of its buttons
    users = ui.users_dialog
    assert users is not None
    qtbot.waitExposed(users)
    no_button_takes_enter(users)
    qtbot.keyClick(users, Qt.Key.Key_Return)
    assert users.isVisible()
    users.close()
    password = ui.show_password()
    assert password is not None
    qtbot.waitExposed(password)
    no_button_takes_enter(password, password.ok_button)
    enter(qtbot, password.old_edit)  # nothing typed: OK cannot be pressed
    assert password.isVisible()
    password.reject()

    _run_async(qtbot, station.sessions.logout())
    login = ui.show_login()
    assert isinstance(login, LoginDialog)
    qtbot.waitExposed(login)
    no_button_takes_enter(login, login.ok_button)
    qtbot.keyClicks(login.user_edit, VERIFIER)
    enter(qtbot, login.user_edit)  # no password yet: nothing
    assert login.isVisible() and station.sessions.current is None
    qtbot.keyClicks(login.password_edit, TEST_PASSWORD)
    enter(qtbot, login.password_edit)  # the form's one purpose: log in
    qtbot.waitUntil(lambda: station.sessions.current is not None)
    assert station.bridge.pending_writes == 0 and len(writes(station)) == before
