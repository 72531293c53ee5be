"""Text that fits, on every demo screen at 1920×1080 and 1366×768 (the demo plant live): no
label or button cut by its widget, nothing under the 9 px floor, and the layout holds; the
header down to 1280 px."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.views.header import HeaderText
from hmi.widgets.base import MIN_FONT_PX, NO_VALUE
from hmi.widgets.label import LabelWidget
from hmi.widgets.value import ValueWidget
from tests.views.test_screens import DEMO_SCREENS, assert_inside, settle
from tests.views.text_fit import cut_texts, small_fonts

SIZES = ((1920, 1080), (1366, 768))
LIVE_MS = 20000


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_is_legible_and_whole(
    qtbot: QtBot, station: Station, size: tuple[int, int]
) -> None:
    window = station.window
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    problems: list[str] = []
    for screen_id in DEMO_SCREENS:
        assert window.navigate(screen_id)
        canvas = window.canvas
        assert canvas is not None
        qtbot.waitUntil(lambda c=canvas: c.isVisible() and c.scale > 0)
        shown = [w for w in canvas.widgets() if isinstance(w, ValueWidget)]
        qtbot.waitUntil(lambda s=shown: all(w.text() != NO_VALUE for w in s), timeout=LIVE_MS)
        settle()
        assert_inside(canvas)
        problems += [f"{screen_id}: {p}" for p in small_fonts(canvas) + cut_texts(canvas)]
    assert problems == []


def test_small_text_stops_at_the_floor_while_the_screen_scales(
    qtbot: QtBot, station: Station
) -> None:
    """At 1366×768 the screen is scaled to ~0.62 (all of it in view, no panning), captions
    (11 px in the design) are drawn at the 9 px floor, larger text scales as before."""
    window = station.window
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    assert window.navigate("diagnostics")
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.scale > 0)
    assert canvas.scale < 0.7
    _x, _y, w, h = canvas.stage_rect()
    assert w <= canvas.width() and h <= canvas.height()  # the whole screen is in view
    captions = [
        widget for widget in canvas.widgets()
        if isinstance(widget, LabelWidget) and widget.spec.style == "caption"
    ]  # fmt: skip
    assert captions
    assert {c.font().pixelSize() for c in captions} == {MIN_FONT_PX}
    values = [widget for widget in canvas.widgets() if isinstance(widget, ValueWidget)]
    assert {v.font().pixelSize() for v in values} == {round(16 * canvas.scale)}


@pytest.mark.parametrize("width", [1920, 1366, 1280])
def test_the_header_cuts_no_button_and_elides_only_its_names(
    qtbot: QtBot, station: Station, width: int
) -> None:
    """At 1280 px the header's row (names, banner, Design and the tool buttons) is short:
    the project name and screen title give way, drawn elided with the whole text in their
    tooltip; no button is cut (the theme's min-width once let the layout squeeze "Alarm
    history" to "larm history")."""
    window = station.window
    window.resize(width, 1024 if width == 1280 else 768 if width == 1366 else 1080)
    window.show()
    qtbot.waitExposed(window)
    settle()
    header = window.header
    names = (header.project_label, header.title_label)
    assert all(isinstance(label, HeaderText) for label in names)
    cut = [line for line in cut_texts(header) if not line.startswith("HeaderText#")]
    assert cut == []
    for label in names:
        assert label.toolTip() == label.text() != ""
    elided = [label.text() for label in names if label.width() < label.sizeHint().width()]
    assert (elided != []) is (width == 1280), elided  # only where the row is short
