"""The calm look of a trend (ISA-101): grey plot, muted pens, no alarm colours on lines.

Colours that mark abnormal states (red, yellow, the quality magenta) are kept out of the pen
palette, so a line's colour never reads as an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from hmi.model.screens.schema import TrendPenSpec, TrendSpec
from hmi.model.tags import DataType, TagConfig

PLOT_BACKGROUND = "#e8e8e8"
FRAME = "#9c9c9c"
AXIS = "#4a4a4a"
GRID = "#cbcbcb"  # grid lines, opaque (see trend_axis)
CURSOR = "#2b2b2b"
PALETTE = (
    "#2f5f8a",  # steel blue
    "#8a5a2b",  # brown
    "#3f7a4f",  # moss green
    "#6a4f8a",  # muted violet
    "#2f7a7a",  # teal
    "#7a6a2f",  # olive
    "#8a4a63",  # plum
    "#4a4a4a",  # graphite
)


@dataclass(frozen=True)
class PenStyle:
    """A pen's resolved look: what the spec says, or the defaults for its tag."""

    tag: str
    color: str
    width: float
    dash: bool
    step: bool
    axis: str
    y_range: tuple[float, float] | None
    units: str
    ticks: tuple[tuple[float, str], ...] = ()  # labelled y ticks of a discrete tag

    def qpen(self) -> QPen:
        pen = pg.mkPen(QColor(self.color), width=self.width)
        pen.setCosmetic(True)
        if self.dash:
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen


def draws_steps(config: TagConfig | None) -> bool:
    """Setpoints (writable tags), bool, int and state tags, or as the tag's ``step`` says."""
    return config is not None and config.steps


def resolve_pen(spec: TrendSpec | None, tag: str, index: int, config: TagConfig | None) -> PenStyle:
    """Style of the ``index``-th pen: the spec's ``pens`` entry, else defaults (palette colour,
    1 px solid, steps for setpoints and discrete tags, the tag's range, axis by ``y_axes``)."""
    pen = spec.pen(tag) if spec is not None else TrendPenSpec(tag=tag)
    units = config.units if config is not None else ""
    mode = spec.y_axes if spec is not None else "units"
    if pen.axis:
        axis = pen.axis
    elif mode == "shared":
        axis = "shared"
    elif mode == "pen":
        axis = f"pen:{tag}"
    else:
        axis = f"units:{units}"
    y_range = pen.range or (config.range if config is not None else None)
    ticks: tuple[tuple[float, str], ...] = ()
    if config is not None and config.states:
        ticks = tuple((float(k), text) for k, text in sorted(config.states.items()))
    elif config is not None and config.datatype is DataType.BOOL:
        ticks = ((0.0, "0"), (1.0, "1"))
    if y_range is None and ticks:
        low, high = ticks[0][0], ticks[-1][0]
        margin = max(high - low, 1.0) * 0.15
        y_range = (low - margin, high + margin)
    return PenStyle(
        tag=tag,
        color=pen.color or PALETTE[index % len(PALETTE)],
        width=pen.width,
        dash=pen.style == "dash",
        step=pen.step if pen.step is not None else draws_steps(config),
        axis=axis,
        y_range=y_range,
        units=units,
        ticks=ticks,
    )
