"""Witnesses of the head outside the database, against the attack no hash chain can see on its
own: the database's owner cuts records off the end (or empties the table) and sets the head
back. Checkpoints an auditor keeps and each station's own witness name it; SQLite with the
file's owner's powers, PostgreSQL as the table owner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from hmi.model.audit.checkpoint import SignedCheckpoint
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.trail import AuditTrail, TrailStatus
from hmi.storage.witness import HeadWitness, chain_problem, make_checkpoint


def fill(url: str, count: int) -> None:
    store = AuditStore.open(url)
    store.append_many([AuditRecord.create(AuditAction.WRITE, new_value=n) for n in range(count)])
    store.close()


def cut_the_tail(url: str, keep: int) -> None:
    """As the owner: guards off, the last records deleted, the head set onto the new last."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for (name,) in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(text("ALTER TABLE audit DISABLE TRIGGER ALL"))
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER ALL"))
        conn.execute(text("DELETE FROM audit WHERE sequence > :keep"), {"keep": keep})
        last = conn.execute(
            text("SELECT hash FROM audit WHERE sequence = :keep"), {"keep": keep}
        ).scalar()
        conn.execute(
            text("UPDATE audit_head SET last_sequence = :s, last_hash = :h WHERE chain = 'audit'"),
            {"s": keep, "h": last or "0" * 64},
        )
        if engine.dialect.name != "sqlite":
            conn.execute(text("ALTER TABLE audit ENABLE TRIGGER ALL"))
            conn.execute(text("ALTER TABLE audit_head ENABLE TRIGGER ALL"))
    engine.dispose()


def test_a_checkpoint_names_a_cut_tail_that_verify_alone_cannot_see(db_url: str) -> None:
    fill(db_url, 10)
    store = AuditStore.open(db_url)
    checkpoint = make_checkpoint(store, station="ST-01", made_by="os:auditor")
    assert (checkpoint.sequence, checkpoint.count, checkpoint.verified) == (10, 10, True)
    assert chain_problem(store, checkpoint) is None
    store.append_many([AuditRecord.create(AuditAction.LOGIN)])  # a chain that grows extends it
    assert chain_problem(store, checkpoint) is None
    store.close()

    cut_the_tail(db_url, keep=7)
    store = AuditStore.open(db_url)
    assert store.verify().ok  # the limit of any chain whose head lives beside it
    problem = chain_problem(store, checkpoint, name="checkpoint cp.json")
    assert problem is not None and problem.startswith("checkpoint cp.json (record 10 ")
    assert "now ends at record 7" in problem and "cut off the end" in problem
    # the stations append on: the chain grows past 10 again, with other records there
    store.append_many([AuditRecord.create(AuditAction.LOGIN) for _ in range(5)])
    problem = chain_problem(store, checkpoint)
    assert problem is not None and "record 10 has hash" in problem and "cut off" in problem
    store.close()


def test_an_emptied_and_reset_chain_is_named(db_url: str) -> None:
    fill(db_url, 4)
    store = AuditStore.open(db_url)
    checkpoint = make_checkpoint(store)
    store.close()
    cut_the_tail(db_url, keep=0)
    store = AuditStore.open(db_url)
    store.append_many([AuditRecord.create(AuditAction.APP_START)])  # a new chain from 1
    problem = chain_problem(store, checkpoint)
    assert problem is not None and "record 1 of the chain is not the checkpoint's" in problem
    store.close()


def test_a_checkpoint_file_is_signed_and_an_edit_shows(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 3)
    store = AuditStore.open(url)
    checkpoint = make_checkpoint(store)
    store.close()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _self_signed(key)
    signed = SignedCheckpoint.sign(checkpoint, private_key=key, certificate_pem=cert, key=b"k")
    again = SignedCheckpoint.from_json(signed.to_json())
    assert again.checkpoint == checkpoint and again.check(key=b"k") == []
    assert len(again.thumbprint()) == 40
    edited = signed.to_json().replace('"sequence": 3', '"sequence": 2')
    problems = SignedCheckpoint.from_json(edited).check(key=b"k", source="cp.json")
    assert "cp.json: its signature does not match its content: the file was altered" in problems
    assert any("MAC does not match" in p for p in problems)
    unsigned = SignedCheckpoint.sign(checkpoint)
    assert "not signed" in SignedCheckpoint.from_json(unsigned.to_json()).check()[0]


def _self_signed(key: object) -> str:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test station")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)  # type: ignore[attr-defined]
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )  # fmt: skip
    return cert.public_bytes(Encoding.PEM).decode("ascii")


async def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def test_a_station_notices_the_chain_went_back_at_start_and_on_its_next_append(
    db_url: str, tmp_path: Path
) -> None:
    seen: list[TrailStatus] = []

    def station() -> AuditTrail:
        witness = HeadWitness(db_url, station="ST-01", folder=tmp_path, check_s=0.2)
        return AuditTrail(
            AuditStore.open(db_url), on_status=seen.append, witness=witness,
            identity={"workstation": "ST-01", "app_version": "t"},
        )  # fmt: skip

    async def first_run() -> None:
        trail = station()
        for n in range(12):
            await trail.append(AuditRecord.create(AuditAction.WRITE, new_value=n))
        await trail.aclose()
        trail.store.close()

    asyncio.run(first_run())
    (witness_file,) = tmp_path.glob("audit-witness-*.json")
    assert oct(witness_file.stat().st_mode)[-3:] == "600"
    cut_the_tail(db_url, keep=9)

    async def second_run() -> None:
        trail = station()
        trail.start()
        await wait_for(lambda: seen and seen[-1].trust)
        assert "went back" in seen[-1].trust or "now ends at record 9" in seen[-1].trust
        placed = await trail.append(AuditRecord.create(AuditAction.LOGIN))  # it goes on
        assert placed.sequence > 9
        await trail.aclose()
        trail.store.close()

    asyncio.run(second_run())
    store = AuditStore.open(db_url)
    behind = [r for r in store.iter_records() if r.action is AuditAction.AUDIT_CHAIN_BEHIND]
    assert len(behind) == 1 and behind[0].result is AuditResult.FAILED
    assert "record 12" in behind[0].error and behind[0].workstation == "ST-01"
    store.close()


def test_a_running_station_sees_the_cut_at_its_next_append(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    seen: list[TrailStatus] = []

    async def main() -> None:
        witness = HeadWitness(url, folder=tmp_path, check_s=3600)  # no periodic check here
        trail = AuditTrail(AuditStore.open(url), on_status=seen.append, witness=witness)
        for n in range(6):
            await trail.append(AuditRecord.create(AuditAction.WRITE, new_value=n))
        await trail.call(lambda: None)
        await asyncio.to_thread(cut_the_tail, url, 4)
        await trail.append(AuditRecord.create(AuditAction.WRITE, new_value=99))
        await wait_for(lambda: seen and seen[-1].trust)
        assert "went back to record 4" in seen[-1].trust
        await trail.aclose()

    asyncio.run(main())


@pytest.mark.postgres
def test_each_station_is_a_witness_for_the_others(pg_database: str, tmp_path: Path) -> None:
    """Station B only reads; station A writes; the owner cuts A's records: B names it."""
    statuses: list[TrailStatus] = []

    async def main() -> None:
        a = AuditTrail(AuditStore.open(pg_database))
        b = AuditTrail(
            AuditStore.open(pg_database), on_status=statuses.append,
            witness=HeadWitness(pg_database, folder=tmp_path, check_s=0.1),
        )  # fmt: skip
        b.start()
        for n in range(8):
            await a.append(AuditRecord.create(AuditAction.WRITE, new_value=n))
        assert b.witness is not None
        await wait_for(lambda: b.witness is not None and b.witness.seen is not None
                       and b.witness.seen.sequence == 8)  # fmt: skip
        await asyncio.to_thread(cut_the_tail, pg_database, 5)
        await wait_for(lambda: statuses and statuses[-1].trust)
        assert "now ends at record 5" in statuses[-1].trust
        await a.aclose()
        await b.aclose()

    asyncio.run(main())


def test_an_unreadable_witness_is_kept_aside_not_trusted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    witness = HeadWitness(url, folder=tmp_path)
    witness.path.write_text("{not json", encoding="utf-8")
    again = HeadWitness(url, folder=tmp_path)
    assert again.seen is None
    assert witness.path.with_name(witness.path.name + ".unreadable").exists()


def test_a_row_made_unreadable_is_named_and_exports_go_on(db_url: str, tmp_path: Path) -> None:
    """As the owner: a record's action set to a word the station never writes and its value
    to text that is no tagged value (SQLite: its time too, to text). verify names it, and
    reading and exporting carry on, showing the row as unreadable."""
    from hmi.storage.export import export_to_path

    fill(db_url, 5)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for (name,) in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            conn.execute(text("UPDATE audit SET timestamp_us = 'noon' WHERE sequence = 3"))
        else:
            conn.execute(text("ALTER TABLE audit DISABLE TRIGGER ALL"))
        conn.execute(
            text("UPDATE audit SET action = 'evil', new_value = 'garbage{' WHERE sequence = 3")
        )
        if engine.dialect.name != "sqlite":
            conn.execute(text("ALTER TABLE audit ENABLE TRIGGER ALL"))
    engine.dispose()
    store = AuditStore.open(db_url)
    result = store.verify()
    assert result.problems == 1 and result.first_problem is not None
    message = result.first_problem.message
    assert result.first_problem.sequence == 3
    assert "not a record" in message or "hash does not match" in message  # SQLite / PostgreSQL
    records = list(store.iter_records())
    assert [r.action for r in records][2] is AuditAction.UNREADABLE
    assert "'evil'" in records[2].error and records[2].new_value == "garbage{"
    for suffix in ("csv", "json"):
        summary = export_to_path(store, tmp_path / f"a.{suffix}")
        assert summary.count == 5 and summary.verification is not None
        assert not summary.verification.ok
    store.close()
