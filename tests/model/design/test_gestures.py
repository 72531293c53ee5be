"""Gestures as edits on a real screen file's document (no Qt): absolute rects through groups,
one named edit per gesture, unique ids on paste, z order, and undo back to the original text."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi.model.design.document import ScreenDocument
from hmi.model.design.edits import Batch, Edit
from hmi.model.design.gestures import (
    absolute_rect,
    absolute_rects,
    delete_edit,
    edit_name,
    geometry_edit,
    insert_edit,
    outermost,
    paths,
    rect_value,
    restack_edit,
)

DEMO = Path(__file__).resolve().parents[3] / "screens"


@pytest.fixture
def overview() -> ScreenDocument:
    return ScreenDocument.open(DEMO / "overview.yaml")


def undo(doc: ScreenDocument, inverses: list[Edit]) -> None:
    for inverse in reversed(inverses):
        doc.apply(inverse)


def test_names_and_rect_values() -> None:
    assert edit_name("Move", 1) == "Move widget"
    assert edit_name("Move", 3) == "Move 3 widgets"
    assert rect_value((10.0, 20.04, 30.25, 5)) == [10, 20, 30.2, 5]


def test_group_children_are_absolute_on_screen_and_relative_in_the_file(
    overview: ScreenDocument,
) -> None:
    assert absolute_rect(overview, (0,)) == (24, 24, 352, 456)
    assert absolute_rect(overview, (0, 0)) == (24 + 126, 24 + 48, 100, 72)
    every = list(paths(overview))
    assert every[:2] == [(0,), (0, 0)] and (5,) in every
    assert absolute_rects(overview) == {p: absolute_rect(overview, p) for p in every}
    assert outermost([(0, 1), (0,), (1, 2)]) == [(0,), (1, 2)]
    original = overview.text()
    edit = geometry_edit(overview, {(0, 0): (160.0, 72.0, 100, 72)})
    assert isinstance(edit, Batch) and edit.name == "Move widget"
    inverse = overview.apply(edit)
    assert overview.widget((0, 0))["rect"] == [136, 48, 100, 72]
    overview.apply(inverse)
    assert overview.text() == original
    assert geometry_edit(overview, {(0,): (24.0, 24.0, 352, 456)}) is None  # nothing moved


def test_paste_makes_ids_unique_and_delete_goes_last_first(overview: ScreenDocument) -> None:
    original = overview.text()
    count = overview.children()
    made = insert_edit(overview, [overview.widget((0,)), overview.widget((5,))], shift=10)
    assert made is not None
    edit, new = made
    assert new == [(count,), (count + 1,)]
    inverses = [overview.apply(edit)]
    pasted = overview.widget((count,))
    assert pasted["id"] == "grp_valve_2" and pasted["rect"] == [34, 34, 352, 456]
    inner = {overview.widget((count, i)).get("id") for i in range(overview.children((count,)))}
    assert "sym_xv101_2" in inner and "sym_xv101" not in inner  # ids stay unique inside too
    again = insert_edit(overview, [pasted], shift=10)
    assert again is not None
    inverses.append(overview.apply(again[0]))
    assert overview.widget((count + 2,))["id"] == "grp_valve_3"
    gone = delete_edit([(count + 2,), (count,), (count, 3)])
    assert isinstance(gone, Batch) and gone.name == "Delete 2 widgets"
    inverses.append(overview.apply(gone))
    assert overview.children() == count + 1
    undo(overview, inverses)
    assert overview.text() == original


def test_restack_keeps_order_among_the_moved(overview: ScreenDocument) -> None:
    original = overview.text()
    ids = [overview.widget((i,))["id"] for i in range(overview.children())]
    made = restack_edit(overview, [(1,), (3,)], front=True)
    assert made is not None
    inverse = overview.apply(made[0])
    assert made[1] == [(4,), (5,)]
    now = [overview.widget((i,))["id"] for i in range(overview.children())]
    assert now == [ids[0], ids[2], ids[4], ids[5], ids[1], ids[3]]
    overview.apply(inverse)
    back = restack_edit(overview, [(3,), (5,)], front=False)
    assert back is not None
    inverse2 = overview.apply(back[0])
    now = [overview.widget((i,))["id"] for i in range(overview.children())]
    assert now == [ids[3], ids[5], ids[0], ids[1], ids[2], ids[4]]
    assert back[1] == [(0,), (1,)]
    overview.apply(inverse2)
    assert overview.text() == original
