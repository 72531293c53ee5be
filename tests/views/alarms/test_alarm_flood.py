"""The alarm summary and banner in a flood, on the real alarm service: the blink changes no
model data, a burst of engine events reaches the views in a bounded number of model signals,
the incremental sort and filter give what a brute-force sort of the engine's alarms gives after
random raises, clears, acknowledgements, shelves and removals, and the selection follows its
alarms through a flood. (How long the UI loop stalls is measured in bench/bench_alarm_flood.py.)
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QPixmap
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import UNACKNOWLEDGED, AlarmState, AlarmStatus
from hmi.views.alarms.banner import AlarmBanner
from hmi.views.alarms.summary import AlarmSummaryView
from hmi.views.alarms.table import COLUMNS, LISTS, STATUS_ROLE, state_text
from tests.qt_probes import PaintCounter
from tests.views.alarm_plant import AlarmPlant
from tests.views.conftest import RunAsync

S = AlarmState
PRIORITIES = list(Priority)
MASKED = (S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE)
SIGNALS = ("dataChanged", "layoutChanged", "rowsInserted", "rowsRemoved", "rowsMoved",
           "modelReset", "headerDataChanged")  # fmt: skip


def alarms(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"Z{i:03d}.Hi", "tag": f"Z{i:03d}.Value", "kind": "hi", "limit": 50,
         "priority": PRIORITIES[i % 4].value, "latching": i % 7 == 0,
         "message": f"{'pump' if i % 3 else 'valve'} {i:03d} high: {{value:.1f}}"}
        for i in range(count)
    ]  # fmt: skip


@pytest.fixture
def big(run_async: RunAsync) -> Iterator[AlarmPlant]:
    plant = AlarmPlant(alarms=alarms(600))
    run_async(plant.start())
    yield plant
    run_async(plant.stop())


def tag(i: int) -> str:
    return f"Z{i:03d}.Value"


def make_view(qtbot: QtBot, plant: AlarmPlant, resync_ms: int = 3_600_000) -> AlarmSummaryView:
    view = AlarmSummaryView(
        plant.alarms,
        plant.commands,
        tags=plant.tags,
        refresh_ms=10,
        flood_ms=10,
        resync_ms=resync_ms,
    )
    qtbot.addWidget(view)
    view.resize(1280, 520)
    view.show()
    return view


def shown(view: AlarmSummaryView) -> list[str]:
    model = view.model
    return [model.index(r, 0).data(STATUS_ROLE).alarm_id for r in range(model.rowCount())]


class Signals:
    """Counts every signal a model sends to its views."""

    def __init__(self, model: Any) -> None:
        self.counts = dict.fromkeys(SIGNALS, 0)
        for name in SIGNALS:
            getattr(model, name).connect(lambda *_, n=name: self._count(n))

    def _count(self, name: str) -> None:
        self.counts[name] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def plain(value: Any) -> Any:
    return ("pixmap", value.cacheKey()) if isinstance(value, QPixmap) else value


def every_cell(view: AlarmSummaryView) -> list[Any]:
    model = view.model
    roles = [*range(0, 14), STATUS_ROLE]
    return [
        plain(model.index(r, c).data(role))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        for role in roles
    ]


def test_the_blink_repaints_and_changes_no_model_data(qtbot: QtBot, big: AlarmPlant) -> None:
    for i in range(40):
        big.feed(tag(i), 80)
    view = make_view(qtbot, big)
    qtbot.waitUntil(lambda: view.model.rowCount() == 40)
    before = every_cell(view)
    signals = Signals(view.model)
    paints = PaintCounter()
    view.table.viewport().installEventFilter(paints)
    assert view.delegate.lit
    qtbot.waitUntil(lambda: not view.delegate.lit, timeout=1500)
    dark = every_cell(view)
    qtbot.waitUntil(lambda: view.delegate.lit, timeout=1500)  # and back
    assert signals.total == 0, signals.counts
    assert dark == before and every_cell(view) == before  # the same data in either phase
    assert paints.count >= 2  # ...but each phase was painted


def test_a_burst_of_engine_events_reaches_the_views_in_a_few_signals(
    qtbot: QtBot, big: AlarmPlant
) -> None:
    for i in range(100):
        big.feed(tag(i), 80)
    view = make_view(qtbot, big)
    qtbot.waitUntil(lambda: view.model.rowCount() == 100)
    signals = Signals(view.model)
    events: list[object] = []
    big.alarms.add_listener(events.append)
    for i in range(100, 600):  # 500 new alarms, in one go
        big.feed(tag(i), 60 + i % 30)
    assert len(events) == 500
    qtbot.waitUntil(lambda: view.model.rowCount() == 600)
    assert signals.total <= 4, signals.counts
    assert signals.counts["modelReset"] == 0
    assert shown(view) == [s.alarm_id for s in big.alarms.summary()]

    signals = Signals(view.model)
    events.clear()
    for i in range(0, 600, 2):  # 300 clear: returned, unacknowledged, each moves in place
        big.feed(tag(i), 10)
    for i in range(0, 200, 2):  # 100 of those acknowledged: normal (unless latching), they leave
        big.alarms.acknowledge(f"Z{i:03d}.Hi", user="op")
    assert len(events) == 400
    expected = [s.alarm_id for s in big.alarms.summary()]
    assert len(expected) == 600 - 85  # 15 of the 100 latch
    qtbot.waitUntil(lambda: shown(view) == expected)
    assert signals.total <= 4, signals.counts


def brute_force(plant: AlarmPlant, view: AlarmSummaryView) -> list[str]:
    """The engine's alarms through the view's filter, sorted from scratch by the column's
    meaning (ties: by alarm id; descending reverses the whole order)."""
    model = view.model
    everything = plant.alarms.summary() + plant.alarms.statuses(MASKED)
    text = model.text

    def passes(s: AlarmStatus) -> bool:
        if s.state not in model.states or s.priority not in model.priorities:
            return False
        return not text or any(text in f.lower() for f in (s.alarm_id, s.tag, s.message))

    def when(s: AlarmStatus) -> float:
        return s.activated_at if s.activated_at is not None else s.since

    column = model.sort_column
    keys = {
        0: lambda s: (when(s),),
        1: lambda s: (s.priority.rank, -when(s)),
        2: lambda s: (s.tag.lower(),),
        3: lambda s: (s.message.lower(),),
        4: lambda s: (float(s.value),),
        5: lambda s: (state_text(s).lower(),),
    }
    chosen = sorted(
        (s for s in everything if passes(s)),
        key=lambda s: (*keys[column](s), s.alarm_id),
        reverse=model.sort_order == Qt.SortOrder.DescendingOrder,
    )
    return [s.alarm_id for s in chosen]


def settle(qtbot: QtBot, view: AlarmSummaryView, plant: AlarmPlant, round_: int) -> None:
    """Wait for the view's refresh; then it must show what the brute-force sort gives."""
    qtbot.waitUntil(lambda: view.settled)
    with contextlib.suppress(TimeoutError):  # a masked alarm's time comes with the resync
        qtbot.waitUntil(lambda: shown(view) == brute_force(plant, view), timeout=2000)
    model = view.model
    where = f"round {round_}, column {model.sort_column}, {model.sort_order}"
    assert shown(view) == brute_force(plant, view), where


def test_sorting_and_filtering_match_a_brute_force_sort_through_random_changes(
    qtbot: QtBot, run_async: RunAsync
) -> None:
    plant = AlarmPlant(alarms=alarms(150))
    run_async(plant.start())
    try:
        rng = random.Random(20)
        view = make_view(qtbot, plant, resync_ms=20)
        for round_ in range(24):
            for _ in range(rng.randrange(1, 60)):
                i = rng.randrange(150)
                alarm_id, state = f"Z{i:03d}.Hi", plant.state(f"Z{i:03d}.Hi")
                move = rng.random()
                if move < 0.4:
                    plant.feed(tag(i), rng.uniform(51, 99) if rng.random() < 0.7 else 10)
                elif move < 0.65 and state in UNACKNOWLEDGED:
                    plant.alarms.acknowledge(alarm_id, user="op")
                elif move < 0.75 and state is S.LATCHED_ACKED:
                    plant.alarms.reset(alarm_id, user="op")
                elif move < 0.85 and state in (S.UNACK, S.ACKED):
                    plant.alarms.shelve(alarm_id, user="op", reason="r", duration_s=600)
                elif move < 0.9 and state is S.SHELVED:
                    plant.alarms.unshelve(alarm_id, user="op")
                elif move < 0.95 and state is not S.OUT_OF_SERVICE:
                    plant.alarms.set_out_of_service(alarm_id, user="op", reason="r")
                elif state is S.OUT_OF_SERVICE:
                    plant.alarms.return_to_service(alarm_id, user="op")
            if round_ % 3 == 0:
                column = rng.randrange(len(COLUMNS))
                order = rng.choice([Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
                view.table.sortByColumn(column, order)
            if round_ % 4 == 1:
                view.list_box.setCurrentText(rng.choice(list(LISTS)))
            if round_ % 5 == 2:
                for priority, button in view.priority_buttons.items():
                    button.setChecked(rng.random() < 0.8 or priority is Priority.LOW)
            if round_ % 6 == 3:
                view.text_filter.setText(rng.choice(["", "pump", "VALVE", "z01", "Z1"]))
            settle(qtbot, view, plant, round_)
    finally:
        run_async(plant.stop())


def test_the_selection_follows_its_alarms_through_a_flood(qtbot: QtBot, big: AlarmPlant) -> None:
    for i in range(0, 200):
        big.feed(tag(i), 70)
    view = make_view(qtbot, big)
    qtbot.waitUntil(lambda: view.model.rowCount() == 200)
    picked = ["Z013.Hi", "Z090.Hi", "Z151.Hi"]
    selection = view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for alarm_id in picked:
        selection.select(view.model.index(shown(view).index(alarm_id), 0), flags)
    selection.setCurrentIndex(
        view.model.index(shown(view).index("Z090.Hi"), 2),
        QItemSelectionModel.SelectionFlag.NoUpdate,
    )
    before = [shown(view).index(a) for a in picked]
    for i in range(200, 600):  # new alarms, many above the selected rows
        big.feed(tag(i), 80)
    for i in (13, 151, 16, 17):  # selected and neighbouring rows move (returned)
        big.feed(tag(i), 10)
    for alarm_id in ("Z016.Hi", "Z017.Hi"):
        big.alarms.acknowledge(alarm_id, user="op")  # ...and leave
    qtbot.waitUntil(lambda: view.model.rowCount() == 598)
    rows = view.table.selectionModel().selectedRows()
    assert sorted(i.data(STATUS_ROLE).alarm_id for i in rows) == picked
    assert [shown(view).index(a) for a in picked] != before  # they did move
    current = view.table.currentIndex()
    assert (current.data(STATUS_ROLE).alarm_id, current.column()) == ("Z090.Hi", 2)
    assert {s.alarm_id for s in view.selected()} == set(picked)


def test_the_banner_keeps_count_and_order_through_a_flood(qtbot: QtBot, big: AlarmPlant) -> None:
    class Tone:
        played = 0

        def play(self) -> None:
            self.played += 1

    banner = AlarmBanner(big.alarms, tone=Tone(), refresh_ms=10)
    qtbot.addWidget(banner)
    banner.resize(1000, 36)
    banner.show()
    refreshes = []
    banner._refresh.timeout.connect(lambda: refreshes.append(1))
    for i in range(500):
        big.feed(tag(i), 80)
    for i in range(0, 500, 5):
        big.alarms.acknowledge(f"Z{i:03d}.Hi", user="op")
    qtbot.waitUntil(lambda: sum(w.count for w in banner.counts.values()) == 500)
    assert len(refreshes) <= 2  # 600 events, one or two refreshes
    summary = big.alarms.summary()
    for priority, widget in banner.counts.items():
        assert widget.count == sum(1 for s in summary if s.priority is priority)
        assert widget.unacknowledged == sum(
            1 for s in summary if s.priority is priority and s.state in UNACKNOWLEDGED
        )
    waiting = [s.alarm_id for s in summary if s.state in UNACKNOWLEDGED]
    assert [s.alarm_id for s in banner.top] == waiting[:2]
    assert banner.horn.sounding
    banner.release()


def test_in_a_flood_the_refresh_and_resync_ride_the_blink(qtbot: QtBot, big: AlarmPlant) -> None:
    """While rows blink, a flood's refresh and the resync wait for the next blink phase: one
    repaint per phase (2 a second), not one for each of the three timers."""
    for i in range(40):
        big.feed(tag(i), 80)
    view = AlarmSummaryView(big.alarms, big.commands, tags=big.tags)  # the real paces
    qtbot.addWidget(view)
    view.resize(1280, 520)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == 40 and view.blink.isActive())
    paints = PaintCounter()
    view.table.viewport().installEventFilter(paints)
    phases = [0]
    view.blink.timeout.connect(lambda: phases.__setitem__(0, phases[0] + 1))
    rounds = [0]
    high = [False] * 600

    def feed() -> None:  # 25 events every 100 ms for 2 s: a flood (batches of 20 or more)
        for k in range(25):
            i = (rounds[0] * 25 + k) % 560 + 40
            high[i] = not high[i]
            big.feed(tag(i), 80 if high[i] else 20)
        rounds[0] += 1
        if rounds[0] == 20:
            flood.stop()

    flood = QTimer()
    flood.setInterval(100)
    flood.timeout.connect(feed)
    flood.start()
    qtbot.waitUntil(lambda: rounds[0] == 20, timeout=10_000)
    during, blinks = paints.count, phases[0]
    expected = {s.alarm_id for s in big.alarms.summary()}
    qtbot.waitUntil(lambda: view.settled and set(view.model.alarm_ids()) >= expected)
    assert set(shown(view)) == expected  # every event of the flood shown
    # one paint per blink phase, + the refresh before the flood was told and the phase under
    # way (before: about 2 per phase)
    assert blinks >= 3 and during <= blinks + 2, (during, blinks)
