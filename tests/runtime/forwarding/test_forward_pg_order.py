"""Issue 16: the forwarder never skips an alarm-journal event on PostgreSQL. Two writers on the
real server, the first with a deliberately slow commit (it has drawn its journal id and sleeps
before COMMIT), the second journalling meanwhile; a forwarder runs to a real rsyslogd all the
while. Without the journal's id lock the second id commits first, the forwarder's cursor passes
the first, and the first event never arrives; with it, both arrive, in id order.

The audit trail needs no such lock: a record's sequence is drawn under the chain head's row
lock (``SELECT ... FOR UPDATE``), held to commit, so sequences commit in order already; the
second test checks that with the same slow commit."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.forwarding import SyslogSettings
from hmi.runtime.forwarding import EventForwarder, EventSource
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore

sys.path.insert(0, str(Path(__file__).parent))
from rsyslog import Rsyslog, need_rsyslog, sd_params

SLOW_COMMIT_S = 1.5


def _alarm(alarm: str, station: str) -> JournalEvent:
    return JournalEvent(
        time_us=1_700_000_000_000_000, alarm_id=alarm, tag=alarm, priority=Priority.HIGH,
        from_state=AlarmState.NORMAL, to_state=AlarmState.UNACK, action=AlarmAction.ACTIVATE,
        value="1", message="high", workstation=station,
    )  # fmt: skip


def _slow_commit(engine: Any, drawn: threading.Event) -> None:
    """Before COMMIT (the rows inserted, the id drawn): say so, then take a while."""

    def before_commit(_connection: Any) -> None:
        drawn.set()
        time.sleep(SLOW_COMMIT_S)

    event.listen(engine, "commit", before_commit)


def _forwarding(tmp_path: Path, url: str, writers: Callable[[], None], kind: str) -> list[int]:
    need_rsyslog()
    collector = Rsyslog(tmp_path / "rsyslog").start()
    settings = SyslogSettings(url=collector.url, confirm_s=0.2, reconnect_max_s=0.5, timeout_s=2)  # type: ignore[arg-type]
    source = EventSource.open(url)
    forwarder = EventForwarder(settings, source)
    forwarder.start()
    try:
        writers()
        lines = collector.wait_for(lambda ls: sum(f" {kind} [" in x for x in ls) >= 2, timeout=8)
        time.sleep(0.5)  # a late or doubled one would show now
        lines = collector.lines()
    finally:
        forwarder.stop()
        collector.kill()
        source.close()
    return [int(sd_params(line)["id"]) for line in lines if f" {kind} [" in line]


def test_an_alarm_event_whose_commit_is_slow_is_not_skipped(
    tmp_path: Path, pg_database: str
) -> None:
    AuditStore.open(pg_database).ready()
    AlarmJournal.open(pg_database).ready()
    slow, fast = AlarmJournal.open(pg_database), AlarmJournal.open(pg_database)
    drawn = threading.Event()
    _slow_commit(slow.engine, drawn)

    def writers() -> None:
        first = threading.Thread(target=slow.append_many, args=([_alarm("A", "OS1")],))
        first.start()
        assert drawn.wait(10)
        fast.append_many([_alarm("B", "OS2")])
        first.join()

    try:
        arrived = _forwarding(tmp_path, pg_database, writers, "alarm")
    finally:
        slow.close()
        fast.close()
    assert arrived == [1, 2], f"alarm journal ids forwarded: {arrived} (one skipped)"


def test_an_audit_record_whose_commit_is_slow_is_not_skipped(
    tmp_path: Path, pg_database: str
) -> None:
    AuditStore.open(pg_database).ready()
    AlarmJournal.open(pg_database).ready()
    slow, fast = AuditStore.open(pg_database), AuditStore.open(pg_database)
    drawn = threading.Event()
    _slow_commit(slow.engine, drawn)
    record = lambda who: AuditRecord.create(AuditAction.WRITE, user_id=who, workstation=who)  # noqa: E731

    def writers() -> None:
        first = threading.Thread(target=slow.append_many, args=([record("OS1")],))
        first.start()
        assert drawn.wait(10)
        fast.append_many([record("OS2")])
        first.join()

    try:
        arrived = _forwarding(tmp_path, pg_database, writers, "audit")
    finally:
        slow.close()
        fast.close()
    assert arrived == [1, 2], f"audit sequences forwarded: {arrived} (one skipped)"
