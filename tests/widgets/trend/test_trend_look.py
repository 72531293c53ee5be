"""The trend as an operator sees it, themed, saved to artifacts/trend*.png to look at; and the
ad-hoc trend dialog."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, Qt

from hmi.model.quality import Quality, QualityLevel, QualityReason
from hmi.model.screens.schema import TrendSpec
from hmi.runtime.history import MemoryHistory
from hmi.widgets.trend.adhoc import AdhocTrendDialog
from hmi.widgets.trend.widget import TrendWidget
from tests.widgets.conftest import Station

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
TAGS = ("Tank1.Level", "Tank1.Setpoint", "Pump1.Running")


def plant_history(now: float) -> MemoryHistory:
    """Two hours of a pump filling a tank to its setpoint (with hysteresis) and a comm loss."""
    rng = np.random.default_rng(7)
    history = MemoryHistory()
    t = np.arange(now - 7200, now - 0.5, 2.0)
    setpoint = np.where((t // 1200) % 2 == 0, 5.0, 6.5)
    level, running = np.empty(len(t)), np.empty(len(t))
    value, pump = 5.0, 0.0
    for i in range(len(t)):
        if value < setpoint[i] - 0.3:
            pump = 1.0
        elif value > setpoint[i]:
            pump = 0.0
        value += 0.008 if pump else -0.003
        level[i], running[i] = value, pump
    level += rng.normal(0, 0.01, len(t))
    q = np.full(len(t), QualityLevel.GOOD, dtype=np.uint8)
    q[(t > now - 2700) & (t < now - 2400)] = QualityLevel.BAD
    history.extend("Tank1.Level", t, level, q)
    changes = np.flatnonzero(np.diff(setpoint, prepend=0.0))  # a setpoint changes rarely
    history.extend("Tank1.Setpoint", t[changes], setpoint[changes])
    history.extend("Pump1.Running", t, running, q)
    return history


def settle(qtbot, widget: TrendWidget) -> None:
    """Until the legend is laid out in its columns (layouts run on the event loop)."""
    entries = list(widget.legend.entries.values())
    qtbot.waitUntil(lambda: len({e.y() for e in entries}) == 1 or not widget.legend.isVisible())


def test_trend_screenshots(
    station: Station, qtbot, themed: None, loop: asyncio.AbstractEventLoop
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    now = time.time()
    history = plant_history(now)
    spec = TrendSpec(
        type="trend",
        tags=TAGS,
        span_s=900,
        rect=(0, 0, 1100, 480),
        pens=[{"tag": "Tank1.Setpoint", "style": "dash", "step": True}],
    )
    level = loop.run_until_complete(history.query("Tank1.Level", now - 10, now, 1)).last[0]
    station.feed("Tank1.Level", level, source_time=now - 30)
    setpoint = 5.0 if ((now - 30) // 1200) % 2 == 0 else 6.5  # as the history has it
    station.feed("Tank1.Setpoint", setpoint, source_time=now - 30)
    station.feed("Pump1.Running", True, source_time=now - 30)
    widget = TrendWidget(spec, station.ctx, history=history)
    qtbot.addWidget(widget)
    widget.resize(1100, 480)
    widget.show()
    qtbot.waitExposed(widget)
    for i in range(1, 15):
        station.feed("Tank1.Level", level + 0.008 * i, source_time=now - 30 + 2 * i)
    station.feed("Pump1.Running", False, Quality.uncertain(QualityReason.STALE))
    widget.ask_history()
    loop.run_until_complete(widget.wait_history())
    widget.redraw()
    settle(qtbot, widget)
    assert widget.export_png(ARTIFACTS / "trend.png")

    widget.toolbar.presets[3600.0].click()  # zoom out: history joins the live data
    widget.ask_history()
    loop.run_until_complete(widget.wait_history())
    widget.set_cursor(True)
    widget.cursor.place(now - 1500)
    widget.redraw()
    assert widget.export_png(ARTIFACTS / "trend_cursor.png")
    assert widget.pens["Tank1.Level"].text() != "----"

    small = TrendWidget(
        TrendSpec(type="trend", tags=("Tank1.Level",), span_s=300, rect=(0, 0, 432, 232)),
        station.ctx,
        history=history,
    )
    qtbot.addWidget(small)
    small.resize(432, 232)
    small.show()
    qtbot.waitExposed(small)
    small.ask_history()
    loop.run_until_complete(small.wait_history())
    small.redraw()
    settle(qtbot, small)
    assert small.export_png(ARTIFACTS / "trend_small.png")
    for each in (widget, small):
        each.release()
    assert station.broker.subscribers("Tank1.Level") == 0


def test_adhoc_dialog_filters_adds_and_releases(
    station: Station, qtbot, themed: None, loop: asyncio.AbstractEventLoop
) -> None:
    dialog = AdhocTrendDialog(station.ctx, history=MemoryHistory())
    qtbot.addWidget(dialog)
    assert "Plant.Name" not in dialog.visible_tags()  # text tags cannot be trended
    dialog.filter.setText("tank1 level")  # every word, in name or description
    assert dialog.visible_tags() == ["Tank1.Level", "Tank1.Setpoint"]
    dialog.filter.setText("pump running")
    assert dialog.visible_tags() == ["Pump1.Running"]
    dialog.filter.setText("")
    for i in range(dialog.tag_list.count()):
        item = dialog.tag_list.item(i)
        item.setSelected(item.data(Qt.ItemDataRole.UserRole) in ("Tank1.Level", "Pump1.Running"))
    dialog.add_selected()
    assert dialog.trend is not None
    assert sorted(dialog.trend.traces) == ["Pump1.Running", "Tank1.Level"]
    assert station.broker.subscribers("Tank1.Level") == 1
    dialog.show()
    qtbot.waitExposed(dialog)
    tags, metrics = dialog.tag_list, dialog.tag_list.fontMetrics()
    room = QRect(0, 0, tags.viewport().width() - 8, 10_000)
    for i in range(tags.count()):  # each tag and its description wrap inside the list
        item = tags.item(i)
        need = metrics.boundingRect(room, int(Qt.TextFlag.TextWordWrap), item.text())
        shown = tags.visualItemRect(item)
        assert shown.right() <= tags.viewport().width(), item.text()
        assert need.height() <= shown.height(), item.text()
    station.feed("Tank1.Level", 4.2)
    dialog.trend.redraw()
    settle(qtbot, dialog.trend)
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "trend_adhoc.png"))
    dialog.tag_list.clearSelection()
    dialog.tag_list.findItems("Pump1.Running", Qt.MatchFlag.MatchStartsWith)[0].setSelected(True)
    dialog.remove_selected()
    assert list(dialog.trend.traces) == ["Tank1.Level"]
    assert station.broker.subscribers("Pump1.Running") == 0
    dialog.close()
    assert station.broker.subscribers("Tank1.Level") == 0
