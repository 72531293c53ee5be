"""The canvas's gestures as edits: one drag, one nudge, one paste or one delete is one `Edit`
(a `Batch` when it touches several widgets), named as the Edit menu shows it.

Rects here are absolute, in the screen's design pixels; a group's children are stored
relative to the group's corner, so the conversion happens here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hmi.model.design.edits import (
    Batch,
    DesignDocument,
    Edit,
    InsertWidget,
    MoveWidget,
    RemoveWidget,
    SetFields,
    WidgetPath,
)
from hmi.model.design.geometry import Rect

__all__ = [
    "absolute_rect",
    "absolute_rects",
    "delete_edit",
    "edit_name",
    "geometry_edit",
    "insert_edit",
    "is_group",
    "outermost",
    "paths",
    "rect_value",
    "restack_edit",
]


def edit_name(verb: str, count: int) -> str:
    """``"Move widget"``, ``"Move 3 widgets"``."""
    return f"{verb} widget" if count == 1 else f"{verb} {count} widgets"


def is_group(doc: DesignDocument, path: WidgetPath) -> bool:
    return doc.widget(path).get("type") == "group"


def paths(doc: DesignDocument, parent: WidgetPath = ()) -> Iterator[WidgetPath]:
    """Every widget's path, parents before their children (a group's widgets included)."""
    for index in range(doc.children(parent)):
        path = (*parent, index)
        yield path
        if is_group(doc, path):
            yield from paths(doc, path)


def absolute_rects(
    doc: DesignDocument, parent: WidgetPath = (), origin: tuple[float, float] = (0.0, 0.0)
) -> dict[WidgetPath, Rect]:
    """Every widget's absolute rect, parents before children, reading each widget once."""
    out: dict[WidgetPath, Rect] = {}
    for index in range(doc.children(parent)):
        path = (*parent, index)
        widget = doc.widget(path)
        x, y, w, h = widget["rect"]
        rect = (origin[0] + float(x), origin[1] + float(y), float(w), float(h))
        out[path] = rect
        if widget.get("type") == "group":
            out.update(absolute_rects(doc, path, (rect[0], rect[1])))
    return out


def _rect(doc: DesignDocument, path: WidgetPath) -> Rect:
    x, y, w, h = doc.widget(path)["rect"]
    return (float(x), float(y), float(w), float(h))


def _origin(doc: DesignDocument, parent: WidgetPath) -> tuple[float, float]:
    x = y = 0.0
    for depth in range(1, len(parent) + 1):
        rect = _rect(doc, parent[:depth])
        x, y = x + rect[0], y + rect[1]
    return x, y


def absolute_rect(doc: DesignDocument, path: WidgetPath) -> Rect:
    """The widget's rect on the screen (a group's child: offset by its groups' corners)."""
    ox, oy = _origin(doc, path[:-1])
    x, y, w, h = _rect(doc, path)
    return (ox + x, oy + y, w, h)


def rect_value(rect: Rect) -> list[int | float]:
    """A rect as the file writes it: whole numbers as ints, else one decimal."""
    out: list[int | float] = []
    for part in rect:
        rounded = round(part, 1)
        out.append(int(rounded) if rounded == int(rounded) else rounded)
    return out


def outermost(selected: Sequence[WidgetPath]) -> list[WidgetPath]:
    """The selection without the widgets whose group is selected too (they move with it)."""
    chosen = set(selected)
    return [p for p in selected if not any(p[:depth] in chosen for depth in range(1, len(p)))]


def geometry_edit(
    doc: DesignDocument, rects: Mapping[WidgetPath, Rect], verb: str = "Move"
) -> Edit | None:
    """Set the rects (absolute) of the widgets; None when nothing changes."""
    edits: list[Edit] = []
    for path, rect in rects.items():
        ox, oy = _origin(doc, path[:-1])
        value = rect_value((rect[0] - ox, rect[1] - oy, rect[2], rect[3]))
        if value != rect_value(_rect(doc, path)):
            edits.append(SetFields(path, {"rect": value}))
    if not edits:
        return None
    return Batch(edit_name(verb, len(rects)), tuple(edits))


def delete_edit(selected: Sequence[WidgetPath], verb: str = "Delete") -> Edit | None:
    """Remove the widgets, the last first, so that each path still means what it meant."""
    chosen = sorted(outermost(selected), reverse=True)
    if not chosen:
        return None
    return Batch(edit_name(verb, len(chosen)), tuple(RemoveWidget(p) for p in chosen))


def _ids(doc: DesignDocument) -> set[str]:
    return {str(doc.widget(p)["id"]) for p in paths(doc) if doc.widget(p).get("id")}


def _fresh(widget: Mapping[str, Any], taken: set[str], shift: float) -> dict[str, Any]:
    copy = dict(widget)
    if "rect" in copy:
        x, y, w, h = copy["rect"]
        copy["rect"] = rect_value((x + shift, y + shift, w, h))
    if copy.get("id"):
        base = re.sub(r"_\d+$", "", str(copy["id"])) or "w"  # a copy's copy: sym_2 -> sym_3
        number = 2
        while f"{base}_{number}" in taken:
            number += 1
        copy["id"] = f"{base}_{number}"
        taken.add(copy["id"])
    if isinstance(copy.get("widgets"), list):
        copy["widgets"] = [_fresh(child, taken, 0) for child in copy["widgets"]]
    return copy


def insert_edit(
    doc: DesignDocument,
    widgets: Sequence[Mapping[str, Any]],
    *,
    shift: float = 0,
    verb: str = "Paste",
) -> tuple[Edit, list[WidgetPath]] | None:
    """Add copies of ``widgets`` on top of the screen, ids made unique, moved by ``shift``;
    the edit and the paths the new widgets will have."""
    if not widgets:
        return None
    taken = _ids(doc)
    start = doc.children(())
    inserted = [
        InsertWidget((start + i,), _fresh(widget, taken, shift)) for i, widget in enumerate(widgets)
    ]
    return Batch(edit_name(verb, len(inserted)), tuple(inserted)), [e.path for e in inserted]


def restack_edit(
    doc: DesignDocument, selected: Sequence[WidgetPath], *, front: bool
) -> tuple[Edit, list[WidgetPath]] | None:
    """Bring to front (drawn last in their list) or send to back; keeps their order among
    themselves. The edit and the selection's paths afterwards."""
    by_parent: dict[WidgetPath, list[int]] = {}
    for path in outermost(selected):
        by_parent.setdefault(path[:-1], []).append(path[-1])
    moves: list[Edit] = []
    after: list[WidgetPath] = []
    for parent, indices in by_parent.items():
        count = doc.children(parent)
        for k, index in enumerate(sorted(indices)):
            if front:
                target = count - len(indices) + k
                source = index - k
                moves.append(MoveWidget((*parent, source), (*parent, count - 1)))
            else:
                target = k
                moves.append(MoveWidget((*parent, index), (*parent, target)))
            after.append((*parent, target))
    if not moves:
        return None
    verb = "Bring to front" if front else "Send to back"
    name = f"{verb}: {edit_name('', len(after)).strip()}"
    return Batch(name, tuple(moves)), after
