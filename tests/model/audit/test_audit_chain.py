"""The audit record's canonical form, value tags and the hash chain, without any database."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi.model.audit.record import (
    ADDED_FIELDS,
    CANONICAL_FIELDS,
    GENESIS_HASH,
    JOINED_TEXTS,
    JOINED_VALUES,
    AuditAction,
    AuditRecord,
    AuditResult,
    canonical,
    canonical_joined,
    canonical_row,
    chain_hash,
    decode_value,
    encode_value,
    iso_from_us,
    us_from_datetime,
)
from hmi.model.audit.verify import ProblemKind, verify_chain

text = st.text(max_size=30)
values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text,
    st.lists(st.one_of(st.integers(), st.floats(allow_nan=False), text), max_size=4),
)  # fmt: skip


def reference_canonical(record: AuditRecord) -> bytes:
    """The definition in hmi.model.audit.record's docstring, written the slow, obvious way."""
    doc = {
        name: getattr(record, name)
        for name in CANONICAL_FIELDS
        if name not in ("timestamp", "old_value", "new_value", "read_back")
    }
    doc["action"] = record.action.value
    doc["result"] = record.result.value
    doc["timestamp"] = (
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=record.timestamp_us)
    ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name in ("old_value", "new_value", "read_back"):
        doc[name] = json.loads(encode_value(getattr(record, name)))
    for name in ADDED_FIELDS:  # added later: only when not empty
        if getattr(record, name):
            doc[name] = getattr(record, name)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=300, deadline=None)
@given(
    action=st.sampled_from(AuditAction), result=st.sampled_from(AuditResult),
    strings=st.lists(text, min_size=16, max_size=16), old=values, new=values, back=values,
    sequence=st.integers(min_value=1, max_value=2**62), spooled=st.booleans(),
    us=st.integers(min_value=0, max_value=253_402_300_799_999_999),
)  # fmt: skip
def test_fast_canonical_form_equals_the_documented_definition(
    action: AuditAction, result: AuditResult, strings: list[str], old: object, new: object,
    back: object, sequence: int, spooled: bool, us: int,
) -> None:  # fmt: skip
    names = ("user_id", "user_name", "role", "workstation", "session_id", "target_tag",
             "target_address", "reason", "meaning", "verifier_id", "verifier_name", "error",
             "origin", "app_version", "details", "old_source")  # fmt: skip
    record = AuditRecord(
        uuid="u", timestamp_us=us, action=action, result=result, old_value=old, new_value=new,
        read_back=back, spooled=spooled, sequence=sequence, prev_hash=GENESIS_HASH,
        **dict(zip(names, strings, strict=True)),
    )  # fmt: skip
    assert record.canonical() == reference_canonical(record)
    key, prev = strings[0].encode() or None, strings[1]  # chained as an append chains it
    placed, row = dataclasses.replace(record, sequence=0).chained_row(sequence, prev, key)
    assert row == placed.stored()  # the INSERT's row is the placed record's
    assert placed.hash == chain_hash(reference_canonical(placed), key)
    assert placed == dataclasses.replace(record, prev_hash=prev, hash=placed.hash)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (1, '["int","1"]'), (1.0, '["float","1.0"]'), (True, '["bool",true]'),
        ("1", '["str","1"]'), (None, '["null",null]'), (float("inf"), '["float","inf"]'),
        (np.int64(7), '["int","7"]'), (np.float32(0.5), '["float","0.5"]'),
        ([1, "a", None], '["list",[["int","1"],["str","a"],["null",null]]]'),
        (b"\x01\xff", '["bytes","01ff"]'), (2**70, f'["int","{2**70}"]'),
    ],
)  # fmt: skip
def test_values_carry_their_type(value: object, encoded: str) -> None:
    assert encode_value(value) == encoded


@pytest.mark.parametrize("value", [1, 1.0, True, "1", None, -0.5, [1, 2.5], b"ab", 10**30])
def test_values_round_trip_exactly(value: object) -> None:
    back = decode_value(encode_value(value))
    assert back == value
    assert type(back) is type(value)


def test_distinct_types_make_distinct_hashes() -> None:
    base = AuditRecord.create(AuditAction.WRITE)
    hashes = {base.__class__.chain(dataclasses.replace(base, new_value=v), 1, GENESIS_HASH).hash
              for v in (1, 1.0, True, "1")}  # fmt: skip
    assert len(hashes) == 4


def test_odd_values_are_kept_as_their_repr() -> None:
    assert decode_value(encode_value({"a": 1})) == "{'a': 1}"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC), datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC),
    ],
)  # fmt: skip
def test_timestamps_are_utc_iso_with_microseconds(moment: datetime) -> None:
    us = us_from_datetime(moment)
    assert iso_from_us(us) == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = AuditRecord.create(AuditAction.LOGIN, timestamp=moment)
    assert record.timestamp == moment


def test_create_sets_identity_and_cleans_text() -> None:
    a = AuditRecord.create("write", user_id="jdoe\x00", reason=None)
    b = AuditRecord.create("write")
    assert a.uuid != b.uuid and len(a.uuid) == 36
    assert a.user_id == "jdoe\ufffd" and a.reason == ""
    assert abs(a.timestamp - datetime.now(UTC)) < timedelta(seconds=5)
    assert a.hash == "" and not a.chained


def make_chain(n: int, key: bytes | None = None) -> list[AuditRecord]:
    records, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        record = AuditRecord.create(
            AuditAction.WRITE, user_id="op", target_tag=f"T{i}", old_value=i - 1, new_value=i
        ).chain(i, prev, key)
        records.append(record)
        prev = record.hash
    return records


def test_an_intact_chain_verifies() -> None:
    result = verify_chain(make_chain(50))
    assert result.ok, result
    assert (result.count, result.first_sequence, result.last_sequence) == (50, 1, 50)
    assert "chain OK: 50 records" in str(result)


def test_a_changed_field_is_named_by_record() -> None:
    records = make_chain(10)
    records[4] = dataclasses.replace(records[4], new_value=999)
    result = verify_chain(records)
    assert not result.ok
    problem = result.first_problem
    assert problem is not None and problem.kind is ProblemKind.CONTENT_CHANGED
    assert (problem.sequence, problem.uuid) == (5, records[4].uuid)
    assert f"record 5 ({records[4].uuid})" in problem.message
    assert "does not match its content" in problem.message
    assert result.problems == 1  # the walk resynchronises after the break


def test_a_changed_and_rehashed_record_breaks_the_next_link() -> None:
    records = make_chain(10)
    forged = dataclasses.replace(records[4], new_value=999).chain(5, records[3].hash)
    records[4] = forged
    problem = verify_chain(records).first_problem
    assert problem is not None and problem.kind is ProblemKind.LINK_BROKEN
    assert problem.sequence == 6
    assert "inserted, deleted or reordered before 6" in problem.message


def test_a_deleted_record_is_a_gap() -> None:
    records = make_chain(10)
    del records[3]
    problem = verify_chain(records).first_problem
    assert problem is not None and problem.kind is ProblemKind.GAP
    assert problem.sequence == 5 and "record(s) 4 before it are missing" in problem.message


def test_a_duplicate_and_reordering_are_named() -> None:
    records = make_chain(6)
    dup = verify_chain([*records[:3], records[2], *records[3:]]).first_problem
    assert dup is not None and dup.kind is ProblemKind.DUPLICATE and dup.sequence == 3
    swapped = [*records[:2], records[3], records[2], *records[4:]]
    problem = verify_chain(swapped).first_problem
    assert problem is not None and problem.kind is ProblemKind.GAP and problem.sequence == 4


def test_hmac_chain_needs_its_key() -> None:
    key = b"site secret"
    records = make_chain(5, key)
    assert verify_chain(records, key=key).ok
    assert not verify_chain(records).ok
    forged = make_chain(5)  # an attacker without the key re-hashes with plain SHA-256
    assert verify_chain(forged, key=key).first_problem.sequence == 1  # type: ignore[union-attr]
    assert chain_hash(b"x", key) != chain_hash(b"x")


def test_a_range_can_be_verified_from_an_anchor() -> None:
    records = make_chain(10)
    assert verify_chain(records[5:], start_sequence=None, start_hash=None).ok
    assert verify_chain(records[5:], start_sequence=6, start_hash=records[4].hash).ok
    bad = verify_chain(records[5:], start_sequence=6, start_hash=records[3].hash)
    assert bad.first_problem is not None and bad.first_problem.kind is ProblemKind.LINK_BROKEN


def test_canonical_bytes_are_compact_sorted_json() -> None:
    record = make_chain(1)[0]
    raw = record.canonical()
    doc = json.loads(raw)
    assert list(doc) == sorted(doc) == list(CANONICAL_FIELDS)
    assert b" " not in raw.replace(b"Doe", b"")
    assert doc["sequence"] == 1 and doc["timestamp"].endswith("Z")
    assert canonical(*record.stored()[:24]) == raw


def test_records_of_the_first_format_hash_as_they_always_did() -> None:
    """A record without the added fields: the canonical bytes of the first format, byte for
    byte (this one was hashed by the code before ``old_source`` and ``details`` existed)."""
    old = AuditRecord(
        uuid="00000000-0000-4000-8000-000000000001", timestamp_us=1_700_000_000_123_456,
        action=AuditAction.WRITE, user_id="ann", user_name="Ann", role="operator",
        workstation="ws1", target_tag="T.SP", target_address="local://sp", old_value=1.5,
        new_value=2.5, read_back=2.5, origin="main/sp",
    ).chain(1, GENESIS_HASH)  # fmt: skip
    assert old.hash == "ab4dfb9ada5ba5f280b0af1281a74db04f886b840dc69f576e385dc4cf863be1"
    row = old.stored()[:25]  # a row as the first format stored it
    assert AuditRecord.from_stored(row) == old
    assert canonical_row(row) == old.canonical()
    assert b"old_source" not in old.canonical() and b"details" not in old.canonical()


def test_the_added_fields_are_covered_by_the_hash() -> None:
    base = AuditRecord.create(AuditAction.WRITE, old_source="device", details='{"a":1}')
    chained = base.chain(1, GENESIS_HASH)
    doc = json.loads(chained.canonical())
    assert doc["old_source"] == "device" and doc["details"] == '{"a":1}'
    for change in ({"old_source": ""}, {"old_source": "broker"}, {"details": ""}):
        tampered = dataclasses.replace(chained, **change)
        assert verify_chain([tampered]).first_problem is not None
    assert AuditRecord.from_stored(chained.stored()) == chained


@settings(max_examples=300, deadline=None)
@given(strings=st.lists(text, min_size=20, max_size=20), old=values, new=values, back=values)
def test_the_joined_shortcut_is_exact_or_declines(
    strings: list[str], old: object, new: object, back: object
) -> None:
    """verify's fast path (fields joined by U+001F, one escape) gives the canonical bytes or
    None, never something else, whatever the text holds (quotes, backslashes, separators)."""
    fields = dict(zip(JOINED_TEXTS, strings, strict=True))
    fields.update(new_value=encode_value(new), old_value=encode_value(old),
                  read_back=encode_value(back), sequence=7, spooled=True,
                  timestamp=1_700_000_000_123_456)  # fmt: skip
    exact = canonical(*(fields[n] for n in CANONICAL_FIELDS), *strings[18:])
    joined = canonical_joined(
        "\x1f".join(strings), "\x1f".join(fields[n] for n in JOINED_VALUES), 7, True,
        1_700_000_000_123_456,
    )  # fmt: skip
    assert joined is None or joined == exact
    if not any(c in "".join(strings) for c in "\\\x1f"):
        assert joined == exact


def test_the_joined_shortcut_declines_what_it_cannot_do_exactly() -> None:
    texts = ["x"] * 20
    values = '["null",null]\x1f["null",null]\x1f["null",null]'
    assert canonical_joined("\x1f".join(texts), values, 1, False, 0) is not None
    for bad in ("a\\u001fb", "a\x1fb", "back\\slash"):
        assert canonical_joined("\x1f".join([bad, *texts[1:]]), values, 1, False, 0) is None
