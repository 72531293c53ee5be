"""The palette, inspector and tag picker beside the screen in design mode on the running demo
plant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.design.fields import fields_of
from hmi.model.screens.loader import Project
from hmi.views.designer.panels import PANELS_WIDTH
from tests.views.designer.design_rig import designing, trend_rows_apart


def test_panels_place_edit_and_are_pictured(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, artifacts: Path
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    window = d.station.window
    panels = d.design.panels  # design mode docks them (dock_panels) and wires them (attach)
    assert panels is not None
    window.resize(1366, 768)
    assert not panels.expanded  # collapsed to their tabs unless the engineer opened them
    d.design.tools.panels.setChecked(True)
    qtbot.waitUntil(lambda: panels.palette_list.isVisible() and panels.width() == PANELS_WIDTH)
    assert window.width() == 1366, window.minimumSizeHint()
    before = d.document.children()
    palette = panels.palette_list
    assert palette.item(1).text() == "value"
    spot = palette.visualItemRect(palette.item(1)).center()  # a real double-click on it
    qtbot.mouseClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    qtbot.mouseDClick(palette.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert d.document.children() == before + 1
    assert d.editor.stack.count() == 1
    d.editor.select([(before,)])
    assert panels.inspector.shown_paths == ((before,),)
    assert "tag" in panels.inspector.editors
    descs = {d.name: d for d in fields_of("value")}
    assert panels.inspector.commit(descs["font_size"], "20")
    assert d.document.widget((before,))["font_size"] == 20
    d.editor.stack.undo()  # the inspector shows the value as it is again
    assert "font_size" not in d.document.widget((before,))
    font = panels.inspector.editors["font_size"]
    assert isinstance(font, QLineEdit) and font.text() == ""
    d.editor.stack.redo()
    assert isinstance(panels.inspector.editors["font_size"], QLineEdit)
    assert panels.inspector.editors["font_size"].text() == "20"
    d.editor.stack.undo()
    panels.setCurrentIndex(0)
    qtbot.waitUntil(lambda: trend_rows_apart(d.station))  # the rebuilt screen laid out
    assert window.grab().save(str(artifacts / "designer_palette.png"))
    panels.setCurrentIndex(1)
    d.editor.select([(12,)])
    qtbot.waitUntil(lambda: "rect" in panels.inspector.editors)
    qtbot.waitUntil(lambda: panels.inspector.editors["rect"].isVisible())
    assert window.grab().save(str(artifacts / "designer_inspector.png"))
    panels.setCurrentIndex(2)
    panels.tag_picker.query.setText("level")
    d.station.bridge.flush()
    table = panels.tag_picker.table
    rows = [table.topLevelItem(i) for i in range(table.topLevelItemCount())]
    qtbot.waitUntil(lambda: all(r.text(2) == "good" for r in rows), timeout=15_000)  # live
    assert window.grab().save(str(artifacts / "designer_tag_picker.png"))
    d.editor.stack.undo()
    assert d.document.children() == before


def test_a_palette_entry_dropped_on_the_canvas_lands_where_it_was_let_go(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from hmi.views.designer.overlay import PALETTE_MIME

    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    panels = d.design.panels
    assert panels is not None
    palette = panels.palette_list
    bar = next(palette.item(i) for i in range(palette.count()) if palette.item(i).text() == "bar")
    data = palette.mimeData([bar])  # what a drag of the entry carries
    assert data.hasFormat(PALETTE_MIME)
    before = d.document.children()
    spot = QPointF(d.point(600, 300))
    enter = QDragEnterEvent(spot.toPoint(), Qt.DropAction.CopyAction, data,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(d.overlay, enter)
    assert enter.isAccepted()
    drop = QDropEvent(spot, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(d.overlay, drop)
    assert d.document.children() == before + 1 and d.editor.stack.count() == 1
    placed = d.document.widget((before,))
    assert placed["type"] == "bar"
    x, y, w, h = placed["rect"]  # type: ignore[misc]
    assert abs(x + w / 2 - 600) <= 10 and abs(y + h / 2 - 300) <= 10  # centred where let go
    d.editor.stack.undo()
    assert d.path.read_bytes() == d.original and d.document.children() == before
