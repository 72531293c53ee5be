"""Search again on the history's first page reads only the events stored since and merges them
in: checked against a full read of the journal (SQLite) after random appends (times in and out
of order, from two stations, more than a page at once), with the selection kept and no reset;
and the cell texts the tables' delegates draw, laid out once, stay in their cells."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from pytestqt.qtbot import QtBot

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.storage.alarm_journal import AlarmJournal, AlarmQuery
from hmi.views.alarms.history import AlarmHistoryView, qt_time
from hmi.views.cell_text import CellTexts

US = 1_000_000
T0 = 1_700_000_400 * US
PAGE = 12


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[AlarmJournal]:
    journal = AlarmJournal.open(f"sqlite:///{tmp_path}/hmi.sqlite")
    yield journal
    journal.close()


def ev(t: int, n: int, station: str = "ST-01") -> JournalEvent:
    return JournalEvent(t, f"A{n:04d}.Hi", f"A{n:04d}", Priority.HIGH, AlarmState.NORMAL,
                        AlarmState.UNACK, AlarmAction.ACTIVATE, value="1.0",
                        message=f"A{n:04d} high", workstation=station, sequence=n)  # fmt: skip


def wait(qtbot: QtBot, task: asyncio.Task[Any] | None) -> None:
    assert task is not None
    qtbot.waitUntil(task.done, timeout=5000)
    task.result()


def view_moment(us: int) -> datetime:
    return datetime.fromtimestamp(us / US, UTC)


def keys(events: list[JournalEvent]) -> list[int | None]:
    return [e.id for e in events]


def test_search_again_merges_what_was_stored_since_as_a_full_read_would_show_it(
    qtbot: QtBot, qloop: Any, journal: AlarmJournal
) -> None:
    rng = random.Random(20)
    journal.append_many([ev(T0 + i * US, i) for i in range(30)])
    view = AlarmHistoryView(journal, page_size=PAGE)
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.since.setDateTime(qt_time(view_moment(T0 - 60 * US)))
    view.until.setDateTime(qt_time(view_moment(T0 + 7200 * US)))
    view.show()
    wait(qtbot, view.search())
    resets: list[int] = []
    view.model.modelReset.connect(lambda: resets.append(1))
    n = 30
    for round_ in range(40):
        chosen = view.model.events[rng.randrange(len(view.model.events))]
        view.table.selectRow(view.model.events.index(chosen))
        fresh = []
        for _ in range(rng.choice((0, 1, 3, 5, PAGE + 3) if round_ % 10 else (PAGE * 2,))):
            # mostly newer than the page; some late (older times), some at equal times
            late = rng.random() < 0.3
            t = T0 + (rng.randrange(0, 30 + n) if late else n + rng.randrange(0, 3)) * US
            fresh.append(ev(t, n, rng.choice(("ST-01", "ST-02"))))
            n += 1
        journal.append_many(fresh)
        before = len(resets)
        wait(qtbot, view.search())
        full = journal.page(view.query, limit=PAGE)
        assert keys(view.model.events) == keys(full.events), f"round {round_}"
        assert view.model.events == full.events
        assert view.older_button.isEnabled() == (full.next_cursor is not None)
        assert view.page_label.text() == f"Page 1: {len(full.events)} event(s), newest first"
        rows = view.table.selectionModel().selectedRows()
        if chosen in view.model.events:  # still on the page: still selected, and only it
            assert [view.model.events[r.row()] for r in rows] == [chosen]
            assert len(resets) == before  # rows inserted and removed, no reset
        cells = [view.model.index(0, c).data() for c in (2, 11)]
        assert cells == [full.events[0].alarm_id, full.events[0].workstation]
    newest = max(e.id or 0 for e in view.model.events)
    assert journal.count(AlarmQuery(after_id=newest)) == 0  # after_id: what a refresh reads
    assert journal.count(AlarmQuery(after_id=newest - 2)) == 2


def test_other_filters_or_another_page_read_again_in_full(
    qtbot: QtBot, qloop: Any, journal: AlarmJournal
) -> None:
    journal.append_many([ev(T0 + i * US, i) for i in range(30)])
    view = AlarmHistoryView(journal, page_size=PAGE)
    qtbot.addWidget(view)
    view.since.setDateTime(qt_time(view_moment(T0 - 60 * US)))
    view.show()
    wait(qtbot, view.search())
    wait(qtbot, view.older())
    journal.append_many([ev(T0 + 100 * US, 100)])
    wait(qtbot, view.search())  # from page 2: the first page, read in full
    assert keys(view.model.events) == keys(journal.page(view.query, limit=PAGE).events)
    view.table.selectionModel().select(
        view.model.index(3, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    view.tag.setText("A001*")  # another query: a reset, the new filter applied
    wait(qtbot, view.search())
    assert [e.tag for e in view.model.events] == [f"A{i:04d}" for i in range(19, 9, -1)]
    assert not view.table.selectionModel().selectedRows()


def test_cell_texts_stay_in_their_room_elided_or_wrapped(qapp: Any) -> None:
    image = QImage(400, 200, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    font = QFont()
    cells = CellTexts()
    text = "Area07.Tank12.Level.Transmitter very long name"
    with_painter(image, lambda p: cells.draw(p, QRect(10, 10, 80, 20), text, font))
    with_painter(
        image,
        lambda p: cells.draw(p, QRect(10, 60, 120, 120), text * 3, font, wrap=True),
    )
    inked = [(x, y) for x in range(400) for y in range(200) if image.pixelColor(x, y).value() < 128]
    assert inked, "nothing drawn"
    first = [(x, y) for x, y in inked if y < 40]
    assert first and all(10 <= x < 90 and 10 <= y < 30 for x, y in first)  # elided in its room
    second = [(x, y) for x, y in inked if y >= 40]
    assert all(10 <= x < 130 for x, _ in second)  # wrapped to the room's width
    assert max(y for _, y in second) - min(y for _, y in second) > 40  # on several lines
    right = QImage(200, 40, QImage.Format.Format_ARGB32)
    right.fill(QColor("white"))
    with_painter(right, lambda p: cells.draw(p, QRect(0, 0, 190, 40), "42.0", font, right=True))
    xs = [x for x in range(200) for y in range(40) if right.pixelColor(x, y).value() < 128]
    assert 160 < max(xs) < 190 and min(xs) > 100  # right-aligned


def with_painter(image: QImage, draw: Any) -> None:
    painter = QPainter(image)
    painter.setPen(Qt.GlobalColor.black)
    try:
        draw(painter)
    finally:
        painter.end()
