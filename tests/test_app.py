"""The composition root: ``run`` on a bad project, a full run in a subprocess, kiosk mode and
the F11 toggle on a built station, and a station whose audit key is not the chain's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station, build_station, key_hint, run, site_key
from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.errors import ConfigError
from hmi.model.screens.loader import load_project
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.spool import SpoolStore
from tests.gui_gc import gc_on_gui_thread

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "screens"


@pytest.fixture(autouse=True)
def station_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[Path]:
    """The station's database, users and audit spool in a folder of the test's own; garbage
    collected on the GUI thread only, as ``run`` has it (the audit trail's worker thread must
    never delete Qt objects)."""
    data = tmp_path / "hmi-data"
    monkeypatch.setenv("HMI_DATA_DIR", str(data))
    with gc_on_gui_thread():
        yield data


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
        # The loop stays marked running (close() refuses): end its thread pool, whose live
        # QThreads would abort the process at exit.
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
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
    assert "P101.Fault" not in built.window.bridge.bound_tags()  # released on close


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


# -- the site's audit key ----------------------------------------------------------------------

KEY_ENV = "HMI_TEST_AUDIT_KEY"
SITE_KEY = b"Riverside site key 2f9c"


def keyed_project(folder: Path, url: str, setting: str) -> Path:
    """A one-tag project on ``url`` whose audit key is named by ``setting``."""
    folder.mkdir()
    section, name = setting.split(".")
    (folder / "project.yaml").write_text(
        "project: {name: Keyed plant, start_screen: main}\n"
        "tags:\n  SP: {address: 'local://sp?type=float&initial=1'}\n"
        "screens: [main.yaml]\n"
        + (f"database: {{url: '{url}', {name}: {KEY_ENV}}}\n" if section == "database" else
           f"database: {{url: '{url}'}}\n{section}: {{{name}: {KEY_ENV}}}\n"),
        encoding="utf-8",
    )  # fmt: skip
    (folder / "main.yaml").write_text(
        "screen: {id: main, title: Main, level: 1}\n"
        "widgets:\n  - {type: value, id: sp, rect: [40, 40, 220, 48], tag: SP}\n",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize("setting", ["database.hmac_key_env", "security.audit_key_env"])
def test_an_unset_key_variable_is_named_with_the_setting_that_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    project = load_project(keyed_project(tmp_path / "p", "sqlite:///x.sqlite", setting))
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError) as unset:
        site_key(project)
    assert str(unset.value).startswith(f"project.yaml: {setting} names {KEY_ENV}, which is not")
    assert key_hint(project).startswith(f"check that {KEY_ENV} (named by project.yaml's {setting})")
    monkeypatch.setenv(KEY_ENV, "k")
    assert site_key(project) == b"k"


def test_a_station_with_the_wrong_key_spools_and_says_so(
    qtbot: QtBot, qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, station_data: Path
) -> None:
    """Its records are kept in its spool, none is appended centrally with the wrong key, and
    the status bar says the key is refused and what to check."""
    url = f"sqlite:///{tmp_path}/central.sqlite"
    central = AuditStore(make_engine(url), key=SITE_KEY)
    central.append_many([AuditRecord.create(AuditAction.LOGIN, new_value=n) for n in range(3)])
    monkeypatch.setenv(KEY_ENV, "not the site key")
    project = load_project(keyed_project(tmp_path / "p", url, "database.hmac_key_env"))
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    try:
        station = build_station(project, live_reload=False)
        qtbot.addWidget(station.window)
        started = loop.create_task(station.start())
        qtbot.waitUntil(started.done, timeout=10000)
        started.result()
        assert station.trail.status.key_refused and station.trail.status.pending == 1
        message = station.window.status.command_label
        qtbot.waitUntil(lambda: message.text().startswith("audit trail: audit key refused"))
        assert f"check that {KEY_ENV} (named by project.yaml's database.hmac_key_env)" in (
            message.text()
        )
        warning = station.window.status.spool_label
        qtbot.waitUntil(lambda: warning.text().startswith("AUDIT SPOOLING: audit key refused"))
        stopped = loop.create_task(station.stop())
        qtbot.waitUntil(stopped.done, timeout=10000)
        stopped.result()
    finally:
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
    assert central.count() == 3 and central.verify().ok
    central.close()
    spool = SpoolStore(station_data / "audit-spool.sqlite")
    assert [r.action for r in spool.peek(10)] == [AuditAction.APP_START, AuditAction.APP_STOP]
    spool.close()


def test_a_station_without_a_central_database_says_its_alarms_are_its_own(
    caplog: pytest.LogCaptureFixture, qtbot: QtBot, qapp: Any
) -> None:
    """SQLite, the default: nothing to share the alarm picture with (issue 21, item 4); the
    log and the status bar's message line say so."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    try:
        with caplog.at_level(logging.INFO, logger="hmi"):
            station = build_station(load_project(DEMO), live_reload=False)
        qtbot.addWidget(station.window)
        assert station.alarm_share is None
        assert "this station's alarm picture is its own" in caplog.text
        assert "this station works alone" in station.window.status.command_label.text()
        station.window.close()
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


FREEZE_PROBE = """\
import gc, sys
from PySide6.QtCore import QEvent, QObject
import hmi.app as app
from hmi.views.main_window import MainWindow

paints = []

class Paints(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            paints.append(watched)
        return False

counter = Paints()
windows = []
present = MainWindow.present
def counted(self, **kw):
    windows.append(self)
    self.canvas.installEventFilter(counter)
    present(self, **kw)
MainWindow.present = counted
freeze = app._collect_and_freeze
def noted():
    print("frozen after", len(paints), "paints; frozen before:", gc.get_freeze_count())
    freeze()
    windows[0].quit()
app._collect_and_freeze = noted
code = app.run(sys.argv[1])
print("exit", code, "frozen at the end:", gc.get_freeze_count() > 0)
"""


def test_the_station_is_frozen_for_the_collector_once_its_first_screen_painted(
    tmp_path: Path, station_data: Path
) -> None:
    """``gc.collect(); gc.freeze()`` (50-100 ms) runs after the first paint, not before it
    (the window closed once it has)."""
    import re
    import shutil
    import socket
    import subprocess
    import sys

    def free_port() -> int:  # nothing listens: the drivers retry, the screen paints anyway
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    project = tmp_path / "demo"
    shutil.copytree(DEMO, project)
    yaml = project / "project.yaml"
    text = re.sub(r"opc\.tcp://127\.0\.0\.1:4840", f"opc.tcp://127.0.0.1:{free_port()}",
                  yaml.read_text(encoding="utf-8"))  # fmt: skip
    yaml.write_text(re.sub(r"(\n\s+port:\s*)5020\b", rf"\g<1>{free_port()}", text), "utf-8")
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PATH": "/usr/bin:/bin",
        "HMI_DATA_DIR": str(station_data),
    }
    subprocess.run(
        [sys.executable, "-m", "hmi.cli", "users", "add", "chief", "--role", "admin", "--name", "T"],
        input="Kiwi-Turbine-7743-pq\n", env=env, capture_output=True, text=True, check=True,
        timeout=120,
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, str(project)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    frozen = re.search(r"frozen after (\d+) paints; frozen before: (\d+)", run.stdout)
    assert frozen is not None, run.stdout + run.stderr
    assert int(frozen.group(1)) >= 1 and frozen.group(2) == "0", run.stdout
    assert "exit 0 frozen at the end: True" in run.stdout, run.stdout
