"""``hmi users``, ``hmi audit`` and ``hmi db`` in subprocesses on a SQLite file: users added
and changed (passwords from standard input), verification that fails on a tampered file and
names the record, exports as CSV, JSON and PDF; every change recorded as made from the
command line."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from hmi.cli_admin import ProgressBar
from hmi.model.audit import AuditAction
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine

GOOD = "Harbour-Lights-9"


def hmi(*args: str, stdin: str = "", data: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if data is not None:
        env["HMI_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "hmi.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    done = hmi("db", "upgrade", "--db", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("database schema at revision ")
    return url


def stored(url: str) -> list[object]:
    store = AuditStore(make_engine(url))
    try:
        return list(store.iter_records())
    finally:
        store.close()


def test_users_are_managed_and_every_change_recorded(db: str) -> None:
    added = hmi("users", "add", "Root", "--name", "Rita Root", "--role", "admin",
                "--no-must-change", "--db", db, stdin=GOOD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added root (Rita Root, admin)"
    weak = hmi("users", "add", "bob", "--name", "Bob Builder", "--role", "operator",
               "--db", db, stdin="bob\n")  # fmt: skip
    assert weak.returncode == 1
    assert "password not accepted" in weak.stderr and "use at least 10" in weak.stderr
    unknown = hmi("users", "add", "bob", "--name", "Bob Builder", "--role", "pilot",
                  "--db", db, stdin=GOOD + "\n")  # fmt: skip
    assert unknown.returncode == 1 and "unknown role 'pilot'" in unknown.stderr
    assert hmi("users", "add", "bob", "--name", "Bob Builder", "--role", "operator",
               "--db", db, stdin="Tide-Gate-Valve-7\n").returncode == 0  # fmt: skip
    assert hmi("users", "passwd", "bob", "--db", db, stdin="Tide-Gate-Valve-8\n").returncode == 0
    changed = hmi("users", "change", "bob", "--role", "supervisor", "--db", db)
    assert changed.stdout.strip() == "bob: Bob Builder, supervisor"
    assert hmi("users", "disable", "bob", "--db", db).stdout.strip() == "bob: disabled"
    listed = hmi("users", "list", "--db", db)
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["USER", "NAME", "ROLE", "STATE", "PASSWORD", "CHANGED"]
    assert lines[1].split()[:4] == ["bob", "Bob", "Builder", "supervisor"]
    assert "disabled" in lines[1] and "active" in lines[2]
    assert hmi("users", "enable", "bob", "--db", db).stdout.strip() == "bob: must change password"
    assert hmi("users", "unlock", "nobody", "--db", db).returncode == 1

    records = stored(db)
    assert [(r.action.value, r.target_address) for r in records] == [  # type: ignore[attr-defined]
        ("user_add", "user:root"), ("user_add", "user:bob"), ("password_change", "user:bob"),
        ("user_change", "user:bob"), ("user_disable", "user:bob"), ("user_enable", "user:bob"),
    ]  # fmt: skip
    who = f"os:{getpass.getuser()}"
    assert all(r.user_id == who and r.origin == "command line" for r in records)  # type: ignore[attr-defined]
    assert all(GOOD not in str(r.as_dict()) for r in records)  # type: ignore[attr-defined]


def test_verify_passes_then_names_the_tampered_record(db: str) -> None:
    for n in range(3):
        hmi("users", "add", f"user{n}", "--name", f"Person Number{n}", "--role", "operator",
            "--db", db, stdin=GOOD + "\n")  # fmt: skip
    done = hmi("audit", "verify", "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("chain verified: 3 records (#1..#3)")

    engine = make_engine(db)
    with engine.begin() as conn:  # as an attacker with the file would
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_update"))
        conn.execute(text("UPDATE audit SET user_id = 'someone' WHERE sequence = 2"))
        uuid = conn.execute(text("SELECT uuid FROM audit WHERE sequence = 2")).scalar_one()
    engine.dispose()
    tampered = hmi("audit", "verify", "--db", db, "--workers", "1")
    assert tampered.returncode == 1
    assert f"TAMPERED: first broken record: record 2 ({uuid}): its hash does not match" in (
        tampered.stderr
    )
    assert "1 problem(s) in 4 records checked" in tampered.stderr  # + the first verify's record
    verifications = [r for r in stored(db) if r.action is AuditAction.AUDIT_VERIFY]  # type: ignore[attr-defined]
    assert [r.result.value for r in verifications] == ["done", "failed"]  # type: ignore[attr-defined]


def test_exports_the_filtered_records(db: str, tmp_path: Path) -> None:
    for name in ("ann", "ben", "cat"):
        hmi("users", "add", name, "--name", f"{name.title()} Person", "--role", "operator",
            "--db", db, stdin=GOOD + "\n")  # fmt: skip
    hmi("users", "disable", "ben", "--db", db)
    out = tmp_path / "adds.csv"
    done = hmi("audit", "export", "--db", db, "-o", str(out), "--action", "user_add",
               "--from", "2020-01-01", "--to", "2100-01-01")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"exported 3 record(s) to {out}"
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["target_address"] for r in rows] == ["user:ann", "user:ben", "user:cat"]

    out = tmp_path / "all.json"
    assert hmi("audit", "export", "--db", db, "-o", str(out)).returncode == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["count"] == 5 and exported["verification"]["ok"]  # + the CSV export

    out = tmp_path / "report.pdf"
    done = hmi("audit", "export", "--db", db, "--format", "pdf", "-o", str(out),
               "--result", "done", "--site", "Riverside", data=tmp_path / "data")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-") and out.stat().st_size > 2000
    exports = [r for r in stored(db) if r.action is AuditAction.AUDIT_EXPORT]  # type: ignore[attr-defined]
    assert [r.target_address for r in exports] == [  # type: ignore[attr-defined]
        f"file:{tmp_path / 'adds.csv'}", f"file:{tmp_path / 'all.json'}",
        f"file:{tmp_path / 'report.pdf'}",
    ]  # fmt: skip
    assert exports[-1].new_value == 6  # type: ignore[attr-defined]

    bad = hmi("audit", "export", "--db", db, "-o", str(tmp_path / "x.txt"))
    assert bad.returncode == 2 and "use csv, json or pdf" in bad.stderr


def test_progress_bar_for_long_runs() -> None:
    stream = io.StringIO()
    bar = ProgressBar("verifying", stream)
    bar(10, 50_000)  # a short run draws nothing
    assert stream.getvalue() == "" and not bar.drawn
    for done in range(0, 300_001, 25_000):
        bar(done, 300_000)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "verifying: 0/300,000 (0%)"
    assert lines[-1] == "verifying: 300,000/300,000 (100%)" and len(lines) == 11
