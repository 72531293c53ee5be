"""The alarm history: journalled alarm events, filtered by time range, priority, tag (``*``
wildcards), action, resulting state and text, a page at a time, newest first. Queries run on a
worker thread, so a slow central database never freezes the station."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import QDateTime, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.tags import TagConfig
from hmi.storage.alarm_journal import AlarmQuery, JournalCursor, JournalPage
from hmi.views.alarms.history_table import (
    COLUMNS,
    ICON_PX,
    MESSAGE,
    PAD,
    PRIORITY,
    AlarmHistoryModel,
    HistoryDelegate,
    value_shown,
)
from hmi.views.cell_table import CellTableView
from hmi.widgets.theme.chrome import wear_sheet

__all__ = [
    "COLUMNS",
    "AlarmHistoryModel",
    "AlarmHistoryView",
    "JournalReader",
    "aware",
    "qt_time",
    "value_shown",
]

log = logging.getLogger(__name__)

_ANY = "Any"
MESSAGE_MIN = 320  # px the message keeps, before other columns are cut back (elided)
WHOLE = frozenset(COLUMNS.index(name) for name in ("Time", "Priority", "Action", "From", "To"))
"""Columns never cut back: when an event happened and what it did are read whole (a time
elided in its middle, "2026-12-…:39.123", says neither the day nor the minute)."""


class JournalReader(Protocol):
    """``hmi.storage.alarm_journal.AlarmJournal`` as the history reads it (blocking)."""

    def page(
        self,
        query: AlarmQuery = ...,
        *,
        cursor: JournalCursor | None = None,
        limit: int = 200,
        newest_first: bool = True,
    ) -> JournalPage: ...


def aware(value: QDateTime) -> datetime:
    """A date-time edit's value as an aware datetime."""
    return datetime.fromtimestamp(value.toMSecsSinceEpoch() / 1000, UTC)


def qt_time(moment: datetime) -> QDateTime:
    """An aware (or naive local) datetime for a date-time edit."""
    return QDateTime.fromMSecsSinceEpoch(round(moment.timestamp() * 1000))


def _cap(widths: list[int], room: int, least: int = 48) -> int:
    """The largest width ``cap`` (at least ``least``) with ``sum(min(w, cap)) <= room``."""
    lo, hi = least, max(widths)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(w, mid) for w in widths) <= room:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _combo(parent: QWidget, name: str, items: list[str]) -> QComboBox:
    box = QComboBox(parent)
    box.setObjectName(name)
    box.addItems([_ANY, *items])
    return box


class AlarmHistoryView(QWidget):
    loaded = Signal(int)  # events on the page now shown
    failed = Signal(str)

    def __init__(
        self,
        journal: JournalReader,
        *,
        tags: Mapping[str, TagConfig] | None = None,
        page_size: int = 200,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        wear_sheet(self)  # a window of the station (also shown on its own)
        self.setObjectName("AlarmHistory")
        self.journal = journal
        self.page_size = page_size
        self.query = AlarmQuery()
        self._cursors: list[JournalCursor | None] = [None]  # where each page shown began
        self._next: JournalCursor | None = None
        self._task: asyncio.Task[None] | None = None
        self.model = AlarmHistoryModel(self, tags=tags)
        self._searched = False
        self._current = False  # the page shown is the first of ``query``, as last read
        self._seen = 0  # the newest journal row id read for it
        self._fitting = False
        self._widths: dict[int, int] = {}  # by column: the widest it has been made
        self._advances: dict[str, int] = {}
        self._build()

    def showEvent(self, event: QShowEvent) -> None:
        """Opens on the last 24 hours, already searched: an empty table until Search reads
        as "no alarms"."""
        super().showEvent(event)
        if not self._searched:
            self.search()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        now = QDateTime.currentDateTime()
        self.since = QDateTimeEdit(now.addDays(-1), self)
        self.until = QDateTimeEdit(now.addSecs(3600), self)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.priority = _combo(self, "AlarmHistoryPriority", [p.value for p in Priority])
        self.action = _combo(self, "AlarmHistoryAction", [a.value for a in AlarmAction])
        self.state = _combo(self, "AlarmHistoryState", [s.value for s in AlarmState])
        self.tag = QLineEdit(self)
        self.tag.setPlaceholderText("tag, e.g. Tank*")
        self.text = QLineEdit(self)
        self.text.setPlaceholderText("text in message, comment, user")
        for edit in (self.tag, self.text):  # the hint says what to type: never elided
            edit.ensurePolished()
            hint = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
            edit.setMinimumWidth(hint + 16)
        for label, widget in (("From", self.since), ("to", self.until),
                              ("Priority", self.priority), ("Action", self.action),
                              ("State", self.state)):  # fmt: skip
            bar.addWidget(QLabel(label, self))
            bar.addWidget(widget)
        bar.addWidget(self.tag, 1)
        bar.addWidget(self.text, 1)
        self.search_button = self._button("Search", self.search)
        bar.addWidget(self.search_button)
        column.addLayout(bar)
        self.table = CellTableView(self)
        self.table.setObjectName("AlarmHistoryTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(ICON_PX, ICON_PX))
        self.delegate = HistoryDelegate(self.model, self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.cell_painter = self.delegate  # one call paints the page
        # The message wraps in its column (rows grow to fit) instead of being cut. Column
        # widths (_fit_columns) and row heights (_fit_rows) are measured from the page's texts,
        # once per page: Qt's ResizeToContents measured every cell again whenever asked,
        # 100 ms and more a page in a flood. Columns only widen while the view is open, so a
        # new page does not make the table jump.
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a tag's both ends tell
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        header.sectionResized.connect(self._on_column_resized)
        self.model.modelReset.connect(self._fit_page)
        self.model.rowsInserted.connect(self._fit_inserted)
        column.addWidget(self.table, 1)
        pager = QHBoxLayout()
        self.newer_button = self._button("◀ Newer", self.newer)
        self.older_button = self._button("Older ▶", self.older)
        self.page_label = QLabel("", self)
        self.page_label.setObjectName("AlarmHistoryPage")
        pager.addWidget(self.newer_button)
        pager.addWidget(self.older_button)
        pager.addWidget(self.page_label, 1)
        column.addLayout(pager)
        self._pager()

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName("AlarmHistoryButton")
        button.clicked.connect(slot)
        return button

    def filters(self) -> AlarmQuery:
        """The query the filter fields describe (local times from the edits)."""

        def chosen(box: QComboBox) -> str | None:
            return None if box.currentText() == _ANY else box.currentText()

        priority, action, state = chosen(self.priority), chosen(self.action), chosen(self.state)
        return AlarmQuery(
            since=aware(self.since.dateTime()),
            until=aware(self.until.dateTime()) + timedelta(seconds=59.999999),
            priorities=(Priority(priority),) if priority else (),
            actions=(AlarmAction(action),) if action else (),
            states=(AlarmState(state),) if state else (),
            tag=self.tag.text().strip() or None,
            text=self.text.text().strip() or None,
        )

    def search(self) -> asyncio.Task[None]:
        """Run the query from the first (newest) page. The same query again while its first
        page is shown (Search pressed again, a periodic refresh) reads only the events stored
        since and merges them in: the rows shown stay, and stay selected."""
        self._searched = True
        query = self.filters()
        refresh = self._current and query == self.query and self._cursors == [None]
        self.query = query
        self._cursors = [None]
        return self._load(refresh=refresh)

    def older(self) -> asyncio.Task[None] | None:
        if self._next is None:
            return None
        self._cursors.append(self._next)
        return self._load()

    def newer(self) -> asyncio.Task[None] | None:
        if len(self._cursors) < 2:
            return None
        self._cursors.pop()
        return self._load()

    def _load(self, *, refresh: bool = False) -> asyncio.Task[None]:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._current = False  # until this load has answered
        fetch = self._refresh() if refresh else self._fetch(self._cursors[-1])
        self._task = asyncio.get_event_loop().create_task(fetch)
        return self._task

    async def _read(self, query: AlarmQuery, cursor: JournalCursor | None) -> JournalPage | None:
        try:
            return await asyncio.to_thread(
                self.journal.page, query, cursor=cursor, limit=self.page_size
            )
        except Exception as exc:
            log.warning("alarm history query failed: %s", exc)
            self.page_label.setText(f"The alarm journal cannot be read: {exc}")
            self.failed.emit(str(exc))
            self._pager()
            return None

    async def _fetch(self, cursor: JournalCursor | None) -> None:
        self.page_label.setText("Searching…")
        for button in (self.newer_button, self.older_button):
            button.setEnabled(False)
        page = await self._read(self.query, cursor)
        if page is None:
            return
        self._next = page.next_cursor
        self._seen = max((e.id or 0 for e in page.events), default=0)
        self._current = cursor is None
        self.model.replace_rows(page.events)
        self._pager()
        self.loaded.emit(len(page.events))

    async def _refresh(self) -> None:
        """The first page brought up to date: the newest ``page_size`` events stored after
        the last one read, merged into the rows shown (the page stays the newest
        ``page_size`` of the query, as a new search would read it)."""
        seen = self._seen
        page = await self._read(replace(self.query, after_id=seen), None)
        if page is None:
            return
        cut = self.model.merge_newer(page.events, self.page_size)
        events = self.model.events
        if events and (self._next is not None or cut or page.next_cursor is not None):
            self._next = (events[-1].time_us, events[-1].id or 0)
        self._seen = max((e.id or 0 for e in page.events), default=seen)
        self._current = True
        self._pager()
        self.loaded.emit(len(events))

    def _on_column_resized(self, index: int, _old: int, _new: int) -> None:
        if index == MESSAGE and not self._fitting:
            self._fit_rows(range(self.model.rowCount()))

    def _fit_page(self) -> None:
        self._fit(range(self.model.rowCount()))

    def _fit_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._fit(range(first, last + 1))

    def _fit(self, rows: range) -> None:
        """Columns and rows fitted to the texts of ``rows`` (the page, or the rows just
        inserted); every row again only if the message's column changed width."""
        message = self.table.columnWidth(MESSAGE)
        self._fitting = True
        try:
            self._fit_columns(rows)
        finally:
            self._fitting = False
        if self.table.columnWidth(MESSAGE) != message:
            rows = range(self.model.rowCount())
        self._fit_rows(rows)

    def _fit_columns(self, rows: range) -> None:
        """Every column but the message as wide as its widest text in ``rows`` and its title
        (never narrower than before, so paging and new rows do not make the table jump), the
        widest ones cut back where the message would get less than ``MESSAGE_MIN`` px (their
        texts elided, in full in the tooltip)."""
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        texts = [self.model.texts(row) for row in rows]
        widths = self._advances  # a text's width, kept: states, users, stations repeat
        if len(widths) > 20_000:
            widths.clear()

        def advance(text: str) -> int:
            width = widths.get(text)
            if width is None:
                width = widths[text] = metrics.horizontalAdvance(text)
            return width

        title = header.fontMetrics().horizontalAdvance
        wanted: dict[int, int] = {}
        for column, name in enumerate(COLUMNS):
            if column == MESSAGE:
                continue
            distinct = {row[column] for row in texts if row[column]}
            widest = max(map(advance, distinct), default=0)
            if column == PRIORITY:
                widest += self.table.iconSize().width() + 4
            fit = max(widest, title(name) + 8) + 12  # the cell's margins
            wanted[column] = max(fit, self._widths.get(column, 0))
        self._widths = dict(wanted)
        room = self.table.viewport().width() - MESSAGE_MIN
        if sum(wanted.values()) > room:  # the widest of the columns that may be cut share it
            kept = sum(w for c, w in wanted.items() if c in WHOLE)
            cap = _cap([w for c, w in wanted.items() if c not in WHOLE], room - kept)
            wanted = {c: w if c in WHOLE else min(w, cap) for c, w in wanted.items()}
        for column, width in wanted.items():
            if header.sectionSize(column) != width:
                header.resizeSection(column, width)

    def _fit_rows(self, rows: range) -> None:
        """Each of ``rows`` as tall as its wrapped message (at least one line); only messages
        longer than their column are wrapped to be measured."""
        metrics = self.table.fontMetrics()
        width = max(20, self.table.columnWidth(MESSAGE) - 2 * PAD)
        line = metrics.height() + 6
        font = self.table.font()
        vertical = self.table.verticalHeader()
        vertical.setDefaultSectionSize(line)
        for row in rows:
            text = self.model.texts(row)[MESSAGE] or ""
            if metrics.horizontalAdvance(text) <= width:
                if vertical.sectionSize(row) != line:
                    vertical.resizeSection(row, line)
                continue
            height = self.delegate.cells.height(text, width, font) + 6  # as it is drawn
            vertical.resizeSection(row, max(line, height))

    def _pager(self) -> None:
        shown = len(self.model.events)
        number = len(self._cursors)
        self.page_label.setText(
            f"Page {number}: {shown} event(s), newest first"
            if shown
            else "No alarm events match these filters"
        )
        self.newer_button.setEnabled(number > 1)
        self.older_button.setEnabled(self._next is not None)
