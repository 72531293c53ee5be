"""What the login, confirmation and auditor tests share: a small project whose memory tags
carry every confirmation policy, users of every role, and the audit records a station made."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from hmi.app import Station, build_station
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.screens.loader import Project, load_project
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from tests.views.conftest import ARTIFACTS, _run_async

PASSWORD = "Plant-Secret-42"
USERS = {  # user id: (full name, role)
    "olga": ("Olga Operator", "operator"),
    "sam": ("Sam Supervisor", "supervisor"),
    "vic": ("Vic Viewer", "viewer"),
    "ada": ("Ada Auditor", "auditor"),
    "otto": ("Otto Operator", "operator"),
}

PROJECT = """\
project: {{name: Audit test plant, site: Riverside, start_screen: main}}
tags:
  SP.Free:
    address: local://free?type=float&initial=10
    units: "%"
    write: {{min: 0, max: 100}}
  SP.Confirm:
    address: local://confirm?type=float&initial=50
    description: Dosing setpoint
    units: "l/h"
    format: ".1f"
    write: {{min: 0, max: 100, confirm: confirm}}
  SP.Reason:
    address: local://reason?type=float&initial=20
    units: "%"
    write: {{min: 0, max: 100, confirm: reason}}
  SP.Signed:
    address: local://signed?type=float&initial=30
    units: bar
    write: {{min: 0, max: 100, confirm: signature}}
  SP.Verified:
    address: local://verified?type=float&initial=40
    description: Chlorine dose
    units: mg/l
    write: {{min: 0, max: 100, confirm: verify}}
  Loop.Mode:
    address: local://mode?type=int&initial=0
    description: Dosing loop mode
    datatype: int
    states: {{0: MAN, 1: AUTO}}
    write: {{min: 0, max: 1}}
screens: [main.yaml]
security:
  session_lock_minutes: 5
  lockout: {{attempts: 3, minutes: 10}}
database:
  url: sqlite:///{db}
  workstation: TEST-ST
"""

SCREEN = """\
screen: {id: main, title: Main, level: 1}
widgets:
  - {type: value, id: free, rect: [40, 40, 220, 48], tag: SP.Free}
  - {type: value, id: confirm, rect: [40, 100, 220, 48], tag: SP.Confirm}
  - {type: value, id: reason, rect: [40, 160, 220, 48], tag: SP.Reason}
  - {type: value, id: signed, rect: [40, 220, 220, 48], tag: SP.Signed}
  - {type: value, id: verified, rect: [40, 280, 220, 48], tag: SP.Verified}
"""


def write_project(folder: Path) -> Project:
    """The small project in ``folder``, its database ``folder/hmi.sqlite``."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "hmi.sqlite"
    (folder / "project.yaml").write_text(PROJECT.format(db=db), encoding="utf-8")
    (folder / "main.yaml").write_text(textwrap.dedent(SCREEN), encoding="utf-8")
    return load_project(folder)


def add_users(qtbot: QtBot, station: Station, *ids: str) -> None:
    for user_id in ids or tuple(USERS):
        name, role = USERS[user_id]
        _run_async(
            qtbot,
            station.trail.call(station.users.add, user_id, name, role, PASSWORD, must_change=False),
        )


def login(qtbot: QtBot, station: Station, user_id: str) -> None:
    _run_async(qtbot, station.sessions.login(user_id, PASSWORD))


def records(station: Station) -> list[AuditRecord]:
    """Every record the station's database holds, oldest first (read on a store of its own)."""
    store = AuditStore(make_engine(station.trail.store.engine.url.render_as_string(False)))
    try:
        return list(store.iter_records())
    finally:
        store.close()


class Clock:
    """The session's clock, moved by the test (inactivity lock, signature expiry)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def start_station(qtbot: QtBot, folder: Path, clock: Clock, *, users: bool = True) -> Station:
    """The small project's station, built and started, with every user of ``USERS``."""
    station = build_station(write_project(folder), live_reload=False, clock=clock)
    qtbot.addWidget(station.window)
    _run_async(qtbot, station.start())
    if users:
        add_users(qtbot, station)
    return station


def stop_station(qtbot: QtBot, station: Station) -> None:
    _run_async(qtbot, station.stop())


def finished(qtbot: QtBot, task: Any, timeout_ms: int = 10000) -> Any:
    """The result of an asyncio task, processing Qt events until it is done."""
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


FILL_USERS = (("olga", "Olga Operator", "operator"), ("sam", "Sam Supervisor", "supervisor"),
         ("otto", "Otto Operator", "operator"), ("vic", "Vic Viewer", "viewer"))  # fmt: skip
BASE = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def fill(url: str, count: int) -> None:
    """``count`` records: writes of four users on ten tags, every 7th denied, every 5th a
    login; one every 10 s from ``BASE``."""
    store = AuditStore(make_engine(url))
    batch: list[AuditRecord] = []
    for i in range(count):
        user_id, name, role = FILL_USERS[i % 4]
        write = i % 5 != 0
        batch.append(
            AuditRecord.create(
                AuditAction.WRITE if write else AuditAction.LOGIN,
                result=AuditResult.DENIED if i % 7 == 0 else AuditResult.DONE,
                timestamp=BASE + timedelta(seconds=10 * i),
                user_id=user_id, user_name=name, role=role, workstation="ST-01",
                target_tag=f"T{i % 10}.SP" if write else "",
                old_value=float(i) if write else None, new_value=float(i + 1) if write else None,
                reason=f"batch step {i}" if write else "", origin="overview/sp_entry",
                error="the role 'viewer' may not write tags" if i % 7 == 0 else "",
                meaning="performed by" if i % 11 == 0 else "",
            )
        )  # fmt: skip
        if len(batch) == 2000:
            store.append_many(batch)
            batch = []
    store.append_many(batch)
    store.close()


def artifact(name: str) -> str:
    """Where a picture for a person to look at goes: ``artifacts/<name>``."""
    ARTIFACTS.parent.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS.parent / name)
