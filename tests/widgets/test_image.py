"""ImageWidget: the picture is drawn at the widget's size when the size changes and painted by
Qt as the label's pixmap; a missing file is a placeholder in the theme's colours."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

from hmi.model.screens.schema import ImageSpec
from hmi.widgets.image import ImageWidget

from .conftest import Station


def image(station: Station, qtbot, source: str, size: tuple[int, int] = (100, 100)) -> ImageWidget:
    widget = ImageWidget(ImageSpec(type="image", source=source, rect=(0, 0, *size)), station.ctx)
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_picture_is_scaled_keeping_its_aspect_and_follows_the_size(
    station: Station, qtbot, tmp_path: Path, themed: None
) -> None:
    assert "paintEvent" not in vars(ImageWidget)
    picture = QImage(200, 100, QImage.Format.Format_RGB32)
    picture.fill(QColor("#808080"))
    picture.save(str(tmp_path / "plant.png"))
    widget = image(station, qtbot, "plant.png")
    shot = widget.grab().toImage()
    assert shot.pixelColor(50, 50).name() == "#808080"
    assert shot.pixelColor(50, 30).name() == "#808080", "100 x 50, centred: rows 25 to 75"
    assert shot.pixelColor(50, 20).name() != "#808080"
    widget.resize(200, 60)
    shot = widget.grab().toImage()
    assert widget.pixmap().deviceIndependentSize().toTuple() == (200, 60)
    assert shot.pixelColor(100, 30).name() == "#808080"
    assert shot.pixelColor(20, 30).name() != "#808080", "120 x 60, centred: columns 40 to 160"


def test_an_svg_is_drawn_at_the_widget_s_size(
    station: Station, qtbot, tmp_path: Path, themed: None
) -> None:
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20">'
        '<rect width="40" height="20" fill="#305080"/></svg>',
        encoding="utf-8",
    )
    widget = image(station, qtbot, "logo.svg", (80, 80))
    shot = widget.grab().toImage()
    assert shot.pixelColor(40, 40).name() == "#305080"
    assert shot.pixelColor(40, 10).name() != "#305080", "80 x 40, centred"


def test_a_missing_file_is_a_dashed_magenta_placeholder_naming_it(
    station: Station, qtbot, themed: None
) -> None:
    widget = image(station, qtbot, "gone.png", (120, 80))
    assert widget.property("broken") == "true"
    assert widget.text() == "image?\ngone.png"
    shot = widget.grab().toImage()
    edge = [shot.pixelColor(0, y).name() for y in range(80)]
    assert "#c000c0" in edge and edge.count("#c000c0") < len(edge), "dashed"
    inside = [shot.pixelColor(x, y) for x in range(10, 110) for y in range(10, 70)]
    ink = [c for c in inside if c.red() > 0x90 and c.green() < 0x80 and c.blue() > 0x90]
    assert len(ink) > 20, "the text, in the theme's magenta"
