"""A station with ``security.directory`` built from its project: a directory user signs in
over LDAPS against a real slapd with the role of their group; with the directory gone only the
local break-glass account gets in, and the refusal says the directory is unreachable."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from pytestqt.qtbot import QtBot

from hmi.app import build_station
from hmi.model.screens.loader import load_project
from hmi.storage.shared.directory_accounts import DirectoryUserStore
from hmi.storage.users import AuthenticationFailed, AuthFailure
from tests.gui_gc import gc_on_gui_thread

sys.path.insert(0, str(Path(__file__).parent / "runtime"))
from slapd_server import SUFFIX, Slapd, slapd_missing

pytestmark = pytest.mark.skipif(slapd_missing() is not None, reason=slapd_missing() or "")
T = TypeVar("T")
LDIF = (
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Ex\n\n"
    f"dn: uid=alice,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice A\nsn: A\n"
    "userPassword: alice-Secret-1\n\n"
    f"dn: cn=ops,{SUFFIX}\nobjectClass: groupOfNames\ncn: ops\nmember: uid=alice,{SUFFIX}\n\n"
)


@pytest.fixture(autouse=True)
def station_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[Path]:
    data = tmp_path / "hmi-data"
    monkeypatch.setenv("HMI_DATA_DIR", str(data))
    with gc_on_gui_thread():
        yield data


def _project(folder: Path, slapd: Slapd, db: str) -> Path:
    folder.mkdir()
    (folder / "ca.pem").write_bytes(slapd.ca_file.read_bytes())
    (folder / "project.yaml").write_text(
        "project: {name: Directory plant, start_screen: main}\n"
        "tags:\n  SP: {address: 'local://sp?type=float&initial=1'}\n"
        "screens: [main.yaml]\n"
        f"database: {{url: '{db}', workstation: OS8}}\n"
        "security:\n  directory:\n"
        f"    url: {slapd.tls_url}\n    ca: ca.pem\n    user_dn: 'uid={{user}},{SUFFIX}'\n"
        f"    roles: {{'cn=ops,{SUFFIX}': operator}}\n    local_accounts: [boss]\n",
        encoding="utf-8",
    )
    (folder / "main.yaml").write_text(
        "screen: {id: main, title: Main, level: 1}\n"
        "widgets:\n  - {type: value, id: sp, rect: [40, 40, 220, 48], tag: SP}\n",
        encoding="utf-8",
    )
    return folder


def test_station_signs_directory_users_in_and_only_break_glass_when_it_is_down(
    qtbot: QtBot, qapp: Any, tmp_path: Path
) -> None:
    (tmp_path / "ldap").mkdir()
    slapd = Slapd(tmp_path / "ldap", LDIF)
    slapd.start()
    project = load_project(_project(tmp_path / "p", slapd, f"sqlite:///{tmp_path}/c.sqlite"))
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(loop)
    asyncio.set_event_loop(loop)

    def wait(step: Awaitable[T]) -> T:
        task = loop.create_task(step)  # type: ignore[arg-type]
        qtbot.waitUntil(task.done, timeout=20000)
        return task.result()

    try:
        station = build_station(project, live_reload=False)
        qtbot.addWidget(station.window)
        assert isinstance(station.users, DirectoryUserStore)
        station.users.add("boss", "Bo Boss", "admin", "Break-Glass-2026", must_change=False)
        wait(station.start())
        session = wait(station.sessions.login("alice", "alice-Secret-1"))
        assert (session.user.role, session.user.source) == ("operator", "directory")
        wait(station.sessions.logout())
        slapd.stop()
        with pytest.raises(AuthenticationFailed) as refused:
            wait(station.sessions.login("alice", "alice-Secret-1"))
        assert refused.value.reason is AuthFailure.DIRECTORY_DOWN
        assert "directory is unreachable" in str(refused.value)
        assert wait(station.sessions.login("boss", "Break-Glass-2026")).user.source == "local"
        wait(station.stop())
    finally:
        slapd.stop()
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
