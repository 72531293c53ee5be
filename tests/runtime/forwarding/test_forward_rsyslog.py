"""Forwarding to a real rsyslogd: a burst of operator actions with the collector killed in the
middle, TLS with a CA the test makes, the three formats, and what an attacker types."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.model.forwarding import SyslogSettings
from hmi.runtime.forwarding import (
    EventForwarder,
    EventSource,
    ForwardCursor,
    ForwardingError,
    Position,
)
from hmi.storage.alarm_journal import AlarmJournal
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail

sys.path.insert(0, str(Path(__file__).parent))
from rsyslog import Rsyslog, free_port, make_ca, need_rsyslog, sd_params


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hmi.sqlite'}"


def _write(i: int) -> AuditRecord:
    return AuditRecord.create(
        AuditAction.WRITE, user_id="olga", role="operator", workstation="OS1",
        target_tag=f"TIC{i % 7}.SP", old_value=float(i), new_value=float(i + 1),
        read_back=float(i + 1), reason=f"step {i}",
    )  # fmt: skip


def _settings(url: str, **extra: object) -> SyslogSettings:
    return SyslogSettings(url=url, confirm_s=0.2, reconnect_max_s=0.5, timeout_s=2, **extra)  # type: ignore[arg-type]


def _ids(lines: list[str], kind: str = "audit") -> list[int]:
    return [int(sd_params(line)["id"]) for line in lines if f" {kind} [" in line]


def test_collector_killed_in_a_burst_of_2000_actions_loses_nothing(
    tmp_path: Path, sqlite_url: str
) -> None:
    need_rsyslog()
    collector = Rsyslog(tmp_path / "rsyslog").start()
    source = EventSource.open(sqlite_url)
    store = AuditStore.open(sqlite_url)
    store.ready()
    AlarmJournal.open(sqlite_url).ready()
    cursor = ForwardCursor(tmp_path / "cursor.json", key="test")
    statuses = []
    forwarder = EventForwarder(_settings(collector.url), source, cursor=cursor,
                               on_status=statuses.append)  # fmt: skip
    forwarder.start()

    async def burst() -> None:
        trail = AuditTrail(AuditStore.open(sqlite_url))
        for start in range(0, 2000, 50):
            await asyncio.gather(*(trail.append(_write(i)) for i in range(start, start + 50)))
            if start == 800:
                collector.kill()  # SIGKILL: what it had not written is gone
            if start == 1400:
                collector.start()
        await trail.aclose()

    try:
        asyncio.run(burst())
        lines = collector.wait_for(lambda got: set(_ids(got)) >= set(range(1, 2001)), 60)
        deadline = time.monotonic() + 10
        while forwarder.status.delivered.audit < 2000 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        forwarder.stop()
        collector.kill()
    ids = _ids(lines)
    assert set(ids) == set(range(1, 2001)), (
        f"missing: {sorted(set(range(1, 2001)) - set(ids))[:20]}"
    )
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == sorted(first_seen), "out of order within the chain"
    assert len(ids) - 2000 <= forwarder.settings.window, "more duplicates than the window"
    assert any(s.state == "failing" and "127.0.0.1" in s.last_error for s in statuses)
    assert cursor.load() == Position(2000, 0)
    records = {r.sequence: r for r in store.iter_records()}
    for line in lines[:50] + lines[-50:]:
        sd = sd_params(line)
        record = records[int(sd["id"])]
        assert sd["hash"] == record.hash and sd["prev"] == record.prev_hash
        assert (sd["user"], sd["role"], sd["workstation"]) == ("olga", "operator", "OS1")
        assert (sd["action"], sd["tag"], sd["result"]) == ("write", record.target_tag, "done")
        assert (float(sd["old"]), float(sd["new"]), float(sd["readback"])) == (
            record.old_value, record.new_value, record.read_back)  # fmt: skip
        assert sd["reason"] == record.reason


def _forward_once(settings: SyslogSettings, url: str, **kw: object) -> Position:
    source = EventSource.open(url)
    try:
        return asyncio.run(EventForwarder(settings, source, **kw).run(until_caught_up=True))  # type: ignore[arg-type]
    finally:
        source.close()


def _alarm(i: int) -> JournalEvent:
    return JournalEvent(
        time_us=1_700_000_000_000_000 + i, alarm_id="T1.LevelHi", tag="T1.Level",
        priority=Priority.HIGH, from_state=AlarmState.NORMAL, to_state=AlarmState.UNACK,
        action=AlarmAction.ACTIVATE, value="93.5", message="high", workstation="OS1",
    )  # fmt: skip


def test_tls_with_the_test_ca_carries_audit_and_alarm_events(
    tmp_path: Path, sqlite_url: str
) -> None:
    need_rsyslog(tls=True)
    ca, cert, key = make_ca(tmp_path / "pki")
    collector = Rsyslog(tmp_path / "r", transport="tls", ca=ca, cert=cert, key=key).start()
    try:
        AuditStore.open(sqlite_url).append_many([_write(i) for i in range(20)])
        AlarmJournal.open(sqlite_url).append_many([_alarm(i) for i in range(3)])
        done = _forward_once(_settings(collector.url, ca=str(ca)), sqlite_url)
        lines = collector.wait_for(lambda got: len(got) >= 23, 20)
    finally:
        collector.kill()
    assert done == Position(20, 3)
    assert sorted(_ids(lines)) == list(range(1, 21))
    alarms = [sd_params(line) for line in lines if " alarm [" in line]
    assert [a["id"] for a in alarms] == ["1", "2", "3"]
    assert alarms[0]["alarm"] == "T1.LevelHi" and alarms[0]["priority"] == "high"
    assert alarms[0]["transition"] == "normal>unack" and alarms[0]["value"] == "93.5"


@pytest.mark.parametrize("problem", ["wrong CA", "mismatched name", "expired"])
def test_a_collector_that_cannot_be_trusted_is_refused_with_the_reason(
    tmp_path: Path, sqlite_url: str, problem: str
) -> None:
    need_rsyslog(tls=True)
    names = ("other.example.org",) if problem == "mismatched name" else ("127.0.0.1",)
    ca, cert, key = make_ca(tmp_path / "pki", names=names, expired=problem == "expired")
    other_ca = make_ca(tmp_path / "other")[0]
    collector = Rsyslog(tmp_path / "r", transport="tls", ca=ca, cert=cert, key=key).start()
    AuditStore.open(sqlite_url).append_many([_write(i) for i in range(5)])
    trusted = other_ca if problem == "wrong CA" else ca
    try:
        with pytest.raises(ForwardingError) as caught:
            _forward_once(_settings(collector.url, ca=str(trusted)), sqlite_url)
        time.sleep(0.3)
        assert collector.lines() == [], "nothing may reach an untrusted collector"
    finally:
        collector.kill()
    message = str(caught.value)
    expected = {"wrong CA": "not signed by", "mismatched name": "not for '127.0.0.1'",
                "expired": "expired"}[problem]  # fmt: skip
    assert collector.url in message and expected in message, message


def test_unreachable_collector_says_so_and_keeps_the_cursor(
    tmp_path: Path, sqlite_url: str
) -> None:
    AuditStore.open(sqlite_url).append_many([_write(i) for i in range(5)])
    AlarmJournal.open(sqlite_url).ready()
    url = f"tcp://127.0.0.1:{free_port()}"
    cursor = ForwardCursor(tmp_path / "c.json", key="k")
    seen = []
    forwarder = EventForwarder(_settings(url), EventSource.open(sqlite_url), cursor=cursor,
                               on_status=seen.append)  # fmt: skip
    forwarder.start()
    deadline = time.monotonic() + 5
    while not any(s.state == "failing" for s in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    forwarder.stop()
    failing = [s for s in seen if s.state == "failing"]
    assert failing and "connection refused" in failing[-1].last_error
    assert failing[-1].failing_since is not None
    assert cursor.load() == Position()


@pytest.mark.parametrize("fmt", ["rfc5424", "json", "cef"])
def test_what_an_operator_types_cannot_forge_a_message_or_a_field(
    tmp_path: Path, sqlite_url: str, fmt: str
) -> None:
    need_rsyslog()
    evil = 'x"] [hmi@32473 user="root" result="done"] \n<13>1 - forged - - - - hi | CEF:0|a=b \\'
    record = AuditRecord.create(AuditAction.WRITE, result=AuditResult.DENIED, user_id="mallory",
                                target_tag="XV1", new_value=1, reason=evil)  # fmt: skip
    AuditStore.open(sqlite_url).append_many([record, _write(1)])
    collector = Rsyslog(tmp_path / "r").start()
    try:
        _forward_once(_settings(collector.url, format=fmt), sqlite_url)
        raw = collector.wait_for(lambda got: len(got) >= 2, 20)
    finally:
        collector.kill()
    assert len(raw) == 2, raw  # the newline in the reason did not make a third message
    first = raw[0]
    if fmt == "rfc5424":
        sd = sd_params(first)
        assert sd["user"] == "mallory" and sd["result"] == "denied"
        assert sd["reason"].replace("#012", "\n") == evil
    elif fmt == "json":
        body = first[first.index("{") :].replace("#012", "\\n")
        document = json.loads(body)
        assert document["user"] == "mallory" and document["reason"] == evil
    else:
        assert "suser=mallory" in first and "outcome=denied" in first
        assert 'reason=x"] [hmi@32473 user\\="root" result\\="done"] \\n' in first


def test_udp_for_old_collectors(tmp_path: Path, sqlite_url: str) -> None:
    need_rsyslog()
    collector = Rsyslog(tmp_path / "r", transport="udp").start()
    try:
        AuditStore.open(sqlite_url).append_many([_write(i) for i in range(10)])
        AlarmJournal.open(sqlite_url).ready()
        done = _forward_once(_settings(collector.url), sqlite_url)
        lines = collector.wait_for(lambda got: len(got) >= 10, 10)
    finally:
        collector.kill()
    assert done == Position(10, 0)
    assert sorted(_ids(lines)) == list(range(1, 11))
