"""``hmi users``, ``hmi audit`` and ``hmi db`` in subprocesses on a SQLite file: users added
and changed (passwords from standard input), verification that fails on a tampered file and
names the record, exports as CSV, JSON and PDF; every change recorded as made from the
command line. Then, through ``main`` on SQLite and PostgreSQL, a site whose chain is keyed:
user commands with the site's key keep it verifiable; without the key, or with a wrong one,
they are refused, say which variable to set, and write nothing."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import dropwhile
from pathlib import Path

import pytest
from sqlalchemy import text

from hmi.cli import main
from hmi.cli_admin import ProgressBar
from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore
from hmi.storage.db import StorageError, make_engine
from tests.storage.conftest import PgAdmin, written

GOOD = "Harbour-Lights-9"


def hmi(
    *args: str, stdin: str = "", data: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    if data is not None:
        environment["HMI_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "hmi.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=environment, check=False,
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
        rows = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), file)))
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


def test_exports_with_the_project_speak_its_words(db: str, tmp_path: Path) -> None:
    """With --project, the PDF is titled with the project's name (not the host's) and CSV,
    JSON and PDF give the mode change as MAN → AUTO beside 0 → 1."""
    store = AuditStore(make_engine(db))
    store.append(AuditRecord.create(AuditAction.WRITE, target_tag="LIC101.Mode", old_value=0,
                                    new_value=1, read_back=1, workstation="ST-01"))  # fmt: skip
    store.close()
    project = str(Path(__file__).resolve().parents[1] / "screens")
    out = tmp_path / "mode.csv"
    done = hmi("audit", "export", "--db", db, "--project", project, "-o", str(out),
               "--tag", "LIC101.Mode")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as file:
        [row] = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), file)))
    assert (row["old_value"], row["old_state"], row["new_value"], row["new_state"]) == (
        "0", "MAN", "1", "AUTO",
    )  # fmt: skip
    out = tmp_path / "mode.pdf"
    done = hmi("audit", "export", "--db", db, "--project", project, "-o", str(out),
               "--tag", "LIC101.Mode", data=tmp_path / "data")  # fmt: skip
    assert done.returncode == 0, done.stderr
    pdfium = pytest.importorskip("pypdfium2")
    page = " ".join(pdfium.PdfDocument(str(out))[0].get_textpage().get_text_bounded().split())
    assert "Site Riverside Water Works" in page and socket.gethostname() not in page
    assert "MAN (0) → AUTO (1)" in page


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


# -- a site whose chain is keyed (HMAC-SHA256) ----------------------------------------------------

KEY_ENV = "HMI_TEST_AUDIT_KEY"
SITE_KEY = "Riverside audit key 2f9c"
CHANGES = [
    ("users", "add", "bob", "--name", "Bob Builder", "--role", "operator"),
    ("users", "change", "root", "--role", "engineer"),
    ("users", "passwd", "root"),
    ("users", "disable", "root"),
    ("users", "enable", "root"),
    ("users", "unlock", "root"),
]


@dataclass(frozen=True, slots=True)
class Ran:
    code: int
    out: str
    err: str


class Cli:
    """``hmi ...`` run in this process through ``hmi.cli.main``, with the site key variable
    set to ``key`` (or unset) and ``stdin`` as standard input (passwords)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str, key: str | None = None, stdin: str = "") -> Ran:
        if key is None:
            self._monkeypatch.delenv(KEY_ENV, raising=False)
        else:
            self._monkeypatch.setenv(KEY_ENV, key)
        self._monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = self._capsys.readouterr()
        return Ran(code, captured.out, captured.err)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The site's database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/site.sqlite"
        return
    admin = PgAdmin(str(request.getfixturevalue("pg_url")))
    name = admin.create()
    try:
        yield admin.url_of(name)
    finally:
        admin.drop(name)


def keyed_project(folder: Path, url: str) -> str:
    folder.mkdir()
    (folder / "project.yaml").write_text(
        "project: {name: Riverside, start_screen: main}\nscreens: [main.yaml]\n"
        f"database: {{url: '{url}', hmac_key_env: {KEY_ENV}}}\n",
        encoding="utf-8",
    )
    (folder / "main.yaml").write_text("screen: {id: main, title: Main}\n", encoding="utf-8")
    return str(folder)


def test_user_commands_keep_a_keyed_chain_verifiable(
    cli: Cli, site_db: str, tmp_path: Path
) -> None:
    project = keyed_project(tmp_path / "site", site_db)
    assert cli("db", "upgrade", "--project", project).code == 0  # needs no key
    done = [
        cli("users", "add", "root", "--name", "Rita Root", "--role", "admin", "--no-must-change",
            "--project", project, key=SITE_KEY, stdin=GOOD + "\n"),
        cli("users", "add", "bob", "--name", "Bob Builder", "--role", "operator",
            "--project", project, key=SITE_KEY, stdin="Tide-Gate-Valve-7\n"),
        cli("users", "passwd", "bob", "--project", project, key=SITE_KEY,
            stdin="Tide-Gate-Valve-8\n"),
        cli("users", "change", "bob", "--role", "supervisor", "--project", project, key=SITE_KEY),
        cli("users", "disable", "bob", "--project", project, key=SITE_KEY),
        cli("users", "enable", "bob", "--project", project, key=SITE_KEY),
        cli("users", "unlock", "bob", "--project", project, key=SITE_KEY),
    ]  # fmt: skip
    assert [r.code for r in done] == [0] * 7, [r.err for r in done]
    listed = cli("users", "list", "--project", project)  # reading needs no key
    assert listed.code == 0 and "supervisor" in listed.out

    verified = cli("audit", "verify", "--project", project, key=SITE_KEY)
    assert verified.code == 0, verified.err
    assert verified.out.startswith("chain verified: 7 records (#1..#7)")
    store = AuditStore(make_engine(site_db), key=SITE_KEY.encode())
    try:
        assert store.head().scheme == "hmac-sha256"
        result = store.verify()
        assert result.ok and result.count == 8  # + the verification's own record
        assert [r.action.value for r in store.iter_records()][:7] == [
            "user_add", "user_add", "password_change", "user_change", "user_disable",
            "user_enable", "user_unlock",
        ]  # fmt: skip
    finally:
        store.close()
    unkeyed = AuditStore(make_engine(site_db))
    try:
        with pytest.raises(StorageError, match="needs the site's audit key"):
            unkeyed.verify()
    finally:
        unkeyed.close()


def test_user_commands_without_the_site_key_are_refused_and_write_nothing(
    cli: Cli, site_db: str, tmp_path: Path
) -> None:
    project = keyed_project(tmp_path / "site", site_db)
    root = cli("users", "add", "root", "--name", "Rita Root", "--role", "admin",
               "--project", project, key=SITE_KEY, stdin=GOOD + "\n")  # fmt: skip
    assert root.code == 0, root.err
    before = written(site_db)
    for command in CHANGES:
        unset = cli(*command, "--project", project, stdin="Tide-Gate-Valve-7\n")
        assert unset.code == 1 and unset.out == ""
        assert f"database.hmac_key_env names {KEY_ENV}" in unset.err
        assert f"{KEY_ENV} is not set; set it to the site's audit key" in unset.err

        no_project = cli(*command, "--db", site_db, stdin="Tide-Gate-Valve-7\n")
        assert no_project.code == 1 and no_project.out == ""
        assert "is keyed (HMAC-SHA256) and no audit key was given; nothing was written" in (
            no_project.err
        )
        assert "give --project FOLDER" in no_project.err

        wrong = cli(*command, "--project", project, key="not the site key",
                    stdin="Tide-Gate-Valve-7\n")  # fmt: skip
        assert wrong.code == 1 and wrong.out == ""
        assert "the audit key given is not the one the audit chain in" in wrong.err
        assert f"nothing was written; check that {KEY_ENV} holds the site's audit key" in (
            wrong.err
        )
    assert written(site_db) == before

    wrong = cli("audit", "verify", "--project", project, key="not the site key")
    assert wrong.code == 2 and "is not the one" in wrong.err  # not "TAMPERED", and no record
    out = tmp_path / "all.csv"
    wrong = cli("audit", "export", "-o", str(out), "--project", project, key="not the site key")
    assert wrong.code == 2 and "is not the one" in wrong.err and not out.exists()
    out = tmp_path / "report.pdf"  # in a process of its own: it starts Qt
    env = {KEY_ENV: "not the site key"}
    wrong_pdf = hmi("audit", "export", "-o", str(out), "--project", project, env=env)
    assert wrong_pdf.returncode == 2 and "is not the one" in wrong_pdf.stderr
    assert not out.exists()
    assert written(site_db) == before
    verified = cli("audit", "verify", "--project", project, key=SITE_KEY)
    assert verified.code == 0, verified.err
    assert verified.out.startswith("chain verified: 1 records (#1..#1)")


def test_a_site_key_for_an_unkeyed_chain_is_refused(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/plain.sqlite"
    plain = cli("users", "add", "root", "--name", "Rita Root", "--role", "admin", "--db", url,
                stdin=GOOD + "\n")  # fmt: skip
    assert plain.code == 0, plain.err
    before = written(url)
    project = keyed_project(tmp_path / "site", url)
    keyed = cli("users", "disable", "root", "--project", project, key=SITE_KEY)
    assert keyed.code == 1
    assert "was started without a site key (SHA-256) and an audit key was given" in keyed.err
    assert f"{project}: this chain has no site key; remove database.hmac_key_env" in keyed.err
    assert written(url) == before
    assert cli("users", "disable", "root", "--db", url).code == 0  # unkeyed: as before
    assert cli("audit", "verify", "--db", url).out.startswith("chain verified: 2 records")


def test_a_broken_project_is_reported_as_such(cli: Cli, tmp_path: Path) -> None:
    ran = cli("users", "add", "bob", "--name", "Bob Builder", "--role", "operator",
              "--project", str(tmp_path / "nowhere"), stdin=GOOD + "\n")  # fmt: skip
    assert ran.code == 1 and "no project.yaml here" in ran.err
    assert "password not accepted" not in ran.err


def test_spool_show_and_release_from_the_command_line(db: str, tmp_path: Path) -> None:
    from tests.storage.test_spool_tamper import delete_a_record, spool_some

    data = tmp_path / "data"
    data.mkdir()
    spool = spool_some(data, count=4)
    delete_a_record(spool)
    quiet = hmi("audit", "spool", "show", data=data)
    assert quiet.returncode == 0 and "no hold" in quiet.stdout  # not checked until a forward

    from hmi.storage.spool import SpoolStore
    from hmi.storage.spool_check import check_spool, quarantine

    store = SpoolStore(spool)
    problem = check_spool(store)
    assert problem is not None and "missing" in problem
    hold = quarantine(store, problem)
    shown = hmi("audit", "spool", "show", data=data)
    assert shown.returncode == 1 and hold.evidence in shown.stdout and "missing" in shown.stdout
    refused = hmi("audit", "spool", "release", "--reason", " ", "--db", db, data=data)
    assert refused.returncode == 2 and "reason" in refused.stderr
    done = hmi("audit", "spool", "release", "--reason", "IT looked", "--db", db, data=data)
    assert done.returncode == 0 and "recorded" in done.stdout, done.stderr
    assert hmi("audit", "spool", "show", data=data).returncode == 0
    (last,) = list(AuditStore(make_engine(db)).iter_records())[-1:]
    assert last.action is AuditAction.AUDIT_SPOOL_RELEASED and last.reason == "IT looked"


def test_a_row_forged_past_the_head_never_stops_verify_or_export(db: str, tmp_path: Path) -> None:
    """Someone with the file inserts a well-hashed record after the head: verify says TAMPERED
    and names it (exit 1, never the exit 2 of a crash), its own record goes after it, and so
    do every later verify, export and user change."""
    from tests.storage.test_pg_roles import forge_past_the_head

    hmi("users", "add", "rita", "--name", "Rita Root", "--role", "admin", "--db", db,
        stdin=GOOD + "\n")  # fmt: skip
    store = AuditStore(make_engine(db))
    forged = forge_past_the_head(store, db)
    store.close()
    for _ in range(2):
        tampered = hmi("audit", "verify", "--db", db, "--workers", "1")
        assert tampered.returncode == 1, tampered.stderr
        assert "TAMPERED" in tampered.stderr and "record 2" in tampered.stderr
    assert f"record 2 ({forged.uuid}) is not part of the chain" in tampered.stderr
    exported = hmi("audit", "export", "-o", str(tmp_path / "a.json"), "--db", db)
    assert exported.returncode == 1 and "TAMPERED" in exported.stderr  # written, and said
    written = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert written["verification"]["first_problem"]["uuid"] == forged.uuid
    assert hmi("users", "disable", "rita", "--db", db).returncode == 0
    actions = [r.action.value for r in stored(db)]  # type: ignore[attr-defined]
    assert actions == ["user_add", "write", "audit_verify", "audit_verify", "audit_export",
                       "user_disable"]  # fmt: skip


def test_a_checkpoint_an_auditor_keeps_catches_a_cut_tail(db: str, tmp_path: Path) -> None:
    from tests.storage.test_witness import cut_the_tail, fill

    data = tmp_path / "data"
    fill(db, 10)
    checkpoint = tmp_path / "cp.json"
    made = hmi("audit", "checkpoint", "-o", str(checkpoint), "--db", db, data=data)
    assert made.returncode == 0, made.stderr
    assert "checkpoint of record 10 " in made.stdout and "chain verified" in made.stdout
    assert stored(db)[-1].action is AuditAction.AUDIT_CHECKPOINT  # type: ignore[attr-defined]
    shown = hmi("certs", "show-own", data=data)
    written = json.loads(checkpoint.read_text(encoding="utf-8"))
    assert written["signature"]["algorithm"] == "rsa-pss-sha256"
    assert written["signature"]["thumbprint"] in shown.stdout.replace(":", "")
    good = hmi("audit", "verify", "--db", db, "--checkpoint", str(checkpoint), data=data)
    assert good.returncode == 0 and "extends every checkpoint given (1)" in good.stdout
    report = tmp_path / "held.pdf"
    made = hmi("audit", "export", "--db", db, "-o", str(report), "--checkpoint",
               str(checkpoint), data=data)  # fmt: skip
    assert made.returncode == 0, made.stderr
    pdfium = pytest.importorskip("pypdfium2")
    first = " ".join(pdfium.PdfDocument(str(report))[0].get_textpage().get_text_bounded().split())
    assert "Checkpoint held: the chain still extends cp.json, record 10 (" in first

    cut_the_tail(db, keep=8)
    alone = hmi("audit", "verify", "--db", db, data=data)
    assert alone.returncode == 0  # what the chain alone cannot show
    caught = hmi("audit", "verify", "--db", db, "--checkpoint", str(checkpoint), data=data)
    assert caught.returncode == 1
    assert f"CHECKPOINT FAILED: checkpoint {checkpoint} (record 10 " in caught.stderr
    assert "cut off" in caught.stderr
    report = tmp_path / "cut.pdf"  # the auditor's report says what the checkpoint showed
    made = hmi("audit", "export", "--db", db, "-o", str(report), "--checkpoint",
               str(checkpoint), data=data)  # fmt: skip
    assert made.returncode == 0, made.stderr
    pdfium = pytest.importorskip("pypdfium2")
    first = " ".join(pdfium.PdfDocument(str(report))[0].get_textpage().get_text_bounded().split())
    assert "Checkpoint NOT HELD: checkpoint" in first and "cut off" in first

    checkpoint.write_text(checkpoint.read_text().replace('"count": 10', '"count": 11'))
    altered = hmi("audit", "verify", "--db", db, "--checkpoint", str(checkpoint), data=data)
    assert altered.returncode == 1 and "the file was altered" in altered.stderr
    actions = [r.action for r in stored(db)]  # type: ignore[attr-defined]
    verify, export = AuditAction.AUDIT_VERIFY, AuditAction.AUDIT_EXPORT
    assert actions[8:] == [verify, verify, export, verify]  # the cut took the checkpoint's own
    verified = [r for r in stored(db) if r.action is verify]  # type: ignore[attr-defined]
    assert [r.result.value for r in verified][-2:] == ["failed", "failed"]
