"""The station alarms of the audit trail's trust, as an attacker sets them off: a spool edited by
hand while the central PostgreSQL is away (``station.audit_spool``, until an administrator's
``hmi audit spool release``), and the chain's tail cut with raw SQL as the owner while the
station runs (``station.audit_trail``). Each is in the engine, the banner and the summary, and
journalled; the audit records are there too."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from hmi import cli
from hmi.app import Station, build_station
from hmi.model.alarms.states import AlarmState
from hmi.model.audit.record import AuditAction, AuditResult
from hmi.model.screens.loader import load_project
from tests.storage.conftest import PgAdmin
from tests.storage.test_witness import cut_the_tail
from tests.views.audit_station import (
    PROJECT,
    SCREEN,
    add_users,
    artifact,
    finished,
    login,
    records,
)
from tests.views.conftest import _run_async

SPOOL, TRAIL = "station.audit_spool", "station.audit_trail"


@pytest.fixture
def pg_database(pg_url: str) -> Any:
    admin = PgAdmin(pg_url)
    name = admin.create()
    try:
        yield admin, name
    finally:
        admin.unblock(name)
        admin.drop(name)


def _station(qtbot: QtBot, tmp_path: Path, url: str) -> Station:
    folder = tmp_path / "project"
    folder.mkdir()
    project = PROJECT.format(db="x").replace("url: sqlite:///x", f"url: {url}")
    (folder / "project.yaml").write_text(project, encoding="utf-8")
    (folder / "main.yaml").write_text(SCREEN, encoding="utf-8")
    station = build_station(load_project(folder), live_reload=False)
    qtbot.addWidget(station.window)
    _run_async(qtbot, station.start())
    station.window.show()
    return station


def _shown(station: Station, alarm_id: str) -> bool:
    """In the banner's lines and in the alarm summary's rows, like any alarm."""
    status = station.alarms.status(alarm_id)
    banner = station.window.alarm_banner
    summary = station.window.alarm_summary
    assert summary is not None
    summary.refresh()
    in_banner = any(status.message in line.text for line in banner.lines)  # type: ignore[attr-defined]
    return in_banner and alarm_id in summary.model.alarm_ids()


def _journal(url: str, alarm_id: str) -> list[tuple[str, str, str]]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT to_state, action, value FROM alarm_events WHERE alarm_id = :a ORDER BY id"
            ),
            {"a": alarm_id},
        ).all()
    engine.dispose()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


@pytest.mark.postgres
def test_a_spool_edited_while_the_database_was_away_raises_the_spool_alarm(
    qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path, pg_database: Any
) -> None:
    admin, name = pg_database
    url = admin.url_of(name)
    station = _station(qtbot, tmp_path, url)
    try:
        add_users(qtbot, station, "olga")
        login(qtbot, station, "olga")
        station.window.show_alarm_summary()
        assert station.alarms.status(SPOOL).state is AlarmState.NORMAL
        admin.block(name)  # the central database goes away
        for value in (31.0, 32.0, 33.0):
            assert finished(qtbot, station.bridge.submit_write("SP.Free", value), 20000).ok
        assert station.trail.spooling and station.trail.spool is not None
        spool = Path(station.trail.spool.path)
        with sqlite3.connect(spool) as db:  # the station's OS user: guards off, a value changed
            for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
                db.execute(f'DROP TRIGGER "{trigger}"')
            db.execute(
                """UPDATE audit_spool SET new_value = '["float","99.0"]'
                   WHERE new_value = '["float","32.0"]'"""
            )
        admin.unblock(name)  # the next forward checks the spool first
        qtbot.waitUntil(lambda: station.alarms.status(SPOOL).active, timeout=30000)
        status = station.alarms.status(SPOOL)
        assert status.state is AlarmState.UNACK and status.priority.value == "high"
        assert "failed its check" in str(status.value)
        qtbot.waitUntil(lambda: _shown(station, SPOOL), timeout=5000)
        station.window.resize(1280, 400)
        qtbot.wait(100)
        station.window.grab().save(artifact("station_alarm_spool.png"))
        refused = finished(qtbot, station.bridge.submit_write("SP.Free", 34.0), 20000)
        assert not refused.ok and "until an administrator decides" in refused.message

        code = cli.main(["audit", "spool", "release", "--reason", "checked with IT",
                         "--db", url, "--spool", str(spool)])  # fmt: skip
        assert code == 0
        qtbot.waitUntil(lambda: not station.alarms.status(SPOOL).active, timeout=10000)
        assert station.alarms.status(SPOOL).state is AlarmState.RTN_UNACK  # still owed an ack
        station.alarms.acknowledge(SPOOL, user="olga")
        assert station.alarms.status(SPOOL).state is AlarmState.NORMAL
        assert finished(qtbot, station.bridge.submit_write("SP.Free", 35.0), 20000).ok
        # the journal's pooled connection died with the outage; it catches up on its own
        qtbot.waitUntil(lambda: len(_journal(url, SPOOL)) == 3, timeout=30000)
    finally:
        _run_async(qtbot, station.stop(), 20000)
    found = [(r.action, r.result) for r in records(station)]
    assert (AuditAction.AUDIT_SPOOL_REJECTED, AuditResult.FAILED) in found
    assert (AuditAction.AUDIT_SPOOL_RELEASED, AuditResult.DONE) in found
    journal = _journal(url, SPOOL)
    assert [(s, a) for s, a, _ in journal] == [
        ("unack", "activate"), ("rtn_unack", "clear"), ("normal", "acknowledge"),
    ]  # fmt: skip
    assert "failed its check" in journal[0][2]


def test_a_tail_cut_by_the_owner_raises_the_trail_alarm_at_the_next_append(
    qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    station = _station(qtbot, tmp_path, url)
    try:
        add_users(qtbot, station, "olga")
        login(qtbot, station, "olga")
        station.window.show_alarm_summary()
        for value in (11.0, 12.0, 13.0, 14.0):
            assert finished(qtbot, station.bridge.submit_write("SP.Free", value), 20000).ok
        head = station.trail.store.head().sequence
        cut_the_tail(url, keep=head - 3)  # guards dropped, 3 records deleted, the head reset
        assert not station.alarms.status(TRAIL).active
        assert finished(qtbot, station.bridge.submit_write("SP.Free", 15.0), 20000).ok
        qtbot.waitUntil(lambda: station.alarms.status(TRAIL).active, timeout=10000)
        status = station.alarms.status(TRAIL)
        assert status.state is AlarmState.UNACK and "cut off the end" in str(status.value)
        qtbot.waitUntil(lambda: _shown(station, TRAIL), timeout=5000)
        station.window.resize(1280, 400)
        qtbot.wait(100)
        station.window.grab().save(artifact("station_alarm_trail.png"))
        station.alarms.acknowledge(TRAIL, user="olga")  # acknowledged, still active: the
        assert station.alarms.status(TRAIL).state is AlarmState.ACKED  # records are gone
        with pytest.raises(Exception, match="shelve"):
            station.alarms.shelve(TRAIL, user="olga", reason="noise", duration_s=60)
        assert finished(qtbot, station.bridge.submit_write("SP.Free", 16.0), 20000).ok
        _run_async(qtbot, station.alarm_journal.flush())
    finally:
        _run_async(qtbot, station.stop(), 20000)
    behind = [r for r in records(station) if r.action is AuditAction.AUDIT_CHAIN_BEHIND]
    assert len(behind) == 1 and "cut off the end" in behind[0].error
    assert [(s, a) for s, a, _ in _journal(url, TRAIL)] == [
        ("unack", "activate"), ("acked", "acknowledge"),
    ]  # fmt: skip
