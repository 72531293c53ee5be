"""QualityBadge: a cached picture Qt paints alone, the same on enabled and disabled widgets,
in the theme's colours."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import ButtonSpec, ValueSpec
from hmi.resources import theme_path
from hmi.widgets.base import QualityBadge
from hmi.widgets.button import ButtonWidget
from hmi.widgets.picture import CornerMark
from hmi.widgets.theme import chrome
from hmi.widgets.value import ValueWidget

from .conftest import Station

MAGENTA, WHITE = "#c000c0", "#ffffff"
BAD = Quality.bad(QualityReason.COMM_FAILURE)


def shown(qtbot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(120, 30)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def value_widget(station: Station, qtbot) -> ValueWidget:
    spec = ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 30))
    return shown(qtbot, ValueWidget(spec, station.ctx))


def badge_pixel(host: QWidget, badge: QualityBadge, x: int, y: int) -> str:
    """The colour on screen at (x, y) of the badge (14 px at scale 1)."""
    assert badge.isVisible() and badge.size().toTuple() == (14, 14)
    return host.grab().toImage().pixelColor(badge.geometry().topLeft() + QPoint(x, y)).name()


def test_bad_is_a_solid_square_with_a_white_cross_and_uncertain_a_hollow_question_mark(
    station: Station, qtbot, themed: None
) -> None:
    assert "paintEvent" not in vars(QualityBadge) and "paintEvent" not in vars(CornerMark)
    value = value_widget(station, qtbot)
    badge = value.binding.badge
    station.feed("Tank1.Level", 5.0, BAD)
    assert badge.geometry().topRight() == QPoint(118, 1)
    assert badge_pixel(value, badge, 7, 2) == MAGENTA, "solid"
    assert badge_pixel(value, badge, 6, 6) == WHITE, "the cross"
    station.feed("Tank1.Level", 5.0, Quality.uncertain(QualityReason.STALE))
    assert badge_pixel(value, badge, 1, 7) == MAGENTA, "the outline"
    assert badge_pixel(value, badge, 3, 7) == WHITE, "hollow"
    inside = value.grab().toImage().copy(badge.geometry().adjusted(3, 3, -3, -3))
    ink = [
        (x, y)
        for x in range(inside.width())
        for y in range(inside.height())
        if inside.pixelColor(x, y).red() < 0xE0 and inside.pixelColor(x, y).green() < 0x60
    ]
    assert len(ink) >= 4, "the question mark, in the mark's colour"
    station.feed("Tank1.Level", 5.0)
    assert not badge.isVisible()


def test_a_disabled_write_widget_shows_the_badge_in_colour_not_greyed(
    station: Station, qtbot, themed: None
) -> None:
    """A label would grey its pixmap while its (disabled) host is; the badge's icon keeps it."""
    spec = ButtonSpec(
        type="button", text="Start", rect=(0, 0, 120, 30),
        action={"kind": "set", "tag": "Pump1.Start", "value": True},
    )  # fmt: skip
    button = shown(qtbot, ButtonWidget(spec, station.ctx))
    station.feed("Pump1.Start", False, BAD)
    assert not button.isEnabled() and not button.binding.badge.isEnabled()
    assert badge_pixel(button, button.binding.badge, 7, 2) == MAGENTA
    assert badge_pixel(button, button.binding.badge, 6, 6) == WHITE


def test_the_theme_sets_the_colours_and_a_change_draws_the_badge_again(
    station: Station, qtbot, qapp
) -> None:
    """The badge's colours are the theme's ``untrusted`` and ``untrustedGlyph``."""
    theme = theme_path().read_text(encoding="utf-8")
    chrome.install(qapp, theme + "ScreenTheme { qproperty-untrusted: #0050ff; }")
    try:
        value = value_widget(station, qtbot)
        station.feed("Tank1.Level", 5.0, BAD)
        assert badge_pixel(value, value.binding.badge, 7, 2) == "#0050ff"
        value.binding.badge.markColor = QColor(MAGENTA)
        assert badge_pixel(value, value.binding.badge, 7, 2) == MAGENTA
    finally:
        chrome.uninstall()


def test_the_badge_follows_the_scale(station: Station, qtbot, themed: None) -> None:
    value = value_widget(station, qtbot)
    station.feed("Tank1.Level", 5.0, BAD)
    value.resize(240, 60)
    value.apply_scale(2.0)
    badge = value.binding.badge
    assert badge.size().toTuple() == (28, 28)
    assert badge.picture is not None and badge.picture.size().toTuple() == (28, 28)
    corner = badge.geometry().topLeft()
    image = value.grab().toImage()
    assert image.pixelColor(corner + QPoint(14, 4)).name() == MAGENTA
    assert image.pixelColor(corner + QPoint(13, 13)).name() == WHITE
