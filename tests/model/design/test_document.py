"""The screen document on the demo plant's real files: open is exact, an edit changes only the
lines it touches, and its inverse gives the file back byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from hmi.model.design import (
    REMOVE,
    Batch,
    InsertWidget,
    MoveWidget,
    RemoveWidget,
    SetFields,
    WidgetPath,
)
from hmi.model.design.document import ScreenDocument, WidgetText
from hmi.model.errors import ConfigError
from hmi.model.screens.sources import check_with

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "screens"
FILES = sorted(p for p in DEMO.rglob("*.yaml") if p.name != "project.yaml")


def _changed(before: str, after: str) -> list[str]:
    """The lines that differ ("-old" / "+new"), without diff headers."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def _paths(doc: ScreenDocument, parent: WidgetPath = ()) -> list[WidgetPath]:
    found: list[WidgetPath] = []
    for index in range(doc.children(parent)):
        path = (*parent, index)
        found.append(path)
        found.extend(_paths(doc, path))
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_open_gives_the_file_back_exactly(path: Path) -> None:
    doc = ScreenDocument.open(path)
    assert doc.text().encode("utf-8") == path.read_bytes()
    assert doc.children() > 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_moving_any_widget_changes_its_rect_line_only_and_undo_restores(path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    for where in _paths(doc):
        rect = doc.widget(where).get("rect")
        if rect is None:
            continue
        moved = [rect[0] + 10, rect[1] + 20, *rect[2:]]
        undo = doc.apply(SetFields(where, {"rect": moved}))
        changed = _changed(original, doc.text())
        assert len(changed) == 2, (where, changed)
        assert changed[0].startswith("-") and changed[1].startswith("+")
        assert f"[{moved[0]}, {moved[1]}, " in changed[1]
        assert doc.widget(where)["rect"] == moved
        doc.apply(undo)
        assert doc.text() == original, where


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_remove_then_insert_and_every_move_round_trip(path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    count = doc.children()
    for index in range(count):
        undo = doc.apply(RemoveWidget((index,)))
        assert doc.children() == count - 1
        assert isinstance(undo, InsertWidget) and isinstance(undo.widget, WidgetText)
        doc.apply(undo)
        assert doc.text() == original, index
        target = (count - 1 - index,)
        undo = doc.apply(MoveWidget((index,), target))
        doc.apply(undo)
        assert doc.text() == original, index


def test_a_moved_widget_takes_its_comments_and_leaves_the_others_in_place() -> None:
    path = DEMO / "overview.yaml"
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    first = doc.widget((0,))
    assert "# -- inlet valve XV101" in original
    doc.apply(MoveWidget((0,), (doc.children() - 1,)))
    text = doc.text()
    assert doc.widget((doc.children() - 1,)) == first
    # the comment that heads the valve group now heads it at the end of the list
    assert text.index("# -- inlet valve XV101") > text.index("id: grp_valve") - 200
    assert text.index("# -- inlet valve XV101") > text.index("id: " + doc.widget((0,))["id"])
    assert sorted(text.splitlines()) == sorted(original.splitlines())


def test_a_removed_widget_takes_its_comments_and_not_the_next_ones() -> None:
    path = DEMO / "overview.yaml"
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    doc.apply(RemoveWidget((0,)))
    text = doc.text()
    assert "# -- inlet valve XV101" not in text
    others = [line for line in original.splitlines() if line.strip().startswith("# --")][1:]
    assert others and all(line in text.splitlines() for line in others)
    assert set(text.splitlines()) <= set(original.splitlines()) | {""}


def test_flow_style_widgets_stay_on_one_line_when_edited() -> None:
    path = DEMO / "diagnostics.yaml"
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    where = (0, 1)
    assert doc.widget(where)["type"] == "label"
    doc.apply(SetFields(where, {"text": "OPC UA: plant", "tooltip": "the server"}))
    changed = _changed(original, doc.text())
    assert len(changed) == 2
    assert changed[1][1:].strip().startswith("- {type: label, text: ")
    assert changed[1].rstrip().endswith("tooltip: the server}")
    # the text was double-quoted and stays so
    assert 'text: "OPC UA: plant"' in changed[1]


def test_removing_fields_and_undo_keep_the_key_order() -> None:
    path = DEMO / "diagnostics.yaml"
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    where = (1, 1)
    assert "tooltip" in doc.widget(where)
    undo = doc.apply(SetFields(where, {"tooltip": REMOVE, "text": "Trip it"}))
    assert "tooltip" not in doc.widget(where)
    assert len(_changed(original, doc.text())) == 3
    doc.apply(undo)
    assert doc.text() == original


def test_insert_takes_its_neighbours_style_and_the_result_passes_the_checker() -> None:
    doc = ScreenDocument.open(DEMO / "diagnostics.yaml")
    original = doc.text()
    new = {"type": "value", "tag": "Plant.Heartbeat", "rect": [20, 240, 100, 20]}
    undo = doc.apply(InsertWidget((0, 3), new))
    changed = _changed(original, doc.text())
    assert changed == ["+      - {type: value, tag: Plant.Heartbeat, rect: [20, 240, 100, 20]}"]
    assert doc.widget((0, 3)) == new
    assert check_with(DEMO, {doc.path: doc.text()}) == []
    doc.apply(undo)
    assert doc.text() == original


def test_a_batch_undoes_as_one_step_and_a_failing_batch_changes_nothing() -> None:
    doc = ScreenDocument.open(DEMO / "tank_farm.yaml")
    original = doc.text()
    rects = {i: doc.widget((i,)).get("rect") for i in range(doc.children())}
    moves = tuple(
        SetFields((i,), {"rect": [r[0] + 1, *r[1:]]}) for i, r in rects.items() if r is not None
    )
    undo = doc.apply(Batch("Move widgets", moves))
    assert isinstance(undo, Batch) and undo.name == "Move widgets"
    assert len(_changed(original, doc.text())) == 2 * len(moves)
    doc.apply(undo)
    assert doc.text() == original
    with pytest.raises(ConfigError, match=r"widget \[999\]"):
        doc.apply(Batch("Bad", (*moves[:3], SetFields((999,), {"rect": [0, 0, 1, 1]}))))
    assert doc.text() == original


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (SetFields((99,), {"text": "x"}), r"widget \[99\]: no such widget"),
        (SetFields((0, 99), {"text": "x"}), r"widget \[0, 99\]: no such widget"),
        (InsertWidget((0, 1, 0), {"type": "label"}), r"widget \[0, 1\]: it is not a group"),
        (InsertWidget((50,), {"type": "label"}), r"widget \[50\]: no place 50"),
        (SetFields((0,), {"rect": object()}), r"widget \[0\]: field 'rect': object is not"),
        (MoveWidget((0,), (0, 2)), r"widget \[0\]: cannot move a widget into itself"),
        (RemoveWidget(()), "needs the path of a widget"),
    ],
)
def test_a_bad_edit_names_the_path_and_changes_nothing(edit: object, message: str) -> None:
    doc = ScreenDocument.open(DEMO / "diagnostics.yaml")
    original = doc.text()
    with pytest.raises(ConfigError, match=message) as caught:
        doc.apply(edit)  # type: ignore[arg-type]
    assert "diagnostics.yaml" in str(caught.value)
    assert doc.text() == original


def test_an_empty_list_gets_its_first_widget_and_loses_its_last(tmp_path: Path) -> None:
    text = "# a new screen\nscreen:\n  id: s\n  title: S\n  size: [800, 600]\n\nwidgets: []\n"
    doc = ScreenDocument.from_text(text, tmp_path / "s.yaml")
    assert doc.children() == 0
    label = {"type": "label", "text": "Hi", "rect": [0, 0, 10, 10]}
    undo = doc.apply(InsertWidget((0,), label))
    assert doc.text().endswith("widgets:\n  - {type: label, text: Hi, rect: [0, 0, 10, 10]}\n")
    assert doc.widget((0,)) == label
    doc.apply(undo)
    assert doc.text() == text


def test_crlf_files_keep_crlf(tmp_path: Path) -> None:
    source = (DEMO / "pump_station.yaml").read_text(encoding="utf-8").replace("\n", "\r\n")
    doc = ScreenDocument.from_text(source, tmp_path / "p.yaml")
    rect = doc.widget((0,))["rect"]
    undo = doc.apply(SetFields((0,), {"rect": [rect[0] + 1, *rect[1:]]}))
    assert "\n" not in doc.text().replace("\r\n", "")
    doc.apply(undo)
    assert doc.text() == source


def test_after_edits_the_document_reads_as_a_fresh_parse_of_its_text() -> None:
    doc = ScreenDocument.open(DEMO / "overview.yaml")
    for where in _paths(doc)[:40]:
        rect = doc.widget(where).get("rect")
        if rect is not None:
            doc.apply(SetFields(where, {"rect": [rect[0] + 1, *rect[1:]]}))
    doc.apply(SetFields((0,), {"tooltip": "now two fields longer", "id": "grp_valve"}))
    fresh = ScreenDocument.from_text(doc.text(), doc.path)
    assert [doc.widget(p) for p in _paths(doc)] == [fresh.widget(p) for p in _paths(fresh)]
    assert [doc.lines_of(p) for p in _paths(doc)] == [fresh.lines_of(p) for p in _paths(fresh)]


def test_what_cannot_be_edited_exactly_is_refused_with_what_to_do(tmp_path: Path) -> None:
    flow = "screen: {id: s, title: S}\nwidgets: [{type: label, text: a, rect: [0, 0, 9, 9]}]\n"
    doc = ScreenDocument.from_text(flow, tmp_path / "f.yaml")
    assert doc.widget((0,))["text"] == "a"
    with pytest.raises(ConfigError, match=r"f.yaml:2:10: .*flow style.*block list"):
        doc.apply(SetFields((0,), {"text": "b"}))
    assert doc.text() == flow
    with pytest.raises(ConfigError, match="LF or CRLF"):
        ScreenDocument.from_text("screen: {id: s, title: S}\u2028widgets: []\n", tmp_path / "u")


def test_a_template_file_is_a_document_too() -> None:
    path = DEMO / "templates" / "pump_faceplate.yaml"
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    rect = doc.widget((0,))["rect"]
    undo = doc.apply(SetFields((0,), {"rect": [rect[0] + 2, *rect[1:]]}))
    assert len(_changed(original, doc.text())) == 2
    doc.apply(undo)
    assert doc.text() == original
