"""Export a range of the audit trail as CSV or JSON, streaming (constant memory).

The JSON export carries every field of every record exactly as hashed (tag values as their
``[type, payload]`` pairs), so an auditor can recompute each hash from the file alone, plus the
result of verifying the whole chain at the time of export. CSV is for spreadsheets: one row
per record, values as plain text; its verification result is returned to the caller.

A CSV cell is data, never a formula: text that a spreadsheet would evaluate (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return; OWASP's "CSV injection") is written with
a leading apostrophe, so ``=cmd|' /C calc'!A0`` typed as a user name at the login prompt opens as
text. A plain number such as ``-5.5`` is left as it is. The JSON export keeps the exact text.

State texts (``MAN``/``AUTO`` for a mode tag's 0/1) come from the project's tags (``states``)
at export time, next to the raw values, never instead of them: they are not in the record, so
not under its hash (see docs/audit.md, "Values in the plant's words"). CSV has them in
``old_state``, ``new_state`` and ``read_back_state``; JSON in each record's ``"states"``.

An export is one snapshot of a chain other stations go on appending to: the chain head is read
once, the chain is verified up to that head, and only records up to it are exported; the file
says so (JSON: ``"snapshot"``; CSV: ``#`` lines before the header, as the trend export has).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from hmi.model.audit.record import AuditRecord, encode_value
from hmi.model.audit.verify import VerifyResult
from hmi.storage.audit import AuditQuery, AuditStore, ChainHead, Progress

__all__ = [
    "CSV_COLUMNS",
    "ExportSummary",
    "StateTexts",
    "csv_cell",
    "export_csv",
    "export_json",
    "export_to_path",
    "record_states",
    "snapshot",
    "snapshot_statement",
    "state_text",
]

StateTexts = Mapping[str, Mapping[int, str]]
"""Per tag name, the text of each value of a discrete tag: a project's ``tags.*.states``."""

CSV_COLUMNS = (
    "sequence", "timestamp", "action", "result", "user_id", "user_name", "role",
    "workstation", "session_id", "target_tag", "target_address", "old_value", "new_value",
    "read_back", "reason", "meaning", "verifier_id", "verifier_name", "error", "origin",
    "app_version", "spooled", "uuid", "prev_hash", "hash", "old_source", "details",
    "old_state", "new_state", "read_back_state",
)  # fmt: skip
_VALUES = ("old_value", "new_value", "read_back")


def state_text(states: StateTexts | None, tag: str, value: Any) -> str:
    """The text of ``value`` in ``tag``'s states (``"AUTO"`` for 1), "" when it has none."""
    if not states or not tag or value is None or isinstance(value, str):
        return ""
    table = states.get(tag)
    if not table:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not number.is_integer():
        return ""
    return table.get(int(number), "")


def record_states(record: AuditRecord, states: StateTexts | None) -> dict[str, str]:
    """``{"old_value": "MAN", "new_value": "AUTO", ...}`` for the values that have a text."""
    found = {}
    for name in _VALUES:
        text = state_text(states, record.target_tag, getattr(record, name))
        if text:
            found[name] = text
    return found


@dataclass(frozen=True, slots=True)
class ExportSummary:
    count: int
    verification: VerifyResult | None
    path: Path | None = None
    head: ChainHead | None = None  # the snapshot: nothing past it was verified or exported


def snapshot(
    store: AuditStore, query: AuditQuery | None = None, *, verify: bool = True
) -> tuple[ChainHead, VerifyResult | None, AuditQuery]:
    """Read the chain head once, verify up to it (unless ``verify`` is false) and narrow
    ``query`` to records up to it: what an export (or a report) then writes is the chain as
    verified, however many records other stations append meanwhile."""
    query = query or AuditQuery()
    head = store.head()
    verification = store.verify(at=head) if verify else None
    last = head.sequence if query.last_sequence is None else min(query.last_sequence, head.sequence)
    return head, verification, replace(query, last_sequence=last)


def snapshot_statement(head: ChainHead, verification: VerifyResult | None) -> str:
    """One sentence saying what the snapshot holds, for the export's own header."""
    at = f"chain head #{head.sequence} ({head.hash[:16]}…)" if head.sequence else "an empty chain"
    if verification is None:
        checked = "not verified"
    elif verification.ok:
        checked = f"verified up to it: intact, {verification.count:,} records"
    else:
        checked = f"verified up to it: BROKEN, {verification.problems} problem(s)"
    return (
        f"a snapshot at {at}, {checked}; only records up to the head are exported, records "
        "appended after it are not"
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet evaluates: a leading apostrophe before text that
    starts like a formula, unless the text is a plain number."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_cell(str(value))


def export_csv(
    store: AuditStore,
    out: TextIO,
    query: AuditQuery | None = None,
    *,
    progress: Progress | None = None,
    verify: bool = True,
    states: StateTexts | None = None,
) -> ExportSummary:
    """Write matching records as CSV (header row, oldest first). ``out`` is opened by the
    caller with ``newline=""``."""
    head, verification, query = snapshot(store, query, verify=verify)
    total = store.count(query) if progress else 0
    out.write("# HMI audit export: " + snapshot_statement(head, verification) + "\n")
    if head.sequence:
        out.write(f"# head: record {head.sequence}, hash {head.hash}\n")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in store.iter_records(query):
        row = record.as_dict()
        for name, text in record_states(record, states).items():
            row[name.removesuffix("_value") + "_state"] = text
        writer.writerow([_plain(row.get(name)) for name in CSV_COLUMNS])
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count, total)
    if progress is not None:
        progress(count, total)
    return ExportSummary(count, verification, head=head)


def _json_record(record: AuditRecord, states: StateTexts | None = None) -> str:
    row = record.as_dict()
    row["timestamp_us"] = record.timestamp_us
    for name in _VALUES:
        row[name] = json.loads(encode_value(row[name]))
    texts = record_states(record, states)
    if texts:
        row["states"] = texts  # not hashed: the project's words for the values
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def export_json(
    store: AuditStore,
    out: TextIO,
    query: AuditQuery | None = None,
    *,
    progress: Progress | None = None,
    exported_by: str = "",
    states: StateTexts | None = None,
) -> ExportSummary:
    """Write ``{"format", "exported_at", "database", "filter", "verification", "head",
    "snapshot", "records": [...], "count"}``; the chain is verified first, in full, up to the
    head read once (``snapshot``): ``head``, ``verification`` and ``records`` agree."""
    query = query or AuditQuery()
    asked = query.describe()
    head, verification, query = snapshot(store, query)
    total = store.count(query) if progress else 0
    meta = {
        "format": "hmi-audit-export/1",
        "exported_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "exported_by": exported_by,
        "database": store.url,
        "hash_scheme": head.scheme or store.scheme,
        "filter": asked,
        "verification": verification.as_dict() if verification is not None else None,
        "head": {"sequence": head.sequence, "hash": head.hash},
        "snapshot": snapshot_statement(head, verification),
    }
    out.write(json.dumps(meta, ensure_ascii=False, indent=1)[:-2] + ',\n "records": [\n')
    count = 0
    for record in store.iter_records(query):
        out.write(("  " if count == 0 else ",\n  ") + _json_record(record, states))
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count, total)
    out.write(f'\n ],\n "count": {count}\n}}\n')
    if progress is not None:
        progress(count, total)
    return ExportSummary(count, verification, head=head)


def export_to_path(
    store: AuditStore,
    path: Path,
    query: AuditQuery | None = None,
    *,
    fmt: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    exported_by: str = "",
    states: StateTexts | None = None,
) -> ExportSummary:
    """Export to ``path``; the format is ``fmt`` ("csv" or "json") or the file's suffix."""
    kind = (fmt or path.suffix.lstrip(".")).lower()
    if kind not in ("csv", "json"):
        raise ValueError(f"export format {kind!r}: use csv or json")
    with path.open("w", encoding="utf-8", newline="") as out:
        if kind == "csv":
            summary = export_csv(store, out, query, progress=progress, states=states)
        else:
            summary = export_json(
                store, out, query, progress=progress, exported_by=exported_by, states=states
            )
    return ExportSummary(summary.count, summary.verification, path, summary.head)
