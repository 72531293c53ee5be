"""The auditor's PDF report (Qt's PDF writer): the project, period, filter, who generated it
and when, an integrity statement that says what was verified, then the records, oldest first,
in a table whose header repeats on every page, a reviewer's sign-off block after the last
record, and "page n of m" in the footer.

Every cell wraps (at word boundaries, else anywhere: hashes and origins have no spaces), so
nothing is cut; rows are as tall as their tallest cell. Two passes over the records: the first
measures each row (4 bytes per record are kept), so the page count is known before the first
page is drawn; the second draws. Values of tags with ``states`` read ``MAN (0) → AUTO (1)``.
Needs a QGuiApplication (the CLI makes an offscreen one); may run on a worker thread.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QLineF, QMarginsF, QPointF, QRectF
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPageLayout,
    QPageSize,
    QPaintDevice,
    QPainter,
    QPdfWriter,
    QTextLayout,
    QTextOption,
)

from hmi import __version__
from hmi.model.audit.record import AuditRecord, iso_from_us
from hmi.model.audit.verify import VerifyResult
from hmi.storage.audit import AuditQuery, AuditStore, ChainHead
from hmi.storage.export import StateTexts, snapshot
from hmi.views.audit.integrity import describe_verification, integrity_statement
from hmi.views.audit.table import change_text

__all__ = [
    "ReportInfo",
    "describe_filter",
    "write_report",
    "write_store_report",
]

DPI = 150
_COLUMNS = (  # title, share of the width
    ("#", 0.04), ("Time (UTC)", 0.065), ("User", 0.07), ("Role", 0.055),
    ("Workstation", 0.07), ("Origin", 0.095), ("Action", 0.075), ("Result", 0.05),
    ("Tag / target", 0.085), ("Change", 0.115), ("Reason, error, signature", 0.165),
    ("Record hash", 0.115),
)  # fmt: skip
_HASH_COLUMN = len(_COLUMNS) - 1
_HASH_GROUP = 22
_GRID = QColor("#9a9a9a")
_HEAD_FILL = QColor("#d4d4d4")
_INK = QColor("#1e1e1e")
_BROKEN = QColor("#c00000")
_WRAP = QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere


@dataclass(frozen=True, slots=True)
class ReportInfo:
    site: str  # the project's name (and its site)
    generated_by: str  # "j.doe — Jane Doe (auditor)", "os:root (command line)"
    database: str
    query: AuditQuery
    verification: VerifyResult | None
    head: ChainHead | None = None
    generated_at: datetime | None = None
    checkpoint: str = ""  # what a checkpoint compared said; "" when none was compared
    states: StateTexts | None = None


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


def _cells(record: AuditRecord, states: StateTexts | None) -> list[str]:
    return [
        str(record.sequence), iso_from_us(record.timestamp_us)[:19].replace("T", " "),
        record.user_id, record.role, record.workstation, record.origin, record.action.value,
        record.result.value, record.target_tag or record.target_address,
        change_text(record, states), _notes(record), _grouped(record.hash),
    ]  # fmt: skip


def _grouped(digest: str) -> str:
    """A hash in three lines of at most 22 digits (it is read and compared in groups)."""
    return " ".join(digest[i : i + _HASH_GROUP] for i in range(0, len(digest), _HASH_GROUP))


def _layout(text: str, font: QFont, width: float, device: QPaintDevice) -> QTextLayout:
    """``text`` broken into lines of at most ``width``; its height is its bounding rect's."""
    layout = QTextLayout(text, font, device)
    option = QTextOption()
    option.setWrapMode(_WRAP)
    layout.setTextOption(option)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


class _Pages:
    """Geometry and drawing of one report."""

    def __init__(self, painter: QPainter, area: QRectF, info: ReportInfo) -> None:
        self.p = painter
        self.device = painter.device()
        self.area = area
        self.info = info
        self.body = QFont("DejaVu Sans", 7)
        self.bold = QFont("DejaVu Sans", 7, QFont.Weight.Bold)
        self.mono = QFont("DejaVu Sans Mono", 6)
        self.title = QFont("DejaVu Sans", 15, QFont.Weight.Bold)
        self.line = QFontMetricsF(self.body, self.device).lineSpacing()
        self.pad = self.line * 0.25
        self.footer_h = 2 * self.line
        self.widths = [area.width() * share for _, share in _COLUMNS]
        self.label_w = area.width() * 0.1
        self.header_h = self.row_height([title for title, _ in _COLUMNS], self.bold)
        self.signoff_h = 9 * self.line
        self.page = 0
        self.total_pages = 1
        self.y = 0.0

    # -- measuring -----------------------------------------------------------------------------

    def _font(self, column: int, font: QFont) -> QFont:
        return self.mono if column == _HASH_COLUMN and font is self.body else font

    def row_height(self, cells: list[str], font: QFont) -> float:
        tallest = self.line
        for column, (text, width) in enumerate(zip(cells, self.widths, strict=True)):
            if text:
                layout = _layout(text, self._font(column, font), width - 2 * self.pad, self.device)
                tallest = max(tallest, layout.boundingRect().height())
        return tallest + 2 * self.pad

    def _pairs(self, count: int, first: int | None, last: int | None) -> list[tuple[str, str]]:
        info = self.info
        period, filters = describe_filter(info.query)
        at = (info.generated_at or datetime.now(UTC)).astimezone(UTC)
        chain = "not verified" if info.verification is None else describe_verification(
            info.verification
        )  # fmt: skip
        span = f", #{first} to #{last}" if count and first is not None else ""
        return [
            ("Site", info.site), ("Period", period), ("Filter", filters),
            ("Generated by", info.generated_by),
            ("Generated at", at.strftime("%Y-%m-%d %H:%M:%S UTC") + f"   (hmi {__version__})"),
            ("Database", info.database), ("Chain", chain),
            *integrity_statement(info.verification, info.head, info.checkpoint),
            ("Records", f"{count:,} match the filter{span}, up to the head above (a "
             "snapshot: records appended after it are not in this report); oldest first"),
        ]  # fmt: skip

    def _pair_height(self, text: str) -> float:
        layout = _layout(text, self.body, self.area.width() - self.label_w, self.device)
        return max(self.line, layout.boundingRect().height()) + self.line * 0.25

    def plan(self, heights: array[float], count: int, first: int | None, last: int | None) -> None:
        """Where each page starts (record indexes), the sign-off's place included."""
        self.pairs = self._pairs(count, first, last)
        title_h = QFontMetricsF(self.title, self.device).lineSpacing()
        block = title_h + self.line * 1.5 + sum(self._pair_height(t) for _, t in self.pairs)
        room = self.area.height() - self.footer_h
        self.starts: list[int] = [0]
        used, rows = block + self.header_h, 0
        for index, height in enumerate(heights):
            if rows and used + height > room:
                self.starts.append(index)
                used, rows = self.header_h, 0
            used += height
            rows += 1
        self.signoff_new_page = used + self.line + self.signoff_h > room
        self.total_pages = len(self.starts) + (1 if self.signoff_new_page else 0)

    # -- drawing -------------------------------------------------------------------------------

    def new_page(self, writer: QPdfWriter, *, table: bool = True) -> None:
        if self.page:
            self._footer()
            writer.newPage()
        self.page += 1
        self.y = self.area.top()
        if self.page == 1:
            self._header_block()
        if table:
            self._row([title for title, _ in _COLUMNS], self.bold, _HEAD_FILL, self.header_h)

    def _draw(self, text: str, font: QFont, x: float, width: float, color: QColor) -> float:
        layout = _layout(text, font, width, self.device)
        self.p.setPen(color)
        layout.draw(self.p, QPointF(x, self.y))
        return layout.boundingRect().height()

    def _header_block(self) -> None:
        a = self.area
        self.p.setFont(self.title)
        title_h = QFontMetricsF(self.title, self.device).lineSpacing()
        self._draw("Audit trail report", self.title, a.left(), a.width(), _INK)
        self.y += title_h + self.line * 0.5
        result = self.info.verification
        broken = result is not None and not result.ok
        for label, text in self.pairs:
            alarm = broken and label in ("Chain", "Verified")
            self._draw(label, self.bold, a.left(), self.label_w, _INK)
            height = self._draw(
                text, self.bold if alarm else self.body, a.left() + self.label_w,
                a.width() - self.label_w, _BROKEN if alarm else _INK,
            )  # fmt: skip
            self.y += max(self.line, height) + self.line * 0.25
        self.y += self.line

    def _row(self, cells: list[str], font: QFont, fill: QColor | None, height: float) -> None:
        x = self.area.left()
        if fill is not None:
            self.p.fillRect(QRectF(x, self.y, self.area.width(), height), fill)
        self.p.setPen(_GRID)
        bottom = self.y + height
        self.p.drawLine(QLineF(x, bottom, x + self.area.width(), bottom))
        top = self.y
        self.y += self.pad
        for column, (text, width) in enumerate(zip(cells, self.widths, strict=True)):
            if text:
                self._draw(text, self._font(column, font), x + self.pad, width - 2 * self.pad, _INK)
            x += width
        self.y = top + height

    def record(self, writer: QPdfWriter, record: AuditRecord, index: int, height: float) -> None:
        """Draw the ``index``-th record (0-based), on a new page where the plan says."""
        if index and index in self._start_set:
            self.new_page(writer)
        self._row(_cells(record, self.info.states), self.body, None, height)

    def begin(self, writer: QPdfWriter) -> None:
        self._start_set = set(self.starts)
        self.new_page(writer)

    def empty(self) -> None:
        self._draw("No records match this filter.", self.body, self.area.left(),
                   self.area.width(), _INK)  # fmt: skip
        self.y += self.line * 1.5

    def signoff(self, writer: QPdfWriter, count: int, first: int | None, last: int | None) -> None:
        """The reviewer's block: who reviewed the listed records, their signature and date."""
        if self.signoff_new_page:
            self.new_page(writer, table=False)
        a = self.area
        self.y += self.line
        self._draw("Review and sign-off", self.bold, a.left(), a.width(), _INK)
        self.y += self.line * 1.4
        span = f"records #{first} to #{last}" if count and first is not None else "no records"
        self._draw(
            f"I have reviewed the {count:,} record(s) of this report ({span}) and its "
            "integrity statement.", self.body, a.left(), a.width(), _INK,
        )  # fmt: skip
        self.y += self.line * 1.6
        boxes = (("Reviewer (name, role)", 0.3), ("Signature", 0.25), ("Date", 0.13),
                 ("Findings / comments", 0.32))  # fmt: skip
        x, box_h = a.left(), self.line * 4.5
        self.p.setPen(_GRID)
        for label, share in boxes:
            rect = QRectF(x, self.y, a.width() * share, box_h)
            self.p.drawRect(rect)
            self._draw(label, self.body, x + self.pad, rect.width() - 2 * self.pad, _INK)
            self.p.setPen(_GRID)
            x += rect.width()
        self.y += box_h

    def _footer(self) -> None:
        a = self.area
        top = a.bottom() - self.line
        saved, self.y = self.y, top
        left = f"{self.info.site} — audit trail"
        self._draw(left, self.body, a.left(), a.width() * 0.7, QColor("#4a4a4a"))
        page = f"page {self.page} of {self.total_pages}"
        width = QFontMetricsF(self.body, self.device).horizontalAdvance(page) + 2
        self._draw(page, self.body, a.right() - width, width, QColor("#4a4a4a"))
        self.y = saved

    def finish(self) -> None:
        self._footer()


def write_report(
    path: Path,
    records: Callable[[], Iterable[AuditRecord]],
    count: int,
    info: ReportInfo,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Draw the report of the records ``records()`` yields (``count`` of them, oldest first;
    called twice: to measure, then to draw) to ``path``; returns the number of pages."""
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
        pages = _Pages(painter, area, info)
        heights: array[float] = array("f")
        first: int | None = None
        last: int | None = None
        for record in records():
            heights.append(pages.row_height(_cells(record, info.states), pages.body))
            first = record.sequence if first is None else first
            last = record.sequence
        pages.plan(heights, len(heights), first, last)
        pages.begin(writer)
        written = 0
        for written, record in enumerate(records(), start=1):
            if written > len(heights):
                break  # a snapshot: nothing was appended inside it, but never draw unmeasured
            pages.record(writer, record, written - 1, heights[written - 1])
            if progress is not None and written % 1000 == 0:
                progress(written, count)
        if written == 0:
            pages.empty()
        pages.signoff(writer, len(heights), first, last)
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
    states: StateTexts | None = None,
    checkpoint: str = "",
) -> tuple[int, VerifyResult]:
    """Read the chain head once, verify the chain up to it (a ``verification`` given that
    ended exactly there is used as it is), then report the records ``query`` selects up to
    that head; returns (records in the report, verification). ``site`` is the project's
    name; ``checkpoint`` what comparing the chain with a kept checkpoint showed ("" for none)."""
    head, _, query = snapshot(store, query, verify=False)
    fits = verification is not None and (verification.last_sequence or 0) == head.sequence
    result = verification if fits and verification is not None else store.verify(at=head)
    count = store.count(query)
    info = ReportInfo(
        site=site, generated_by=generated_by, database=store.url, query=query,
        verification=result, head=head, generated_at=datetime.now(UTC), states=states,
        checkpoint=checkpoint,
    )  # fmt: skip
    write_report(path, lambda: store.iter_records(query), count, info, progress=progress)
    return count, result
