"""Design mode on the running station: only engineers and admins enter it (the action says
why to others), Ctrl+E switches in and out, bound widgets stay live, and nothing a click or a
key does on the screen's widgets reaches the command service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction
from hmi.model.screens.loader import Project
from hmi.widgets.base import TagBinding
from hmi.widgets.button import ButtonWidget
from tests.views.audit_station import records
from tests.views.conftest import log_in
from tests.views.designer.design_rig import designing

LIVE_MS = 20000


def writes(station: Station) -> int:
    return sum(1 for r in records(station) if r.action is AuditAction.WRITE)


def test_an_operator_cannot_enter_and_is_told_why(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    station = make_station(plant_project, role="operator")
    design = station.design
    assert design is not None
    action = station.window.findChild(QAction, "DesignModeAction")
    assert action is design.action
    assert not action.isEnabled()
    assert "edit config" in action.toolTip() and "operator" in action.toolTip()
    assert not design.enter()
    assert not design.active and not station.window.designing
    log_in(qtbot, station, "engineer")
    assert action.isEnabled()
    assert design.enter()
    assert station.window.findChild(QAction, "DesignUndo") is not None


def test_ctrl_e_switches_in_and_out(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    window = d.station.window
    assert d.design.tools.bar.isVisible() and not window.nav.isEnabled()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(d.overlay, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not d.design.active)
    assert not d.design.tools.bar.isVisible() and window.nav.isEnabled()
    assert window.canvas is not None and window.canvas.isVisible()
    qtbot.keyClick(window.canvas, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: d.design.active)
    # losing the right (signing out) ends design mode
    from tests.views.conftest import _run_async

    _run_async(qtbot, d.station.sessions.logout())
    assert not d.design.active and not d.design.action.isEnabled()


def test_nothing_is_written_from_design_mode_and_values_stay_live(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="diagnostics")
    station, canvas = d.station, d.editor.canvas
    health = station.broker.health
    qtbot.waitUntil(
        lambda: (
            len(health) == len(plant_project.file.connections)
            and all(h.state.name == "CONNECTED" for h in health.values())
        ),
        timeout=LIVE_MS,
    )
    clear = canvas.widget("clear_lt101")
    assert isinstance(clear, ButtonWidget)
    qtbot.waitUntil(clear.isEnabled, timeout=LIVE_MS)  # an engineer may write it
    before = writes(station)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)  # on the button itself
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, pos=d.centre((1, 7)))  # over it
    clear.setFocus()  # even focused (the shield hands the focus to the overlay) ...
    qtbot.keyClick(clear, Qt.Key.Key_Space)  # ... and pressed from the keyboard
    qtbot.keyClick(clear, Qt.Key.Key_Return)
    qtbot.wait(300)
    assert station.bridge.pending_writes == 0
    assert writes(station) == before
    assert QApplication.focusWidget() is not clear
    # the heartbeat goes on changing, Good, while designing
    beat = canvas.widget("val_ua_heartbeat")
    assert beat is not None
    binding = beat.findChild(TagBinding)
    assert binding is not None
    qtbot.waitUntil(lambda: binding.value.quality.is_good, timeout=LIVE_MS)
    first = binding.value.value
    qtbot.waitUntil(lambda: binding.value.value != first, timeout=LIVE_MS)
    # the same click out of design mode writes (this test could fail)
    d.design.leave()
    clear = station.window.canvas.widget("clear_lt101")  # type: ignore[union-attr]
    assert isinstance(clear, ButtonWidget)
    qtbot.waitUntil(clear.isEnabled, timeout=LIVE_MS)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: writes(station) == before + 1, timeout=LIVE_MS)


def test_design_mode_at_1366x768_fits_and_is_pictured(
    qtbot: QtBot,
    make_station: Callable[..., Station],
    plant_project: Project,
    artifacts: Path,
) -> None:
    """Selection, handles and a guide mid-drag, saved for docs/designer.md; the design tools
    fit the width (none pushed into the tool bar's overflow menu)."""
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    window = d.station.window
    bar = d.design.tools.bar
    assert bar.isVisible() and d.design.tools.edit_button.isVisible()
    assert bar.sizeHint().width() <= window.width(), bar.sizeHint()
    for action in bar.actions():
        widget = bar.widgetForAction(action)
        if widget is not None and not action.isSeparator():
            assert widget.isVisible(), action.text()  # shown, not in the overflow menu
    health = d.station.broker.health
    qtbot.waitUntil(
        lambda: all(h.state.name == "CONNECTED" for h in health.values()) and bool(health),
        timeout=LIVE_MS,
    )
    d.station.bridge.flush()
    d.editor.select([(12,)])
    path = artifacts / "design_mode_selection.png"
    assert window.grab().save(str(path))
    d.editor.select([(10,), (11,), (12,)])
    scale = d.editor.canvas.scale
    start = d.centre((12,))
    qtbot.mousePress(d.overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    d.move(start + QPoint(round(-30 * scale), round(-2 * scale)))
    assert d.editor.guides
    drag = artifacts / "design_mode_drag.png"
    assert window.grab().save(str(drag))
    qtbot.mouseRelease(d.overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(round(-30 * scale), round(-2 * scale)))  # fmt: skip
    assert d.editor.stack.undoText() == "Move 3 widgets"


def test_hmi_edit_asks_for_an_engineer_then_designs(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    """What ``hmi edit`` does: design mode requested before the window is shown; once it is,
    the sign-in dialog opens (nobody is signed in); an engineer's sign-in enters it."""
    station = make_station(plant_project, screen="pump_station")
    design = station.design
    assert design is not None
    design.request()
    assert not design.active
    station.window.show()
    qtbot.waitUntil(lambda: station.session_ui.dialog is not None)
    assert not design.active
    log_in(qtbot, station, "engineer")
    qtbot.waitUntil(lambda: design.active)
    assert design.editor is not None
    assert design.editor.document.path.name == "pump_station.yaml"
    station.session_ui.dialog.close()  # type: ignore[union-attr]
