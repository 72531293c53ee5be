"""Edits outside a screen's widgets, as exact as the document's: one top-level block of a file
(a screen's `screen:` header, project.yaml's `project:` or `screens:`) is read and dumped with
ruamel.yaml's round trip; every other line of the file is kept as it is.

A block is its key's line and every line after it that is indented (or blank, or a comment
followed by more of it); the comments and blank lines after its last line belong to what
follows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.util import load_yaml_guess_indent

from hmi.model.design._style import node_for
from hmi.model.errors import ConfigError

__all__ = ["edit_block", "list_file", "new_screen_text", "set_fields", "unlist_file"]


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    start = next(
        (i for i, line in enumerate(lines) if line.startswith((f"{key}:", f'"{key}":'))), None
    )
    if start is None:
        return None
    end = start + 1
    for j in range(start + 1, len(lines)):
        text = lines[j]
        if not text.strip():
            continue
        if not text[0].isspace() and not text.startswith("#"):
            break
        if not text.lstrip().startswith("#") or text[0].isspace():
            end = j + 1
    return start, end


def _yaml(mapping: int, sequence: int, offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _reader(block: str) -> tuple[YAML, Any]:
    """A round-trip YAML that writes `block` back exactly (the first of the usual
    indentations that does), and `block` read with it."""
    _, indent, offset = load_yaml_guess_indent(block)
    guessed = (2, indent, offset) if offset is not None else (indent, indent + 2, 2)
    for style in (guessed, (2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0)):
        yaml = _yaml(*style)
        data = yaml.load(block)
        out = io.StringIO()
        yaml.dump(data, out)
        if out.getvalue() == block:
            return yaml, data
    yaml = _yaml(*guessed)
    return yaml, yaml.load(block)


def edit_block(text: str, where: str, key: str, change: Callable[[Any], Any]) -> str:
    """`text` with the top-level `key`'s value changed by `change` (it edits the ruamel node
    in place, or returns a new value); raises `ConfigError` naming `where` if there is no
    such block."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    found = _block(lines, key)
    if found is None:
        raise ConfigError(f"{where}: there is no top-level '{key}:' to edit")
    start, end = found
    block = "".join(lines[start:end]).replace("\r\n", "\n")
    yaml, data = _reader(block)
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{where}: '{key}:' is not a mapping entry")
    replaced = change(data[key])
    if replaced is not None:
        data[key] = replaced
    out = io.StringIO()
    yaml.dump(data, out)
    new = [line[:-1] + newline for line in out.getvalue().splitlines(keepends=True)]
    return "".join(lines[:start] + new + lines[end:])


def set_fields(text: str, where: str, key: str, values: Mapping[str, Any]) -> str:
    """`text` with fields of the top-level mapping `key` set (None removes a field)."""

    def change(node: Any) -> None:
        if not isinstance(node, CommentedMap):
            raise ConfigError(f"{where}: '{key}:' is not a mapping")
        for name, value in values.items():
            if value is None:
                node.pop(name, None)
            elif name in node:
                node[name] = node_for(value, node[name])
            else:
                node[name] = node_for(value)

    return edit_block(text, where, key, change)


def list_file(text: str, where: str, key: str, name: str) -> str:
    """project.yaml's `text` with `name` added at the end of its `key:` list of files."""

    def change(node: Any) -> None:
        if not isinstance(node, list):
            raise ConfigError(f"{where}: '{key}:' is not a list")
        if name in node:
            raise ConfigError(f"{where}: {name!r} is already listed in '{key}:'")
        node.append(name)

    return edit_block(text, where, key, change)


def unlist_file(text: str, where: str, key: str, name: str) -> str:
    """project.yaml's `text` with `name` taken out of its `key:` list of files."""

    def change(node: Any) -> None:
        if not isinstance(node, list) or name not in node:
            raise ConfigError(f"{where}: {name!r} is not listed in '{key}:'")
        del node[[str(item) for item in node].index(name)]

    return edit_block(text, where, key, change)


def new_screen_text(
    screen_id: str, title: str, level: int, parent: str | None, size: tuple[int, int]
) -> str:
    """A new screen file: its header and an empty widget list."""
    header = CommentedMap()
    header["id"] = screen_id
    header["title"] = title
    header["level"] = level
    if parent:
        header["parent"] = parent
    header["size"] = node_for(list(size))
    doc = CommentedMap()
    doc["screen"] = header
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(doc, out)
    levels = {1: "overview", 2: "area", 3: "detail", 4: "diagnostics"}
    return f"# Level {level}: {levels.get(level, '')}: {title}\n{out.getvalue()}\nwidgets: []\n"
