"""Where the fields of a widget are written: in a YAML file, or (for widgets placed from a
template) at the widget that placed them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hmi.model.errors import SourceLocation
from hmi.model.screens._yaml import Part, YamlDoc, char_pos, child, holder_pos, key_pos, value_pos


class Where(Protocol):
    """Where the fields of one widget (or action) are written. ``derived``: the widget comes
    from a placed template; ``prefix`` opens every message about it."""

    @property
    def prefix(self) -> str: ...
    @property
    def derived(self) -> bool: ...

    def value(self, *path: Part) -> SourceLocation: ...
    def key(self, *path: Part) -> SourceLocation: ...
    def char(self, path: Sequence[Part], index: int, length: int) -> SourceLocation: ...
    def child(self, *path: Part) -> Where: ...
    def has(self, *path: Part) -> bool: ...


@dataclass(frozen=True)
class NodeWhere:
    """Positions from the YAML tree of a file."""

    doc: YamlDoc
    base: tuple[Part, ...] = ()
    prefix: str = ""
    derived: bool = False

    def _parent(self, path: Sequence[Part]) -> Any:
        node = self.doc.data
        for part in (*self.base, *path[:-1]):
            node = child(node, part)
        return node

    def value(self, *path: Part) -> SourceLocation:
        pos = value_pos(self._parent(path), path[-1]) if path else None
        return self.doc.at(*(pos or holder_pos(self.doc, self.base + path[:-1])))

    def key(self, *path: Part) -> SourceLocation:
        pos = key_pos(self._parent(path), path[-1]) if path else None
        return self.doc.at(*(pos or holder_pos(self.doc, self.base + path[:-1])))

    def char(self, path: Sequence[Part], index: int, length: int) -> SourceLocation:
        pos = value_pos(self._parent(path), path[-1])
        if pos is None:
            return self.value(*path)
        return self.doc.at(*char_pos(self.doc, pos, index, length))

    def child(self, *path: Part) -> Where:
        return NodeWhere(self.doc, self.base + path)

    def has(self, *path: Part) -> bool:
        parent = self._parent(path)
        return isinstance(parent, Mapping) and path[-1] in parent


@dataclass(frozen=True)
class FixedWhere:
    """Every field of a widget placed from a template is reported at the placing widget."""

    location: SourceLocation
    prefix: str
    derived: bool = True

    def value(self, *path: Part) -> SourceLocation:
        return self.location

    def key(self, *path: Part) -> SourceLocation:
        return self.location

    def char(self, path: Sequence[Part], index: int, length: int) -> SourceLocation:
        return self.location

    def child(self, *path: Part) -> Where:
        return self

    def has(self, *path: Part) -> bool:
        return False
