"""The auditor view on real SQLite files: it opens 20,000 records with one page fetched,
pages as it scrolls, filters, shows every field of a record, turns its integrity badge red on
a tampered file, exports what the filters select, and only opens for those allowed."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from itertools import dropwhile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from hmi.app import Station
from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.db import make_engine
from hmi.views.audit.detail import detail_rows
from hmi.views.audit.table import COLUMNS
from hmi.views.audit.viewer import AuditorView
from tests.views.audit_station import (
    BASE,
    Clock,
    artifact,
    fill,
    finished,
    login,
    records,
    start_station,
    stop_station,
)


@pytest.fixture(scope="module")
def big_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('auditor')}/big.sqlite"
    fill(url, 20_000)
    return url


def open_view(qtbot: QtBot, source: str | AuditStore, **kw: Any) -> AuditorView:
    view = AuditorView(source, site="Riverside", **kw)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def loaded(view: AuditorView) -> bool:
    return not view.model.loading and view.model.total is not None


def test_twenty_thousand_records_open_with_one_page(
    qtbot: QtBot, themed: None, big_url: str
) -> None:
    started = time.monotonic()
    view = open_view(qtbot, big_url)
    model = view.model
    qtbot.waitUntil(lambda: loaded(view) and model.rowCount() > 0)
    assert time.monotonic() - started < 3.0
    qtbot.wait(300)  # the view had its chance to ask for more
    assert model.pages_fetched == 1 and model.rowCount() == 200
    assert model.records[0].sequence == 20_000  # newest first
    assert view.count_label.text().startswith("20,000 record(s) match; 200 loaded")
    qtbot.waitUntil(lambda: view.badge.state == "ok", timeout=20000)
    assert view.badge.label.text() == "chain verified: 20,000 records"

    view.table.scrollToBottom()  # the view asks for the next page
    qtbot.waitUntil(lambda: model.pages_fetched == 2 and not model.loading)
    assert model.rowCount() == 400 and model.records[-1].sequence == 19_601

    view.table.selectRow(3)
    detail = view.detail.toPlainText()
    record = model.records[3]
    assert record.uuid in detail and record.hash in detail and "Previous hash" in detail
    assert "batch step 19996" in detail and "overview/sp_entry" in detail
    view.resize(1500, 800)
    qtbot.wait(50)
    view.grab().save(artifact("audit_auditor.png"))
    view.close()


def test_filters_narrow_the_records(qtbot: QtBot, big_url: str) -> None:
    view = open_view(qtbot, big_url, verify_on_open=False)
    model, bar = view.model, view.filters
    qtbot.waitUntil(lambda: loaded(view))
    qtbot.keyClicks(bar.user_edit, "sam")
    bar.result_combo.setCurrentText("denied")
    qtbot.waitUntil(lambda: model.query.user_id == "sam" and loaded(view), timeout=3000)
    expected = sum(1 for i in range(20_000) if i % 4 == 1 and i % 7 == 0)
    assert model.total == expected == 714 and model.rowCount() == 200  # one page of them
    assert {(r.user_id, r.result) for r in model.records} == {("sam", AuditResult.DENIED)}

    bar.clear()
    bar.tag_edit.setText("T3.*")
    bar.action_combo.setCurrentText("write")
    bar.since_check.setChecked(True)
    bar.since_edit.setDateTime(bar.since_edit.dateTime().fromSecsSinceEpoch(
        int((BASE + timedelta(hours=50)).timestamp())))  # fmt: skip
    bar.apply()
    qtbot.waitUntil(lambda: model.query.tag == "T3.*" and loaded(view))
    since = BASE + timedelta(hours=50)
    assert model.total == sum(
        1 for i in range(20_000)
        if i % 10 == 3 and i % 5 != 0 and BASE + timedelta(seconds=10 * i) >= since
    )  # fmt: skip
    assert all(r.target_tag == "T3.SP" and r.timestamp >= since for r in model.records)

    bar.clear()
    qtbot.keyClicks(bar.text_edit, "step 1234")
    bar.apply()
    qtbot.waitUntil(lambda: model.query.text == "step 1234" and loaded(view))
    assert [r.reason for r in model.records] == ["batch step 12349", "batch step 12348",
                                                  "batch step 12347", "batch step 12346",
                                                  "batch step 12344", "batch step 12343",
                                                  "batch step 12342", "batch step 12341",
                                                  "batch step 1234"]  # fmt: skip
    view.close()


def tamper(url: str, sql: str) -> None:
    """As an attacker with the file would: drop the guard triggers, then edit."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_no_delete"))
        conn.execute(text(sql))
    engine.dispose()


def test_the_badge_turns_red_on_a_tampered_file(qtbot: QtBot, themed: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 60)
    tamper(url, 'UPDATE audit SET new_value = \'["float","99.0"]\' WHERE sequence = 17')
    store = AuditStore(make_engine(url))
    uuid = store.page(AuditQuery(first_sequence=17, last_sequence=17)).records[0].uuid
    view = open_view(qtbot, store)
    qtbot.waitUntil(lambda: view.badge.state == "broken", timeout=10000)
    assert view.badge.label.text() == (
        f"chain broken at record #17 ({uuid}): its hash does not match its content; a field "
        "was changed after it was written, or the record was moved or renumbered"
    )
    assert view.badge.result is not None and view.badge.result.first_problem is not None
    view.close()
    store.close()


def test_a_wrong_key_is_named_as_such_not_as_tampering(
    qtbot: QtBot, themed: None, tmp_path: Path
) -> None:
    """Opened with a key the chain was not made with, every record would fail its hash: the
    badge says the key is wrong instead of calling the whole trail tampered."""
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    fill(url, 5)  # an unkeyed chain
    store = AuditStore(make_engine(url), key=b"not this site's key")
    view = open_view(qtbot, store)
    qtbot.waitUntil(lambda: view.badge.state == "error", timeout=10000)
    text = view.badge.label.text()
    assert text.startswith("could not verify the chain: ") and "without a site key" in text
    assert view.badge.result is None
    view.close()
    store.close()


@pytest.fixture
def station(qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path) -> Iterator[Station]:
    station = start_station(qtbot, tmp_path / "project", Clock())
    station.window.show()
    yield station
    stop_station(qtbot, station)


def test_only_those_allowed_open_it_and_only_auditors_export(
    qtbot: QtBot, station: Station, tmp_path: Path
) -> None:
    ui, status = station.session_ui, station.window.status.command_label
    login(qtbot, station, "olga")
    assert not station.window.audit_button.isEnabled()
    assert ui.open_auditor() is None and "view_audit" in status.text()

    login(qtbot, station, "sam")  # a supervisor reads, but does not export
    view = ui.open_auditor()
    assert isinstance(view, AuditorView) and view.isVisible()
    assert not any(b.isEnabled() for b in view.export_buttons.values())
    qtbot.waitUntil(lambda: view.badge.state == "ok")

    login(qtbot, station, "ada")  # the supervisor's window closes with their session
    assert ui.auditor is None
    qtbot.mouseClick(station.window.audit_button, Qt.MouseButton.LeftButton)
    view = ui.auditor
    assert isinstance(view, AuditorView)
    assert all(b.isEnabled() for b in view.export_buttons.values())
    qtbot.waitUntil(lambda: view.badge.state == "ok" and loaded(view))
    view.filters.action_combo.setCurrentText("login")
    qtbot.waitUntil(lambda: view.model.query.actions == (AuditAction.LOGIN,) and loaded(view))
    for fmt in ("csv", "json"):
        path = tmp_path / f"logins.{fmt}"
        with qtbot.waitSignal(view.exported, timeout=10000):
            view.export(fmt, path)
        assert f"exported 3 record(s) to {path}" == view.export_label.text()
    with (tmp_path / "logins.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(dropwhile(lambda line: line.startswith("#"), file)))
    assert [r["user_id"] for r in rows] == ["olga", "sam", "ada"]
    exported = json.loads((tmp_path / "logins.json").read_text(encoding="utf-8"))
    assert exported["count"] == 3 and exported["verification"]["ok"]
    assert exported["exported_by"] == "ada — Ada Auditor (auditor)"

    done = [r for r in records(station) if r.action.value.startswith("audit_")]
    assert [(r.action, r.user_id, r.origin) for r in done][-2:] == [
        (AuditAction.AUDIT_EXPORT, "ada", "auditor view"),
        (AuditAction.AUDIT_EXPORT, "ada", "auditor view"),
    ]
    assert done[-1].target_address == f"file:{tmp_path / 'logins.json'}"
    assert any(r.action is AuditAction.AUDIT_VERIFY and r.user_id == "sam" for r in done)

    ui.lock()  # a locked station shows no audit trail
    qtbot.waitUntil(lambda: ui.auditor is None)


def test_the_trail_speaks_the_plant_words(qtbot: QtBot, station: Station, tmp_path: Path) -> None:
    """A mode change through the real write path reads MAN (0) → AUTO (1) in the viewer's
    table and detail, and in its PDF, whose site is the project's name (and its site)."""
    login(qtbot, station, "olga")
    shown = station.bridge.bind("Loop.Mode", lambda _value: None)  # as a faceplate shows it
    qtbot.waitUntil(lambda: station.broker.latest("Loop.Mode").value == 0)
    finished(qtbot, station.bridge.submit_write("Loop.Mode", 1, origin="main/mode"))
    shown.release()
    login(qtbot, station, "ada")
    view = station.session_ui.open_auditor()
    assert isinstance(view, AuditorView)
    qtbot.waitUntil(lambda: loaded(view))
    view.filters.tag_edit.setText("Loop.Mode")
    qtbot.waitUntil(lambda: view.model.query.tag == "Loop.Mode" and loaded(view))
    view.resize(1326, 688)  # on a 1366×768 screen: every column in view, number and time whole
    qtbot.waitUntil(lambda: view.table.horizontalHeader().length() <= view.table.viewport().width())
    metrics = view.table.fontMetrics()
    assert view.table.columnWidth(1) > metrics.horizontalAdvance(view.model.index(0, 1).data())
    record = view.model.records[0]  # newest first
    assert (record.old_value, record.new_value) == (0, 1)  # the record keeps the raw values
    change = COLUMNS.index("Change")
    assert view.model.index(0, change).data() == "MAN (0) → AUTO (1)"
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.detail.record is not None)
    detail = " ".join(view.detail.toPlainText().split())
    assert "Old value MAN = 0 (int)" in detail and "New value AUTO = 1 (int)" in detail
    path = tmp_path / "mode.pdf"
    with qtbot.waitSignal(view.exported, timeout=10000):
        view.export("pdf", path)
    pdfium = pytest.importorskip("pypdfium2")
    page = " ".join(pdfium.PdfDocument(str(path))[0].get_textpage().get_text_bounded().split())
    assert "Site Audit test plant (Riverside)" in page
    assert "MAN (0) → AUTO (1)" in page


def test_the_detail_says_where_the_old_value_came_from_and_what_a_shelve_asked_for() -> None:
    write = AuditRecord.create(AuditAction.WRITE, old_value=12.5, old_source="device")
    rows = dict(detail_rows(write))
    assert rows["Old value from"] == "read from the device before the write"
    assert rows["Details"] == "—"
    timed = '{"duration_s":900,"one_shot":false,"shelved_until":"2026-12-06T21:45:00.000000Z"}'
    one_shot = '{"duration_s":null,"one_shot":true}'
    shelve = AuditRecord.create(AuditAction.ALARM_SHELVE, details=timed)
    assert dict(detail_rows(shelve))["Details"] == (
        f"shelved for 900 s (15 min), until 2026-12-06 21:45:00 UTC   {timed}"
    )
    shelve = AuditRecord.create(AuditAction.ALARM_SHELVE, details=one_shot)
    assert dict(detail_rows(shelve))["Details"].startswith("one-shot shelve (until the alarm")
    assert dict(detail_rows(AuditRecord.create(AuditAction.WRITE)))["Old value from"] == "—"
