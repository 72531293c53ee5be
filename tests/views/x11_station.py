"""The real operator window (``hmi.app.run``) on a real X server, for test_x11_station.py:
``python x11_station.py PROJECT [--kiosk] [--fullscreen]``. It reports on standard output, one
JSON object a line: ``{"main": ...}`` once the main window is exposed and painted (its X window
id, geometry, the header's bottom and the global centre of the banner and header buttons), then
``{"shown": ...}`` for each further top-level window that appears (title, X window id, frame).
The test drives it from outside, with xdotool, as an operator would."""

from __future__ import annotations

import argparse
import json
import sys

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from hmi.app import run
from hmi.views.main_window import MainWindow


def centre(widget: QWidget | None) -> list[int] | None:
    if widget is None or not widget.isVisible():
        return None
    point = widget.mapToGlobal(QPoint(widget.width() // 2, widget.height() // 2))
    return [point.x(), point.y()]


def rect(widget: QWidget, *, frame: bool = False) -> list[int]:
    r = widget.frameGeometry() if frame else widget.geometry()
    return [r.x(), r.y(), r.width(), r.height()]


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("--kiosk", action="store_true")
    parser.add_argument("--fullscreen", action="store_true")
    args = parser.parse_args()
    app = QApplication(sys.argv)
    reported: set[int] = set()

    def watch() -> None:
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        main_window = windows[0] if windows else None
        if main_window is None or not main_window.isVisible():
            QTimer.singleShot(50, watch)
            return
        handle = main_window.windowHandle()
        if not reported and handle is not None and handle.isExposed():
            header = main_window.header
            bottom = header.mapToGlobal(QPoint(0, header.height())).y()
            say(
                main=int(main_window.winId()),
                geometry=rect(main_window),
                header_bottom=bottom,
                status_top=main_window.status.mapToGlobal(QPoint(0, 0)).y(),
                banner=centre(main_window.alarm_banner),
                trend=centre(main_window.trend_button),
                history=centre(main_window.alarm_history_button),
                kpis=centre(main_window.alarm_kpis_button),
            )
            reported.add(int(main_window.winId()))
        if reported:
            for widget in app.topLevelWidgets():
                handle = widget.windowHandle()
                exposed = handle is not None and handle.isExposed()
                if widget.isVisible() and exposed and int(widget.winId()) not in reported:
                    reported.add(int(widget.winId()))
                    say(
                        shown=widget.windowTitle(),
                        id=int(widget.winId()),
                        frame=rect(widget, frame=True),
                    )
        QTimer.singleShot(50, watch)

    QTimer.singleShot(0, watch)
    return run(args.project, kiosk=args.kiosk, fullscreen=args.fullscreen)


if __name__ == "__main__":
    sys.exit(main())
