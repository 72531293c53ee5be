"""The auditor's detail pane: every field of one record, read-only and selectable (values
with their types, the signature's meaning, the verifier, the origin and both hashes)."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtWidgets import QTextBrowser, QWidget

from hmi.model.audit.record import AuditRecord, iso_from_us
from hmi.model.audit.screens import MAX_DIFF_LINES, ScreenChangeView, read_screen_change
from hmi.storage.export import StateTexts, state_text
from hmi.views.audit.table import local_time

__all__ = ["AuditDetail", "detail_rows", "diff_html"]


def _typed(value: Any, text: str = "") -> str:
    if value is None:
        return "—"
    raw = f"{value!r}  ({type(value).__name__})"
    return f"{text}   = {raw}" if text else raw


_OLD_SOURCES = {
    "broker": "the station's latest value (subscribed)",
    "device": "read from the device before the write",
    "none": "unknown: the device could not be read",
}


def _details(text: str) -> str:
    """A shelve's details in words, then as recorded; anything else as recorded."""
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or "one_shot" not in doc:
        return text or "—"
    until = doc.get("shelved_until")
    if doc["one_shot"]:
        words = "one-shot shelve (until the alarm clears)"
        if until:
            words += f", at the latest until {until.replace('T', ' ')[:19]} UTC"
    else:
        seconds = float(doc.get("duration_s") or 0)
        words = f"shelved for {seconds:g} s ({seconds / 60:g} min)"
        words += f", until {until.replace('T', ' ')[:19]} UTC" if until else " (asked for)"
    return f"{words}   {text}"


def detail_rows(record: AuditRecord, states: StateTexts | None = None) -> list[tuple[str, str]]:
    """(label, text) for every field an auditor may ask about, in reading order; a value
    with a state text reads ``AUTO   = 1  (int)``."""

    def value(raw: Any) -> str:
        return _typed(raw, state_text(states, record.target_tag, raw))

    who = f"{record.user_id or '—'}"
    if record.user_name:
        who += f" — {record.user_name}"
    if record.role:
        who += f" ({record.role})"
    verifier = record.verifier_id
    if record.verifier_name:
        verifier += f" — {record.verifier_name}"
    screen = read_screen_change(record)
    rows = [
        ("Record", f"#{record.sequence}   {record.uuid}"),
        ("Time", f"{iso_from_us(record.timestamp_us)} UTC   ({local_time(record)} local)"),
        ("Action", f"{record.action.value}: {record.result.value}"),
        ("User", who),
        ("Workstation", record.workstation or "—"),
        ("Session", record.session_id or "—"),
        ("Tag", record.target_tag or "—"),
        ("Address", record.target_address or "—"),
        ("Old value", value(record.old_value)),
        ("Old value from", _OLD_SOURCES.get(record.old_source, record.old_source) or "—"),
        ("New value", value(record.new_value)),
        ("Read back", value(record.read_back)),
        ("Reason", record.reason or "—"),
        ("Details", _details(record.details)),
        ("Signature", record.meaning or "not signed"),
        ("Verified by", verifier or "—"),
        ("Error", record.error or "—"),
        ("Origin", record.origin or "—"),
        ("Software", record.app_version or "—"),
        ("Spooled", "yes: it waited in a station's spool" if record.spooled else "no"),
        ("Previous hash", record.prev_hash),
        ("Hash", record.hash),
    ]
    if screen is None:
        return rows
    at = next(i for i, (label, _) in enumerate(rows) if label == "Old value")
    skip = {"Tag", "Old value", "Old value from", "New value", "Read back", "Details"}
    kept = [row for row in rows if row[0] not in skip]
    return kept[: at - 1] + _screen_rows(screen) + kept[at - 1 :]


def _screen_rows(change: ScreenChangeView) -> list[tuple[str, str]]:
    """A screen change: its file and both hashes, every other file it wrote, the diff's size
    and hash (the diff itself is shown below the table)."""
    rows = [
        ("File", change.file),
        ("File SHA-256 before", change.sha256_before or "— (a new file)"),
        ("File SHA-256 after", change.sha256_after or "— (deleted)"),
    ]
    if change.old_id:
        rows.append(("Renamed from", change.old_id))
    for other in change.also:
        rows.append(
            (
                "Also wrote",
                f"{other.file}: {other.sha256_before or '—'} -> {other.sha256_after or '—'}",
            )
        )
    shown = f"{change.diff_lines} lines" + (
        f", first {min(len(change.diff), MAX_DIFF_LINES)} kept" if change.cut else ""
    )
    rows.append(("Diff", f"{shown}; SHA-256 of the whole diff {change.diff_sha256}"))
    return rows


_DIFF_STYLES = {"+": "add", "-": "del", "@": "hunk"}


def diff_html(lines: tuple[str, ...] | list[str]) -> str:
    """The unified diff as the detail pane shows it: one line each, added and removed lines
    on a muted background (headers plain)."""
    out = []
    for line in lines:
        kind = "" if line.startswith(("+++", "---")) else _DIFF_STYLES.get(line[:1], "")
        cls = f" class='{kind}'" if kind else ""
        out.append(f"<div{cls}>{html.escape(line) or '&nbsp;'}</div>")
    return "<div class='diff'>" + "".join(out) + "</div>"


class AuditDetail(QTextBrowser):
    def __init__(self, parent: QWidget | None = None, *, states: StateTexts | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AuditDetail")
        self.states = states
        self.setOpenLinks(False)
        self.record: AuditRecord | None = None
        self.show_record(None)

    def show_record(self, record: AuditRecord | None) -> None:
        self.record = record
        if record is None:
            self.setHtml("<p>Select a record to see all of it.</p>")
            return
        rows = "".join(
            f"<tr><th align='right' valign='top'>{html.escape(label)}</th>"
            f"<td{' class=mono' if 'hash' in label.lower() or 'SHA' in label else ''}>{html.escape(text)}</td></tr>"
            for label, text in detail_rows(record, self.states)
        )
        screen = read_screen_change(record)
        diff = "" if screen is None else "<h4>Diff</h4>" + diff_html(screen.diff)
        self.setHtml(
            "<style>th{padding:2px 10px 2px 0;font-weight:normal;color:#4a4a4a}"
            "td{padding:2px 0} .mono{font-family:monospace}"
            ".diff{font-family:monospace;white-space:pre} .add{background:#e3eee3}"
            ".del{background:#f2e2e2} .hunk{color:#5a5a7a}</style>"
            f"<table cellspacing='0'>{rows}</table>{diff}"
        )
