"""AuditStore on a real SQLite file and a real PostgreSQL database: durable chained appends,
append-only triggers, tamper detection, queries."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hmi.model.audit.record import ADDED_FIELDS, GENESIS_HASH, AuditAction, AuditRecord, AuditResult
from hmi.model.audit.verify import ProblemKind
from hmi.storage import schema
from hmi.storage.audit import AuditKeyError, AuditQuery, AuditStore
from hmi.storage.db import StorageError, _alembic_config, make_engine

OpenStore = Callable[..., AuditStore]


def full_record(action: AuditAction, n: int) -> AuditRecord:
    """A record with every field set, values of several types."""
    return AuditRecord.create(
        action, result=list(AuditResult)[n % 4], user_id=f"user{n}", user_name="Jane Doe",
        role="supervisor", workstation="ST-01", session_id=f"s{n}", target_tag="Tank1.SP",
        target_address="opcua://plc/ns=2;s=Tank1.SP", old_value=[1, 1.0, True, "1", None][n % 5],
        new_value=n + 0.5, read_back=n + 0.5, reason=f"batch {n} — ‘recipe’ change\nline 2",
        meaning="performed by", verifier_id="sup1", verifier_name="Sam Super",
        error="" if n % 2 else "read back 3.0", origin="overview/sp_entry", app_version="1.2.3",
        old_source=["device", "", "broker"][n % 3], details='{"duration_s":900.0}' if n % 2 else "",
    )  # fmt: skip


def test_every_action_round_trips_with_every_field(open_store: OpenStore) -> None:
    store = open_store()
    sent = [full_record(action, n) for n, action in enumerate(AuditAction)]
    placed = [store.append(r) for r in sent[:3]] + store.append_many(sent[3:])
    assert [r.sequence for r in placed] == list(range(1, len(sent) + 1))
    for original, stored in zip(sent, placed, strict=True):
        back = store.get(original.uuid)
        assert back == stored
        assert back is not None
        for name in ("old_value", "new_value", "read_back"):
            assert type(getattr(back, name)) is type(getattr(original, name))
        unchained = AuditRecord(**_fields(back, chain=False))
        assert unchained == original
    assert store.verify().ok
    head = store.head()
    assert (head.sequence, head.hash, head.scheme) == (len(sent), placed[-1].hash, "sha256")


def _fields(record: AuditRecord, *, chain: bool) -> dict[str, object]:
    names = [f for f in AuditRecord.__dataclass_fields__ if chain or f not in
             ("sequence", "prev_hash", "hash")]  # fmt: skip
    return {name: getattr(record, name) for name in names}


def test_timestamps_keep_microseconds(open_store: OpenStore) -> None:
    store = open_store()
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    stored = store.append(AuditRecord.create(AuditAction.LOGIN, timestamp=moment))
    back = store.get(stored.uuid)
    assert back is not None and back.timestamp == moment


def refused(store: AuditStore, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, store.engine.begin() as conn:
        conn.execute(text(sql))
    return str(caught.value)


def test_triggers_refuse_update_and_delete(open_store: OpenStore) -> None:
    store = open_store()
    store.append_many([full_record(AuditAction.WRITE, n) for n in range(3)])
    assert "append-only" in refused(store, "UPDATE audit SET reason = 'nothing happened'")
    assert "append-only" in refused(store, "DELETE FROM audit WHERE sequence = 2")
    if store.engine.dialect.name == "postgresql":
        assert "append-only" in refused(store, "TRUNCATE audit")
        assert "append-only" in refused(store, "DELETE FROM audit_head")
        assert "only move forward" in refused(
            store, "UPDATE audit_head SET last_sequence = 1 WHERE chain = 'audit'"
        )
    assert store.count() == 3 and store.verify().ok


def tamper(store: AuditStore, *statements: str) -> None:
    """As an attacker would: switch the guards off (SQLite: drop the triggers, which anyone
    with the file can; PostgreSQL: a superuser disables them), then edit."""
    postgres = store.engine.dialect.name == "postgresql"
    with store.engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE audit DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_no_delete"))
        for statement in statements:
            conn.execute(text(statement))
        if postgres:
            conn.execute(text("ALTER TABLE audit ENABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE audit_head ENABLE TRIGGER USER"))


@pytest.fixture
def chain_of_20(open_store: OpenStore) -> AuditStore:
    store = open_store()
    store.append_many([full_record(AuditAction.WRITE, n) for n in range(20)])
    return store


def uuid_at(store: AuditStore, sequence: int) -> str:
    records = store.page(AuditQuery(first_sequence=sequence, last_sequence=sequence)).records
    return records[0].uuid


def test_an_updated_row_is_named(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    victim = uuid_at(store, 7)
    tamper(store, 'UPDATE audit SET new_value = \'["float","99.5"]\' WHERE sequence = 7')
    result = store.verify()
    assert not result.ok and result.count == 20
    problem = result.first_problem
    assert problem is not None and problem.kind is ProblemKind.CONTENT_CHANGED
    assert (problem.sequence, problem.uuid) == (7, victim)
    assert f"record 7 ({victim}): its hash does not match its content" in str(result)


def test_a_deleted_row_is_named(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    follower = uuid_at(store, 11)
    tamper(store, "DELETE FROM audit WHERE sequence = 10")
    problem = store.verify().first_problem
    assert problem is not None and problem.kind is ProblemKind.GAP
    assert (problem.sequence, problem.uuid) == (11, follower)
    assert "record(s) 10 before it are missing" in problem.message


def test_rows_cut_off_the_end_are_noticed(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    tamper(store, "DELETE FROM audit WHERE sequence > 17")
    problem = store.verify().first_problem
    assert problem is not None and problem.kind is ProblemKind.HEAD_MISMATCH
    assert "ends at record 17 but the store's chain head is record 20" in problem.message


def test_a_deleted_and_renumbered_row_is_named(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    moved = uuid_at(store, 6)
    tamper(
        store,
        "DELETE FROM audit WHERE sequence = 5",
        *(f"UPDATE audit SET sequence = {n - 1} WHERE sequence = {n}" for n in range(6, 21)),
        "UPDATE audit_head SET last_sequence = 19",
    )
    problem = store.verify().first_problem
    assert problem is not None and (problem.sequence, problem.uuid) == (5, moved)
    assert problem.kind is ProblemKind.CONTENT_CHANGED


def test_an_inserted_row_is_named(chain_of_20: AuditStore) -> None:
    """The forger makes a well-formed record with a correct hash linked to record 8, and
    shifts the later rows up to make room: verify names the first shifted record."""
    store = chain_of_20
    before = store.page(AuditQuery(first_sequence=8, last_sequence=8)).records[0]
    shifted = uuid_at(store, 9)
    forged = AuditRecord.create(AuditAction.WRITE, user_id="ghost").chain(9, before.hash)
    values = ", ".join(_sql(v) for v in forged.stored())
    tamper(
        store,
        *(f"UPDATE audit SET sequence = {n + 1} WHERE sequence = {n}" for n in range(20, 8, -1)),
        f"INSERT INTO audit VALUES ({values})",
    )
    problem = store.verify().first_problem
    assert problem is not None and (problem.sequence, problem.uuid) == (10, shifted)
    assert problem.kind is ProblemKind.CONTENT_CHANGED


def _sql(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def test_reordered_rows_are_named(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    twelfth = uuid_at(store, 12)
    tamper(
        store,
        "UPDATE audit SET sequence = -1 WHERE sequence = 12",
        "UPDATE audit SET sequence = 12 WHERE sequence = 13",
        "UPDATE audit SET sequence = 13 WHERE sequence = -1",
    )
    problem = store.verify().first_problem
    assert problem is not None and problem.sequence == 12 and problem.uuid != twelfth
    assert problem.kind is ProblemKind.CONTENT_CHANGED


def test_a_rehashed_forgery_breaks_the_next_link(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    original = store.page(AuditQuery(first_sequence=4, last_sequence=4)).records[0]
    forged = AuditRecord(**{**_fields(original, chain=True), "reason": "forged"}).chain(
        4, original.prev_hash
    )
    tamper(store, f"UPDATE audit SET reason = 'forged', hash = '{forged.hash}' WHERE sequence = 4")
    problem = store.verify().first_problem
    assert problem is not None and problem.kind is ProblemKind.LINK_BROKEN
    assert problem.sequence == 5 and "inserted, deleted or reordered before 5" in problem.message


def test_a_keyed_chain_needs_its_key(open_store: OpenStore) -> None:
    keyed = open_store(key=b"site-key")
    keyed.append(full_record(AuditAction.LOGIN, 1))
    assert keyed.verify().ok
    plain = open_store()
    with pytest.raises(AuditKeyError, match=r"is keyed \(HMAC-SHA256\) and no audit key"):
        plain.append(full_record(AuditAction.LOGIN, 2))
    with pytest.raises(StorageError, match="needs the site's audit key"):
        plain.verify()
    assert not open_store(key=b"wrong key").verify().ok


def test_stations_appending_at_once_never_fork_the_chain(open_store: OpenStore) -> None:
    stations = [open_store() for _ in range(3)]
    errors: list[BaseException] = []

    def station(store: AuditStore, n: int) -> None:
        try:
            for i in range(40):
                store.append(
                    AuditRecord.create(AuditAction.WRITE, workstation=f"ST{n}", new_value=i)
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=station, args=(s, n)) for n, s in enumerate(stations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = stations[0].verify()
    assert result.ok and result.count == 120
    for n in range(3):  # each station's records are in its own order
        mine = [r.new_value for r in stations[0].iter_records(AuditQuery(workstation=f"ST{n}"))]
        assert mine == list(range(40))


def test_queries_filter_page_and_count(open_store: OpenStore) -> None:
    store = open_store()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(30):
        store.append(
            AuditRecord.create(
                AuditAction.WRITE if n % 3 else AuditAction.ALARM_ACK,
                result=AuditResult.DENIED if n % 5 == 0 else AuditResult.DONE,
                timestamp=base + timedelta(minutes=n), user_id=f"op{n % 2}",
                target_tag=f"Tank{n % 4}.SP", reason="Cleaning 100% done" if n == 17 else "",
            )
        )  # fmt: skip
    assert store.count() == 30
    assert store.count(AuditQuery(user_id="op1")) == 15
    assert store.count(AuditQuery(actions=(AuditAction.ALARM_ACK,))) == 10
    assert store.count(AuditQuery(results=(AuditResult.DENIED,))) == 6
    assert store.count(AuditQuery(tag="Tank1.*")) == 8
    assert store.count(AuditQuery(tag="Tank1")) == 0
    window = AuditQuery(since=base + timedelta(minutes=10), until=base + timedelta(minutes=20))
    assert store.count(window) == 10
    found = store.page(AuditQuery(text="100% DONE")).records
    assert [r.sequence for r in found] == [18]
    assert store.count(AuditQuery(text="0%_")) == 0  # % and _ are literal
    pages, cursor = [], None
    while True:
        page = store.page(AuditQuery(user_id="op0"), cursor=cursor, limit=4)
        pages.append([r.sequence for r in page.records])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [s for p in pages for s in p] == list(range(29, 0, -2))
    assert len(pages) == 4
    oldest = [r.sequence for r in store.iter_records(AuditQuery(user_id="op1"), batch=4)]
    assert oldest == list(range(2, 31, 2))


def test_verify_reports_progress_and_ranges(open_store: OpenStore) -> None:
    store = open_store()
    store.append_many([full_record(AuditAction.WRITE, n) for n in range(25)])
    seen: list[tuple[int, int]] = []
    assert store.verify(progress=lambda done, total: seen.append((done, total))).ok
    assert seen[-1] == (25, 25)
    part = store.verify(first=10, last=20)
    assert part.ok and (part.first_sequence, part.last_sequence, part.count) == (10, 20, 11)


def test_fields_the_fast_verify_cannot_take_are_checked_the_exact_way(
    open_store: OpenStore,
) -> None:
    store = open_store()
    odd = ["C:\\plant\\recipes", "a\x1fb", 'say "hi"\\n', "tab\there"]
    store.append_many([AuditRecord.create(AuditAction.CONFIG_CHANGE, reason=t) for t in odd])
    assert store.verify().ok
    tamper(store, "UPDATE audit SET reason = 'C:\\plant' WHERE sequence = 1")
    assert store.verify().first_problem.sequence == 1  # type: ignore[union-attr]


def test_rows_stored_past_the_head_are_noticed(chain_of_20: AuditStore) -> None:
    store = chain_of_20
    last = store.page(limit=1).records[0]
    forged = AuditRecord.create(AuditAction.LOGIN).chain(21, last.hash)
    tamper(store, f"INSERT INTO audit VALUES ({', '.join(_sql(v) for v in forged.stored())})")
    problem = store.verify().first_problem
    assert problem is not None and problem.kind is ProblemKind.HEAD_MISMATCH
    assert "record 21 is stored after the chain head" in problem.message


@pytest.mark.parametrize("where", [50, 51, 100])
def test_a_parallel_verify_finds_what_a_serial_one_does(open_store: OpenStore, where: int) -> None:
    store = open_store()
    store.append_many([full_record(AuditAction.WRITE, n) for n in range(100)])
    assert store.verify(workers=2).ok
    original = store.page(AuditQuery(first_sequence=where, last_sequence=where)).records[0]
    rehashed = AuditRecord(**{**_fields(original, chain=True), "reason": "x"}).chain(
        where, original.prev_hash
    )
    tamper(
        store, f"UPDATE audit SET reason = 'x', hash = '{rehashed.hash}' WHERE sequence = {where}"
    )
    serial, parallel = store.verify(), store.verify(workers=2)
    assert serial.first_problem == parallel.first_problem
    assert (serial.problems, serial.count) == (parallel.problems, parallel.count)
    if where < 100:  # the forgery shows at the next record's link
        assert serial.first_problem.sequence == where + 1  # type: ignore[union-attr]
    else:  # the last one: only the head still holds the true hash
        assert serial.first_problem.kind is ProblemKind.HEAD_MISMATCH  # type: ignore[union-attr]


def test_records_written_before_the_added_fields_still_verify_after_the_upgrade(
    db_url: str,
) -> None:
    """A database of the first format (migration 0001 only) with records in it: upgraded, its
    records verify as they are, and new records with ``old_source``/``details`` chain on."""
    engine = make_engine(db_url)
    with engine.connect() as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "0001")
    old = [full_record(action, n) for n, action in enumerate(AuditAction)][:6]
    old = [dataclasses.replace(r, old_source="", details="") for r in old]
    chained, prev = [], GENESIS_HASH
    for n, record in enumerate(old, 1):
        chained.append(record.chain(n, prev))
        prev = chained[-1].hash
    names = [c for c in schema.AUDIT_COLUMNS if c not in ADDED_FIELDS]
    with engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO audit ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
            ),
            [dict(zip(names, r.stored()[:25], strict=True)) for r in chained],
        )
        connection.execute(
            text("UPDATE audit_head SET last_sequence = :s, last_hash = :h, scheme = 'sha256' "
                 "WHERE chain = 'audit'"), {"s": len(chained), "h": prev},
        )  # fmt: skip
    engine.dispose()
    store = AuditStore.open(db_url)  # migrates to the newest revision
    try:
        assert store.verify().ok, store.verify()
        assert [store.get(r.uuid) for r in chained] == chained
        new = store.append(
            AuditRecord.create(AuditAction.WRITE, old_source="device", details='{"x":1}')
        )
        result = store.verify()
        assert result.ok and result.count == len(chained) + 1, result
        assert store.get(new.uuid) == new
    finally:
        store.close()
