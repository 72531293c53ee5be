"""A station on a real PostgreSQL database that goes away: the operator's write is still
recorded (in the local spool) before "done", the status bar warns while records spool, and
the warning goes once they have been forwarded to the central chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from hmi.app import build_station
from hmi.model.audit.record import AuditAction, AuditResult
from hmi.model.screens.loader import load_project
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from tests.storage.conftest import PgAdmin
from tests.views.audit_station import (
    PASSWORD,
    PROJECT,
    SCREEN,
    add_users,
    artifact,
    finished,
    login,
)
from tests.views.conftest import _run_async


@pytest.fixture
def pg_database(pg_url: str) -> Any:
    admin = PgAdmin(pg_url)
    name = admin.create()
    try:
        yield admin, name
    finally:
        admin.unblock(name)
        admin.drop(name)


def test_the_status_bar_warns_while_records_spool(
    qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path, pg_database: Any
) -> None:
    admin, name = pg_database
    url = admin.url_of(name)
    folder = tmp_path / "project"
    folder.mkdir()
    text = PROJECT.format(db="x").replace("url: sqlite:///x", f"url: {url}")
    (folder / "project.yaml").write_text(text, encoding="utf-8")
    (folder / "main.yaml").write_text(SCREEN, encoding="utf-8")
    station = build_station(load_project(folder), live_reload=False)
    assert station.trail.spool is not None
    assert Path(station.trail.spool.path).parent == tmp_path / "hmi-data"  # HMI_DATA_DIR
    qtbot.addWidget(station.window)
    _run_async(qtbot, station.start())
    try:
        station.window.show()
        add_users(qtbot, station, "olga")
        login(qtbot, station, "olga")
        warning = station.window.status.spool_label
        assert not warning.isVisible()

        admin.block(name)  # the central database goes away
        result = finished(qtbot, station.bridge.submit_write("SP.Free", 33.0), 20000)
        assert result.ok and station.trail.spooling  # recorded in the spool before "done"
        qtbot.waitUntil(warning.isVisible, timeout=5000)
        assert warning.text().startswith("AUDIT SPOOLING: central database unreachable, 1 ")
        assert "forwarded in order" in warning.toolTip()
        station.window.resize(1280, 400)
        qtbot.wait(50)
        station.window.grab().save(artifact("audit_spooling.png"))

        admin.unblock(name)
        qtbot.waitUntil(lambda: not warning.isVisible(), timeout=20000)
        assert not station.trail.spooling
    finally:
        _run_async(qtbot, station.stop(), 20000)
    store = AuditStore(make_engine(url))
    try:
        found = list(store.iter_records())
        assert store.verify().ok
    finally:
        store.close()
    write = next(r for r in found if r.action is AuditAction.WRITE)
    assert write.spooled and write.new_value == 33.0 and write.user_id == "olga"
    assert PASSWORD not in str([r.as_dict() for r in found])


def test_a_tampered_spool_holds_the_station_until_an_administrator_releases_it(
    qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path
) -> None:
    """The station's OS user edited the spool while the central database was away: at the
    next start the station does not forward it, says so, and refuses the operator's write."""
    from hmi.storage import admin as storage_admin
    from tests.storage.test_spool_tamper import edit_a_value, spool_some

    data = tmp_path / "hmi-data"
    data.mkdir(exist_ok=True)
    spool = spool_some(data)
    assert spool == data / "audit-spool.sqlite"
    edit_a_value(spool)
    folder = tmp_path / "project"
    folder.mkdir()
    central = tmp_path / "central.sqlite"
    (folder / "project.yaml").write_text(PROJECT.format(db=central), encoding="utf-8")
    (folder / "main.yaml").write_text(SCREEN, encoding="utf-8")
    station = build_station(load_project(folder), live_reload=False)
    qtbot.addWidget(station.window)
    _run_async(qtbot, station.start())
    try:
        station.window.show()
        add_users(qtbot, station, "olga")
        login(qtbot, station, "olga")
        warning = station.window.status.spool_label
        qtbot.waitUntil(warning.isVisible, timeout=10000)
        assert warning.text() == (
            "AUDIT SPOOL REJECTED: actions refused until an administrator decides"
        )
        assert "failed its check" in warning.toolTip() and "release" in warning.toolTip()
        result = finished(qtbot, station.bridge.submit_write("SP.Free", 33.0), 20000)
        assert not result.ok and "until an administrator decides" in result.message
        station.window.resize(1280, 400)
        qtbot.wait(50)
        station.window.grab().save(artifact("audit_spool_rejected.png"))

        storage_admin.release_spool_hold("checked with IT", url=f"sqlite:///{central}")
        qtbot.waitUntil(lambda: not warning.isVisible(), timeout=10000)
        result = finished(qtbot, station.bridge.submit_write("SP.Free", 34.0), 20000)
        assert result.ok
    finally:
        _run_async(qtbot, station.stop(), 20000)
    store = AuditStore(make_engine(f"sqlite:///{central}"))
    try:
        actions = [(r.action, r.result) for r in store.iter_records()]
        assert store.verify().ok
    finally:
        store.close()
    assert actions[0] == (AuditAction.AUDIT_SPOOL_REJECTED, AuditResult.FAILED)
    assert (AuditAction.WRITE, AuditResult.DENIED) in actions
    assert (AuditAction.AUDIT_SPOOL_RELEASED, AuditResult.DONE) in actions
    assert (
        actions.index((AuditAction.WRITE, AuditResult.DENIED))
        < actions.index((AuditAction.AUDIT_SPOOL_RELEASED, AuditResult.DONE))
        < actions.index((AuditAction.WRITE, AuditResult.DONE))
    )
