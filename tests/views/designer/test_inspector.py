"""The inspector and palette, built from the schema, on the demo project's screen files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from hmi.model.design.document import ScreenDocument
from hmi.model.design.edits import Batch, SetFields
from hmi.model.screens.loader import load_project
from hmi.model.screens.schema import WIDGET_TYPES
from hmi.views.designer.inspector import Inspector, Palette, checked_edit

ROOT = Path(__file__).resolve().parents[3] / "screens"


@pytest.fixture(scope="module")
def project():  # type: ignore[no-untyped-def]
    return load_project(ROOT)


def _doc(project) -> ScreenDocument:  # type: ignore[no-untyped-def]
    return ScreenDocument.open(ROOT / project.screen_paths["overview"])


def _paths_of(
    doc: ScreenDocument, widget_type: str, parent: tuple[int, ...] = ()
) -> list[tuple[int, ...]]:
    """Every widget of `widget_type`, groups' widgets included, depth first."""
    found: list[tuple[int, ...]] = []
    for i in range(doc.children(parent)):
        path = (*parent, i)
        kind = doc.widget(path).get("type")
        if kind == widget_type:
            found.append(path)
        if kind == "group":
            found.extend(_paths_of(doc, widget_type, path))
    return found


def test_palette_places_every_type_and_template(qtbot: QtBot, project) -> None:  # type: ignore[no-untyped-def]
    palette = Palette(project)
    qtbot.addWidget(palette)
    doc = _doc(project)
    palette.count_in = doc.children
    palette.centre = (800.0, 600.0)  # room for the tallest faceplate
    names = [palette.item(i).text() for i in range(palette.count())]
    assert set(WIDGET_TYPES) - {"instance"} <= set(names)
    assert {f"template: {t}" for t in project.templates} <= set(names)
    placed = []
    palette.placed.connect(placed.append)
    for i in range(palette.count()):
        item = palette.item(i)
        palette.itemDoubleClicked.emit(item)
        edit = placed[-1]
        problems = checked_edit(ROOT, doc, edit)
        if item.text() == "image":  # the demo project holds no image file to show
            assert any("does not exist in the project folder" in p for p in problems)
        else:
            assert problems == [], (item.text(), problems)
        x, y, w, h = edit.widget["rect"]
        assert (x + w / 2, y + h / 2) == pytest.approx(palette.centre, abs=1)


def test_inspector_builds_for_every_type(qtbot: QtBot, project) -> None:  # type: ignore[no-untyped-def]
    inspector = Inspector(project)
    qtbot.addWidget(inspector)
    palette = Palette(project)
    qtbot.addWidget(palette)
    for widget_type in WIDGET_TYPES:
        doc = _doc(project)
        palette.count_in = doc.children
        item = next(
            palette.item(i) for i in range(palette.count())
            if palette.item(i).data(256)[0] == widget_type
        )  # fmt: skip
        edit = palette.insert_for(item, (300, 200))
        doc.apply(edit)
        inspector.show_selection(doc, (edit.path,))
        assert "rect" in inspector.editors and "tooltip" in inspector.editors, widget_type


def test_number_enum_rect_edits_and_refusal(qtbot: QtBot, project) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(project)
    inspector = Inspector(project)
    qtbot.addWidget(inspector)
    edits: list[object] = []
    inspector.edited.connect(edits.append)
    path = _paths_of(doc, "value")[0]
    inspector.show_selection(doc, (path,))
    names = {d: n for n, d in enumerate(inspector.editors)}
    assert "align" in names and "font_size" in names
    from hmi.model.design.fields import fields_of

    descs = {d.name: d for d in fields_of("value")}
    assert inspector.commit(descs["font_size"], "18")
    assert edits[-1] == SetFields(path, {"font_size": 18})
    assert inspector.commit(descs["align"], "center")
    assert edits[-1] == SetFields(path, {"align": "center"})
    assert inspector.commit(descs["rect"], "[10, 20, 130, 30]")
    assert edits[-1] == SetFields(path, {"rect": [10, 20, 130, 30]})
    count = len(edits)
    assert not inspector.commit(descs["font_size"], "-3")
    assert not inspector.commit(descs["font_size"], "nan")
    assert not inspector.commit(descs["tag"], "No.Such.Tag")
    assert "unknown tag 'No.Such.Tag'" in inspector.messages["tag"].text()
    assert not inspector.commit(descs["rect"], "[1, 2, 0, 5]")
    assert "width and height must be greater than 0" in inspector.messages["rect"].text()
    assert len(edits) == count
    line = inspector.editors["font_size"]
    assert isinstance(line, QLineEdit)
    line.setText("2000")  # typed in the field; above the schema's bound
    line.editingFinished.emit()
    assert len(edits) == count and "at most 1000" in inspector.messages["font_size"].text()
    line.setText("12.5")
    line.editingFinished.emit()
    assert edits[-1] == SetFields(path, {"font_size": 12.5})
    assert inspector.messages["font_size"].isHidden()
    combo = inspector.editors["align"]
    assert isinstance(combo, QComboBox)
    combo.activated.emit(combo.findText("left"))
    assert edits[-1] == SetFields(path, {"align": "left"})


def test_multi_selection_and_colour(qtbot: QtBot, project) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(project)
    inspector = Inspector(project)
    qtbot.addWidget(inspector)
    edits: list[object] = []
    inspector.edited.connect(edits.append)
    paths = tuple(_paths_of(doc, "value")[:3])
    assert len(paths) == 3
    inspector.show_selection(doc, paths)
    from hmi.model.design.fields import fields_of

    align = next(d for d in fields_of("value") if d.name == "align")
    assert inspector.commit(align, "left")
    assert edits[-1] == Batch("Set align", tuple(SetFields(p, {"align": "left"}) for p in paths))
    pen = {
        d.name: d
        for d in fields_of(__import__("hmi.model.screens.schema").model.screens.schema.TrendPenSpec)
    }
    assert pen["color"].kind == "colour" and pen["width"].low == 0 and pen["width"].high == 6


def test_nested_action_and_list_as_yaml(qtbot: QtBot, project) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(project)
    inspector = Inspector(project)
    qtbot.addWidget(inspector)
    edits: list[object] = []
    inspector.edited.connect(edits.append)
    path = _paths_of(doc, "button")[0]
    inspector.show_selection(doc, (path,))
    writable = next(n for n, t in project.tags.items() if t.writable)
    from hmi.model.design.fields import fields_of

    action = next(d for d in fields_of("button") if d.name == "action")
    assert {k for k, _m in action.variants} == {
        "set",
        "momentary",
        "toggle",
        "navigate",
        "faceplate",
    }
    assert inspector.commit(action, f"{{kind: set, tag: {writable}, value: 1}}")
    assert edits[-1] == SetFields(path, {"action": {"kind": "set", "tag": writable, "value": 1}})
    count = len(edits)
    assert not inspector.commit(action, "{kind: set, tag: No.Such.Tag, value: 1}")
    assert "No.Such.Tag" in inspector.messages["action"].text()
    assert not inspector.commit(action, "{kind: explode}")
    assert inspector.messages["action"].text()
    assert not inspector.commit(action, "{kind: [")
    assert len(edits) == count
    editor = inspector.editors["action"]
    assert isinstance(editor, QPlainTextEdit)
    editor.setPlainText(f"{{kind: toggle, tag: {writable}}}")
    assert inspector.commit_text("action")
    assert edits[-1] == SetFields(path, {"action": {"kind": "toggle", "tag": writable}})
