"""Label, group, image and the trend placeholder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import GroupSpec, ImageSpec, LabelSpec, TrendSpec
from hmi.widgets.group import GroupWidget
from hmi.widgets.image import ImageWidget
from hmi.widgets.label import LabelWidget
from hmi.widgets.trend.widget import TrendWidget

from .conftest import Station


def test_label_style_align_and_scale(station: Station, qtbot) -> None:
    spec = LabelSpec(
        type="label", text="Tank farm", style="title", align="center", rect=(0, 0, 200, 30)
    )
    widget = LabelWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    assert widget.text() == "Tank farm"
    assert widget.property("labelStyle") == "title"
    assert widget.alignment() & Qt.AlignmentFlag.AlignHCenter
    assert widget.font().pixelSize() == 24 and widget.font().bold()
    widget.apply_scale(0.5)
    assert widget.font().pixelSize() == 12
    widget.release()


def test_group_title(station: Station, qtbot) -> None:
    widget = GroupWidget(GroupSpec(type="group", title="Pumps", rect=(0, 0, 300, 200)), station.ctx)
    qtbot.addWidget(widget)
    assert widget.title_label.text() == "Pumps"
    widget.apply_scale(2.0)
    assert widget.title_label.font().pixelSize() == 26
    untitled = GroupWidget(GroupSpec(type="group", rect=(0, 0, 300, 200)), station.ctx)
    qtbot.addWidget(untitled)
    assert untitled.title_label.isHidden()


def test_image_keeps_aspect_and_marks_a_missing_file(
    station: Station, qtbot, tmp_path: Path
) -> None:
    picture = QImage(200, 100, QImage.Format.Format_RGB32)
    picture.fill(QColor("#808080"))
    picture.save(str(tmp_path / "plant.png"))
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20">'
        '<rect width="40" height="20"/></svg>',
        encoding="utf-8",
    )
    png = ImageWidget(
        ImageSpec(type="image", source="plant.png", rect=(0, 0, 100, 100)), station.ctx
    )
    svg = ImageWidget(
        ImageSpec(type="image", source="logo.svg", rect=(0, 0, 100, 100)), station.ctx
    )
    missing = ImageWidget(
        ImageSpec(type="image", source="gone.jpg", rect=(0, 0, 100, 100)), station.ctx
    )
    for widget in (png, svg, missing):
        qtbot.addWidget(widget)
        widget.resize(100, 100)
        assert not widget.grab().isNull()
    assert png.natural_size.toTuple() == (200, 100)
    assert svg.natural_size.toTuple() == (40, 20)
    assert missing.property("broken") == "true"
    assert "image not found" in missing.toolTip()


def test_trend_placeholder_shows_pens_with_quality(station: Station, qtbot) -> None:
    spec = TrendSpec(type="trend", tags=("Tank1.Level", "Pump1.Running"), rect=(0, 0, 240, 120))
    widget = TrendWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    assert "trend" in widget.note.text()
    level = widget.pens["Tank1.Level"]
    assert level.text() == "----" and level.property("quality") == "disconnected"
    station.feed("Tank1.Level", 3.14159)
    station.feed("Pump1.Running", 1, Quality.bad(QualityReason.COMM_FAILURE))
    assert level.text() == "3.14 m" and level.property("quality") == "good"
    running = widget.pens["Pump1.Running"]
    assert running.text() == "Running" and running.property("quality") == "bad"
    assert station.broker.subscribers("Tank1.Level") == 1
    widget.release()
    assert station.broker.subscribers("Tank1.Level") == 0
    assert station.broker.subscribers("Pump1.Running") == 0
