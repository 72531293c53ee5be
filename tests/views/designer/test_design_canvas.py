"""Canvas editing on the demo's real screen files in a running station: select, move, snap,
resize, multi-select, clipboard, z order; each gesture one undo step named in the Edit menu;
undo back to the file's original bytes."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.design.geometry import Snap
from hmi.model.screens.loader import Project
from tests.views.designer.design_rig import Designing, designing

SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


def rect_of(d: Designing, path: tuple[int, ...]) -> list[float]:
    return list(d.document.widget(path)["rect"])


def undo_all(d: Designing) -> None:
    stack = d.editor.stack
    while stack.canUndo():
        stack.undo()
    assert d.document.text().encode() == d.original


def test_drag_snaps_to_the_grid_in_one_step_without_rebuilding(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    d.editor.snap = Snap(grid=10, edges=False)  # the grid alone (edges: the next test)
    canvas = d.editor.canvas
    label = canvas.at_path((9,))  # the T1 label at [370, 108, 252, 34]
    assert label is not None
    before = label.geometry()
    start = d.centre((9,))
    d.drag(qtbot, start, start + QPoint(round(33 * canvas.scale), round(-21 * canvas.scale)))
    assert d.editor.selection == [(9,)]
    x, y, w, h = rect_of(d, (9,))
    assert (w, h) == (252, 34)
    assert x % 10 == 0 and y % 10 == 0, (x, y)  # the grid, not the pointer's 403, 87
    assert abs(x - 403) <= 10 and abs(y - 87) <= 10
    assert d.editor.canvas is canvas and canvas.at_path((9,)) is label  # moved, not rebuilt
    assert label.geometry() != before
    assert d.editor.stack.count() == 1
    assert d.station.window.findChild(object, "DesignUndo").text() == "Undo Move widget"
    undo_all(d)
    assert label.geometry() == before
    d.editor.stack.redo()
    assert rect_of(d, (9,))[:2] == [x, y]


def test_alt_places_freely_and_edges_snap_with_guides(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    scale = d.editor.canvas.scale
    start = d.centre((9,))
    d.drag(qtbot, start, start + QPoint(round(33 * scale), 0), held=ALT)
    x = rect_of(d, (9,))[0]
    assert x % 10 != 0 and abs(x - 403) <= 2, x  # where the pointer put it
    d.editor.stack.undo()
    # the T1 value [406, 580, 180, 36] dragged 3 px right of the symbol's left edge (370):
    # it snaps to the edge and a guide runs there while dragging
    start = d.centre((12,))
    d.editor.select([])
    d.editor.snap = Snap(grid=0)
    qtbot.mousePress(d.overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    d.move(start + QPoint(round(-33 * scale), 0))
    assert any(g.axis == "x" and g.at == 370 for g in d.editor.guides), d.editor.guides
    qtbot.mouseRelease(d.overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(round(-33 * scale), 0))  # fmt: skip
    assert rect_of(d, (12,))[0] == 370
    assert d.editor.guides == ()
    undo_all(d)


def test_shift_click_selects_several_and_arrows_move_them_as_one_step(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, pos=d.centre((9,)))
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, SHIFT, d.centre((12,)))
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, SHIFT, d.centre((8,)))
    assert d.editor.selection == [(9,), (12,), (8,)]
    before = {p: rect_of(d, p) for p in d.editor.selection}
    qtbot.keyClick(d.overlay, Qt.Key.Key_Right)
    qtbot.keyClick(d.overlay, Qt.Key.Key_Down, SHIFT)
    for path, (x, y, w, h) in before.items():
        assert rect_of(d, path) == [x + 1, y + 10, w, h]
    assert d.editor.stack.count() == 2
    assert d.editor.stack.undoText() == "Move 3 widgets"
    assert d.station.window.findChild(object, "DesignUndo").text() == "Undo Move 3 widgets"
    d.station.window.activateWindow()
    qtbot.waitUntil(d.station.window.isActiveWindow)
    qtbot.keyClick(d.overlay, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Edit > Undo
    for path, (x, y, w, h) in before.items():
        assert rect_of(d, path) == [x + 1, y, w, h]
    assert d.editor.stack.redoText() == "Move 3 widgets"
    undo_all(d)


def test_rubber_band_then_align_and_distribute(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    # an empty corner of the screen to the middle of the left-hand widgets
    d.drag(qtbot, d.point(2, 250), d.point(120, 420))
    chosen = sorted(d.editor.selection)
    assert chosen and all(len(p) == 1 for p in chosen)
    for path in chosen:
        x, y, w, h = d.editor.rect(path)
        assert x < 120 and y < 420 and x + w > 2 and y + h > 250
    assert d.editor.align("left")
    lefts = {rect_of(d, p)[0] for p in chosen}
    assert len(lefts) == 1
    assert d.editor.stack.undoText() == f"Align {len(chosen)} widgets"
    undo_all(d)


def test_resize_by_a_handle(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    d.editor.snap = Snap(grid=10, edges=False)
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, pos=d.centre((12,)))
    handle = d.overlay.handle_rects(d.editor.rect((12,)))["se"].center().toPoint()
    scale = d.editor.canvas.scale
    d.drag(qtbot, handle, handle + QPoint(round(47 * scale), round(22 * scale)))
    x, y, w, h = rect_of(d, (12,))
    assert (x, y) == (406, 580)
    assert (x + w) % 10 == 0 and (y + h) % 10 == 0 and w > 180 and h > 36
    assert d.editor.stack.undoText() == "Resize widget"
    undo_all(d)


def test_a_groups_children_are_edited_inside_it(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="overview")
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, pos=d.centre((0, 0)))
    assert d.editor.selection == [(0, 0)]  # the valve symbol, not its group
    qtbot.keyClick(d.overlay, Qt.Key.Key_Left, SHIFT)
    assert rect_of(d, (0, 0)) == [116, 48, 100, 72]  # relative to the group, as in the file
    child = d.editor.canvas.at_path((0, 0))
    group = d.editor.canvas.at_path((0,))
    assert child is not None and child.parent() is group
    # the group itself moves with its children, which keep their place in it
    start = d.point(30, 30)  # the group's own corner
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, pos=start)
    assert d.editor.selection == [(0,)]
    qtbot.keyClick(d.overlay, Qt.Key.Key_Down)
    assert rect_of(d, (0,)) == [24, 25, 352, 456]
    assert rect_of(d, (0, 0)) == [116, 48, 100, 72]
    undo_all(d)


def test_copy_paste_duplicate_delete_and_z_order_undo_to_the_original_bytes(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    editor = d.editor
    count = d.document.children()
    editor.select([(4,), (5,)])  # sym_xv101 and val_xv101_pos
    assert editor.copy() == 2
    assert editor.paste()
    assert d.document.children() == count + 2
    pasted = [d.document.widget((count,)), d.document.widget((count + 1,))]
    assert [w["id"] for w in pasted] == ["sym_xv101_2", "val_xv101_pos_2"]
    assert pasted[0]["rect"] == [134, 310, 110, 88]
    assert editor.selection == [(count,), (count + 1,)]
    assert editor.canvas.at_path((count,)) is not None  # built on the canvas
    assert editor.duplicate()
    assert d.document.children() == count + 4
    assert editor.delete()
    assert d.document.children() == count + 2
    editor.select([(0,)])
    first = dict(d.document.widget((0,)))
    assert editor.restack(front=True)
    assert dict(d.document.widget((count + 1,))) == first
    assert editor.selection == [(count + 1,)]
    assert editor.restack(front=False)
    assert editor.selection == [(0,)]
    editor.select([(3,)])
    assert editor.cut()
    assert d.document.children() == count + 1
    assert editor.stack.undoText() == "Cut widget"
    undo_all(d)
    assert d.document.children() == count
    while editor.stack.canRedo():
        editor.stack.redo()
    assert d.document.children() == count + 1
    undo_all(d)


def test_a_template_instance_moves_whole_and_is_rebuilt_when_resized(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="pump_station")
    canvas = d.editor.canvas
    box = canvas.at_path((1,))  # instance p101 [608, 24, 632, 480]
    assert box is not None and box.objectName() == "TemplateInstance"
    inner = box.findChildren(QWidget)[0]
    before, inner_before = box.geometry(), inner.geometry()
    qtbot.mouseClick(d.overlay, Qt.MouseButton.LeftButton, pos=d.centre((1,)))
    assert d.editor.selection == [(1,)]
    qtbot.keyClick(d.overlay, Qt.Key.Key_Right, SHIFT)
    assert rect_of(d, (1,)) == [618, 24, 632, 480]
    assert d.editor.canvas is canvas  # moved, not rebuilt
    assert box.geometry().x() > before.x() and inner.geometry() == inner_before
    assert d.editor.set_rects({(1,): (618.0, 24.0, 500, 400)}, "Resize")
    assert d.editor.canvas is not canvas  # its widgets are fitted again: a new screen
    assert d.editor.canvas.at_path((1,)) is not None
    undo_all(d)


def test_the_grid_is_one_quiet_colour_even_where_its_lines_cross(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    """Drawn opaque, then given the grid's alpha in one pass (ten times faster than
    translucent lines): a line pixel is GRID once, a crossing too (not twice as dark), and
    the sheet between the lines is clear, so the screen shows through."""
    from PySide6.QtGui import QColor

    from hmi.views.designer.overlay import GRID

    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    overlay, canvas = d.overlay, d.editor.canvas
    overlay.repaint()
    picture = overlay._grid_picture(d.editor.snap.grid).toImage()  # what paintEvent blits
    x0, y0, w, h = canvas.stage_rect()
    step = d.editor.snap.grid * 5 * canvas.scale
    line_x, line_y = round(x0 + step), round(y0 + step)

    def alpha_and_colour(x: int, y: int) -> tuple[int, QColor]:
        pixel = QColor(picture.pixelColor(x, y))
        return pixel.alpha(), pixel

    mid_x, mid_y = round(x0 + step * 1.5), round(y0 + step * 1.5)
    for at in ((line_x, mid_y), (mid_x, line_y), (line_x, line_y)):  # a crossing last
        alpha, colour = alpha_and_colour(*at)
        assert abs(alpha - GRID.alpha()) <= 1, at
        assert abs(colour.blue() - GRID.blue()) <= 12 and colour.blue() > colour.red(), at
    assert alpha_and_colour(mid_x, mid_y)[0] == 0  # between the lines: clear
    assert w > step and h > step
