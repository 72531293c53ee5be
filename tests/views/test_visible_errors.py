"""A ``visible:`` expression that cannot be evaluated for the values it gets (division by
zero, a type clash, a result beyond a bound) makes its widget Bad(ConfigError): it stays
visible, is outlined and badged as a Bad value is, and its tooltip leads with the message
(issue 14, point 3). Built offscreen on the real broker with local tags; painted and sampled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QToolTip, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from hmi.model.screens.loader import check_project, load_project
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.base import QualityBadge
from tests.qt_probes import hover_tooltip, python_calls
from tests.widgets.conftest import Station, make_station

PROJECT = """\
project: {name: Visible, start_screen: main}
tags:
  A: {address: "local://A"}
  Z: {address: "local://Z"}
  S: {address: "local://S?type=str", datatype: str}
screens: [main.yaml]
"""
SCREEN = """\
screen: {id: main, title: Main, size: [400, 200]}
widgets:
  - {type: label, id: ratio, text: ratio, visible: "A / Z > 0", rect: [10, 10, 180, 60]}
  - {type: value, id: level, tag: A, visible: "S - 1 > 0", rect: [210, 10, 180, 60]}
  - {type: label, id: text, text: text, visible: "S * A == S", rect: [10, 110, 180, 60]}
"""
MAGENTA = QColor("#c000c0")


@pytest.fixture
def screen(qtbot: QtBot, qapp: Any, themed: None, tmp_path: Path) -> tuple[Station, ScreenCanvas]:
    (tmp_path / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "main.yaml").write_text(SCREEN, encoding="utf-8")
    assert check_project(tmp_path) == []
    project = load_project(tmp_path)
    station = make_station(dict(project.tags), tmp_path)
    window = QWidget()
    window.resize(800, 400)
    QVBoxLayout(window).setContentsMargins(0, 0, 0, 0)
    canvas = ScreenCanvas.for_screen(
        project.screens["main"], station.ctx, project.templates, window
    )
    window.layout().addWidget(canvas)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield station, canvas
    canvas.release()


def _badge(widget: QWidget) -> QualityBadge | None:
    """The visible badge the rule put on the widget (a tag-bound widget has its own too)."""
    shown = [b for b in widget.findChildren(QualityBadge) if b.isVisible() and b.state == "bad"]
    return shown[0] if shown else None


def _tooltip(widget: QWidget) -> str:
    QToolTip.hideText()
    hover_tooltip(widget)
    return QToolTip.text()


def _magenta_on_edge(image: QImage) -> int:
    """Pixels of the Bad outline's colour on the widget's left edge."""
    return sum(image.pixelColor(1, y) == MAGENTA for y in range(image.height()))


def test_an_evaluation_error_is_bad_config_error_on_the_widget(
    qtbot: QtBot, screen: tuple[Station, ScreenCanvas]
) -> None:
    station, canvas = screen
    ratio, level, text = (canvas.widget(name) for name in ("ratio", "level", "text"))
    assert ratio is not None and level is not None and text is not None
    station.feed("A", 5.0)
    station.feed("Z", 0.0)
    station.feed("S", "abc")
    qtbot.waitUntil(lambda: ratio.property("expression") == "bad")
    qtbot.waitUntil(lambda: level.property("expression") == "bad")
    QApplication.processEvents()
    for widget, phrase in [
        (ratio, "division by zero"),
        (level, "values of the wrong type"),
        (text, "values of the wrong type"),  # 'abc' * 5.0
    ]:
        assert widget.isVisible(), phrase  # never hidden by a fault
        assert widget.property("expression") == "bad"
        assert _badge(widget) is not None, phrase
        tip = _tooltip(widget)
        assert tip.startswith("Quality: Bad — ConfigError"), tip
        assert phrase in tip, tip
        assert _magenta_on_edge(widget.grab().toImage()) > 10, phrase
    assert "A" in _tooltip(level) and "Value:" in _tooltip(level)  # the tag's own lines too
    canvas.window().grab().save("/tmp/hardening-files-visible-bad.png")

    station.feed("Z", 2.0)  # 5 / 2 > 0: Good again, shown
    station.feed("S", "x")
    qtbot.waitUntil(lambda: ratio.property("expression") == "good")
    assert ratio.isVisible() and _badge(ratio) is None
    assert "A / Z" not in _tooltip(ratio)
    assert _magenta_on_edge(ratio.grab().toImage()) == 0
    station.feed("Z", -2.0)  # 5 / -2 > 0 is False: hidden, as written
    qtbot.waitUntil(lambda: not ratio.isVisible())
    assert level.property("expression") == "bad"  # 'x' - 1 still cannot be evaluated
    station.feed("S", "y" * 6_000)
    station.feed("A", 2)  # a text of 12,000 characters: beyond the bound
    qtbot.waitUntil(lambda: text.property("expression") == "bad")
    assert "more than 10,000 characters" in _tooltip(text)


def test_a_constant_expression_that_cannot_be_evaluated_is_refused_by_check(
    tmp_path: Path,
) -> None:
    (tmp_path / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "main.yaml").write_text(
        SCREEN + '  - {type: label, text: t, visible: "1 / 0 > 0", rect: [0, 0, 9, 9]}\n',
        encoding="utf-8",
    )
    problems = check_project(tmp_path)
    assert [str(p.location) for p in problems] == [f"{tmp_path / 'main.yaml'}:6:38"]
    assert "division by zero" in problems[0].message


def test_a_rule_watches_its_widget_s_events_only_while_it_has_a_problem(
    qtbot: QtBot, screen: tuple[Station, ScreenCanvas]
) -> None:
    """A rule that evaluates is no event filter: a screen of widgets with ``visible:`` rules
    runs no Python for their paints, moves and hovers. A problem makes it one (the badge
    follows a resize, the tooltip leads with the message), and the fix undoes it."""
    from hmi.views.screen_canvas import _VisibleRule

    station, canvas = screen
    ratio = canvas.widget("ratio")
    assert ratio is not None
    station.feed("A", 5.0)
    station.feed("Z", 2.0)
    qtbot.waitUntil(lambda: ratio.isVisible() and ratio.property("expression") != "bad")
    with python_calls(_VisibleRule.eventFilter) as runs:
        ratio.resize(ratio.width() + 4, ratio.height())
        ratio.repaint()
        hover_tooltip(ratio)
        QApplication.processEvents()
    assert runs == [], runs
    station.feed("Z", 0.0)  # 5 / 0: a problem
    qtbot.waitUntil(lambda: ratio.property("expression") == "bad")
    badge = _badge(ratio)
    assert badge is not None
    with python_calls(_VisibleRule.eventFilter) as runs:
        ratio.resize(ratio.width() + 40, ratio.height())
        QApplication.processEvents()
    assert runs, "the badge is placed from the rule's filter"
    assert badge.x() + badge.width() == ratio.width() - 1, "in the top-right corner, resized"
    assert "division by zero" in _tooltip(ratio)
    station.feed("Z", 2.0)  # fixed: the filter goes with the problem
    qtbot.waitUntil(lambda: ratio.property("expression") == "good")
    with python_calls(_VisibleRule.eventFilter) as runs:
        ratio.resize(ratio.width() - 40, ratio.height())
        ratio.repaint()
        QApplication.processEvents()
    assert runs == [], runs
