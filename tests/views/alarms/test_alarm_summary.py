"""The alarm summary on the real alarm service and command service: lists, sorting, filters,
the rationalisation pane, blinking, and every operator action through the real dialogs and
the command service, recorded in the real audit trail with user and reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.audit.record import AuditAction, AuditResult
from hmi.runtime.commands import AlarmRequest, CommandResult, CommandService
from hmi.views.alarms.dialogs import ReasonDialog, ShelveDialog
from hmi.views.alarms.summary import AlarmSummaryView
from hmi.views.alarms.table import STATUS_ROLE
from tests.views.alarm_plant import AlarmPlant
from tests.views.conftest import RunAsync

Cancel = QDialogButtonBox.StandardButton.Cancel
ARTIFACT = Path(__file__).resolve().parents[3] / "artifacts" / "alarm_summary.png"
A, S = AlarmAction, AlarmState


@pytest.fixture
def plant(run_async: RunAsync) -> Iterator[AlarmPlant]:
    plant = AlarmPlant()
    run_async(plant.start())
    yield plant
    run_async(plant.stop())


@pytest.fixture
def audited(run_async: RunAsync, tmp_path: Path) -> Iterator[AlarmPlant]:
    plant = AlarmPlant(audit_db=tmp_path / "hmi.sqlite")
    run_async(plant.start())
    yield plant
    run_async(plant.stop())


def make_view(qtbot: QtBot, plant: AlarmPlant, **kw: Any) -> AlarmSummaryView:
    view = AlarmSummaryView(plant.alarms, plant.commands, tags=plant.tags, refresh_ms=10, **kw)
    qtbot.addWidget(view)
    view.resize(1280, 520)
    view.show()
    return view


def shown(view: AlarmSummaryView) -> list[str]:
    model = view.model
    return [model.index(r, 0).data(STATUS_ROLE).alarm_id for r in range(model.rowCount())]


def click(qtbot: QtBot, view: AlarmSummaryView, key: str) -> None:
    button = view.buttons[key]
    assert button.isEnabled(), f"{key} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_lists_sorting_filters_and_the_rationalisation(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync
) -> None:
    run_async(plant.mixed())
    view = make_view(qtbot, plant)
    expected = [s.alarm_id for s in plant.alarms.summary()]
    assert expected == ["R1.TempHiHi", "T1.LevelHi", "P1.FlowLo", "F1.Overspeed", "V1.PosHi"]
    assert shown(view) == expected  # priority, then newest first
    view.list_box.setCurrentText("Shelved")
    assert shown(view) == ["C1.PressHi"]
    view.list_box.setCurrentText("Suppressed by design")
    assert shown(view) == ["B1.TempHi"]
    view.list_box.setCurrentText("Out of service")
    assert shown(view) == ["D1.TempHi"]
    view.list_box.setCurrentText("Unacknowledged")
    assert shown(view) == ["R1.TempHiHi", "P1.FlowLo", "V1.PosHi"]
    view.priority_buttons[plant.alarms.status("R1.TempHiHi").priority].setChecked(False)
    assert shown(view) == ["P1.FlowLo", "V1.PosHi"]
    view.text_filter.setText("FLOW")
    assert shown(view) == ["P1.FlowLo"]
    view.text_filter.clear()
    view.list_box.setCurrentText("All")
    assert len(shown(view)) == 7  # critical still unticked
    view.priority_buttons[plant.alarms.status("R1.TempHiHi").priority].setChecked(True)
    view.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # by time, newest first
    times = [view.model.index(r, 0).data(STATUS_ROLE) for r in range(view.model.rowCount())]
    whens = [s.activated_at or s.since for s in times]
    assert whens == sorted(whens, reverse=True)
    view.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)  # by value, as numbers
    rows = range(view.model.rowCount())
    values = [view.model.index(r, 0).data(STATUS_ROLE).value for r in rows]
    assert values == sorted(values)

    view.select("R1.TempHiHi")
    fields = {k: label.text() for k, label in view.detail.fields.items()}
    assert fields["cause"] == "Cooling water valve CV-12 closed or cooling pump P-7 tripped"
    assert fields["consequence"].startswith("Runaway reaction")
    assert fields["action"] == "Open CV-12, start P-7, stop feed pump P-3"
    assert fields["value"] == "96.4 °C" and fields["state"] == "Unacknowledged"
    assert view.buttons["ack"].isEnabled() and not view.buttons["shelve"].isEnabled()
    view.select("F1.Overspeed")
    assert view.buttons["reset"].isEnabled() and not view.buttons["ack"].isEnabled()
    view.select("C1.PressHi")
    assert view.buttons["unshelve"].isEnabled()
    assert view.detail.fields["by"].text() == "—: transmitter being recalibrated"


def test_acknowledge_and_shelve_through_the_dialogs_are_in_the_audit_trail(
    qtbot: QtBot, audited: AlarmPlant, run_async: RunAsync
) -> None:
    run_async(audited.login("sup"))
    audited.feed("Tank.Level", 85.0)
    audited.feed("Reactor.Temp", 95.0)
    view = make_view(qtbot, audited)
    qtbot.waitUntil(lambda: len(shown(view)) == 2)
    view.select("T1.LevelHi")
    click(qtbot, view, "ack")
    qtbot.waitUntil(lambda: audited.state("T1.LevelHi") is S.ACKED)
    qtbot.waitUntil(lambda: view.result.text() == "T1.LevelHi acknowledged")

    view.select("T1.LevelHi")
    click(qtbot, view, "shelve")
    dialog = view.dialog
    assert isinstance(dialog, ShelveDialog) and dialog.isVisible()
    labels = [label for label, _ in dialog.choices]
    assert labels == ["15 min", "30 min", "1 h", "Until it clears (one-shot)"]  # max 1 h
    assert not dialog.ok.isEnabled()  # no reason yet
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # Enter without a reason: nothing
    assert dialog.isVisible() and audited.state("T1.LevelHi") is S.ACKED
    dialog.duration.setCurrentIndex(2)
    qtbot.keyClicks(dialog.reason_edit, "level transmitter LT-1 being replaced")
    assert dialog.ok.isEnabled()
    assert dialog.ok.isDefault() and not dialog.buttons.button(Cancel).isDefault()
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # the form's one purpose: shelve
    qtbot.waitUntil(lambda: audited.state("T1.LevelHi") is S.SHELVED)
    qtbot.waitUntil(lambda: view.result.text() == "T1.LevelHi shelved for 1 h")
    assert view.dialog is None
    status = audited.alarms.status("T1.LevelHi")
    assert status.by == "sup" and status.shelved_until is not None
    assert shown(view) == ["R1.TempHiHi"]  # shelved alarms leave the summary list

    run_async(audited.stop())
    ack, shelve = audited.audit_records()
    assert (ack.action, ack.result, ack.user_id, ack.role) == (
        AuditAction.ALARM_ACK, AuditResult.DONE, "sup", "supervisor",
    )  # fmt: skip
    assert (ack.old_value, ack.new_value, ack.origin) == ("unack", "acked", "alarm summary")
    assert (shelve.action, shelve.user_id, shelve.reason) == (
        AuditAction.ALARM_SHELVE, "sup", "level transmitter LT-1 being replaced",
    )  # fmt: skip
    assert (shelve.target_address, shelve.new_value) == ("alarm:T1.LevelHi", "shelved")
    run_async(audited.start())  # the fixture stops it again


def test_an_action_the_role_may_not_use_is_disabled_and_says_why(
    qtbot: QtBot, audited: AlarmPlant, run_async: RunAsync
) -> None:
    """An operator may acknowledge, not shelve: Shelve… and Out of service… are disabled
    before anyone types a reason, their tooltips naming the permission and the roles that
    hold it; a supervisor gets them. A refusal that still arrives (a request made without
    the button) is shown with its reason and recorded."""
    run_async(audited.login("op"))
    audited.feed("Tank.Level", 85.0)
    view = make_view(qtbot, audited)
    qtbot.waitUntil(lambda: len(shown(view)) == 1)
    view.select("T1.LevelHi")
    buttons = view.buttons
    assert buttons["ack"].isEnabled() and buttons["comment"].isEnabled()
    for key in ("shelve", "service"):
        assert not buttons[key].isEnabled(), key
        tip = buttons[key].toolTip()
        assert "shelve alarm permission" in tip and "supervisor" in tip, tip
        assert tip.endswith("you are logged in as operator"), tip
    assert buttons["ack"].toolTip() == ""

    run_async(audited.login("sup"))
    view.update_actions()  # the station calls it on every login, logout and lock
    assert buttons["shelve"].isEnabled() and buttons["shelve"].toolTip() == ""
    run_async(audited.login("op"))
    view.update_actions()
    assert not buttons["shelve"].isEnabled()

    request = AlarmRequest(AlarmAction.SHELVE, "T1.LevelHi", "nuisance", 900.0, "test")
    qtbot.waitUntil(view.submit([request]).done)
    qtbot.waitUntil(lambda: view.result.property("outcome") == "denied")
    assert view.result.text().startswith("shelve T1.LevelHi denied:")
    assert "may not shelve alarm" in view.result.text()
    assert audited.state("T1.LevelHi") is S.UNACK
    run_async(audited.stop())
    [record] = audited.audit_records()
    assert (record.result, record.user_id, record.reason) == (AuditResult.DENIED, "op", "nuisance")
    run_async(audited.start())


class Recorder:
    def __init__(self) -> None:
        self.results: list[CommandResult] = []

    async def record(self, result: CommandResult) -> None:
        self.results.append(result)

    def actions(self) -> list[tuple[AlarmAction, str, str]]:
        out = []
        for r in self.results:
            assert isinstance(r.request, AlarmRequest) and r.ok, r.message
            out.append((r.request.action, r.request.alarm_id, r.request.reason))
        return out


def test_every_action_goes_through_the_command_service(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync
) -> None:
    run_async(plant.mixed())
    recorder = Recorder()
    plant.commands = CommandService(plant.broker, recorder=recorder, alarms=plant.alarms)
    view = make_view(qtbot, plant)
    view.list_box.setCurrentText("All")

    def through_dialog(key: str, alarm_id: str, text: str) -> None:
        view.select(alarm_id)
        click(qtbot, view, key)
        dialog = view.dialog
        assert isinstance(dialog, ReasonDialog)
        qtbot.keyClicks(dialog.reason_edit, text)
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(recorder.results) == done + 1)

    done = 0
    through_dialog("service", "P1.FlowLo", "flowmeter FT-1 removed")
    assert plant.state("P1.FlowLo") is S.OUT_OF_SERVICE
    done += 1
    assert view.buttons["service"].text() in ("Out of service…", "Return to service…")
    through_dialog("service", "D1.TempHi", "sensor back")
    done += 1
    through_dialog("comment", "R1.TempHiHi", "operator called the shift lead")
    done += 1
    for key, alarm_id in (("reset", "F1.Overspeed"), ("unshelve", "C1.PressHi")):
        view.select(alarm_id)
        click(qtbot, view, key)
        done += 1
        qtbot.waitUntil(lambda n=done: len(recorder.results) == n)
    view.list_box.setCurrentText("Alarm summary")
    qtbot.waitUntil(lambda: view.buttons["ack_page"].isEnabled())
    click(qtbot, view, "ack_page")
    qtbot.waitUntil(lambda: not any(s.state in (S.UNACK, S.RTN_UNACK)
                                    for s in plant.alarms.summary()))  # fmt: skip
    assert recorder.actions()[:5] == [
        (A.OUT_OF_SERVICE, "P1.FlowLo", "flowmeter FT-1 removed"),
        (A.RETURN_TO_SERVICE, "D1.TempHi", "sensor back"),
        (A.COMMENT, "R1.TempHiHi", "operator called the shift lead"),
        (A.RESET, "F1.Overspeed", ""),
        (A.UNSHELVE, "C1.PressHi", ""),
    ]
    acked = {alarm_id for action, alarm_id, _ in recorder.actions()[5:]}
    assert all(a is A.ACKNOWLEDGE for a, _, _ in recorder.actions()[5:])
    assert {"R1.TempHiHi", "V1.PosHi", "C1.PressHi", "D1.TempHi"} <= acked


def test_acknowledge_page_takes_only_the_rows_on_screen(qtbot: QtBot, run_async: RunAsync) -> None:
    many = [{"id": f"X{i:02d}.Hi", "tag": f"X{i:02d}.Value", "kind": "hi", "limit": 1}
            for i in range(40)]  # fmt: skip
    plant = AlarmPlant(alarms=many)
    run_async(plant.start())
    try:
        for i in range(40):
            plant.feed(f"X{i:02d}.Value", 5)
        view = make_view(qtbot, plant)
        view.resize(900, 300)
        qtbot.waitUntil(lambda: view.model.rowCount() == 40)
        page = view.visible()
        assert 3 <= len(page) < 40
        click(qtbot, view, "ack_page")
        qtbot.waitUntil(lambda: plant.state(page[-1].alarm_id) is S.ACKED)
        states = [plant.state(f"X{i:02d}.Hi") for i in range(40)]
        assert states.count(S.ACKED) == len(page)
    finally:
        run_async(plant.stop())


def test_unacknowledged_rows_blink_from_one_timer(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync
) -> None:
    plant.feed("Tank.Level", 85.0)
    plant.feed("Pump.Flow", 3.0)
    run_async(plant.act(A.ACKNOWLEDGE, "P1.FlowLo"))
    view = make_view(qtbot, plant)
    assert view.blink.isActive() and view.blink.interval() == 500

    def row_image(alarm_id: str) -> QImage:
        row = shown(view).index(alarm_id)
        rect = view.table.visualRect(view.model.index(row, 1))  # tint and priority mark
        return view.table.viewport().grab(rect).toImage()

    assert view.delegate.lit
    lit, steady = row_image("T1.LevelHi"), row_image("P1.FlowLo")
    qtbot.waitUntil(lambda: not view.delegate.lit, timeout=1500)
    assert row_image("T1.LevelHi") != lit  # unacknowledged: blinks
    assert row_image("P1.FlowLo") == steady  # acknowledged: steady
    qtbot.waitUntil(lambda: view.delegate.lit, timeout=1500)
    run_async(plant.act(A.ACKNOWLEDGE, "T1.LevelHi"))
    qtbot.waitUntil(lambda: not view.blink.isActive())
    assert view.delegate.lit


def test_screenshot_with_a_mix_of_states(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync, themed: None
) -> None:
    run_async(plant.mixed())
    view = make_view(qtbot, plant)
    view.list_box.setCurrentText("All")
    view.select("R1.TempHiHi")
    view.set_lit(True)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(ARTIFACT))
