"""What ``hmi check`` accepts, ``hmi run`` builds: screens at the edges of every bound the
schema now has (issue 14), checked, then built and painted offscreen with extreme values."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from hmi.model.screens.loader import check_project, load_project
from hmi.model.screens.schema import (
    MAX_DESIGN_SIZE,
    MAX_FONT_SIZE,
    TREND_PRESETS_MAX_S,
    TREND_SPAN_S,
)
from hmi.views.screen_canvas import ScreenCanvas
from tests.widgets.conftest import make_station

BIG = 1e308
HALF = 8e307  # the widest range whose span is still a finite number
PROJECT = f"""\
project: {{name: Edges, start_screen: large}}
tags:
  X:
    address: local://X
    range: [{-HALF}, {HALF}]
    limits: {{lolo: {-BIG}, lo: -1, hi: 1, hihi: {BIG}}}
    format: ">100.50f"
    write: {{min: {-BIG}, max: {BIG}}}
  S: {{address: "local://S?type=str", datatype: str}}
screens: [large.yaml, tiny.yaml]
templates: [box.yaml]
"""
SIZE = MAX_DESIGN_SIZE
WIDGETS = f"""\
  - {{type: label, text: big, font_size: {MAX_FONT_SIZE}, rect: [0, 0, {SIZE}, {SIZE}]}}
  - {{type: label, text: small, font_size: 1e-300, rect: [0, 0, 1e-300, 1e-300]}}
  - {{type: value, tag: X, format: "<100.50e", rect: [{SIZE - 1e-6}, 0, 1e-6, {SIZE}]}}
  - {{type: bar, tag: X, range: [{-HALF}, {HALF}], rect: [0, 0, 1, 1]}}
  - {{type: setpoint, tag: X, font_size: 1e-300, rect: [0, 0, 1, 1]}}
  - type: trend
    tags: [X]
    span_s: {TREND_SPAN_S[1]}
    presets_s: [{TREND_SPAN_S[0]}, {TREND_PRESETS_MAX_S}]
    pens: [{{tag: X, range: [{-HALF}, {HALF}], width: 6}}]
    rect: [0, 0, 1, 1]
  - {{type: indicator, tag: X, states: [{{value: {BIG}, text: max}}], rect: [0, 0, 1, 1]}}
  - {{type: label, text: "{"x" * 10_000}", visible: "S + S == S", rect: [0, 0, 1, 1]}}
  - {{type: instance, template: box, rect: [0, 0, 1e-300, 1e-300]}}
  - type: group
    rect: [0, 0, 1, 1]
    widgets:
      - {{type: group, rect: [0, 0, 1e-300, 1e-300], widgets: [{{type: label, text: deep, rect: [0, 0, 1e-300, 1e-300]}}]}}
"""
SCREENS = {
    "large.yaml": f"screen: {{id: large, title: Large, size: [{SIZE}, {SIZE}]}}\nwidgets:\n{WIDGETS}",
    "tiny.yaml": "screen: {id: tiny, title: Tiny, size: [1, 1]}\nwidgets:\n"
    + "  - {type: label, text: t, font_size: 1000, rect: [0, 0, 1, 1]}\n"
    + "  - {type: instance, template: box, rect: [0, 0, 1, 1]}\n",
    "box.yaml": f"template: {{id: box, size: [{SIZE}, 1]}}\nwidgets:\n"
    f"  - {{type: value, tag: X, rect: [0, 0, {SIZE}, 1]}}\n",
}


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "project.yaml").write_text(PROJECT, encoding="utf-8")
    for name, text in SCREENS.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("screen_id", ["large", "tiny"])
def test_edge_values_check_accepts_are_built(
    qtbot: QtBot, qapp: Any, project_dir: Path, screen_id: str
) -> None:
    assert check_project(project_dir) == []
    project = load_project(project_dir)
    station = make_station(dict(project.tags), project_dir)
    window = QWidget()
    window.resize(800, 600)
    QVBoxLayout(window).setContentsMargins(0, 0, 0, 0)
    canvas = ScreenCanvas.for_screen(
        project.screens[screen_id], station.ctx, project.templates, window
    )
    window.layout().addWidget(canvas)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    for value in (BIG, -BIG, 0.0, float("nan"), float("inf")):
        station.feed("X", value)
        station.feed("S", "y" * 10_000)
        QApplication.processEvents()
        assert not window.grab().isNull()
    window.grab().save(f"/tmp/hardening-files-edges-{screen_id}.png")
    canvas.release()
