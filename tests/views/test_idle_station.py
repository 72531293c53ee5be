"""The demo station at rest (issue 18: at most 3 % of a core, ``bench/bench_idle.py``): with the
plant running and nobody at it, the values change on the screen and little else runs. Each test
counts, over a quiet second of the real station on the demo plant, what a waste would multiply."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from hmi.app import Station
from tests.views.test_demo_plant import fresh, shown, values


def live_second(qtbot: QtBot, station: Station) -> list[str]:
    """The overview shown at 1280 x 720 with fresh values; the texts a second later."""
    station.window.resize(1280, 720)
    canvas = shown(qtbot, station, "overview")
    qtbot.waitExposed(station.window)
    fresh(qtbot, canvas)
    return [w.text() for w in values(canvas)]


def test_the_inactivity_watch_sees_no_event_at_rest(qtbot: QtBot, station: Station) -> None:
    """The session's filter is on the windows, which get input and little else: not on the
    application, where it was a Python call for each timer, paint and posted event."""
    session = station.session_ui
    canvas_texts = live_second(qtbot, station)
    before = session.filtered
    qtbot.wait(1000)
    assert station.window.canvas is not None
    now = [w.text() for w in values(station.window.canvas)]
    assert now != canvas_texts  # the plant ran: values changed and were painted
    assert session.filtered - before <= 5
