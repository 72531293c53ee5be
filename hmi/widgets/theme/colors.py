"""The screen widgets' colours, read from the theme's own style sheet by Qt's parser.

The theme file (``resources/theme/<name>.qss``) holds every colour of the station. The chrome
(header, banner, status bar, dialogs) is drawn through Qt's style sheet. The screen widgets are
not: a style sheet reaching a widget routes all its polishing and painting through Qt's
``QStyleSheetStyle``, which cost a 500-widget screen half as much again to load even with rules
that match nothing (bench/README.md). They take their colours as palettes and cached pictures
(``hmi.widgets.theme.dress``), from one rule of the same file::

    ScreenTheme {
        qproperty-valueFill: #e0e0e0;
        ...
    }

No widget of the station is a ``ScreenTheme`` but the probe this module polishes once, so Qt
matches the rule nowhere else. A colour the rule leaves out keeps its default below.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Property
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from hmi.widgets.theme.selectors import split_outside_brackets

__all__ = ["DEFAULTS", "ScreenColors", "own_sheet", "read_colors"]

log = logging.getLogger(__name__)

DEFAULTS: Mapping[str, str] = {
    # the screen's ground: the canvas around the stage, the stage the widgets stand on
    "area": "#c6c6c6",
    "stage": "#d4d4d4",
    # labels (labelStyle normal and heading, title, caption)
    "labelText": "#1e1e1e",
    "titleText": "#101010",
    "captionText": "#4a4a4a",
    # values; writable: a value the user may change (a quiet underline, a frame on hover)
    "valueFill": "#e0e0e0",
    "valueText": "#101010",
    "writableFill": "#ebebeb",
    "writableLine": "#7e7e7e",
    # the quality convention: magenta means "do not trust this value", nothing else
    "untrusted": "#c000c0",
    "untrustedGlyph": "#ffffff",
    "staleText": "#6e6e6e",
    # bars
    "troughFill": "#ececec",
    "troughLine": "#6a6a6a",
    "barFill": "#565656",
    "barStale": "#a4a4a4",
    "limitMark": "#1e1e1e",
    # symbols: the SVG's #FILL per look, #STROKE, #MARK on a dark fill
    "symbolNormalFill": "#e6e6e6",
    "symbolActiveFill": "#4a4a4a",
    "symbolTransitionFill": "#a0a0a0",
    "symbolAbnormalFill": "#7fa3d9",
    "symbolAlarmFill": "#e00000",
    "symbolDisabledFill": "#d4d4d4",
    "symbolStroke": "#2e2e2e",
    "symbolDisabledStroke": "#9a9a9a",
    "symbolContrastMark": "#f2f2f2",
    # indicators: fill and text per look
    "indicatorNormalFill": "#e6e6e6",
    "indicatorNormalText": "#2e2e2e",
    "indicatorActiveFill": "#4a4a4a",
    "indicatorActiveText": "#ffffff",
    "indicatorTransitionFill": "#a0a0a0",
    "indicatorTransitionText": "#101010",
    "indicatorAbnormalFill": "#b9cde9",
    "indicatorAbnormalText": "#0f2a55",
    "indicatorAlarmFill": "#e00000",
    "indicatorAlarmText": "#ffffff",
    "indicatorDisabledFill": "transparent",
    "indicatorDisabledText": "#8a8a8a",
    # buttons
    "buttonFill": "#c9c9c9",
    "buttonText": "#1e1e1e",
    "buttonLine": "#7e7e7e",
    "buttonHover": "#dadada",
    "buttonPressed": "#a8a8a8",
    "buttonDisabledFill": "#cecece",
    "buttonDisabledText": "#8e8e8e",
    "buttonDisabledLine": "#acacac",
    "buttonActiveFill": "#4a4a4a",
    "buttonActiveText": "#ffffff",
    "buttonFocusLine": "#1e1e1e",  # the 2 px dark frame the chrome uses for focus, too
    # trends: the frame around the plot, the toolbar's note (its other labels: labelText)
    "trendFill": "#dedede",
    "trendLine": "#9c9c9c",
    "trendNote": "#6a6a6a",
    # groups
    "groupLine": "#9c9c9c",
    "groupTitle": "#3c3c3c",
    # tooltips (windows of no one: no style sheet reaches them)
    "tipFill": "#f4f4f4",
    "tipText": "#1e1e1e",
}


class ScreenColors:
    """The screen widgets' colours by name (``DEFAULTS``' keys), as ``QColor``s."""

    def __init__(self, colors: Mapping[str, QColor]) -> None:
        self._colors = {}
        for name, default in DEFAULTS.items():
            color = QColor(colors.get(name, QColor(default)))
            if not color.isValid():
                log.warning("theme: ScreenTheme's %s is no colour; %s kept", name, default)
                color = QColor(default)
            self._colors[name] = color
        # read for every widget dressed (a screen asks a few thousand times): no Qt call
        self._rgba = {name: color.rgba() for name, color in self._colors.items()}
        self._subsets: dict[tuple[tuple[str, str], ...], Mapping[str, QColor]] = {}

    def __getitem__(self, name: str) -> QColor:
        return self._colors[name]

    def rgba(self, name: str) -> int:
        """The colour as one number: hashable, for keys of cached pictures and palettes."""
        return self._rgba[name]

    def subset(self, names: Mapping[str, str]) -> Mapping[str, QColor]:
        """``{key: self[theme name]}`` for ``names``' items, made once and shared by every
        widget that asks (copy it before changing it)."""
        key = tuple(names.items())
        found = self._subsets.get(key)
        if found is None:
            found = self._subsets[key] = {k: self._colors[v] for k, v in key}
        return found

    def names(self) -> tuple[str, ...]:
        return tuple(self._colors)


def _probe_class() -> type[QWidget]:
    def prop(name: str) -> Property:
        def getter(self: Any) -> QColor:
            return QColor(self._read.get(name, QColor(DEFAULTS[name])))

        def setter(self: Any, color: QColor) -> None:
            self._read[name] = QColor(color)

        return Property(QColor, getter, setter)

    def __init__(self: Any) -> None:
        QWidget.__init__(self)
        self._read = {}

    attrs: dict[str, Any] = {name: prop(name) for name in DEFAULTS}
    attrs["__init__"] = __init__
    return type("ScreenTheme", (QWidget,), attrs)


_PROBE: type[QWidget] | None = None


def read_colors(sheet: str) -> ScreenColors:
    """The ``ScreenTheme`` rule of ``sheet`` as Qt reads it (a QApplication must exist)."""
    global _PROBE
    if _PROBE is None:
        _PROBE = _probe_class()
    probe = _PROBE()
    try:
        probe.setStyleSheet(sheet)
        probe.ensurePolished()
        return ScreenColors(dict(probe._read))  # type: ignore[attr-defined]
    finally:
        probe.setStyleSheet("")
        probe.deleteLater()


_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def own_sheet(sheet: str, cls: str) -> str:
    """The rules of ``sheet`` whose every selector starts at a ``cls`` widget: the style sheet
    a compound screen widget (a setpoint's entry field) carries itself, so that the
    rest of the screen stays outside Qt's style-sheet style."""
    start = re.compile(r"^" + re.escape(cls) + r"(?![\w-])")
    kept = []
    for selector, block in _RULE.findall(_COMMENT.sub("", sheet)):
        parts = [part.strip() for part in split_outside_brackets(selector, ",")]
        if parts and all(start.match(part) for part in parts):
            kept.append(f"{', '.join(parts)} {{{block}}}")
    return "\n".join(kept)
