"""Small valid projects written to tmp_path; each test breaks one thing in one file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

PROJECT = """\
project:
  name: Test plant
  start_screen: main
connections:
  plc: {driver: modbus, host: 127.0.0.1}
  ua: {driver: opcua, endpoint: "opc.tcp://localhost:4840"}
tags:
  Tank1.Level:
    address: sim://sine?period=60
    units: "%"
    range: [0, 100]
    format: ".1f"
  Pump1.Running:
    address: sim://square?period=10
    datatype: bool
  Pump1.Start:
    address: local://Pump1_Start?type=bool
    datatype: bool
    write: {}
  Flow.Setpoint:
    address: modbus://plc/1/holding/0?type=float32
    write: {min: 0, max: 100}
  Flow.Value:
    address: opcua://ua/ns=2;s=Flow
screens:
  - main.yaml
  - detail.yaml
templates:
  - pump.yaml
"""

MAIN = """\
screen:
  id: main
  title: Main
  size: [800, 600]
widgets:
  - {type: label, id: title, text: Plant, rect: [0, 0, 200, 40]}
  - {type: value, id: level, tag: Tank1.Level, rect: [10, 50, 100, 30]}
  - type: button
    text: Start
    rect: [10, 100, 100, 40]
    action: {kind: set, tag: Pump1.Start, value: 1}
  - type: instance
    template: pump
    params: {unit: Pump1}
    rect: [300, 100, 200, 200]
"""

DETAIL = """\
screen:
  id: detail
  title: Detail
  parent: main
  size: [800, 600]
widgets:
  - type: button
    text: Back
    rect: [0, 0, 100, 40]
    action: {kind: navigate, screen: main}
"""

PUMP = """\
template:
  id: pump
  title: Pump ${unit}
  params: [unit]
  size: [200, 200]
widgets:
  - {type: symbol, symbol: pump, tag: "${unit}.Running", rect: [0, 0, 100, 100]}
  - type: button
    text: Start ${unit}
    rect: [0, 150, 100, 40]
    visible: ${unit}.Running == 0
    action: {kind: momentary, tag: "${unit}.Start"}
"""

DEFAULTS = {"project.yaml": PROJECT, "main.yaml": MAIN, "detail.yaml": DETAIL, "pump.yaml": PUMP}

MakeProject = Callable[..., Path]


@pytest.fixture
def base_files() -> dict[str, str]:
    """The small valid project's files, to edit with ``str.replace`` in a test."""
    return dict(DEFAULTS)


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write the small valid project with some files replaced (text is dedented) or left out
    (None); returns the project folder."""

    def make(files: Mapping[str, str | None] | None = None) -> Path:
        contents = {**DEFAULTS, **(files or {})}
        for name, text in contents.items():
            if text is not None:
                path = tmp_path / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(textwrap.dedent(text), encoding="utf-8")
        return tmp_path

    return make
