"""Screen widgets paint without Python: no ``paintEvent`` of ours anywhere in their classes,
and pictures drawn once, shared and bounded (``hmi.widgets.picture``)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from hmi.widgets import WIDGET_CLASSES, QualityBadge
from hmi.widgets.alarm_mark import AlarmMark
from hmi.widgets.picture import CornerMark, PixmapCache

# the trend is pyqtgraph's (and its legend's) own painting, left as it is
PAINTED_BY_QT = sorted(
    [cls for kind, cls in WIDGET_CLASSES.items() if kind != "trend"]
    + [QualityBadge, AlarmMark, CornerMark],
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", PAINTED_BY_QT, ids=lambda cls: cls.__name__)
def test_no_python_paint_event(cls: type) -> None:
    ours = [c for c in cls.__mro__ if c.__module__.startswith("hmi.")]
    assert ours and not [c.__qualname__ for c in ours if "paintEvent" in vars(c)]


def fill(color: str):
    def paint(painter: QPainter) -> None:
        painter.fillRect(0, 0, 100, 100, QColor(color))

    return paint


def test_the_cache_draws_once_per_key_and_size_and_forgets_the_oldest(qapp) -> None:
    cache = PixmapCache(limit=2)
    drawn: list[str] = []

    def counting(color: str):
        def paint(painter: QPainter) -> None:
            drawn.append(color)
            fill(color)(painter)

        return paint

    red = cache.get("red", 10, 6, 1.0, counting("#ff0000"))
    assert cache.get("red", 10, 6, 1.0, counting("#ff0000")) is red
    assert drawn == ["#ff0000"]
    assert red.size().toTuple() == (10, 6)
    assert red.toImage().pixelColor(5, 3).name() == "#ff0000"
    sharp = cache.get("red", 10, 6, 2.0, counting("#ff0000"))
    assert sharp.size().toTuple() == (20, 12) and sharp.devicePixelRatio() == 2.0
    cache.get("blue", 10, 6, 1.0, counting("#0000ff"))
    assert len(cache) == 2, "bounded: the least recently used went"
    cache.get("red", 10, 6, 1.0, counting("#ff0000"))
    assert drawn == ["#ff0000", "#ff0000", "#0000ff", "#ff0000"]


def test_a_corner_mark_shows_the_same_picture_enabled_and_disabled(qtbot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(40, 40)
    mark = CornerMark(host)
    mark.setGeometry(2, 2, 8, 8)
    picture = PixmapCache(limit=4).get("magenta", 8, 8, 1.0, fill("#c000c0"))
    mark.show_picture(picture)
    assert mark.picture is picture
    for enabled in (True, False):
        host.setEnabled(enabled)
        image = host.grab().toImage()
        assert image.pixelColor(6, 6).name() == "#c000c0", enabled
