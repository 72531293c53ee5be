"""The demo station at rest (issue 18: at most 3 % of a core, ``bench/bench_idle.py``): with the
plant running and nobody at it, the values change on the screen and little else runs. Each test
counts, over a quiet second of the real station on the demo plant, the Python calls a waste
would multiply (``sys.setprofile`` on the GUI thread: every Python function Qt calls)."""

from __future__ import annotations

import sys
from collections import Counter
from types import FrameType
from typing import Any

from pytestqt.qtbot import QtBot

from hmi.app import Station
from tests.views.test_demo_plant import fresh, shown, values


def quiet_second(qtbot: QtBot, station: Station) -> Counter[str]:
    """The overview shown at 1280 x 720 with fresh values, left alone for a second: the Python
    functions called on the GUI thread meanwhile (by qualified name), and the values changed."""
    station.window.resize(1280, 720)
    canvas = shown(qtbot, station, "overview")
    qtbot.waitExposed(station.window)
    fresh(qtbot, canvas)
    before = [w.text() for w in values(canvas)]
    calls: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            calls[frame.f_code.co_qualname] += 1

    sys.setprofile(profile)
    try:
        qtbot.wait(1000)
    finally:
        sys.setprofile(None)
    assert [w.text() for w in values(canvas)] != before  # the plant ran, values were shown
    return calls


def test_at_rest_no_event_filter_runs_for_every_event(qtbot: QtBot, station: Station) -> None:
    """The inactivity watch filters the windows (which get input and little else), not the
    application, where it was a Python call for each timer, paint and posted event (~300 a
    second); the lock screen and the reload panel follow resizes, not each event of the widget
    they cover (~20 and ~8 a second). What remains are the bound widgets' own (their badge on
    a resize, their tooltip when asked: a call per repaint of each) and the status bar marks'."""
    calls = quiet_second(qtbot, station)
    filters = {name: n for name, n in calls.items() if name.endswith("eventFilter")}
    assert calls["SessionController.eventFilter"] <= 5, filters
    assert calls["LockScreen.eventFilter"] == calls["ReloadProblemsView.eventFilter"] == 0, filters
    others = sum(n for name, n in filters.items() if name != "TagBinding.eventFilter")
    assert others <= 10, filters


def test_at_rest_a_value_sets_no_style_property_it_already_has(
    qtbot: QtBot, station: Station
) -> None:
    """A value of the same quality as the last leaves the widget's ``quality`` property alone
    without reading it back (a Qt property read for each of ~80 values a second), and a
    setpoint that stays writable does not set its ``writable`` property and cursor again."""
    calls = quiet_second(qtbot, station)
    delivered = calls["TagBinding._deliver"]
    assert delivered >= 20  # the plant ran
    assert calls["set_style_property"] <= delivered // 10, (delivered, calls["set_style_property"])
