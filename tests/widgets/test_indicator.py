"""IndicatorWidget: the state table picks text and look."""

from __future__ import annotations

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import IndicatorSpec, Look, StateLook
from hmi.widgets.indicator import IndicatorWidget

from .conftest import Station

STATES = (
    StateLook(value=0, text="STOPPED", look=Look.NORMAL),
    StateLook(value=1, text="RUNNING", look=Look.ACTIVE),
    StateLook(value=2, look=Look.ALARM),
)


def indicator(station: Station, qtbot, tag: str = "Pump1.Mode", **kwargs) -> IndicatorWidget:
    spec = IndicatorSpec(type="indicator", tag=tag, rect=(0, 0, 120, 30), states=STATES, **kwargs)
    widget = IndicatorWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    return widget


def test_value_selects_text_and_look(station: Station, qtbot) -> None:
    widget = indicator(station, qtbot)
    assert widget.text() == "----"
    assert widget.property("quality") == "disconnected"
    station.feed("Pump1.Mode", 1)
    assert (widget.text(), widget.look) == ("RUNNING", Look.ACTIVE)
    station.feed("Pump1.Mode", 0)
    assert (widget.text(), widget.look) == ("STOPPED", Look.NORMAL)
    station.feed("Pump1.Mode", 2)
    assert (widget.text(), widget.look) == ("2", Look.ALARM), "a row without text shows the value"


def test_bool_value_matches_numeric_rows(station: Station, qtbot) -> None:
    widget = indicator(station, qtbot, tag="Pump1.Running")
    station.feed("Pump1.Running", True)
    assert (widget.text(), widget.look) == ("RUNNING", Look.ACTIVE)


def test_unknown_value_shows_the_value_as_abnormal(station: Station, qtbot) -> None:
    widget = indicator(station, qtbot)
    station.feed("Pump1.Mode", 7)
    assert (widget.text(), widget.look) == ("7", Look.ABNORMAL)


def test_unknown_value_takes_the_default_row(station: Station, qtbot) -> None:
    default = StateLook(value=-1, text="FAULT", look=Look.ALARM)
    widget = indicator(station, qtbot, default=default)
    station.feed("Pump1.Mode", 7)
    assert (widget.text(), widget.look) == ("FAULT", Look.ALARM)


def test_bad_keeps_the_state_and_marks_it(station: Station, qtbot) -> None:
    widget = indicator(station, qtbot)
    station.feed("Pump1.Mode", 1)
    station.feed("Pump1.Mode", 1, Quality.bad(QualityReason.COMM_FAILURE))
    assert (widget.text(), widget.look) == ("RUNNING", Look.ACTIVE)
    assert widget.property("quality") == "bad"
    widget.release()
    assert station.broker.subscribers("Pump1.Mode") == 0
