"""The auditor's detail pane shows a screen change: its file, both hashes, what else it
wrote, and the diff itself, line by line; a cut diff says so."""

from __future__ import annotations

import shutil
from pathlib import Path

from pytestqt.qtbot import QtBot

from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.audit.screens import MAX_DIFF_LINES, FileHashes, ScreenChange
from hmi.model.design import SetFields
from hmi.model.design.document import ScreenDocument
from hmi.model.design.save import plan_save
from hmi.views.audit.detail import AuditDetail, detail_rows

DEMO = Path(__file__).resolve().parents[3] / "screens"


def test_a_saved_screen_shows_its_hashes_and_its_diff(qtbot: QtBot, tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "plant")
    doc = ScreenDocument.open(tmp_path / "plant" / "pump_station.yaml")
    doc.apply(SetFields((0,), {"tooltip": "Transfer pumps"}))
    change = plan_save(tmp_path / "plant", doc).change()
    record = AuditRecord.create(
        AuditAction.SCREEN_SAVE, user_id="eng", reason="MOC-7", **change.record_fields()
    )
    rows = dict(detail_rows(record))
    assert rows["File"] == "pump_station.yaml"
    assert rows["File SHA-256 before"] == change.main.sha256_before
    assert rows["File SHA-256 after"] == change.main.sha256_after
    assert rows["Diff"].startswith(f"{len(change.diff)} lines; SHA-256 of the whole diff ")
    assert "New value" not in rows and "Tag" not in rows

    pane = AuditDetail()
    qtbot.addWidget(pane)
    pane.show_record(record)
    shown = pane.toPlainText()
    assert "+++ b/pump_station.yaml" in shown
    assert any(
        line.startswith("+") and "tooltip: Transfer pumps" in line for line in shown.splitlines()
    )
    assert change.main.sha256_after in shown


def test_a_long_diff_is_cut_and_says_so() -> None:
    diff = tuple(f"+line {n}" for n in range(MAX_DIFF_LINES + 500))
    change = ScreenChange(
        AuditAction.SCREEN_NEW, "big", FileHashes("big.yaml", "", "ab" * 32), diff,
        also=(FileHashes("project.yaml", "cd" * 32, "ef" * 32),),
    )  # fmt: skip
    record = AuditRecord.create(AuditAction.SCREEN_NEW, **change.record_fields())
    assert len(record.new_value) == MAX_DIFF_LINES + 1
    assert "500 more diff lines cut" in record.new_value[-1]
    rows = dict(detail_rows(record))
    assert rows["Diff"].startswith(f"{MAX_DIFF_LINES + 500} lines, first {MAX_DIFF_LINES} kept")
    assert rows["Also wrote"].startswith("project.yaml: " + "cd" * 32)
    assert rows["File SHA-256 before"] == "— (a new file)"
