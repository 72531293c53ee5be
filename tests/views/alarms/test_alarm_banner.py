"""The alarm banner on the real alarm service: counts per priority, the most important
unacknowledged alarms, the horn (counted, no audio hardware) and its Silence button; and a
screenshot of the banner in the header, quiet and with alarms of every priority."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction
from hmi.views.alarms.banner import AlarmBanner
from hmi.views.header import StationHeader
from tests.views.alarm_plant import AlarmPlant
from tests.views.conftest import RunAsync

ARTIFACT = Path(__file__).resolve().parents[3] / "artifacts" / "alarm_banner.png"
A, P = AlarmAction, Priority


class CountingTone:
    def __init__(self) -> None:
        self.played = 0

    def play(self) -> None:
        self.played += 1


@pytest.fixture
def plant(run_async: RunAsync) -> Iterator[AlarmPlant]:
    plant = AlarmPlant()
    run_async(plant.start())
    yield plant
    run_async(plant.stop())


def make_banner(qtbot: QtBot, plant: AlarmPlant, tone: CountingTone, **kw: Any) -> AlarmBanner:
    banner = AlarmBanner(plant.alarms, tone=tone, refresh_ms=10, **kw)
    qtbot.addWidget(banner)
    banner.resize(1000, 36)
    banner.show()
    return banner


def counts(banner: AlarmBanner) -> dict[Priority, int]:
    return {p: w.count for p, w in banner.counts.items()}


def test_counts_and_the_top_alarm_follow_new_alarms_and_acknowledgements(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync
) -> None:
    banner = make_banner(qtbot, plant, CountingTone())
    assert banner.text().endswith("| No active alarms")
    assert set(counts(banner).values()) == {0}

    plant.feed("Tank.Level", 85.0)
    qtbot.waitUntil(lambda: counts(banner)[P.HIGH] == 1)
    assert [s.alarm_id for s in banner.top] == ["T1.LevelHi"]
    assert "T1 level high: 85.0 %" in banner.lines[0].text

    plant.feed("Pump.Flow", 3.0)
    plant.feed("Reactor.Temp", 95.0)
    qtbot.waitUntil(lambda: counts(banner)[P.CRITICAL] == 1)
    assert counts(banner) == {P.CRITICAL: 1, P.HIGH: 1, P.MEDIUM: 1, P.LOW: 0}
    assert [s.alarm_id for s in banner.top] == ["R1.TempHiHi", "T1.LevelHi"]  # two lines

    run_async(plant.act(A.ACKNOWLEDGE, "R1.TempHiHi"))
    qtbot.waitUntil(lambda: banner.top[0].alarm_id == "T1.LevelHi")
    assert [s.alarm_id for s in banner.top] == ["T1.LevelHi", "P1.FlowLo"]
    assert counts(banner)[P.CRITICAL] == 1  # acknowledged, still active: still counted
    assert banner.counts[P.CRITICAL].unacknowledged == 0

    for alarm_id in ("T1.LevelHi", "P1.FlowLo"):
        run_async(plant.act(A.ACKNOWLEDGE, alarm_id))
    qtbot.waitUntil(lambda: not banner.top)
    assert banner.placeholder.text() == "No unacknowledged alarms (3 active)"

    for tag, value in (("Tank.Level", 20.0), ("Pump.Flow", 50.0), ("Reactor.Temp", 20.0)):
        plant.feed(tag, value)
    qtbot.waitUntil(lambda: banner.placeholder.text() == "No active alarms")
    assert set(counts(banner).values()) == {0}

    with qtbot.waitSignal(banner.open_summary, timeout=1000):
        qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)


def test_the_tone_sounds_once_for_a_new_high_alarm_and_silence_holds_until_the_next(
    qtbot: QtBot, plant: AlarmPlant
) -> None:
    tone = CountingTone()
    banner = make_banner(qtbot, plant, tone, repeat_s=0.1)
    assert not banner.silence_button.isEnabled()
    plant.feed("Pump.Flow", 3.0)  # medium: no tone
    plant.feed("Tank.Level", 85.0)  # high: one tone
    assert tone.played == 0  # handed over to the UI thread, in order
    qtbot.waitUntil(lambda: tone.played == 1)
    assert banner.horn.sounding and banner.silence_button.isEnabled()
    qtbot.waitUntil(lambda: tone.played >= 3)  # repeats while unacknowledged
    qtbot.mouseClick(banner.silence_button, Qt.MouseButton.LeftButton)
    assert not banner.horn.sounding and not banner.silence_button.isEnabled()
    silenced = tone.played
    qtbot.wait(350)
    assert tone.played == silenced  # silent, although still unacknowledged
    plant.feed("Valve.Pos", 80.0)  # a new low alarm: no tone
    qtbot.wait(100)
    assert tone.played == silenced
    plant.feed("Reactor.Temp", 95.0)  # a new critical alarm sounds again
    qtbot.waitUntil(lambda: tone.played == silenced + 1)
    assert banner.horn.sounding


def test_acknowledging_the_alarm_that_sounded_stops_the_tone(
    qtbot: QtBot, plant: AlarmPlant, run_async: RunAsync
) -> None:
    tone = CountingTone()
    banner = make_banner(qtbot, plant, tone)  # repeats every 10 s: once in this test
    plant.feed("Tank.Level", 85.0)
    qtbot.waitUntil(lambda: banner.horn.sounding)
    run_async(plant.act(A.ACKNOWLEDGE, "T1.LevelHi"))
    qtbot.waitUntil(lambda: not banner.horn.sounding)
    assert tone.played == 1


def _header(banner: AlarmBanner, title: str) -> QFrame:
    header = QFrame()
    header.setObjectName("Header")
    row = QHBoxLayout(header)
    row.setContentsMargins(12, 4, 12, 4)
    name = QLabel("Demo plant", header)
    name.setObjectName("ProjectName")
    screen = QLabel(title, header)
    screen.setObjectName("ScreenTitle")
    row.addWidget(name)
    row.addSpacing(24)
    row.addWidget(screen)
    row.addSpacing(24)
    banner.setParent(header)
    row.addWidget(banner, 1)
    return header


def test_screenshot_quiet_and_with_every_priority(
    qtbot: QtBot, themed: None, run_async: RunAsync
) -> None:
    quiet, busy = AlarmPlant(), AlarmPlant()
    for plant in (quiet, busy):
        run_async(plant.start())
    try:
        run_async(busy.mixed())
        busy.feed("Tank.Level", 20)
        busy.feed("Tank.Level", 88.1)  # T1 again: unacknowledged
        sheet = QWidget()
        sheet.setObjectName("Central")
        column = QVBoxLayout(sheet)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        banners = []
        for plant, title in ((quiet, "Overview"), (busy, "Tank farm")):
            banner = AlarmBanner(plant.alarms, tone=CountingTone(), refresh_ms=10)
            banners.append(banner)
            column.addWidget(_header(banner, title))
        qtbot.addWidget(sheet)
        sheet.resize(1280, 100)
        sheet.show()
        qtbot.waitUntil(lambda: len(banners[1].top) == 2)
        assert {p: w.count for p, w in banners[1].counts.items()} == {
            P.CRITICAL: 1, P.HIGH: 1, P.MEDIUM: 1, P.LOW: 2,
        }  # fmt: skip
        assert "1 shelved" in banners[1].masked.text()
        assert banners[0].height() <= 44
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        assert sheet.grab().save(str(ARTIFACT))
    finally:
        for plant in (quiet, busy):
            run_async(plant.stop())


def test_at_1280_px_a_sounding_silence_is_whole_and_the_line_shows_which_alarm(
    qtbot: QtBot, themed: None, plant: AlarmPlant
) -> None:
    """The station's header at 1280 px, Design and every tool button in it: the horn's
    Silence, drawn bold in a 2 px frame while it sounds, has room for its bold text (Qt sized
    it by its plain font and cut it), and the alarm line, short of room for the time too,
    drops the time and shows the message."""
    header = StationHeader("Riverside Water Works", alarms=plant.alarms, with_journal=True)
    row = header.layout()
    assert isinstance(row, QHBoxLayout)
    row.insertWidget(row.indexOf(header.trend_button), QPushButton("Design", header))
    header.title_label.setText("Plant overview")
    qtbot.addWidget(header)
    header.resize(1280, 40)
    header.show()
    banner = header.alarm_banner
    assert isinstance(banner, AlarmBanner)
    plant.feed("Tank.Level", 85.0)  # high: the horn sounds
    qtbot.waitUntil(lambda: banner.horn.sounding and bool(banner.top))
    button = banner.silence_button
    bold = QFont(button.font())
    bold.setBold(True)
    option = QStyleOptionButton()
    button.initStyleOption(option)
    style = button.style()
    room = style.subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button).width()
    assert QFontMetrics(bold).horizontalAdvance(button.text()) <= room
    line = banner.lines[0]
    assert line.status is not None
    side = min(line.height() - 1, 15)
    drawn = line.drawn(QFontMetrics(bold), line.width() - side - 6)  # as paintEvent does
    assert drawn.startswith(line.status.message[:12]), (drawn, line.text)
