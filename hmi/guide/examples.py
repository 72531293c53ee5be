"""The guide's example of every widget type: a short text, the YAML an engineer writes, and
the small project (memory tags with plausible values) its picture is rendered from.

Every example is a real screen file of that project: the generator loads it with the same
checker as ``hmi check``, so an example that stops being valid stops the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "EXAMPLES",
    "OTHER_SCREEN_YAML",
    "PROJECT_YAML",
    "SAMPLE_VALUES",
    "TEMPLATE_YAML",
    "Example",
]


@dataclass(frozen=True, slots=True)
class Example:
    """One widget type's entry: what it is for, and a screen (``size``) showing it."""

    type: str
    summary: str
    widgets: str  # the ``widgets:`` items, YAML, two-space indented list
    size: tuple[int, int]

    def screen_yaml(self) -> str:
        width, height = self.size
        return (
            f"screen: {{id: {self.type}, title: {self.type}, size: [{width}, {height}]}}\n"
            f"widgets:\n{self.widgets}"
        )


PROJECT_YAML = """\
project: {name: Screen guide, start_screen: label}
tags:
  T1.Level:
    address: local://t1_level?type=float
    description: Raw-water tank T1 level
    units: "%"
    range: [0, 100]
    format: ".1f"
    limits: {lolo: 10, lo: 20, hi: 85, hihi: 95}
  T1.Inflow:
    address: local://t1_inflow?type=float
    description: Inflow to T1
    units: m³/h
    range: [0, 400]
    format: ".0f"
  P101.Running:
    address: local://p101_running?type=bool
    datatype: bool
    states: {0: STOPPED, 1: RUNNING}
  P101.Fault:
    address: local://p101_fault?type=bool
    datatype: bool
    states: {0: OK, 1: TRIPPED}
  P101.RunCmd:
    address: local://p101_runcmd?type=bool
    datatype: bool
    states: {0: STOP, 1: RUN}
    write: {roles: [operator, supervisor, engineer, admin]}
  LIC101.SP:
    address: local://lic101_sp?type=float
    description: T2 level setpoint
    units: "%"
    range: [0, 100]
    format: ".1f"
    write: {min: 10, max: 90, roles: [operator, supervisor, engineer, admin]}
  XV101.Open:
    address: local://xv101_open?type=bool
    datatype: bool
    states: {0: CLOSED, 1: OPEN}
screens: [SCREENS, tank_farm.yaml]
templates: [pump_tile.yaml]
"""

OTHER_SCREEN_YAML = """\
screen: {id: tank_farm, title: Tank farm}
"""
"""The screen the examples' navigation buttons go to."""
"""``SCREENS``: replaced by the screen files, one per example."""

TEMPLATE_YAML = """\
template: {id: pump_tile, title: "Pump ${pump}", params: [pump], size: [300, 120]}
widgets:
  - {type: label, rect: [10, 8, 280, 30], text: "Pump ${pump}", style: heading}
  - type: indicator
    rect: [10, 50, 150, 40]
    tag: ${pump}.Running
    states:
      - {value: 0, text: Stopped, look: normal}
      - {value: 1, text: Running, look: active}
  - type: button
    rect: [170, 50, 120, 40]
    text: Faceplate…
    action: {kind: navigate, screen: tank_farm}
"""

SAMPLE_VALUES: dict[str, Any] = {
    "T1.Level": 62.4,
    "T1.Inflow": 182.0,
    "P101.Running": True,
    "P101.Fault": True,
    "P101.RunCmd": True,
    "LIC101.SP": 60.0,
    "XV101.Open": True,
}
"""The values the pictures show (all Good)."""

EXAMPLES: tuple[Example, ...] = (
    Example(
        "label",
        "Fixed text: headings, captions, names of things. It binds to no tag.",
        """\
  - {type: label, rect: [20, 16, 440, 40], text: Raw-water tank T1, style: heading}
  - {type: label, rect: [20, 64, 440, 30], text: Level transmitter LT101}
  - {type: label, rect: [20, 100, 440, 26], text: Last calibrated in March, style: caption}
""",
        (480, 140),
    ),
    Example(
        "value",
        "A tag's value with its units, in the tag's format; Bad and Uncertain values keep "
        "the last value, visibly marked. The value of a writable tag that the logged-in user "
        "may change is underlined, and a click on it opens its entry.",
        """\
  - {type: label, rect: [20, 20, 200, 40], text: T1 level}
  - {type: value, rect: [220, 20, 220, 40], tag: T1.Level}
  - {type: label, rect: [20, 76, 200, 40], text: Inflow}
  - {type: value, rect: [220, 76, 220, 40], tag: T1.Inflow, format: ".1f"}
""",
        (480, 136),
    ),
    Example(
        "bar",
        "A level or a rate as a bar over the tag's range, with its lo/hi limits marked.",
        """\
  - {type: bar, rect: [30, 16, 60, 200], tag: T1.Level}
  - {type: value, rect: [110, 16, 160, 40], tag: T1.Level, align: left}
  - {type: bar, rect: [130, 120, 320, 40], tag: T1.Inflow, orientation: horizontal}
  - {type: value, rect: [290, 170, 160, 40], tag: T1.Inflow}
""",
        (480, 232),
    ),
    Example(
        "indicator",
        "A discrete state as text and a look (ISA-101: grey for normal, colour only for "
        "what is abnormal); the first row whose value matches is shown.",
        """\
  - type: indicator
    rect: [20, 20, 200, 44]
    tag: P101.Running
    states:
      - {value: 0, text: Stopped, look: normal}
      - {value: 1, text: Running, look: active}
  - type: indicator
    rect: [240, 20, 220, 44]
    tag: P101.Fault
    states:
      - {value: 0, text: No fault, look: normal}
      - {value: 1, text: Tripped, look: alarm}
""",
        (480, 84),
    ),
    Example(
        "symbol",
        "A piece of equipment drawn from the symbol library (or an SVG of the project), its "
        "look chosen by a tag's state.",
        """\
  - {type: symbol, rect: [20, 20, 100, 140], symbol: tank}
  - type: symbol
    rect: [160, 50, 100, 100]
    symbol: pump
    tag: P101.Running
    states:
      - {value: 0, look: normal}
      - {value: 1, look: active}
  - type: symbol
    rect: [300, 60, 120, 80]
    symbol: valve
    tag: XV101.Open
    states:
      - {value: 0, look: normal}
      - {value: 1, look: active}
""",
        (480, 180),
    ),
    Example(
        "button",
        "An action: set, momentary or toggle a tag (through the command service: permission, "
        "limits, confirmation, audit), go to a screen, or open a faceplate.",
        """\
  - type: button
    rect: [20, 20, 200, 50]
    text: Start P101
    action: {kind: set, tag: P101.RunCmd, value: 1}
  - type: button
    rect: [240, 20, 220, 50]
    text: Tank farm ›
    action: {kind: navigate, screen: tank_farm}
""",
        (480, 90),
    ),
    Example(
        "setpoint",
        "An entry for a writable tag: the value typed is checked against the tag's write "
        "limits before anything is sent, then goes through the command service.",
        """\
  - {type: label, rect: [20, 20, 200, 40], text: T2 level setpoint}
  - {type: setpoint, rect: [220, 20, 240, 40], tag: LIC101.SP}
""",
        (480, 80),
    ),
    Example(
        "group",
        "A titled frame; the rects of its widgets are relative to the group.",
        """\
  - type: group
    rect: [20, 16, 440, 130]
    title: Raw-water tank T1
    widgets:
      - {type: label, rect: [16, 36, 180, 36], text: Level}
      - {type: value, rect: [200, 36, 220, 36], tag: T1.Level}
      - {type: label, rect: [16, 80, 180, 36], text: Inflow}
      - {type: value, rect: [200, 80, 220, 36], tag: T1.Inflow}
""",
        (480, 162),
    ),
    Example(
        "image",
        "A picture from the project folder (PNG, JPEG or SVG): a site plan, a logo.",
        """\
  - {type: image, rect: [20, 20, 100, 100], source: images/logo.svg}
  - {type: label, rect: [140, 50, 320, 40], text: Riverside Water Works, style: heading}
""",
        (480, 140),
    ),
    Example(
        "trend",
        "Tags over time: live, with range presets, pause, cursor and export; the history "
        "comes from the historian when the station records the tags.",
        """\
  - type: trend
    rect: [0, 0, 720, 300]
    tags: [T1.Level, LIC101.SP]
    span_s: 600
    pens:
      - {tag: LIC101.SP, style: dash, step: true}
""",
        (720, 300),
    ),
    Example(
        "instance",
        "A template (faceplate) placed with parameters: defined once in a template file, "
        "its widgets are scaled into the rect, ``${pump}`` replaced by ``P101``.",
        """\
  - {type: instance, rect: [20, 20, 300, 120], template: pump_tile, params: {pump: P101}}
""",
        (340, 160),
    ),
)
