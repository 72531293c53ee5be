"""Alarm marks on bound screen widgets: a real ValueWidget on a real broker, bridge and alarm
service gets its tag's priority mark (shape and colour) while the tag alarms, blinking while
unacknowledged, and loses it when the alarm is gone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction
from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import ValueSpec
from hmi.model.value import TagValue
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.widgets.alarm_mark import AlarmMarks
from hmi.widgets.context import WidgetContext
from hmi.widgets.value import ValueWidget
from tests.qt_probes import hover_tooltip
from tests.views.alarm_plant import AlarmPlant
from tests.views.conftest import RunAsync

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture
def plant(run_async: RunAsync) -> Iterator[AlarmPlant]:
    plant = AlarmPlant()
    run_async(plant.start())
    yield plant
    run_async(plant.stop())


def context(plant: AlarmPlant, marks: AlarmMarks, tmp_path: Path) -> WidgetContext:
    bridge = QtTagBridge(plant.broker, plant.commands)
    bridge.start()
    return WidgetContext(
        bridge=bridge, tags=plant.tags, navigate=lambda _: None,
        open_faceplate=lambda *_: None, project_root=tmp_path, screen_id="test", alarms=marks,
    )  # fmt: skip


def value_widget(qtbot: QtBot, ctx: WidgetContext, tag: str) -> ValueWidget:
    widget = ValueWidget(ValueSpec(type="value", tag=tag, rect=(0, 0, 140, 30)), ctx)
    qtbot.addWidget(widget)
    widget.resize(140, 30)
    widget.show()
    return widget


def test_a_mark_comes_with_the_alarm_blinks_until_acknowledged_and_goes_when_normal(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync, tmp_path: Path
) -> None:
    marks = AlarmMarks(plant.alarms, refresh_ms=10, blink_ms=100)
    ctx = context(plant, marks, tmp_path)
    level = value_widget(qtbot, ctx, "Tank.Level")
    other = value_widget(qtbot, ctx, "Pump.Flow")
    mark = level.binding.alarm_mark
    assert mark is not None and not mark.isVisible()

    plant.feed("Tank.Level", 85.0)
    qtbot.waitUntil(lambda: mark.isVisible())
    assert (mark.priority, mark.unacknowledged) == (Priority.HIGH, True)
    assert mark.geometry().topLeft() == QPoint(1, 1)  # the quality badge is top-right
    assert other.binding.alarm_mark is not None and not other.binding.alarm_mark.isVisible()
    phases = set()
    qtbot.waitUntil(lambda: phases.add(mark.lit) or len(phases) == 2, timeout=1000)  # blinks
    assert not mark.grab().isNull()

    assert "Alarm 2 (high): T1 level high: 85.0 % — unacknowledged" in hover_tooltip(level)

    run_async(plant.act(AlarmAction.ACKNOWLEDGE, "T1.LevelHi"))
    qtbot.waitUntil(lambda: not mark.unacknowledged)
    assert mark.isVisible() and mark.lit  # steady once acknowledged
    plant.feed("Reactor.Temp", 20.0)
    plant.feed("Tank.Level", 50.0)
    qtbot.waitUntil(lambda: not mark.isVisible())
    assert not marks._blink.isActive()
    level.release()
    assert level.binding.alarm_mark is None
    marks.release()


def test_one_mark_per_widget_shows_its_most_urgent_alarm(
    qtbot: QtBot, run_async: RunAsync, tmp_path: Path
) -> None:
    two = [
        {"id": "L.Hi", "tag": "Tank.Level", "kind": "hi", "limit": 80, "priority": "medium"},
        {"id": "L.HiHi", "tag": "Tank.Level", "kind": "hihi", "limit": 90, "priority": "critical"},
    ]
    plant = AlarmPlant(alarms=two)
    run_async(plant.start())
    try:
        marks = AlarmMarks(plant.alarms, refresh_ms=10)
        widget = value_widget(qtbot, context(plant, marks, tmp_path), "Tank.Level")
        mark = widget.binding.alarm_mark
        assert mark is not None
        assert marks.attach(widget, "Tank.Level") is mark  # a second binding: the same mark
        plant.feed("Tank.Level", 85.0)
        qtbot.waitUntil(lambda: mark.priority is Priority.MEDIUM)
        plant.feed("Tank.Level", 95.0)
        qtbot.waitUntil(lambda: mark.priority is Priority.CRITICAL)
        assert [s.alarm_id for s in marks.alarms_of("Tank.Level")] == ["L.HiHi", "L.Hi"]
    finally:
        run_async(plant.stop())


def test_screenshot_of_marks_on_values(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync, tmp_path: Path, themed: None
) -> None:
    marks = AlarmMarks(plant.alarms, refresh_ms=10)
    ctx = context(plant, marks, tmp_path)
    sheet = QWidget()
    sheet.setObjectName("ScreenStage")
    row = QHBoxLayout(sheet)
    widgets = []
    for tag in ("Reactor.Temp", "Tank.Level", "Pump.Flow", "Valve.Pos", "Comp.Press"):
        widget = ValueWidget(ValueSpec(type="value", tag=tag, rect=(0, 0, 130, 30)), ctx)
        widget.setFixedSize(130, 30)
        widgets.append(widget)
        row.addWidget(widget)
    qtbot.addWidget(sheet)
    sheet.show()
    for tag, value in (("Reactor.Temp", 96.4), ("Tank.Level", 86.2), ("Pump.Flow", 4.2),
                       ("Valve.Pos", 63), ("Comp.Press", 12.5)):  # fmt: skip
        plant.feed(tag, value)
    plant.feed("Comp.Press", 13.0)
    plant.broker.publish(
        [
            (
                plant.broker.tag("Comp.Press").address,
                TagValue.now(13.0, Quality.bad(QualityReason.COMM_FAILURE)),
            )
        ]
    )
    qtbot.waitUntil(lambda: all(w.binding.alarm_mark.isVisible() for w in widgets[:4]))
    qtbot.waitUntil(lambda: widgets[4].property("quality") == "bad")
    for widget in widgets:
        widget.binding.alarm_mark.show_alarm(widget.binding.alarm_mark.priority, True, True)
    assert sheet.grab().save(str(ARTIFACTS / "alarm_marks.png"))
    marks.release()


def test_marks_follow_a_sustained_flood_instead_of_waiting_for_its_end(
    qtbot: QtBot, plant: AlarmPlant, tmp_path: Path
) -> None:
    """Events every 5 ms for longer than the refresh interval: the mark is shown while they
    still arrive (a timer restarted by each event would refresh only after the last)."""
    marks = AlarmMarks(plant.alarms, refresh_ms=100)
    widget = value_widget(qtbot, context(plant, marks, tmp_path), "Tank.Level")
    mark = widget.binding.alarm_mark
    assert mark is not None and mark.priority is None
    refreshed: list[int] = []
    marks.changed.connect(lambda: refreshed.append(len(fed)))
    fed: list[float] = []
    plant.feed("Tank.Level", 95.0)  # raise the alarm, then keep events coming
    for n in range(120):
        fed.append(n)
        plant.feed("Reactor.Temp", 96.0 if n % 2 else 10.0)
        qtbot.wait(5)
        if mark.priority is not None:
            break
    assert mark.priority is not None, "the mark waited for the flood to end"
    assert refreshed and refreshed[0] < 120
