"""The trend's own look: its fill and 1 px frame, or its worst pen's quality outline.

The frame is the ``QFrame`` box Qt draws in the palette's text colour, and the palette is set
before the trend's parts exist: a palette set later is handed down to every part of the plot,
each told of the change. While compact (no legend to carry the pens' qualities) and a pen is
not Good, the outline is a picture of the trend's size, as on any screen widget
(``hmi.widgets.theme.dress``).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame

from hmi.widgets.base import expression_bad
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, palette_of, quality_line

__all__ = ["dress_trend"]


def dress_trend(trend: QFrame, css: str, outlined: bool | None) -> bool | None:
    """Dress ``trend`` for quality ``css``; ``outlined``: whether it wears an outline now
    (None: not dressed yet). Returns what it wears after (None without a theme)."""
    colors = chrome.colors()
    if colors is None:
        return None
    line = quality_line(colors, css, expression_bad(trend))
    if line is None and outlined is False:
        return False  # the plain frame does not depend on the size
    if outlined is None:
        trend.setFrameShape(QFrame.Shape.Box)
        trend.setFrameShadow(QFrame.Shadow.Plain)
        trend.setAutoFillBackground(True)
    if line is None:
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Window, colors["trendFill"])
        palette.setColor(QPalette.ColorRole.WindowText, colors["trendLine"])
    else:
        dress = Dress(fill=colors.rgba("trendFill"), line=line)
        size, dpr = trend.size(), trend.devicePixelRatioF()
        palette = QPalette(palette_of(dress, size.width(), size.height(), dpr))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(0, 0, 0, 0))  # the box unseen
    trend.setPalette(palette)
    return line is not None
