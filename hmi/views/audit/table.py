"""The auditor's records table: a Qt model that pages through the audit store (keyset on
sequence, newest first) as the view scrolls, so a million records open as fast as a hundred.

Pages and counts are read on worker threads and handed back by queued signals; a page that
arrives for a query no longer shown is dropped. ``canFetchMore``/``fetchMore`` are how the view
asks for the next page when it scrolls near the end.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont

from hmi.model.audit.record import AuditRecord, AuditResult
from hmi.storage.audit import AuditPage, AuditQuery, AuditStore
from hmi.storage.export import StateTexts, state_text
from hmi.views.table_model import Index, RowTableModel

__all__ = ["COLUMNS", "PAGE_SIZE", "AuditTableModel", "change_text", "local_time"]

log = logging.getLogger(__name__)

PAGE_SIZE = 200
COLUMNS = ("#", "Time (local)", "User", "Role", "Action", "Tag / target", "Change", "Result",
           "Reason / error")  # fmt: skip
_ABNORMAL = {AuditResult.DENIED, AuditResult.FAILED}
_AMBER = QColor("#ffbf00")


def local_time(record: AuditRecord) -> str:
    return record.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _worded(record: AuditRecord, value: Any, states: StateTexts | None) -> str:
    """``AUTO (1)`` for a value with a state text, else the plain value."""
    plain = _plain(value)
    text = state_text(states, record.target_tag, value)
    return f"{text} ({plain})" if text else plain


def change_text(record: AuditRecord, states: StateTexts | None = None) -> str:
    """``old → new`` (and what was read back when it differs), in the plant's words when the
    tag has states: ``MAN (0) → AUTO (1)``."""
    old, new = _plain(record.old_value), _plain(record.new_value)
    if not old and not new:
        return ""
    text = (
        f"{_worded(record, record.old_value, states) or '—'} → "
        f"{_worded(record, record.new_value, states) or '—'}"
    )
    back = _plain(record.read_back)
    if back and back != new:
        return f"{text} (read back {_worded(record, record.read_back, states)})"
    return text


def _cell(record: AuditRecord, column: int, states: StateTexts | None = None) -> str:
    if column == 0:
        return str(record.sequence)
    if column == 1:
        return local_time(record)
    if column == 2:
        return record.user_id
    if column == 3:
        return record.role
    if column == 4:
        return record.action.value
    if column == 5:
        return record.target_tag or record.target_address
    if column == 6:
        return change_text(record, states)
    if column == 7:
        return record.result.value
    texts = [record.reason, record.error]
    if record.verifier_id:
        texts.append(f"verified by {record.verifier_id}")
    return " | ".join(t for t in texts if t)


class AuditTableModel(RowTableModel[AuditRecord]):
    """Rows are records, newest first. ``set_query`` starts over with the first page."""

    loading_changed = Signal(bool)
    count_changed = Signal(object)  # int, or None while counting
    failed = Signal(str)
    _page_ready = Signal(int, object)  # generation, AuditPage (from the worker)
    _count_ready = Signal(int, int)
    _load_failed = Signal(int, str)

    def __init__(
        self,
        store: AuditStore,
        *,
        page_size: int = PAGE_SIZE,
        states: StateTexts | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(COLUMNS, parent)
        self.store = store
        self.states = states
        self.page_size = page_size
        self.query = AuditQuery()
        self.pages_fetched = 0
        self.total: int | None = None
        self._cursor: int | None = None
        self._has_more = False
        self._loading = False
        self._generation = 0
        self._pages = ThreadPoolExecutor(1, thread_name_prefix="audit-pages")
        self._counts = ThreadPoolExecutor(1, thread_name_prefix="audit-count")
        self._page_ready.connect(self._on_page)
        self._count_ready.connect(self._on_count)
        self._load_failed.connect(self._on_failed)

    # -- Qt model ------------------------------------------------------------------------------

    @property
    def records(self) -> list[AuditRecord]:
        """The records loaded so far, newest first."""
        return self.rows

    def cell(self, record: AuditRecord, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return _cell(record, column, self.states)
        if column == 7 and record.result in _ABNORMAL:
            if role == Qt.ItemDataRole.BackgroundRole:
                return _AMBER
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._has_more and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    # -- paging --------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._loading

    def record(self, row: int) -> AuditRecord | None:
        return self.row_at(row)

    def set_query(self, query: AuditQuery) -> None:
        """Show the records ``query`` selects: the first page now, more as the view scrolls;
        the count arrives separately."""
        self._generation += 1
        self.query = query
        self._cursor = None
        self.pages_fetched = 0
        self.replace_rows([])
        self._has_more = True
        self.total = None
        self.count_changed.emit(None)
        self._fetch()
        generation = self._generation
        self._counts.submit(self._count, generation, query)

    def refresh(self) -> None:
        self.set_query(self.query)

    def _fetch(self) -> None:
        self._loading = True
        self.loading_changed.emit(True)
        self._pages.submit(self._load, self._generation, self.query, self._cursor)

    def _load(self, generation: int, query: AuditQuery, cursor: int | None) -> None:
        try:
            page = self.store.page(query, cursor=cursor, limit=self.page_size)
        except Exception as exc:
            log.exception("audit page failed")
            self._load_failed.emit(generation, str(exc))
            return
        self._page_ready.emit(generation, page)

    def _count(self, generation: int, query: AuditQuery) -> None:
        if generation != self._generation:
            return
        try:
            total = self.store.count(query)
        except Exception as exc:
            log.exception("audit count failed")
            self._load_failed.emit(generation, str(exc))
            return
        self._count_ready.emit(generation, total)

    def _on_page(self, generation: int, page: AuditPage) -> None:
        if generation != self._generation:
            return
        self.append_rows(page.records)
        self.pages_fetched += 1
        self._cursor = page.next_cursor
        self._has_more = page.next_cursor is not None
        self._loading = False
        self.loading_changed.emit(False)

    def _on_count(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.total = total
            self.count_changed.emit(total)

    def _on_failed(self, generation: int, text: str) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._has_more = False
        self.loading_changed.emit(False)
        self.failed.emit(text)

    def close(self) -> None:
        """Stop the workers (after what they are doing)."""
        self._generation += 1
        self._pages.shutdown(wait=True, cancel_futures=True)
        self._counts.shutdown(wait=True, cancel_futures=True)
