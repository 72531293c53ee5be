"""SymbolWidget: built-in and project SVGs, looks from states, colours from the theme."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import Look, StateLook, SymbolSpec
from hmi.resources import BUILTIN_SYMBOLS
from hmi.widgets.symbol import SymbolWidget

from .conftest import Station


def symbol(station: Station, qtbot, **kwargs) -> SymbolWidget:
    kwargs.setdefault("symbol", "pump")
    spec = SymbolSpec(type="symbol", rect=(0, 0, 60, 60), **kwargs)
    widget = SymbolWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.resize(60, 60)
    return widget


@pytest.mark.parametrize("name", BUILTIN_SYMBOLS)
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_every_builtin_symbol_renders(station: Station, qtbot, name: str, rotation: int) -> None:
    widget = symbol(station, qtbot, symbol=name, rotation=rotation, mirror=rotation == 90)
    renderer = widget.renderer()
    assert renderer is not None and renderer.isValid()
    assert not widget.grab().isNull()


def test_without_tag_the_look_is_normal(station: Station, qtbot) -> None:
    widget = symbol(station, qtbot)
    assert widget.binding is None
    assert widget.look is Look.NORMAL
    widget.release()


def test_states_map_values_to_looks(station: Station, qtbot) -> None:
    states = (
        StateLook(value=0, look=Look.NORMAL),
        StateLook(value=1, look=Look.ACTIVE),
        StateLook(value=2, look=Look.TRANSITION),
    )
    widget = symbol(station, qtbot, tag="Pump1.Mode", states=states)
    assert widget.property("quality") == "disconnected"
    for value, look in (
        (1, Look.ACTIVE),
        (2, Look.TRANSITION),
        (0, Look.NORMAL),
        (3, Look.ABNORMAL),
    ):
        station.feed("Pump1.Mode", value)
        assert widget.look is look


def test_without_states_nonzero_is_active(station: Station, qtbot) -> None:
    widget = symbol(station, qtbot, tag="Pump1.Running")
    station.feed("Pump1.Running", True)
    assert widget.look is Look.ACTIVE
    station.feed("Pump1.Running", False)
    assert widget.look is Look.NORMAL


def test_colours_come_from_the_theme_and_renderers_are_shared(
    station: Station, qtbot, themed: None
) -> None:
    first = symbol(station, qtbot, tag="Pump1.Running")
    second = symbol(station, qtbot, tag="Pump1.Running")
    first.ensurePolished()
    second.ensurePolished()
    station.feed("Pump1.Running", True)
    assert first.activeFill == QColor("#4a4a4a")
    assert first.colors() == ("#4a4a4a", "#2e2e2e", "#f2f2f2")
    assert first.colors(Look.NORMAL) == ("#e6e6e6", "#2e2e2e", "#2e2e2e")
    assert first.colors(Look.ALARM)[0] == "#e00000"
    active = first.renderer()
    assert active is second.renderer(), "one renderer per (symbol, look, colours)"
    station.feed("Pump1.Running", False)
    assert first.renderer() is second.renderer() is not active


def test_project_svg_and_missing_file(station: Station, qtbot, tmp_path: Path) -> None:
    (tmp_path / "blower.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<rect width="10" height="10" fill="#FILL" stroke="#STROKE"/></svg>',
        encoding="utf-8",
    )
    custom = symbol(station, qtbot, symbol="blower.svg")
    assert custom.renderer() is not None and custom.renderer().isValid()
    missing = symbol(station, qtbot, symbol="nope.svg")
    assert missing.renderer() is None
    assert missing.property("broken") == "true"
    assert "not found" in missing.problem
    assert not missing.grab().isNull()


BODY = (19, 29)  # inside the pump's casing in a 60 x 60 widget, clear of its outline and mark


def test_the_picture_is_cached_and_painted_by_qt_in_the_look_s_colours(
    station: Station, qtbot, themed: None
) -> None:
    """No Python paintEvent: the SVG is drawn into a shared pixmap when the look changes."""
    assert "paintEvent" not in vars(SymbolWidget)
    first = symbol(station, qtbot, tag="Pump1.Running")
    second = symbol(station, qtbot, tag="Pump1.Running")
    station.feed("Pump1.Running", True)
    assert first.grab().toImage().pixelColor(*BODY).name() == "#4a4a4a"
    assert second.grab().toImage().pixelColor(*BODY).name() == "#4a4a4a"
    second.grab()
    assert first.pixmap().cacheKey() == second.pixmap().cacheKey(), "one picture for both"
    station.feed("Pump1.Running", False)
    image = first.grab().toImage()
    assert image.pixelColor(*BODY).name() == "#e6e6e6"
    assert image.pixelColor(40, 11).name() == "#2e2e2e", "the stroke: top of the nozzle"
    station.feed("Pump1.Running", False, Quality.bad(QualityReason.COMM_FAILURE))
    image = first.grab().toImage()
    assert image.pixelColor(0, 30).name() == "#c000c0", "the theme's outline around it"
    assert image.pixelColor(*BODY).name() == "#e6e6e6"


def test_a_theme_colour_change_draws_the_symbol_again(station: Station, qtbot, qapp) -> None:
    widget = symbol(station, qtbot, tag="Pump1.Running")
    station.feed("Pump1.Running", True)
    assert widget.grab().toImage().pixelColor(*BODY).name() == "#4a4a4a"
    qapp.setStyleSheet("SymbolWidget { qproperty-activeFill: #2060c0; }")
    try:
        assert widget.activeFill == QColor("#2060c0")
        assert widget.grab().toImage().pixelColor(*BODY).name() == "#2060c0"
    finally:
        qapp.setStyleSheet("")


def test_the_picture_follows_size_rotation_and_mirror(station: Station, qtbot) -> None:
    widget = symbol(station, qtbot, symbol="arrow", rotation=90)
    widget.resize(40, 80)
    image = widget.grab().toImage()
    assert widget.pixmap().deviceIndependentSize().toTuple() == (40, 80)
    column = [image.pixelColor(20, y).name() for y in range(80)]
    assert column.count("#2e2e2e") > 2, "the turned arrow's outline crosses the middle column"
    mirrored = symbol(station, qtbot, symbol="pump", mirror=True)
    plain = symbol(station, qtbot, symbol="pump")
    left, right = mirrored.grab().toImage(), plain.grab().toImage()
    assert right.pixelColor(50, 16).name() == "#e6e6e6", "the nozzle, on the right"
    assert left.pixelColor(9, 16).name() == "#e6e6e6", "mirrored: on the left"
    assert left.pixelColor(50, 16).name() != "#e6e6e6"


def test_a_missing_file_shows_a_dashed_magenta_box_with_a_question_mark(
    station: Station, qtbot
) -> None:
    widget = symbol(station, qtbot, symbol="nope.svg")
    image = widget.grab().toImage()
    edge = [image.pixelColor(3, y).name() for y in range(3, 57)]
    assert "#c000c0" in edge and edge.count("#c000c0") < len(edge), "dashed"
    inside = [image.pixelColor(x, y) for x in range(20, 40) for y in range(20, 40)]
    ink = [c for c in inside if c.red() > 0x90 and c.green() < 0x80 and c.blue() > 0x90]
    assert len(ink) > 3, "the question mark, magenta too"


def test_the_quality_outline_is_drawn_into_the_symbol_s_own_picture(
    station: Station, qtbot, themed: None
) -> None:
    """No background of its own (a picture of the widget's size blended at every paint) and
    no margins: the dashed outline is part of the cached pixmap, shared by every symbol in the
    same look, quality and size, and goes when the value is Good."""
    first = symbol(station, qtbot, tag="Pump1.Running")
    second = symbol(station, qtbot, tag="Pump1.Running")
    station.feed("Pump1.Running", False, Quality.bad(QualityReason.COMM_FAILURE))

    def edge() -> list[str]:
        first.grab()  # its first paint (a widget never shown has no size yet, nor picture)
        picture = first.pixmap().toImage()
        return [picture.pixelColor(0, y).name() for y in range(first.height())]

    qtbot.waitUntil(lambda: "#c000c0" in edge())
    assert not first.autoFillBackground()
    assert first.contentsMargins().left() == 0 and first.contentsRect() == first.rect()
    left = edge()
    assert "#c000c0" in left and left.count("#c000c0") < len(left), "dashed, in the pixmap"
    second.grab()
    assert first.pixmap().cacheKey() == second.pixmap().cacheKey(), "one picture for both"
    station.feed("Pump1.Running", False)
    first.grab()
    assert first.pixmap().toImage().pixelColor(0, 30).alpha() == 0, "Good: no outline"
    assert first.pixmap().toImage().pixelColor(*BODY).name() == "#e6e6e6"
