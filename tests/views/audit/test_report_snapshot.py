"""The PDF report is one snapshot of a chain another station goes on appending to (issue 21,
item 2): the records it verified, the head it prints and the records it lists end at the same
record, also when the viewer hands it a verification made before the head moved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.storage.audit import AuditStore
from tests.storage.conftest import PgAdmin
from tests.storage.test_export_snapshot import Appender
from tests.views.audit.test_audit_report import read


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[str]:
    admin = PgAdmin(pg_url)
    name = admin.create()
    try:
        yield admin.url_of(name)
    finally:
        admin.drop(name)


def test_pdf_report_verifies_and_lists_up_to_one_head(
    qapp: Any, pg_store: str, tmp_path: Path
) -> None:
    from hmi.views.audit.report import write_store_report

    store = AuditStore.open(pg_store)
    store.append_many([AuditRecord.create(AuditAction.LOGIN, user_id="op") for _ in range(400)])
    stale = store.verify()  # what the viewer's badge showed a while ago
    appender = Appender(pg_store)
    try:
        path = tmp_path / "report.pdf"
        count, result = write_store_report(
            store, path, site="Riverside", generated_by="auditor", verification=stale
        )
        head = result.last_sequence
        assert head is not None and head > 400 and result.ok and result.count == head == count
        first = read(path).text(0)
        assert f"records #1 to #{head} ({head:,}), the whole chain" in first
        assert f"Head record #{head}, hash" in first
        assert f"{count:,} match the filter, #1 to #{head}, up to the head above" in first
        assert store.head().sequence > head  # the other station went on meanwhile
    finally:
        appender.stop()
        store.close()
