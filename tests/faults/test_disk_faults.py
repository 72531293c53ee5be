"""The disk under the station's data folder (its audit spool) fills up while the central
database is away: nowhere can a record be stored.

The data folder is a 4 MiB tmpfs of the test's own (``mount -t tmpfs``, so root; elsewhere the
test skips and says why), filled to the last byte with a ballast file. The write whose record
could not be stored is not reported done; the next ones are refused before anything is sent,
with a message that says why; the station keeps running; once the ballast is gone the
operator acts again without a restart, and every write reported done reaches the central
chain exactly once when the database returns.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditResult
from hmi.runtime.commands import Outcome
from hmi.storage.audit import AuditStore
from tests.faults.conftest import (
    SETPOINT,
    STATUS_S,
    UI_BLOCK_S,
    DemoPlant,
    PgDatabase,
    Running,
    TcpProxy,
    demo_project,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def small_disk(station_data: Path) -> Iterator[Path]:
    """The station's data folder on a 4 MiB tmpfs (unmounted after the station stopped)."""
    if os.geteuid() != 0:
        pytest.skip("a small tmpfs needs root (mount -t tmpfs); run the faults suite as root")
    station_data.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(station_data)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield station_data
    finally:
        subprocess.run(["umount", "-l", str(station_data)], check=False)


def fill(folder: Path) -> Path:
    """Write a ballast file until the disk refuses another byte."""
    ballast = folder / "ballast"
    with ballast.open("wb", buffering=0) as file:
        chunk = b"\0" * 65536
        while True:
            try:
                file.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                if len(chunk) == 1:
                    break
                chunk = chunk[: len(chunk) // 2]
    return ballast


async def plant_value(running: Running) -> object:
    """The setpoint as the plant holds it now, read from the device (the broker's latest value
    is only as fresh as its last notification, and no screen may be watching the tag)."""
    tag = running.station.broker.tag(SETPOINT)
    read = await running.station.broker.pool.driver_for(tag.address).read(tag.address)
    assert read.quality.is_good, read
    return read.value


def test_a_full_disk_under_the_spool_refuses_audited_actions_until_space_returns(
    tmp_path: Path,
    demo_plant: DemoPlant,
    pg_database: PgDatabase,
    pg_proxy: TcpProxy,
    small_disk: Path,
    start_station: Callable[..., Running],
) -> None:
    running = start_station(
        demo_project(tmp_path / "project", demo_plant), database=pg_database.via(pg_proxy.port)
    )
    station, label = running.station, running.station.window.status.spool_label
    assert running.run(running.write(SETPOINT, 21.0)).ok
    pg_proxy.cut()
    assert running.run(running.write(SETPOINT, 22.0)).ok  # spooled: the disk has room yet
    ballast = fill(small_disk)

    lost = running.run(running.write(SETPOINT, 23.0))
    assert lost.outcome is Outcome.FAILED, lost  # never reported done
    assert "audit record could not be stored" in lost.message
    running.wait(
        lambda: label.isVisibleTo(station.window) and "CANNOT BE STORED" in label.text(),
        STATUS_S, "the status bar says audit records cannot be stored",
    )  # fmt: skip
    assert running.run(plant_value(running)) == 23.0  # it went out: the plant holds it
    refused = running.run(running.write(SETPOINT, 24.0))
    assert refused.outcome is Outcome.DENIED, refused
    assert "could not be stored" in refused.message and str(small_disk) in refused.message
    running.wait(lambda: running.quality(SETPOINT).is_good, STATUS_S, "the setpoint Good")
    assert running.run(plant_value(running)) == 23.0  # nothing was sent

    ballast.unlink()
    running.wait(lambda: "CANNOT BE STORED" not in label.text(), 5, "room noticed again")
    assert running.run(running.write(SETPOINT, 25.0)).ok  # spooled again, no restart
    pg_proxy.restore()
    running.wait(lambda: not station.trail.spooling, 35, "the spool forwarded")
    assert running.run(running.write(SETPOINT, 26.0)).ok
    assert running.probe.worst < UI_BLOCK_S, f"UI loop blocked {running.probe.worst:.3f} s"

    store = AuditStore.open(pg_database.url)
    try:
        writes = [
            r for r in store.iter_records()
            if r.action is AuditAction.WRITE and r.origin == "faults/suite"
        ]  # fmt: skip
        done = [r.new_value for r in writes if r.result is AuditResult.DONE]
        assert done == running.done == [21.0, 22.0, 25.0, 26.0]
        assert len({r.uuid for r in writes}) == len(writes)
        result = store.verify()
        assert result.ok, result
    finally:
        store.close()
    with contextlib.suppress(OSError):
        ballast.unlink()
