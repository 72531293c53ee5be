"""The alarm history and KPI views on a real journal (SQLite): filters, paging newest first,
and the KPIs of a range with a flood, a chattering alarm and a stale one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, QRect, Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import JournalEvent
from hmi.model.alarms.states import AlarmAction, AlarmState
from hmi.model.audit.record import us_from_datetime
from hmi.model.tags import TagConfig
from hmi.storage.alarm_journal import AlarmJournal
from hmi.views.alarms.history import COLUMNS, AlarmHistoryView, qt_time
from hmi.views.alarms.kpis import AlarmKpiView
from tests.views.text_fit import cut_texts

A, S, P = AlarmAction, AlarmState, Priority
US = 1_000_000
T0 = 1_700_000_400 * US
MIN = 60 * US


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[AlarmJournal]:
    journal = AlarmJournal.open(f"sqlite:///{tmp_path}/hmi.sqlite")
    yield journal
    journal.close()


def ev(t: int, alarm: str, action: AlarmAction = A.ACTIVATE, **kw: Any) -> JournalEvent:
    fields: dict[str, Any] = {
        "from_state": S.NORMAL, "to_state": S.UNACK, "priority": P.HIGH,
        "workstation": "ST-01", "message": f"{alarm} message", "value": "1.5",
    }  # fmt: skip
    fields.update(kw)
    return JournalEvent(t, alarm, alarm.split(".")[0], action=action, **fields)


def wait(qtbot: QtBot, task: asyncio.Task[Any] | None) -> None:
    assert task is not None
    qtbot.waitUntil(task.done, timeout=5000)
    task.result()


def moment(us: int) -> datetime:
    return datetime.fromtimestamp(us / US, UTC)


def test_history_filters_and_pages_newest_first(
    qtbot: QtBot, qloop: Any, journal: AlarmJournal
) -> None:
    events = [ev(T0 + i * MIN, f"Tank{i % 2}.Hi", priority=(P.HIGH, P.LOW)[i % 2])
              for i in range(25)]  # fmt: skip
    events.append(ev(T0 + 3 * MIN, "Tank0.Hi", A.ACKNOWLEDGE, from_state=S.UNACK,
                     to_state=S.ACKED, user="olga", comment="seen it"))  # fmt: skip
    journal.append_many(events)
    view = AlarmHistoryView(journal, page_size=10)
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.show()
    view.since.setDateTime(qt_time(moment(T0 - MIN)))
    view.until.setDateTime(qt_time(moment(T0 + 60 * MIN)))
    wait(qtbot, view.search())
    assert view.model.rowCount() == 10
    first = [e.time_us for e in view.model.events]
    assert first == sorted(first, reverse=True) and first[0] == T0 + 24 * MIN
    assert view.page_label.text() == "Page 1: 10 event(s), newest first"
    assert not view.newer_button.isEnabled() and view.older_button.isEnabled()
    wait(qtbot, view.older())
    wait(qtbot, view.older())
    assert view.model.rowCount() == 6 and not view.older_button.isEnabled()
    wait(qtbot, view.newer())
    assert view.model.events[0].time_us == T0 + 14 * MIN

    view.priority.setCurrentText("low")
    view.tag.setText("Tank*")
    wait(qtbot, view.search())
    assert {e.priority for e in view.model.events} == {P.LOW} and view.model.rowCount() == 10
    view.priority.setCurrentText("Any")
    view.action.setCurrentText("acknowledge")
    wait(qtbot, view.search())
    [ack] = view.model.events
    row = [view.model.index(0, c).data() for c in range(view.model.columnCount())]
    assert row[2:] == ["Tank0.Hi", "Tank0", "acknowledge", "unack", "acked", "1.5",
                       "Tank0.Hi message", "olga", "seen it", "ST-01"]  # fmt: skip
    view.action.setCurrentText("Any")
    view.state.setCurrentText("acked")
    view.text.setText("SEEN")
    wait(qtbot, view.search())
    assert view.model.events == [ack]


def test_kpi_view_shows_load_bad_actors_chattering_and_stale(
    qtbot: QtBot, qloop: Any, journal: AlarmJournal
) -> None:
    events = [ev(T0 + i * 10 * US, f"Flood{i % 4}.A") for i in range(14)]  # one flood period
    events += [ev(T0 + 20 * MIN + i * 5 * US, "Chat.A") for i in range(4)]
    events.append(ev(T0 - 30 * 3600 * US, "Stale.A", priority=P.CRITICAL))
    journal.append_many(events)
    view = AlarmKpiView(journal)
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    view.set_range(moment(T0), moment(T0 + 60 * MIN))
    assert view.range.currentText() == "Custom"
    with qtbot.waitSignal(view.computed, timeout=5000):
        view.compute()
    kpis = view.kpis
    assert kpis is not None and kpis.activations == 18
    cells = [view.load.item(0, c).text() for c in range(view.load.columnCount())]
    assert cells == ["ST-01", "18", "3.00", "14", "1", "16.7%"]
    assert view.actors.item(0, 0).text() == "Chat.A" and view.actors.item(0, 3).text() == "4"
    assert view.chatter.rowCount() == 1 and view.chatter.item(0, 2).text() == "4"
    assert view.stale.item(0, 0).text() == "Stale.A" and view.stale.item(0, 4).text() == "1.3 d"
    assert "18 activation(s)" in view.summary.text()
    view.range.setCurrentText("Last 7 days")
    assert not view.since.isEnabled()
    assert view.until.dateTime().secsTo(QDateTime.currentDateTime()) < 5


LONG = ("Raw-water tank T1 level high: the inlet valve XV101 should have closed at 80 %; "
        "check the fill control and the level transmitter LT101")  # fmt: skip


def test_history_and_kpis_open_on_the_last_24_hours_in_the_tags_format(
    qtbot: QtBot, qloop: Any, journal: AlarmJournal
) -> None:
    """Opened, the history lists the last day's events without a Search and the KPIs are
    computed without a Compute; values read as the tag's screens show them (format, units,
    state text), and a long message wraps in its row instead of being cut."""
    now = us_from_datetime(datetime.now(UTC))
    journal.append_many([
        ev(now - 3600 * US, "T1.Level.Hi", value=62.283910654347615, message=LONG),
        ev(now - 1800 * US, "XV101.Auto.Off", value=False, message="fill control in manual"),
        ev(now - 30 * 3600 * US, "Old.A"),  # before the last 24 h
    ])  # fmt: skip
    tags = {
        "T1": TagConfig(name="T1", address="local://t1", units="%", format=".1f"),
        "XV101": TagConfig(name="XV101", address="local://xv", datatype="bool",
                           states={0: "MANUAL", 1: "AUTO"}),
    }  # fmt: skip
    view = AlarmHistoryView(journal, tags=tags)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    with qtbot.waitSignal(view.loaded, timeout=5000) as loaded:
        view.show()
    assert loaded.args == [2]
    assert [e.alarm_id for e in view.model.events] == ["XV101.Auto.Off", "T1.Level.Hi"]
    value = COLUMNS.index("Value")
    assert [view.model.index(r, value).data() for r in range(2)] == ["MANUAL", "62.3 %"]
    assert cut_texts(view) == []  # the filters' hints too ("tag, e.g. Ta…")

    table = view.table
    qtbot.waitUntil(lambda: table.rowHeight(1) > table.rowHeight(0))  # the long one wrapped
    message = COLUMNS.index("Message")
    metrics = QFontMetrics(table.font())
    width = table.columnWidth(message) - 8  # the cell's margins
    need = metrics.boundingRect(QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), LONG)
    assert need.height() <= table.rowHeight(1)
    assert table.columnWidth(message) < metrics.horizontalAdvance(LONG)  # so it had to wrap

    kpis = AlarmKpiView(journal)
    qtbot.addWidget(kpis)
    kpis.resize(1100, 600)
    with qtbot.waitSignal(kpis.computed, timeout=5000):
        kpis.show()
    assert kpis.range.currentText() == "Last 24 hours"
    assert kpis.kpis is not None and kpis.kpis.activations == 2
    assert "2 activation(s)" in kpis.summary.text()
    assert cut_texts(kpis) == []
    for table in (kpis.load, kpis.actors, kpis.chatter, kpis.stale):  # every column in view
        qtbot.waitUntil(lambda t=table: t.horizontalHeader().length() <= t.viewport().width())


def test_a_narrow_history_cuts_names_never_the_time_or_what_happened(
    qtbot: QtBot, qloop: Any, journal: AlarmJournal
) -> None:
    """At 900 px the columns do not all fit beside the message: the long names (alarm, tag,
    comment) are cut back and elided; the time, priority, action and states stay whole."""
    now = us_from_datetime(datetime.now(UTC))
    long_name = "Treated.T2.Level.HiHi.ConsumerDemandOverflowAlarm"
    journal.append_many([
        ev(now - 60 * US, long_name, A.ACKNOWLEDGE, from_state=S.UNACK, to_state=S.ACKED,
           user="operator-with-a-long-directory-name", comment="called the shift lead " * 4),
        ev(now - 120 * US, long_name),
    ])  # fmt: skip
    view = AlarmHistoryView(journal)
    qtbot.addWidget(view)
    view.resize(900, 500)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.show()
    table, metrics = view.table, QFontMetrics(view.table.font())
    texts = [view.model.texts(row) for row in range(2)]
    for name in ("Time", "Action", "From", "To"):
        column = COLUMNS.index(name)
        widest = max(metrics.horizontalAdvance(t[column]) for t in texts)
        assert table.columnWidth(column) >= widest + 8, name  # whole, with the cell's margins
    cut = [name for name in ("Alarm", "Comment", "User")
           if table.columnWidth(COLUMNS.index(name)) < max(
               metrics.horizontalAdvance(t[COLUMNS.index(name)]) for t in texts)]  # fmt: skip
    assert cut  # the room came from the names
