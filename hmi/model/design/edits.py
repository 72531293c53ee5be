"""Edits to a screen file, as values: what the canvas, the palette and the inspector produce.

A widget is addressed by its `WidgetPath`: the indices through the screen's `widgets` list and
the nested `widgets` lists of groups, `(2,)` for the third top-level widget, `(0, 4)` for the
fifth widget inside the first group. Ids are optional in screen files, so paths are the one
address every widget has. Field values are plain YAML data (str, int, float, bool, lists,
mappings), exactly as they would be written in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

WidgetPath = tuple[int, ...]


class _Remove:
    """The value of a field that an edit deletes from the widget."""

    _instance: _Remove | None = None

    def __new__(cls) -> _Remove:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Final = _Remove()


@dataclass(frozen=True)
class SetFields:
    """Set fields of one widget (`REMOVE` deletes a field); other fields keep their text.

    A field the widget does not have yet goes last, or at its index in `at` (the inverse of
    removing fields carries where they were, so undo puts them back in their order).
    """

    path: WidgetPath
    values: Mapping[str, Any]
    at: Mapping[str, int] = field(default_factory=dict)

    def at_index(self, key: str, default: int) -> int:
        return self.at.get(key, default)


@dataclass(frozen=True)
class InsertWidget:
    """Insert a widget so that it ends up at `path` (parent's path + index in its list)."""

    path: WidgetPath
    widget: Mapping[str, Any]


@dataclass(frozen=True)
class RemoveWidget:
    """Remove the widget at `path` (its comments go with it)."""

    path: WidgetPath


@dataclass(frozen=True)
class MoveWidget:
    """Move a widget, with its text and comments, from `source` to `target` (z order, regroup).

    `target` is the position after the move, as `InsertWidget.path` would give it.
    """

    source: WidgetPath
    target: WidgetPath


@dataclass(frozen=True)
class Batch:
    """Several edits as one undo step, named as the Edit menu shows it ("Move 3 widgets")."""

    name: str
    edits: tuple[Edit, ...]


Edit = SetFields | InsertWidget | RemoveWidget | MoveWidget | Batch


class DesignDocument(Protocol):
    """One screen file opened for editing (implemented by `hmi.model.design.document`)."""

    @property
    def path(self) -> Path:
        """The screen file."""
        ...

    def widget(self, path: WidgetPath) -> Mapping[str, Any]:
        """The widget's fields as plain data (a copy: change it through `apply`)."""
        ...

    def children(self, path: WidgetPath = ()) -> int:
        """How many widgets the screen (`()`) or the group at `path` holds."""
        ...

    def apply(self, edit: Edit) -> Edit:
        """Apply `edit` and return the edit that undoes it; raises `ConfigError`, changing
        nothing, when the edit does not fit the document (no such path, not a group)."""
        ...

    def text(self) -> str:
        """The file's text as it would be saved now."""
        ...
