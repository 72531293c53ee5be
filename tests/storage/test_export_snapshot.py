"""An export is one snapshot of a chain other stations go on appending to (issue 21, item 2):
a second process appends while the export runs, and what the file says it verified, the head
it names and the records it holds all end at the same record."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from itertools import dropwhile
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore
from hmi.storage.export import export_to_path

WRITER = Path(__file__).with_name("append_writer.py")


class Appender:
    """A second station: a process appending to the same chain while the test exports."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER), url, "station-b"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line == "ready", f"the appending process did not start: {line!r}"

    def stop(self) -> int:
        out, _ = self.process.communicate("", timeout=30)
        return int(out.split()[-1])


@pytest.fixture
def busy_store(pg_database: str) -> Iterator[tuple[AuditStore, Appender]]:
    store = AuditStore.open(pg_database)
    store.append_many(
        [
            AuditRecord.create(AuditAction.LOGIN, user_id=f"op{n % 7}", workstation="station-a")
            for n in range(3000)
        ]
    )
    appender = Appender(pg_database)
    try:
        yield store, appender
    finally:
        if appender.process.poll() is None:
            appender.stop()
        store.close()


def _grows(store: AuditStore, since: int) -> None:
    """The other station went on appending during the export (else the test proves nothing)."""
    assert store.head().sequence > since, "nothing was appended while the export ran"


def test_json_export_is_one_snapshot_while_another_station_appends(
    busy_store: tuple[AuditStore, Appender], tmp_path: Path
) -> None:
    store, appender = busy_store
    path = tmp_path / "audit.json"
    summary = export_to_path(store, path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    head = doc["head"]["sequence"]
    sequences = [r["sequence"] for r in doc["records"]]
    assert summary.head is not None and summary.head.sequence == head >= 3001
    assert doc["verification"]["ok"] and doc["verification"]["count"] == head
    assert doc["verification"]["last_sequence"] == head
    assert sequences == list(range(1, head + 1)) and doc["count"] == head
    assert doc["records"][-1]["hash"] == doc["head"]["hash"]
    assert f"a snapshot at chain head #{head} " in doc["snapshot"]
    assert f"verified up to it: intact, {head:,} records" in doc["snapshot"]
    _grows(store, head)
    appended = appender.stop()
    assert store.verify().count == 3000 + appended  # the appends went on, chain intact


def test_csv_export_says_where_its_snapshot_ends(
    busy_store: tuple[AuditStore, Appender], tmp_path: Path
) -> None:
    store, appender = busy_store
    path = tmp_path / "audit.csv"
    summary = export_to_path(store, path)
    with path.open(newline="", encoding="utf-8") as f:
        preface = [line for line in f if line.startswith("#")]
        f.seek(0)
        rows = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), f)))
    assert summary.head is not None and summary.verification is not None
    head = summary.head.sequence
    assert summary.verification.ok and summary.verification.count == head
    assert [int(r["sequence"]) for r in rows] == list(range(1, head + 1))
    assert rows[-1]["hash"] == summary.head.hash
    assert preface[0].startswith(f"# HMI audit export: a snapshot at chain head #{head} ")
    assert preface[1] == f"# head: record {head}, hash {summary.head.hash}\n"
    _grows(store, head)
    appender.stop()


def test_a_filtered_export_ends_at_the_same_head(
    busy_store: tuple[AuditStore, Appender], tmp_path: Path
) -> None:
    from hmi.storage.audit import AuditQuery

    store, appender = busy_store
    path = tmp_path / "b.json"
    export_to_path(store, path, AuditQuery(workstation="station-b"))
    doc = json.loads(path.read_text(encoding="utf-8"))
    head = doc["head"]["sequence"]
    sequences = [r["sequence"] for r in doc["records"]]
    assert sequences and sequences == list(range(3001, sequences[-1] + 1))
    assert sequences[-1] <= head == doc["verification"]["count"]
    assert doc["filter"]["last_sequence"] is None  # the filter as asked, the cut in "snapshot"
    _grows(store, head)
    appender.stop()
