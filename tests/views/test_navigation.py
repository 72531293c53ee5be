"""Navigation by display hierarchy: nav buttons, breadcrumb, back, navigate buttons on screens;
a screen change releases the old screen's tags."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.screens.loader import Project
from hmi.views.navigation import parent_chain


def click(qtbot: QtBot, widget: object) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def test_nav_bar_lists_level_1_and_2_and_diagnostics(station: Station) -> None:
    nav = station.window.nav
    assert list(nav.buttons) == ["overview", "tank_farm", "pump_station", "diagnostics"]
    assert nav.buttons["overview"].isChecked()
    assert not nav.back_button.isEnabled()
    assert nav.breadcrumb.text() == "Plant overview"


def test_nav_buttons_breadcrumb_and_back(qtbot: QtBot, station: Station) -> None:
    window = station.window
    window.show()
    nav = window.nav
    click(qtbot, nav.buttons["tank_farm"])
    assert window.current_screen_id == "tank_farm"
    assert window.title_label.text() == "Tank farm"
    assert [b for b, button in nav.buttons.items() if button.isChecked()] == ["tank_farm"]
    assert nav.breadcrumb.text() == "Plant overview > Tank farm"
    assert nav.back_button.isEnabled()

    click(qtbot, nav.buttons["pump_station"])
    assert window.current_screen_id == "pump_station"
    click(qtbot, nav.breadcrumb.crumbs[0])  # "Plant overview"
    assert window.current_screen_id == "overview"
    assert window.history == ["overview", "tank_farm", "pump_station"]

    click(qtbot, nav.back_button)
    assert window.current_screen_id == "pump_station"
    click(qtbot, nav.back_button)
    click(qtbot, nav.back_button)
    assert window.current_screen_id == "overview"
    assert not nav.back_button.isEnabled()


def test_navigate_button_on_a_screen(qtbot: QtBot, station: Station) -> None:
    window = station.window
    window.show()
    canvas = window.canvas
    assert canvas is not None
    button = canvas.widget("nav_pump_station")
    assert button is not None
    qtbot.waitUntil(lambda: window.canvas is canvas and canvas.isVisible())
    click(qtbot, button)
    assert window.current_screen_id == "pump_station"
    assert window.nav.breadcrumb.text() == "Plant overview > Pump station"


def test_unknown_screen_is_refused_with_a_message(station: Station) -> None:
    window = station.window
    assert not window.navigate("no_such_screen")
    assert window.current_screen_id == "overview"
    assert "no_such_screen" in window.status.command_label.text()


def test_leaving_a_screen_releases_its_tags(qtbot: QtBot, station: Station) -> None:
    """The screen's own bindings come and go; the alarm service and the historian keep theirs
    (they watch the tag whatever the screen), so the broker's count drops back to theirs."""
    broker = station.broker
    window = station.window
    bound = window.bridge.bound_tags
    on_overview = broker.subscribers("P101.Fault")
    assert "P101.Fault" in bound()  # the fault indicator of P101
    assert window.navigate("tank_farm")  # no pump on the tank farm
    assert "P101.Fault" not in bound()
    services = broker.subscribers("P101.Fault")
    assert services == on_overview - 1, "only the screen's binding went"
    assert window.navigate("diagnostics")
    assert broker.subscribers("P101.Fault") == services + 1  # its row in the tag table
    assert window.navigate("overview")
    assert broker.subscribers("P101.Fault") == on_overview
    assert not set(bound()) - set(window.project.tags)


def test_parent_chain(demo_project: Project) -> None:
    assert parent_chain(demo_project.screens, "diagnostics") == ["overview", "diagnostics"]
    assert parent_chain(demo_project.screens, "missing") == []
