"""CSV and JSON export: streamed, filtered, and (JSON) re-verifiable from the file alone."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from itertools import dropwhile
from pathlib import Path

import pytest

from hmi.model.audit.record import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    AuditResult,
    canonical,
    chain_hash,
)
from hmi.storage import admin
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.export import CSV_COLUMNS, csv_cell, export_to_path

OpenStore = Callable[..., AuditStore]


@pytest.fixture
def store(open_store: OpenStore) -> AuditStore:
    store = open_store()
    store.append_many(
        [
            AuditRecord.create(
                AuditAction.WRITE if n % 2 else AuditAction.LOGIN, user_id=f"op{n % 3}",
                target_tag="Tank1.SP", old_value=n, new_value=n + 0.5, read_back=True,
                reason='comma, "quote"\nnewline', result=AuditResult.DONE,
            )
            for n in range(2500)
        ]
    )  # fmt: skip
    return store


def test_csv_export_of_a_filtered_range(store: AuditStore, tmp_path: Path) -> None:
    path = tmp_path / "audit.csv"
    seen: list[tuple[int, int]] = []
    summary = export_to_path(
        store, path, AuditQuery(user_id="op1"), progress=lambda d, t: seen.append((d, t))
    )
    assert summary.count == 833 and summary.verification is not None and summary.verification.ok
    assert seen[-1] == (833, 833)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), f)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == 833 and {r["user_id"] for r in rows} == {"op1"}
    assert rows[0]["reason"] == 'comma, "quote"\nnewline'
    assert (rows[0]["sequence"], rows[0]["old_value"], rows[0]["read_back"]) == ("2", "1", "true")


def test_json_export_carries_verification_and_can_be_rechecked(
    store: AuditStore, tmp_path: Path
) -> None:
    path = tmp_path / "audit.json"
    summary = export_to_path(store, path, exported_by="auditor")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "hmi-audit-export/1" and doc["count"] == summary.count == 2500
    assert doc["verification"]["ok"] and doc["verification"]["count"] == 2500
    assert doc["head"]["sequence"] == 2500 and doc["hash_scheme"] == "sha256"
    assert doc["records"][3]["new_value"] == ["float", "3.5"]
    prev = GENESIS_HASH
    for r in doc["records"]:  # an auditor's own check, from the file alone
        content = canonical(
            r["action"], r["app_version"], r["error"], r["meaning"],
            json.dumps(r["new_value"], separators=(",", ":"), ensure_ascii=False),
            json.dumps(r["old_value"], separators=(",", ":"), ensure_ascii=False),
            r["origin"], r["prev_hash"],
            json.dumps(r["read_back"], separators=(",", ":"), ensure_ascii=False),
            r["reason"], r["result"], r["role"], r["sequence"], r["session_id"], r["spooled"],
            r["target_address"], r["target_tag"], r["timestamp_us"], r["user_id"],
            r["user_name"], r["uuid"], r["verifier_id"], r["verifier_name"], r["workstation"],
        )  # fmt: skip
        assert r["prev_hash"] == prev and chain_hash(content) == r["hash"]
        prev = r["hash"]


def test_admin_export_is_itself_recorded(db_url: str, tmp_path: Path) -> None:
    store = AuditStore.open(db_url)
    store.append(AuditRecord.create(AuditAction.LOGIN, user_id="jdoe"))
    summary = admin.export_audit(tmp_path / "out.json", url=db_url)
    assert summary.count == 1
    last = store.page(limit=1).records[0]
    assert last.action is AuditAction.AUDIT_EXPORT and last.new_value == 1
    assert last.target_address == f"file:{tmp_path / 'out.json'}"
    store.close()
    with pytest.raises(ValueError, match="use csv or json"):
        admin.export_audit(tmp_path / "out.pdf", url=db_url)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(1,1)", "'@SUM(1,1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5.5", "-5.5"),  # a plain number stays a number
        ("+1e-3", "+1e-3"),
        ("plain", "plain"),
        ("a=b", "a=b"),  # only the start of a cell makes a formula
    ],
)
def test_csv_cells_never_start_a_formula(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


def test_every_text_column_of_the_csv_is_escaped(open_store: OpenStore, tmp_path: Path) -> None:
    store = open_store()
    evil = '=HYPERLINK("http://x","y")'
    store.append_many(
        [
            AuditRecord.create(
                AuditAction.WRITE, user_id="op", user_name=evil, target_tag=evil,
                old_value=evil, new_value=-2.5, reason=evil, origin=evil, error=evil,
            )
        ]
    )  # fmt: skip
    export_to_path(store, tmp_path / "a.csv")
    with (tmp_path / "a.csv").open(newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), f)))
    for name in ("user_name", "target_tag", "old_value", "reason", "origin", "error"):
        assert row[name] == "'" + evil, name
    assert row["new_value"] == "-2.5"


def test_exports_say_the_state_text_next_to_the_raw_value(
    open_store: OpenStore, tmp_path: Path
) -> None:
    """A mode change reads MAN → AUTO (the tag's states) beside the raw 0 → 1; the JSON's
    hashed fields stay as they were, so the file still re-verifies."""
    store = open_store()
    store.append_many(
        [
            AuditRecord.create(AuditAction.WRITE, target_tag="LIC101.Mode", old_value=0,
                               new_value=1, read_back=1),
            AuditRecord.create(AuditAction.WRITE, target_tag="XV101.Auto", old_value=True,
                               new_value=False, read_back=False),
            AuditRecord.create(AuditAction.WRITE, target_tag="LIC101.SP", old_value=60.0,
                               new_value=65.0, read_back=65.0),
        ]
    )  # fmt: skip
    states = {"LIC101.Mode": {0: "MAN", 1: "AUTO"}, "XV101.Auto": {0: "MANUAL", 1: "AUTO"}}
    path = tmp_path / "audit.csv"
    export_to_path(store, path, states=states)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), f)))
    assert [(r["old_value"], r["old_state"], r["new_value"], r["new_state"], r["read_back"],
             r["read_back_state"]) for r in rows] == [
        ("0", "MAN", "1", "AUTO", "1", "AUTO"),
        ("true", "AUTO", "false", "MANUAL", "false", "MANUAL"),
        ("60.0", "", "65.0", "", "65.0", ""),
    ]  # fmt: skip

    path = tmp_path / "audit.json"
    export_to_path(store, path, states=states)
    records = json.loads(path.read_text(encoding="utf-8"))["records"]
    assert records[0]["states"] == {"old_value": "MAN", "new_value": "AUTO", "read_back": "AUTO"}
    assert records[0]["old_value"] == ["int", "0"] and records[0]["new_value"] == ["int", "1"]
    assert "states" not in records[2]
    prev = GENESIS_HASH
    for r in records:  # the state texts are beside the hashed fields, not among them
        content = canonical(
            r["action"], r["app_version"], r["error"], r["meaning"],
            json.dumps(r["new_value"], separators=(",", ":"), ensure_ascii=False),
            json.dumps(r["old_value"], separators=(",", ":"), ensure_ascii=False),
            r["origin"], r["prev_hash"],
            json.dumps(r["read_back"], separators=(",", ":"), ensure_ascii=False),
            r["reason"], r["result"], r["role"], r["sequence"], r["session_id"], r["spooled"],
            r["target_address"], r["target_tag"], r["timestamp_us"], r["user_id"],
            r["user_name"], r["uuid"], r["verifier_id"], r["verifier_name"], r["workstation"],
        )  # fmt: skip
        assert r["prev_hash"] == prev and chain_hash(content) == r["hash"]
        prev = r["hash"]
