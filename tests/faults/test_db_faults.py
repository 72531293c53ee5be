"""The central PostgreSQL goes away while the operator acts on the demo plant, and comes back.

The shared server is never stopped: the station reaches its database through a proxy of the
test's own, cut as a stopped server would be (connections reset, then refused). Writes made
during the cut are done and spooled, the status bar says so within 2 s, and once the link is
back the spool is forwarded on its own: every write reported done is in the central trail
once, in order, on a chain that verifies, and the UI loop never stalled for 100 ms.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditResult
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


def burst(running: Running, first: float, count: int) -> list[object]:
    """``count`` setpoint writes, one after the other, each value its own."""

    async def writes() -> list[object]:
        return [await running.write(SETPOINT, first + n / 10) for n in range(count)]

    return running.run(writes(), timeout=60)


def test_postgres_cut_during_operator_actions_spools_and_forwards_once(
    tmp_path: Path,
    demo_plant: DemoPlant,
    pg_database: PgDatabase,
    pg_proxy: TcpProxy,
    start_station: Callable[..., Running],
) -> None:
    running = start_station(
        demo_project(tmp_path / "project", demo_plant), database=pg_database.via(pg_proxy.port)
    )
    station, spool_label = running.station, running.station.window.status.spool_label
    assert all(r.ok for r in burst(running, 20.0, 10)) and not station.trail.spooling

    pg_proxy.cut()
    during = running.run(running.write(SETPOINT, 30.0))
    assert during.ok, during.message  # the action happened: its record waits in the spool
    took = running.wait(
        lambda: spool_label.isVisibleTo(station.window) and spool_label.text().startswith("AUDIT SPOOLING"),
        STATUS_S, "the status bar says the audit records spool",
    )  # fmt: skip
    assert took < STATUS_S
    assert "central database unreachable" in spool_label.text()
    assert all(r.ok for r in burst(running, 40.0, 20))
    assert station.trail.status.pending >= 21
    assert running.quality(SETPOINT).is_good  # the plant's link is not the database's

    pg_proxy.restore()
    running.wait(lambda: not station.trail.spooling, 35, "the spool forwarded on its own")
    running.wait(
        lambda: not spool_label.isVisibleTo(station.window), STATUS_S, "the spool warning gone"
    )
    assert all(r.ok for r in burst(running, 60.0, 10)) and not station.trail.spooling
    assert running.probe.ticks > 100
    assert running.probe.worst < UI_BLOCK_S, f"UI loop blocked {running.probe.worst:.3f} s"

    store = AuditStore.open(pg_database.url)
    try:
        writes = [
            r for r in store.iter_records()
            if r.action is AuditAction.WRITE and r.origin == "faults/suite"
        ]  # fmt: skip
        assert [r.result for r in writes] == [AuditResult.DONE] * len(running.done)
        assert [r.new_value for r in writes] == running.done  # none lost, none twice, in order
        assert len({r.uuid for r in writes}) == len(writes)
        assert [r.spooled for r in writes] == [False] * 10 + [True] * 21 + [False] * 10
        result = store.verify()
        assert result.ok, result
    finally:
        store.close()
