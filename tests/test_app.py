"""The composition root: ``run`` on a bad project, a full run in a subprocess, kiosk mode and
the F11 toggle on a built station."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station, build_station, run
from hmi.model.loader import load_project

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "screens"


def test_run_prints_every_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "project.yaml").write_text(
        "project: {name: Broken, start_screen: main}\nscreens: [main.yaml]\n"
        "tags:\n  T1: {address: 'nope://x'}\n",
        encoding="utf-8",
    )
    assert run(tmp_path) == 1
    err = capsys.readouterr().err
    assert "project.yaml:" in err


def test_run_refuses_an_unknown_screen(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(DEMO, screen="no_such_screen") == 2
    assert "no_such_screen" in capsys.readouterr().err


RUN_SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from hmi.app import run
    from hmi.views.main_window import MainWindow
    from hmi.widgets.value import ValueWidget

    app = QApplication(sys.argv)

    def check():
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].canvas is not None:
            window = windows[0]
            shown = [w for w in window.canvas.widgets() if isinstance(w, ValueWidget)]
            if shown and all(w.text() != "----" for w in shown):
                print("live", window.current_screen_id, window.isVisible(), flush=True)
                window.close()
                return
        QTimer.singleShot(50, check)

    QTimer.singleShot(0, check)
    code = run(sys.argv[1], screen="pump_station")
    print("exit", code, flush=True)
    sys.exit(code)
    """
)


def test_run_shows_live_values_and_exits_when_closed() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output
    assert "live pump_station True" in result.stdout, output
    assert "exit 0" in result.stdout, output


@pytest.fixture
def built(qtbot: QtBot, qapp: Any) -> Iterator[Station]:
    """A kiosk station, built and started on a qasync loop inside the test's event loop."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    station = build_station(load_project(DEMO), kiosk=True, live_reload=False)
    qtbot.addWidget(station.window)
    task = loop.create_task(station.start())
    qtbot.waitUntil(task.done)
    try:
        yield station
    finally:
        task = loop.create_task(station.stop())
        qtbot.waitUntil(task.done)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


def activate(qtbot: QtBot, window: QWidget) -> None:
    """Shortcuts need an active window; offscreen activation arrives with the event loop."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_kiosk_closes_only_with_the_quit_shortcut(qtbot: QtBot, built: Station) -> None:
    window = built.window
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    window.present()
    qtbot.waitExposed(window)
    assert window.isFullScreen()
    window.toggle_fullscreen()  # F11 does nothing in kiosk mode
    assert window.isFullScreen()
    window.close()
    assert window.isVisible()
    assert "Ctrl+Alt+Q" in window.status.command_label.text()
    activate(qtbot, window)
    ctrl_alt = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    qtbot.keyClick(window, Qt.Key.Key_Q, ctrl_alt)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert built.broker.subscribers("P101.Fault") == 0  # released on close


def test_f11_toggles_full_screen(qtbot: QtBot, qapp: Any) -> None:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    try:
        station = build_station(load_project(DEMO), live_reload=False)
        window = station.window
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        assert not window.isFullScreen()
        activate(qtbot, window)
        qtbot.keyClick(window, Qt.Key.Key_F11)
        qtbot.waitUntil(window.isFullScreen)
        activate(qtbot, window)
        qtbot.keyClick(window, Qt.Key.Key_F11)
        qtbot.waitUntil(lambda: not window.isFullScreen())
        window.close()
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
