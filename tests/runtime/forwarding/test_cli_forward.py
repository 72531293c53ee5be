"""``hmi audit forward``: a backfill to a real rsyslogd, from an id, and what it says when the
collector is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore

sys.path.insert(0, str(Path(__file__).parent))
from rsyslog import Rsyslog, free_port, need_rsyslog, sd_params


def _hmi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmi.cli", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _database(tmp_path: Path, n: int) -> str:
    url = f"sqlite:///{tmp_path / 'hmi.sqlite'}"
    AuditStore.open(url).append_many(
        [AuditRecord.create(AuditAction.WRITE, user_id="u", new_value=i) for i in range(n)]
    )
    return url


def test_forward_from_an_id_sends_the_rest_of_the_trail(tmp_path: Path) -> None:
    need_rsyslog()
    url = _database(tmp_path, 30)
    collector = Rsyslog(tmp_path / "r").start()
    try:
        done = _hmi("audit", "forward", "--to", collector.url, "--from", "11", "--db", url)
        lines = collector.wait_for(lambda got: len(got) >= 20, 20)
    finally:
        collector.kill()
    assert done.returncode == 0, done.stderr
    assert "#11..#30" in done.stdout
    assert [int(sd_params(line)["id"]) for line in lines] == list(range(11, 31))


def test_forward_to_nobody_says_who_did_not_answer_and_where_to_resume(tmp_path: Path) -> None:
    url = _database(tmp_path, 3)
    target = f"tcp://127.0.0.1:{free_port()}"
    done = _hmi("audit", "forward", "--to", target, "--db", url)
    assert done.returncode == 1
    assert f"{target}: connection refused" in done.stderr
    assert "--from 1" in done.stderr
    bad = _hmi("audit", "forward", "--to", "http://siem", "--db", url)
    assert bad.returncode == 2 and "tcp://, tls:// or udp://" in bad.stderr
