"""The station, writing the demo plant's setpoint as fast as the operator path allows, killed
with SIGKILL mid-burst; then started again on the same data folder.

Every write it reported done is in the central trail after the restart, exactly once, on a
chain that verifies; at most the one write in flight at the kill is there without having
been reported. Run twice: with the central database there (records go straight to it), and
with it cut off (records in the spool when the station dies, forwarded by the next start).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditResult
from hmi.storage.audit import AuditStore
from hmi.storage.spool import SpoolStore
from tests.faults.conftest import REPO, UI_BLOCK_S, DemoPlant, PgDatabase, TcpProxy, demo_project

pytestmark = pytest.mark.postgres
WRITER = Path(__file__).with_name("station_writer.py")
KILL_AFTER = 120  # writes reported done before the kill


class Child:
    """The station subprocess; its output lines arrive on a queue (never a blocking read)."""

    def __init__(self, data: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "HMI_DATA_DIR": str(data),
               "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER), *args], cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next(self, timeout: float = 30.0) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the station said nothing for {timeout:g} s")
        if line is None:
            err = self.process.stderr.read() if self.process.stderr else ""
            pytest.fail(f"the station ended ({self.process.wait()}): {err[-3000:]}")
        return line

    def go(self) -> None:
        """Start a ``burst`` that said ``ready``."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def rest(self) -> list[str]:
        self.process.wait(30)
        lines: list[str] = []
        while (line := self.lines.get(timeout=10)) is not None:
            lines.append(line)
        return lines

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()


@pytest.mark.parametrize("central", ["reachable", "cut"])
def test_sigkill_mid_burst_loses_and_doubles_no_reported_write(
    tmp_path: Path,
    demo_plant: DemoPlant,
    pg_database: PgDatabase,
    pg_proxy: TcpProxy,
    children: list[Child],
    central: str,
) -> None:
    project = str(demo_project(tmp_path / "project", demo_plant))
    data, url = tmp_path / "hmi-data", pg_database.via(pg_proxy.port)
    station = Child(data, "burst", project, url, "5000")
    children.append(station)
    assert station.next(60) == "ready"
    if central == "cut":
        pg_proxy.cut()
    station.go()  # the burst starts only now: no write reaches the database before the cut
    reported: dict[float, str] = {}  # value -> uuid of each write reported done
    worst = [0.0]

    def take(line: str) -> None:
        kind, value, *rest = line.split(" ")
        assert kind in ("done", "late"), f"unexpected: {line}"
        if kind == "late":
            worst.append(float(value))
        else:
            reported[float(value)] = rest[0]

    while len(reported) < KILL_AFTER:
        take(station.next())
    station.process.send_signal(signal.SIGKILL)
    for line in station.rest():
        take(line)
    assert station.process.returncode == -signal.SIGKILL
    assert max(worst) < UI_BLOCK_S, f"UI loop blocked {max(worst):.3f} s"
    pg_proxy.restore()

    again = Child(data, "restart", project, url)
    children.append(again)
    lines = [again.next(60), again.next(60)]
    assert lines[1] == "forwarded" and lines[0].startswith("late ")
    assert float(lines[0].split()[1]) < UI_BLOCK_S, lines[0]
    assert again.process.wait(60) == 0

    store = AuditStore.open(pg_database.url)
    try:
        writes = [
            r for r in store.iter_records()
            if r.action is AuditAction.WRITE and r.origin == "faults/kill"
        ]  # fmt: skip
        stored = {r.uuid: r for r in writes}
        assert len(stored) == len(writes), "a write recorded twice"
        missing = [v for v, uuid in reported.items() if uuid not in stored]
        assert not missing, f"{len(missing)} writes reported done and lost, e.g. {missing[:3]}"
        assert all(stored[u].new_value == v for v, u in reported.items())
        assert all(r.result is AuditResult.DONE for r in writes)
        assert len(writes) - len(reported) <= 1  # only the write in flight at the kill
        assert all(r.spooled for r in writes) is (central == "cut")
        result = store.verify()
        assert result.ok, result
    finally:
        store.close()
    spool = SpoolStore(data / "audit-spool.sqlite")
    assert spool.pending() == 0
    spool.close()
