"""Secondary views (alarm summary, history, KPIs, ad-hoc trend, audit trail, users) are the
main window's transient dialogs, open below its header so the alarm banner stays in sight and
above its status bar, and fit the screen. The stacking a window manager gives them, and their
cascade on real screen sizes, are tested under Xvfb with openbox in test_x11_station.py."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.screens.loader import Project
from hmi.views.secondary_windows import FRAME_ALLOWANCE, MARGIN


def open_every_view(station: Station) -> dict[str, QWidget]:
    window, ui = station.window, station.session_ui
    views: dict[str, QWidget | None] = {}
    window.show_alarm_summary()
    views["summary"] = window.alarm_summary
    views["history"] = window.open_alarm_history()
    views["kpis"] = window.open_alarm_kpis()
    views["trend"] = window.open_adhoc_trend()
    views["auditor"] = ui.open_auditor()
    ui.open_users()
    views["users"] = ui.users_dialog
    missing = [name for name, view in views.items() if view is None]
    assert not missing, f"did not open: {missing}"
    return {name: view for name, view in views.items() if view is not None}


def test_every_view_is_a_transient_below_the_alarm_banner(
    qtbot: QtBot, make_station: Callable[..., Station], demo_project: Project
) -> None:
    station = make_station(demo_project, role="admin")
    window = station.window
    window.present()
    qtbot.waitExposed(window)
    header = window.header
    banner_bottom = window.alarm_banner.mapToGlobal(QPoint(0, window.alarm_banner.height())).y()
    header_bottom = header.mapToGlobal(QPoint(0, header.height())).y()
    assert banner_bottom <= header_bottom
    screen = window.screen().availableGeometry()
    status_top = window.status.mapToGlobal(QPoint(0, 0)).y()
    views = open_every_view(station)
    for name, view in views.items():
        qtbot.waitExposed(view)
        assert view.isWindow() and view.isVisible(), name
        assert view.parentWidget() is window, f"{name} is not the main window's"
        assert view.windowType() == Qt.WindowType.Dialog, name
        handle = view.windowHandle()
        assert handle is not None and handle.transientParent() is window.windowHandle(), name
        frame = view.frameGeometry()
        assert frame.top() >= header_bottom + MARGIN, f"{name} covers the header: {frame}"
        assert frame.left() >= screen.left(), name
        if view.minimumSizeHint().width() <= screen.width() - 2 * MARGIN:  # (offscreen: 800)
            assert frame.right() <= screen.right(), f"{name} wider than the screen: {frame}"
        assert frame.bottom() <= screen.bottom(), f"{name} taller than the screen: {frame}"
        if view.minimumSizeHint().height() + FRAME_ALLOWANCE < status_top - header_bottom:
            assert frame.bottom() < status_top, f"{name} covers the status bar: {frame}"
    users = views["users"]
    qtbot.waitUntil(lambda: bool(getattr(users, "users", None)))  # its first load is done


def test_a_view_opened_again_stays_where_the_operator_put_it(
    qtbot: QtBot, make_station: Callable[..., Station], demo_project: Project
) -> None:
    station = make_station(demo_project, role="operator")
    window = station.window
    window.present()
    qtbot.waitExposed(window)
    window.show_alarm_summary()
    summary = window.alarm_summary
    assert summary is not None
    qtbot.waitExposed(summary)
    summary.move(summary.x() + 50, summary.y() + 30)
    moved = summary.pos()
    summary.hide()
    window.show_alarm_summary()
    assert summary.isVisible() and summary.pos() == moved


def test_escape_closes_a_view_that_is_not_a_dialog(
    qtbot: QtBot, make_station: Callable[..., Station], demo_project: Project
) -> None:
    """A kiosk box without a window manager draws no title bar to close a view with."""
    station = make_station(demo_project, role="operator")
    window = station.window
    window.present()
    qtbot.waitExposed(window)
    history = window.open_alarm_history()
    assert history is not None and not isinstance(history, QDialog)
    qtbot.waitExposed(history)
    history.activateWindow()
    qtbot.waitUntil(history.isActiveWindow)
    qtbot.keyClick(history, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: history not in window.tools)
