"""The auditor's PDF report (Qt's PDF writer): site, period, filter, who generated it and when,
the result of verifying the whole chain, then the records, oldest first, in a table whose
header repeats on every page, with "page n of m" in the footer.

Streamed: records are drawn as they are read (constant memory); rows have a fixed height of
two lines, so the page count is known from the record count before the first page is drawn.
Needs a QGuiApplication (the CLI makes an offscreen one); may run on a worker thread.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QLineF, QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter

from hmi import __version__
from hmi.model.audit import AuditRecord, iso_from_us
from hmi.model.audit_verify import VerifyResult
from hmi.storage.audit import AuditQuery, AuditStore, ChainHead
from hmi.views.audit_integrity import describe_verification
from hmi.views.audit_model import change_text

__all__ = ["ReportInfo", "describe_filter", "write_report", "write_store_report"]

DPI = 150
_COLUMNS = (  # title, share of the width
    ("#", 0.05), ("Time (UTC)", 0.115), ("User", 0.085), ("Role", 0.065), ("Action", 0.09),
    ("Result", 0.06), ("Tag / target", 0.12), ("Change", 0.145), ("Reason, error, signature", 0.27),
)  # fmt: skip
_GRID = QColor("#9a9a9a")
_HEAD_FILL = QColor("#d4d4d4")
_BROKEN = QColor("#c00000")


@dataclass(frozen=True, slots=True)
class ReportInfo:
    site: str
    generated_by: str  # "j.doe — Jane Doe (auditor)", "os:root (command line)"
    database: str
    query: AuditQuery
    verification: VerifyResult | None
    head: ChainHead | None = None
    generated_at: datetime | None = None


def describe_filter(query: AuditQuery) -> tuple[str, str]:
    """(period, other filters) in words."""
    since = query.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if query.since else ""
    until = query.until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if query.until else ""
    if since and until:
        period = f"from {since} to {until}"
    elif since or until:
        period = f"from {since}" if since else f"until {until}"
    else:
        period = "all records"
    parts = []
    for label, value in (("user", query.user_id), ("tag", query.tag),
                         ("workstation", query.workstation), ("text", query.text)):  # fmt: skip
        if value:
            parts.append(f"{label} = {value}")
    if query.actions:
        parts.append("action = " + " or ".join(a.value for a in query.actions))
    if query.results:
        parts.append("result = " + " or ".join(r.value for r in query.results))
    return period, ", ".join(parts) or "none"


def _notes(record: AuditRecord) -> str:
    texts = []
    if record.reason:
        texts.append(f"reason: {record.reason}")
    if record.error:
        texts.append(f"error: {record.error}")
    if record.meaning:
        texts.append(f"signed: {record.meaning}")
    if record.verifier_id:
        name = f" ({record.verifier_name})" if record.verifier_name else ""
        texts.append(f"verified by {record.verifier_id}{name}")
    return "; ".join(texts)


def _cells(record: AuditRecord) -> list[str]:
    return [
        str(record.sequence), iso_from_us(record.timestamp_us)[:19].replace("T", " "),
        record.user_id, record.role, record.action.value, record.result.value,
        record.target_tag or record.target_address, change_text(record), _notes(record),
    ]  # fmt: skip


class _Pages:
    """Geometry and drawing of one report."""

    def __init__(self, painter: QPainter, area: QRectF, info: ReportInfo, count: int) -> None:
        self.p = painter
        self.area = area
        self.info = info
        self.count = count
        self.body = QFont("DejaVu Sans", 7)
        self.bold = QFont("DejaVu Sans", 7, QFont.Weight.Bold)
        self.title = QFont("DejaVu Sans", 15, QFont.Weight.Bold)
        self.line = QFontMetricsF(self.body, painter.device()).lineSpacing()
        self.pad = self.line * 0.25
        self.row_h = 2 * self.line + 2 * self.pad
        self.footer_h = 2 * self.line
        self.widths = [area.width() * share for _, share in _COLUMNS]
        self.header_block = 11.5 * self.line * 1.25 + 3 * self.line
        usable = area.height() - self.footer_h - self.row_h  # minus the table's header row
        self.first_rows = max(1, int((usable - self.header_block) // self.row_h))
        self.rows = max(1, int(usable // self.row_h))
        extra = max(0, count - self.first_rows)
        self.total_pages = 1 + math.ceil(extra / self.rows)
        self.page = 0
        self.y = 0.0

    def _text(self, rect: QRectF, text: str, font: QFont, flags: int) -> None:
        self.p.setFont(font)
        metrics = QFontMetricsF(font, self.p.device())
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() * 1.9)
        self.p.drawText(rect, flags, shown)

    def new_page(self, writer: QPdfWriter) -> None:
        if self.page:
            self._footer()
            writer.newPage()
        self.page += 1
        self.y = self.area.top()
        if self.page == 1:
            self._header_block()
        self._table_header()

    def _header_block(self) -> None:
        info, a = self.info, self.area
        self.p.setFont(self.title)
        title_h = QFontMetricsF(self.title, self.p.device()).lineSpacing()
        self.p.drawText(QRectF(a.left(), self.y, a.width(), title_h), "Audit trail report")
        self.y += title_h + self.line * 0.5
        period, filters = describe_filter(info.query)
        at = (info.generated_at or datetime.now(UTC)).astimezone(UTC)
        chain = (
            "not verified"
            if info.verification is None
            else describe_verification(info.verification)
        )
        head = f"#{info.head.sequence}, hash {info.head.hash}" if info.head else "—"
        lines = [
            ("Site", info.site), ("Period", period), ("Filter", filters),
            ("Generated by", info.generated_by),
            ("Generated at", at.strftime("%Y-%m-%d %H:%M:%S UTC") + f"   (hmi {__version__})"),
            ("Database", info.database), ("Chain", chain), ("Chain head", head),
            ("Records", f"{self.count:,} match the filter; oldest first"),
        ]  # fmt: skip
        label_w = a.width() * 0.12
        for label, text in lines:
            broken = label == "Chain" and info.verification is not None and not info.verification.ok
            self.p.setFont(self.bold)
            self.p.setPen(QColor("#1e1e1e"))
            self.p.drawText(QRectF(a.left(), self.y, label_w, self.line * 1.25), label)
            self.p.setFont(self.bold if broken else self.body)
            self.p.setPen(_BROKEN if broken else QColor("#1e1e1e"))
            self.p.drawText(QRectF(a.left() + label_w, self.y, a.width() - label_w,
                                   self.line * 1.25), Qt.TextFlag.TextSingleLine, text)  # fmt: skip
            self.y += self.line * 1.25
        self.p.setPen(QColor("#1e1e1e"))
        self.y += self.line

    def _row(self, cells: list[str], font: QFont, fill: QColor | None) -> None:
        x = self.area.left()
        if fill is not None:
            self.p.fillRect(QRectF(x, self.y, self.area.width(), self.row_h), fill)
        self.p.setPen(_GRID)
        bottom = self.y + self.row_h
        self.p.drawLine(QLineF(x, bottom, x + self.area.width(), bottom))
        self.p.setPen(QColor("#1e1e1e"))
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) | int(
            Qt.TextFlag.TextWordWrap
        )
        for text, width in zip(cells, self.widths, strict=True):
            cell = QRectF(x + self.pad, self.y + self.pad, width - 2 * self.pad,
                          self.row_h - 2 * self.pad)  # fmt: skip
            self._text(cell, text, font, flags)
            x += width
        self.y += self.row_h

    def _table_header(self) -> None:
        self._row([title for title, _ in _COLUMNS], self.bold, _HEAD_FILL)

    def record(self, writer: QPdfWriter, record: AuditRecord, index: int) -> None:
        """Draw the ``index``-th record (0-based), on a new page when this one is full."""
        if index >= self.first_rows and (index - self.first_rows) % self.rows == 0:
            self.new_page(writer)
        self._row(_cells(record), self.body, None)

    def empty(self) -> None:
        self.p.setFont(self.body)
        self.p.drawText(QRectF(self.area.left(), self.y + self.pad, self.area.width(), self.line),
                        "No records match this filter.")  # fmt: skip

    def _footer(self) -> None:
        a = self.area
        rect = QRectF(a.left(), a.bottom() - self.line, a.width(), self.line)
        self.p.setFont(self.body)
        self.p.setPen(QColor("#4a4a4a"))
        self.p.drawText(rect, int(Qt.AlignmentFlag.AlignLeft), f"{self.info.site} — audit trail")
        self.p.drawText(
            rect, int(Qt.AlignmentFlag.AlignRight), f"page {self.page} of {self.total_pages}"
        )
        self.p.setPen(QColor("#1e1e1e"))

    def finish(self) -> None:
        self._footer()


def write_report(
    path: Path,
    records: Iterable[AuditRecord],
    count: int,
    info: ReportInfo,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Draw the report of ``records`` (``count`` of them, oldest first) to ``path``; returns
    the number of pages."""
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Landscape,
            QMarginsF(12, 12, 12, 10), QPageLayout.Unit.Millimeter,
        )
    )  # fmt: skip
    writer.setTitle(f"Audit trail report — {info.site}")
    writer.setCreator(f"hmi {__version__}")
    painter = QPainter(writer)
    try:
        area = QRectF(writer.pageLayout().paintRectPixels(DPI))
        area.moveTo(0, 0)
        pages = _Pages(painter, area, info, count)
        pages.new_page(writer)
        written = 0
        for written, record in enumerate(records, start=1):
            pages.record(writer, record, written - 1)
            if progress is not None and written % 1000 == 0:
                progress(written, count)
        if written == 0:
            pages.empty()
        pages.finish()
        if progress is not None:
            progress(count, count)
        return pages.page
    finally:
        painter.end()


def write_store_report(
    store: AuditStore,
    path: Path,
    query: AuditQuery | None = None,
    *,
    site: str,
    generated_by: str,
    verification: VerifyResult | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, VerifyResult]:
    """Verify the whole chain (unless given), then report the records ``query`` selects;
    returns (records in the report, verification)."""
    result = verification if verification is not None else store.verify()
    head = store.head()
    query = query or AuditQuery()
    last = head.sequence if query.last_sequence is None else min(query.last_sequence, head.sequence)
    query = dataclasses.replace(query, last_sequence=last)  # a snapshot: later appends stay out
    count = store.count(query)
    info = ReportInfo(
        site=site, generated_by=generated_by, database=store.url, query=query,
        verification=result, head=head, generated_at=datetime.now(UTC),
    )  # fmt: skip
    write_report(path, store.iter_records(query), count, info, progress=progress)
    return count, result
