"""Whatever an operator types or a device sends, its record is stored, hashed and verified,
and never fails the records committed with it (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord, decode_value, encode_value
from hmi.model.audit.storable import (
    MAX_TEXT_CHARS,
    MAX_VALUE_BYTES,
    MAX_VALUE_ITEMS,
    storable_text,
)
from hmi.storage.audit import AuditStore
from hmi.storage.trail import AuditTrail


class Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    def __str__(self) -> str:
        raise RuntimeError("no str either")


HOSTILE_VALUES: list[Any] = [
    "lone \udc80 surrogate",
    "\ud800",
    "nul\x00inside",
    "x" * 200_000,
    10**5000,
    b"\x00" * 100_000,
    list(range(50_000)),
    [[[[[[[[[[["deep"]]]]]]]]]]],
    Hostile(),
    float("nan"),
]


def test_the_rule() -> None:
    assert storable_text("a\x00b") == "a\ufffdb"
    assert storable_text("a\udc80b") == "a\ufffdb"
    long = storable_text("y" * (MAX_TEXT_CHARS + 10))
    assert long.startswith("y" * MAX_TEXT_CHARS) and long.endswith("[10 more characters cut]")
    assert storable_text("plain ✓ text") == "plain ✓ text"
    assert decode_value(encode_value(10**5000)).startswith("<integer of 16610 bits")
    assert decode_value(encode_value(list(range(MAX_VALUE_ITEMS + 5))))[-1] == (
        "… [5 more items cut]"
    )
    assert decode_value(encode_value(b"\x01" * (MAX_VALUE_BYTES + 1))).endswith(
        f"[{MAX_VALUE_BYTES + 1} bytes, cut to {MAX_VALUE_BYTES}]"
    )
    assert decode_value(encode_value(Hostile())) == "<Hostile object: repr() failed>"
    assert AuditRecord.create(AuditAction.WRITE, reason=Hostile()).reason.startswith("<Hostile")


def test_hostile_values_and_text_never_fail_a_batch(db_url: str) -> None:
    """The station's group commit puts concurrent records in one transaction: each hostile
    record is stored, and so is every good record beside it."""

    async def main() -> list[AuditRecord]:
        trail = AuditTrail(AuditStore.open(db_url))
        records = []
        for n, value in enumerate(HOSTILE_VALUES):
            records.append(AuditRecord.create(AuditAction.WRITE, new_value=n))
            records.append(
                AuditRecord.create(
                    AuditAction.WRITE, user_id="op\x00", user_name="\udcff" * 3,
                    target_tag="T\ud800", reason="r" * 100_000, old_value=value,
                    new_value=value, read_back=value,
                )
            )  # fmt: skip
        placed = await asyncio.gather(*(trail.append(r) for r in records))
        await trail.aclose()
        return placed

    placed = asyncio.run(main())
    assert len(placed) == 2 * len(HOSTILE_VALUES)
    store = AuditStore.open(db_url)
    try:
        result = store.verify()
        assert result.ok and result.count == len(placed), result.first_problem
        stored = list(store.iter_records())
        assert [r.new_value for r in stored[::2]] == list(range(len(HOSTILE_VALUES)))
        odd = stored[1]
        assert (odd.user_id, odd.user_name, odd.target_tag) == ("op\ufffd", "\ufffd" * 3, "T\ufffd")
        assert odd.old_value == "lone \ufffd surrogate" and len(odd.reason) < MAX_TEXT_CHARS + 40
    finally:
        store.close()


@pytest.mark.parametrize("value", HOSTILE_VALUES[:3])
def test_the_hash_covers_what_is_stored(value: Any, sqlite_url: str) -> None:
    store = AuditStore.open(sqlite_url)
    (placed,) = store.append_many([AuditRecord.create(AuditAction.WRITE, new_value=value)])
    (again,) = list(store.iter_records())
    assert again.hash == placed.hash and store.verify().ok
    store.close()
