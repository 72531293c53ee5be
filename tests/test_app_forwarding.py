"""A station with ``forwarding.syslog``: its start is forwarded to a real rsyslogd, the status
bar says the collector is connected; with the collector gone it says failing and, after
``forwarding.alarm_after_s``, the station alarm station.forwarding stands."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import build_station
from hmi.model.alarms.states import AlarmState
from hmi.model.forwarding import FORWARDING_ALARM_ID
from hmi.model.screens.loader import load_project
from hmi.views.station_diagnostics import StationDiagnosticsView
from tests.gui_gc import gc_on_gui_thread

sys.path.insert(0, str(Path(__file__).parent / "runtime" / "forwarding"))
from rsyslog import Rsyslog, need_rsyslog, sd_params


@pytest.fixture(autouse=True)
def station_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[Path]:
    data = tmp_path / "hmi-data"
    monkeypatch.setenv("HMI_DATA_DIR", str(data))
    with gc_on_gui_thread():
        yield data


def _project(folder: Path, collector: str, db: str) -> Path:
    folder.mkdir()
    (folder / "project.yaml").write_text(
        "project: {name: Forwarding plant, start_screen: main}\n"
        "tags:\n  SP: {address: 'local://sp?type=float&initial=1'}\n"
        "screens: [main.yaml]\n"
        f"database: {{url: '{db}', workstation: OS7}}\n"
        "settings: {alarms: {tick_s: 0.1}}\n"
        f"forwarding: {{syslog: {{url: '{collector}', reconnect_max_s: 0.5, confirm_s: 0.1}}, "
        "alarm_after_s: 1}\n",
        encoding="utf-8",
    )
    (folder / "main.yaml").write_text(
        "screen: {id: main, title: Main, level: 1}\n"
        "widgets:\n  - {type: value, id: sp, rect: [40, 40, 220, 48], tag: SP}\n",
        encoding="utf-8",
    )
    return folder


def _cells(view: StationDiagnosticsView) -> dict[str, tuple[str, str]]:
    table = view.table
    return {
        table.item(row, 0).text(): (
            table.item(row, 1).text(),
            table.item(row, 2).text().replace("\n", "; "),
        )
        for row in range(table.rowCount())
    }


def test_station_forwards_shows_the_state_and_raises_its_alarm(
    qtbot: QtBot, qapp: Any, tmp_path: Path
) -> None:
    need_rsyslog()
    collector = Rsyslog(tmp_path / "r").start()
    project = load_project(
        _project(tmp_path / "p", collector.url, f"sqlite:///{tmp_path}/c.sqlite")
    )
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)
    try:
        station = build_station(project, live_reload=False)
        qtbot.addWidget(station.window)
        started = loop.create_task(station.start())
        qtbot.waitUntil(started.done, timeout=10000)
        started.result()
        lines = collector.wait_for(lambda got: any("app_start" in line for line in got), 20)
        start = next(sd_params(line) for line in lines if "app_start" in line)
        assert start["workstation"] == "OS7" and start["id"] == "1"
        label = station.window.status.forwarding_label
        qtbot.waitUntil(lambda: label.text() == "SIEM: connected", timeout=10000)
        collector.kill()
        qtbot.waitUntil(lambda: label.text().startswith("SIEM: failing"), timeout=15000)
        assert "connection refused" in label.toolTip() or "closed" in label.toolTip()
        qtbot.mouseClick(label, Qt.MouseButton.LeftButton)  # the mark opens the diagnostics
        view = next(w for w in station.window.tools if isinstance(w, StationDiagnosticsView))
        qtbot.waitUntil(lambda: "Event forwarding (SIEM)" in _cells(view), timeout=5000)
        row = _cells(view)["Event forwarding (SIEM)"]
        assert row[0] == "FAILING" and collector.url.split("//")[1] in row[1]
        assert "last error:" in row[1] and "failing since" in row[1]
        assert "Event forwarding (SIEM)" in view.summary.text()
        assert _cells(view)["Audit trail"][0] == "central"
        assert _cells(view)["local (connection)"][0] == "connected"
        qtbot.waitUntil(
            lambda: station.alarms.status(FORWARDING_ALARM_ID).state == AlarmState.UNACK,
            timeout=15000,
        )
        stopped = loop.create_task(station.stop())
        qtbot.waitUntil(stopped.done, timeout=15000)
        stopped.result()
    finally:
        collector.kill()
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
