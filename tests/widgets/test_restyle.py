"""A style property no rule reads is set without a re-polish; one a rule reads re-polishes the
widget, and its children only when a rule goes on from it to a descendant (hmi.widgets.theme.selectors).
A re-polish shows as the style sheet's ``qproperty-`` values set again over the ones Python set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import (
    IndicatorSpec,
    Look,
    SetpointSpec,
    StateLook,
    SymbolSpec,
    ValueSpec,
)
from hmi.resources import theme_path
from hmi.widgets.base import set_style_property
from hmi.widgets.indicator import IndicatorWidget
from hmi.widgets.setpoint import SetpointWidget
from hmi.widgets.symbol import SymbolWidget
from hmi.widgets.theme.selectors import ALL, NOTHING, Restyle, restyle, restyle_for
from hmi.widgets.value import ValueWidget

from .conftest import Station

BAD = Quality.bad(QualityReason.COMM_FAILURE)
THEME = theme_path().read_text(encoding="utf-8")
MINE = QColor("#123456")  # a colour no sheet sets: still there after a change means no re-polish
SHEET = """
/* SymbolWidget[look="active"] { color: red; } : a comment, not a rule */
IndicatorWidget[look="active"] { background-color: #4a4a4a; }
*[quality="bad"] { border: 2px dashed #c000c0; }
SetpointWidget[quality="bad"] QLineEdit { color: #6e6e6e; }
#Header > QPushButton[current], [state="ok"] { color: #101010; }
QLabel#TrendPen[writable~="x"] { color: #101010; }
"""
INDICATOR = ("IndicatorWidget", "QLabel", "QFrame", "QWidget", "QObject")


@pytest.fixture
def sheet(qapp) -> Iterator[None]:
    """The application's sheet for one test: none before (whatever an earlier test in this
    process left), none after."""
    qapp.setStyleSheet("")
    yield
    qapp.setStyleSheet("")


def shown(qtbot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(120, 40)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_sheet_says_which_class_a_property_restyles_and_how_far() -> None:
    assert restyle_for(SHEET, INDICATOR, "look") == Restyle(widget=True, children=False)
    symbol = ("SymbolWidget", "QLabel", "QFrame", "QWidget", "QObject")
    assert restyle_for(SHEET, symbol, "look") == NOTHING, "a comment is no rule"
    assert restyle_for(SHEET, symbol, "quality") == Restyle(widget=True, children=False)
    setpoint = ("SetpointWidget", "QWidget", "QObject")
    assert restyle_for(SHEET, setpoint, "quality") == ALL, "QLineEdit inside it is styled by it"
    assert restyle_for(SHEET, setpoint, "state") == Restyle(widget=True, children=False)
    assert restyle_for(SHEET, ("QPushButton", "QWidget"), "current").widget
    assert not restyle_for(SHEET, INDICATOR, "current").widget, "only for a QPushButton"
    assert restyle_for(SHEET, INDICATOR, "writable").widget, "a base class's rule counts"
    assert restyle_for(SHEET, INDICATOR, "writ") == NOTHING, "a whole property name only"
    assert restyle_for("", INDICATOR, "quality") == NOTHING


def test_the_answer_follows_the_application_s_sheet(station: Station, qtbot, qapp, sheet) -> None:
    states = (StateLook(value=1, text="RUNNING", look=Look.ACTIVE),)
    spec = IndicatorSpec(type="indicator", tag="Pump1.Mode", rect=(0, 0, 120, 40), states=states)
    widget = shown(qtbot, IndicatorWidget(spec, station.ctx))
    assert restyle(widget, "look") == NOTHING, "no style sheet: nothing reads any property"
    qapp.setStyleSheet(SHEET)
    assert restyle(widget, "look") == Restyle(widget=True, children=False)
    qapp.setStyleSheet(THEME)
    assert restyle(widget, "look") == NOTHING, "the theme's colours reach screens otherwise"
    qapp.setStyleSheet("QLabel { color: #101010; }")
    assert restyle(widget, "look") == NOTHING
    holder = QWidget()
    qtbot.addWidget(holder)
    inside = QLabel(holder)
    holder.setStyleSheet("QLabel { color: #101010; }")
    assert restyle(inside, "look") == ALL, "a sheet of its own: re-polished as before"


def test_a_symbol_s_look_is_set_without_a_re_polish(
    station: Station, qtbot, qapp, sheet, themed
) -> None:
    """No rule selects on a symbol's look (its colours are properties it reads)."""
    spec = SymbolSpec(type="symbol", symbol="pump", tag="Pump1.Running", rect=(0, 0, 60, 60))
    widget = shown(qtbot, SymbolWidget(spec, station.ctx))
    station.feed("Pump1.Running", False)
    assert widget.activeFill == QColor("#4a4a4a"), "from the theme"
    widget.activeFill = MINE
    station.feed("Pump1.Running", True)
    assert widget.look is Look.ACTIVE
    assert widget.activeFill == MINE, "not polished again"
    assert widget.colors()[0] == MINE.name(), "the picture is of the current colours"
    qapp.setStyleSheet('SymbolWidget[look="normal"] { qproperty-activeFill: #2060c0; }')
    station.feed("Pump1.Running", False)
    assert widget.activeFill == QColor("#2060c0"), "a rule reads the look now: re-polished"


def test_a_quality_change_dresses_the_host_and_leaves_its_badge(
    station: Station, qtbot, qapp, sheet, themed
) -> None:
    spec = ValueSpec(type="value", tag="Tank1.Level", rect=(0, 0, 120, 40))
    value = shown(qtbot, ValueWidget(spec, station.ctx))
    station.feed("Tank1.Level", 5.0)
    badge = value.binding.badge
    badge.markColor = MINE
    station.feed("Tank1.Level", 5.0, BAD)
    image = value.grab().toImage()
    top = {image.pixelColor(x, 0).name() for x in range(20, 100)}
    assert "#c000c0" in top, "the host's dashed outline"
    assert value.palette().windowText().color().name() == "#6e6e6e", "and its text greyed"
    assert badge.markColor == MINE, "the badge's colours are its own"
    rule = 'ValueWidget[quality="good"] QualityBadge { qproperty-markColor: #0050ff; }'
    qapp.setStyleSheet(rule)
    badge.markColor = MINE
    station.feed("Tank1.Level", 6.0)
    assert badge.markColor == QColor("#0050ff"), "a rule through the host: children re-polished"


def test_a_setpoint_s_field_follows_its_quality(station: Station, qtbot, qapp, sheet) -> None:
    """``SetpointWidget[quality="bad"] QLineEdit``: the child is re-polished with its host."""
    qapp.setStyleSheet(THEME)
    spec = SetpointSpec(type="setpoint", tag="Tank1.Setpoint", rect=(0, 0, 220, 40))
    widget = shown(qtbot, SetpointWidget(spec, station.ctx))
    station.feed("Tank1.Setpoint", 50.0)
    good = widget.field.palette().text().color().name()
    station.feed("Tank1.Setpoint", 50.0, BAD)
    assert widget.field.palette().text().color().name() == "#6e6e6e" != good
    station.feed("Tank1.Setpoint", 50.0)
    assert widget.field.palette().text().color().name() == good


def test_an_indicator_s_look_changes_its_colours(station: Station, qtbot, themed) -> None:
    states = (
        StateLook(value=0, text="STOPPED", look=Look.NORMAL),
        StateLook(value=1, text="RUNNING", look=Look.ACTIVE),
        StateLook(value=2, text="TRIP", look=Look.ALARM),
    )
    spec = IndicatorSpec(type="indicator", tag="Pump1.Mode", rect=(0, 0, 120, 40), states=states)
    widget = shown(qtbot, IndicatorWidget(spec, station.ctx))
    font = widget.font().pixelSize()
    for state, fill in ((1, "#4a4a4a"), (2, "#e00000"), (0, "#e6e6e6"), (1, "#4a4a4a")):
        station.feed("Pump1.Mode", state)
        assert widget.grab().toImage().pixelColor(10, 20).name() == fill
    assert widget.font().pixelSize() == font, "a new look keeps the scaled font"


def test_an_unchanged_value_is_not_set_again(station: Station, qtbot, qapp, sheet) -> None:
    qapp.setStyleSheet(THEME + 'QLabel[kind="x"] { qproperty-text: "polished"; }')
    label = shown(qtbot, QLabel("mine"))
    assert set_style_property(label, "kind", "x") is True
    assert label.text() == "polished"
    label.setText("mine")
    assert set_style_property(label, "kind", "x") is False
    assert label.text() == "mine"
