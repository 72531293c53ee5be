"""Station diagnostics: what each part's report says in the table, and the status bar's marks
opening it. The end-to-end case (a station whose SIEM collector dies) is in
tests/test_app_forwarding.py; the historian's row in test_historian_row_from_a_real_recorder."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.drivers.defaults import default_registry
from hmi.model.trends.historian import HistorianConfig
from hmi.runtime.broker import TagBroker
from hmi.runtime.forwarding import ForwardStatus
from hmi.runtime.forwarding.source import Position
from hmi.runtime.historian import StationHistory
from hmi.storage.trail import TrailStatus
from hmi.views.station_diagnostics import (
    STATE_ROLE,
    DiagnosticRow,
    StationDiagnostics,
    StationDiagnosticsView,
    forwarding_row,
    historian_row,
    trail_row,
)
from hmi.views.status_bar import StationStatusBar
from tests.qt_probes import qt_calls


def _table(view: StationDiagnosticsView) -> list[tuple[str, str, str, str]]:
    table = view.table
    return [
        (
            table.item(row, 0).text(),
            table.item(row, 1).text(),
            table.item(row, 2).text().replace("\n", "; "),
            table.item(row, 1).data(STATE_ROLE),
        )
        for row in range(table.rowCount())
    ]


def test_each_trail_state_is_named_with_its_reason() -> None:
    assert trail_row(TrailStatus(False, 0)).state == "central"
    spool = trail_row(TrailStatus(True, 12, detail="could not connect"))
    assert (spool.state, spool.ok) == ("spooling", False)
    assert "12 record(s) kept" in spool.detail and "could not connect" in spool.detail
    assert "audit key refused" in trail_row(TrailStatus(True, 1, key_refused=True)).detail
    held = trail_row(TrailStatus(False, 0, hold="spool.jsonl edited", refusing=True))
    assert (held.state, held.ok) == ("refusing", False) and "spool.jsonl edited" in held.detail
    assert trail_row(TrailStatus(False, 0, trust="head 9 < 12")).state == "chain behind"
    assert trail_row(TrailStatus(False, 0, blocked="disk full")).state == "blocked"


def test_a_failing_forwarder_says_since_when_what_waits_and_the_last_error() -> None:
    since = time.time() - 75
    row = forwarding_row(
        ForwardStatus(
            "tls://siem:6514",
            state="failing",
            backlog=340,
            last_error="certificate verify failed",
            failing_since=since,
            delivered=Position(audit=41, alarms=7),
            sent=48,
        ),
        now=since + 75,
    )
    assert (row.state, row.ok) == ("failing", False)
    for part in ("tls://siem:6514", "backlog 340", "audit #41", "alarm event #7", "(75 s)",
                 "last error: certificate verify failed"):  # fmt: skip
        assert part in row.detail
    well = forwarding_row(ForwardStatus("tcp://siem:514", state="connected"))
    assert (well.state, well.ok) == ("connected", True) and "last error" not in well.detail


def test_historian_row_from_a_real_recorder(tmp_path: Path) -> None:
    broker = TagBroker({}, default_registry(), {})
    history = StationHistory.open(
        broker, HistorianConfig(url=f"sqlite:///{tmp_path}/h.sqlite"), station="OS1"
    )
    assert history.recorder is not None
    row = historian_row(history.recorder.status())
    assert (row.part, row.state, row.ok) == ("Historian", "recording", True)
    assert "0 dropped" in row.detail and "0 failed write(s)" in row.detail
    assert history.store is not None
    history.store.close()


def test_the_marks_open_it_and_the_table_follows_every_report(qtbot: QtBot) -> None:
    bar = StationStatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.show_health(ConnectionHealth("plant_ua", ConnectionState.CONNECTED))
    bar.show_health(ConnectionHealth("plant_mb", ConnectionState.FAILED, "timed out after 1 s"))
    bar.show_trail(TrailStatus(False, 0))
    view = StationDiagnosticsView(bar.diagnostics)
    qtbot.addWidget(view)
    rows = _table(view)
    assert [r[0] for r in rows[:2]] == ["plant_ua (connection)", "plant_mb (connection)"]
    assert rows[1][1:] == ("FAILED", "timed out after 1 s", "bad")
    assert rows[2][:2] == ("Audit trail", "central")
    assert view.summary.text() == "1 part(s) need attention: plant_mb (connection)"

    bar.show_forwarding(ForwardStatus("tcp://siem:514", state="failing", failing_since=1.0))
    bar.show_health(ConnectionHealth("plant_mb", ConnectionState.CONNECTED))
    rows = _table(view)  # refreshed on the reports, not on the next second
    assert rows[1][:2] == ("plant_mb (connection)", "connected")
    assert rows[3][:2] == ("Event forwarding (SIEM)", "FAILING")

    with qtbot.waitSignal(bar.diagnostics_requested, timeout=1000):
        qtbot.mouseClick(bar.connections["plant_mb"], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(bar.diagnostics_requested, timeout=1000):
        qtbot.mouseClick(bar.forwarding_label, Qt.MouseButton.LeftButton)


def test_a_probe_that_raises_is_shown_as_unknown_not_as_well(qtbot: QtBot) -> None:
    diagnostics = StationDiagnostics()

    def broken() -> object:
        raise RuntimeError("writer thread gone")

    diagnostics.add_probe("historian", broken)  # type: ignore[arg-type]
    view = StationDiagnosticsView(diagnostics)
    qtbot.addWidget(view)
    assert _table(view) == [("historian", "UNKNOWN", "no status: writer thread gone", "bad")]


def calls_over(qtbot: QtBot, ms: int) -> Counter[str]:
    """The Qt (C++) methods Python called on this thread over ``ms``, by name."""
    with qt_calls() as calls:
        qtbot.wait(ms)
    return calls


def test_a_second_when_nothing_changed_costs_nothing(qtbot: QtBot) -> None:
    """The view asks the polled parts every second; when no row changed it sets nothing. It
    set every state's font, fitted every row to its text and re-polished the summary (the
    style sheet worked out again) each second, while the table showed the same."""
    diagnostics = StationDiagnostics()
    diagnostics.report("plant_ua", DiagnosticRow("plant_ua (connection)", "connected", True, "-"))
    written = [0]
    diagnostics.add_probe(
        "historian",
        lambda: DiagnosticRow("Historian", "recording", True, f"{written[0]} written"),
    )
    view = StationDiagnosticsView(diagnostics)
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    quiet = calls_over(qtbot, 2300)  # two polls, nothing new
    work = ("setFont", "setData", "resizeRowsToContents", "polish", "unpolish", "setText")
    assert {name: quiet[name] for name in work} == dict.fromkeys(work, 0)
    written[0] = 5  # a polled figure moves: shown within a second
    moved = calls_over(qtbot, 1200)
    assert _table(view)[1][2] == "5 written"
    assert moved["setText"] >= 1 and moved["resizeRowsToContents"] == 1
    view.hide()  # hidden, nothing is asked; shown again, it is up to date at once
    written[0] = 6
    assert calls_over(qtbot, 1200)["resizeRowsToContents"] == 0
    view.show()
    assert _table(view)[1][2] == "6 written"
