"""hmi run end to end: a separate process on a copy of the demo project pointed at the running
plant shows live values, and exits 0 when its window is closed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from hmi.model.screens.loader import Project
from hmi.storage.admin import add_user

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
        # Live values may come before the window is shown: wait for both.
        if windows and windows[0].canvas is not None and windows[0].isVisible():
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


def test_run_shows_live_values_and_exits_when_closed(plant_project: Project) -> None:
    # an administrator exists, so the station starts without the first-start dialog
    add_user("admin", "Site Admin", "admin", "Harbour-Lights-9", must_change=False)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT, plant_project.root],
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
