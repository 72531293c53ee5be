"""What an auditor asks of the audit trail: the filter (``AuditQuery``), a page of the answer
(``AuditPage``) and the filter as SQL over an audit table. ``hmi.storage.audit`` runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, or_

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult, us_from_datetime

__all__ = ["AuditPage", "AuditQuery", "audit_filter", "like_pattern"]


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What the auditor asks for; empty fields do not filter. ``tag`` and ``user_id`` match
    exactly unless they contain ``*``; ``text`` searches reason, error, names, tag, values."""

    since: datetime | None = None
    until: datetime | None = None  # exclusive
    user_id: str | None = None
    actions: tuple[AuditAction, ...] = ()
    results: tuple[AuditResult, ...] = ()
    tag: str | None = None
    workstation: str | None = None
    text: str | None = None
    first_sequence: int | None = None
    last_sequence: int | None = None

    def describe(self) -> dict[str, Any]:
        """The filter as plain values (export metadata, report headers)."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "user_id": self.user_id, "actions": [a.value for a in self.actions],
            "results": [r.value for r in self.results], "tag": self.tag,
            "workstation": self.workstation, "text": self.text,
            "first_sequence": self.first_sequence, "last_sequence": self.last_sequence,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[AuditRecord]
    next_cursor: int | None  # pass as ``cursor`` for the next page; None: no more
    newest_first: bool = True
    filters: AuditQuery = field(default_factory=AuditQuery)


def like_pattern(pattern: str) -> str:
    """``*`` wildcards as a LIKE pattern, with ``%``, ``_`` and ``\\`` escaped by ``\\``."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def audit_filter(table: Table, query: AuditQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``query`` over an audit table (the trail or a spool)."""
    c = table.c
    where: list[ColumnElement[bool]] = []
    if query.since is not None:
        where.append(c.timestamp_us >= us_from_datetime(query.since))
    if query.until is not None:
        where.append(c.timestamp_us < us_from_datetime(query.until))
    for column, value in ((c.user_id, query.user_id), (c.target_tag, query.tag),
                          (c.workstation, query.workstation)):  # fmt: skip
        if value:
            where.append(
                column.like(like_pattern(value), escape="\\") if "*" in value else column == value
            )
    if query.actions:
        where.append(c.action.in_([a.value for a in query.actions]))
    if query.results:
        where.append(c.result.in_([r.value for r in query.results]))
    if query.first_sequence is not None:
        where.append(c.sequence >= query.first_sequence)
    if query.last_sequence is not None:
        where.append(c.sequence <= query.last_sequence)
    if query.text:
        pattern = f"%{like_pattern(query.text)}%"
        searched = (c.reason, c.error, c.user_id, c.user_name, c.target_tag,
                    c.target_address, c.old_value, c.new_value, c.origin, c.verifier_name)  # fmt: skip
        where.append(or_(*(col.ilike(pattern, escape="\\") for col in searched)))
    return where
