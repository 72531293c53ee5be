"""A station killed with SIGKILL in the middle of 1,000 audited writes loses none of the
records it had reported done, and leaves a chain that verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hmi.storage.audit import AuditStore

WRITER = Path(__file__).with_name("kill_writer.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("writers", [1, 8], ids=["one-at-a-time", "8-concurrent"])
def test_sigkill_loses_no_reported_record(db_url: str, writers: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(WRITER), db_url, "1000", str(writers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    reported: list[str] = []
    try:
        first = process.stdout.readline().strip()
        assert first == "ready", process.stderr.read() if process.stderr else first
        while len(reported) < 300:
            line = process.stdout.readline().strip()
            assert line and line != "finished", "the writer ended before it could be killed"
            reported.append(line)
        process.send_signal(signal.SIGKILL)
        reported += [line for line in process.stdout.read().split() if line != "finished"]
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert 300 <= len(reported) < 1000
    store = AuditStore.open(db_url)
    try:
        stored = {r.uuid for r in store.iter_records()}
        missing = [u for u in reported if u not in stored]
        assert not missing, f"{len(missing)} reported records lost, e.g. {missing[:3]}"
        result = store.verify()
        assert result.ok, result
        assert result.count >= len(reported)
    finally:
        store.close()
