"""Reading YAML with positions: every mapping and list keeps the line and column of its keys
and items.

libyaml (PyYAML's C parser) composes the node tree, which carries marks; we construct plain
dicts and lists from it ourselves, resolving scalars by the YAML 1.2 core schema, so ``ON``,
``off`` or ``yes`` stay text (YAML 1.1 would make them booleans) and a screen's state table
reads as written. The pure-Python round-trip parser was 10x slower on large screens.

Duplicate keys are found on the node tree, so every duplicate is reported (not only the first)
and the rest of the file is still checked.

Screen files are data, and a hostile one must not hang or exhaust the station: a file is read
only if it is a regular file of at most ``MAX_FILE_BYTES``; aliases may add at most
``MAX_ALIAS_VALUES`` values to what is written (a "billion laughs" file is refused, not
expanded); an alias inside the list or mapping it names is refused; nesting is at most
``MAX_DEPTH`` levels.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hmi.model.errors import ProjectProblem, SourceLocation
from hmi.model.screens._overlay import lexists, overlaid  # noqa: F401 (lexists: for the loader)

Part = str | int
Pos = tuple[int, int]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000
MAX_DEPTH = 64


class _Core12Resolver(yaml.resolver.Resolver):
    """YAML 1.2 core schema for plain scalars: null, bool, int, float; all else is a string."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


_CORE = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", [*list("~nN"), ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
)
_MERGE = ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"])  # merge keys, as ruamel reads them
for _tag, _pattern, _first in (*_CORE, _MERGE):
    _Core12Resolver.add_implicit_resolver(_tag, re.compile(_pattern), _first)


_BY_FIRST: dict[str | None, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(_Core12Resolver.yaml_implicit_resolvers.get(first, ()))
    for first in _Core12Resolver.yaml_implicit_resolvers
}
_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _PositionLoader(_Loader, _Core12Resolver):  # type: ignore[misc, valid-type]
    """Composes nodes with libyaml and resolves tags by the 1.2 core schema."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """``Resolver.resolve`` without path resolvers (we have none): libyaml calls it once
        per node, and the general one was half the time of reading a large screen."""
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in _BY_FIRST.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


class PosMap(dict[Any, Any]):
    """A mapping that knows where each key and each value is written (0-based)."""

    __slots__ = ("key_marks", "start", "value_marks")

    def __init__(self, start: Pos) -> None:
        super().__init__()
        self.start = start
        self.key_marks: dict[Any, Pos] = {}
        self.value_marks: dict[Any, Pos] = {}


class PosSeq(list[Any]):
    """A list that knows where each item is written (0-based)."""

    __slots__ = ("item_marks", "start")

    def __init__(self, start: Pos) -> None:
        super().__init__()
        self.start = start
        self.item_marks: list[Pos] = []


def _mark(node: Node) -> Pos:
    return node.start_mark.line, node.start_mark.column


def _scalar(node: ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        lowered = text.lower()
        if lowered.startswith("0o"):
            return int(text[2:], 8)
        if lowered.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if tag == "tag:yaml.org,2002:float":
        lowered = text.lower().lstrip("+")
        if lowered in (".inf", "-.inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(text)
    return text


def _construct(node: Node, anchors: dict[int, Any]) -> Any:
    if node.__class__ is ScalarNode:
        return node.value if node.tag == _STR else _scalar(node)
    known = anchors.get(id(node))
    if known is not None:
        return known
    start = node.start_mark
    if node.__class__ is SequenceNode:
        seq = PosSeq((start.line, start.column))
        anchors[id(node)] = seq
        marks = seq.item_marks
        for item in node.value:
            seq.append(_construct(item, anchors))
            mark = item.start_mark
            marks.append((mark.line, mark.column))
        return seq
    mapping = PosMap((start.line, start.column))
    anchors[id(node)] = mapping
    key_marks, value_marks = mapping.key_marks, mapping.value_marks
    merges: list[Any] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merged = _construct(value_node, anchors)
            merges.extend(merged if isinstance(merged, list) else [merged])
            continue
        key = _construct(key_node, anchors)
        if isinstance(key, (dict, list)):
            key = str(key)
        if key in mapping:
            continue  # reported as a duplicate; the first one counts
        mapping[key] = _construct(value_node, anchors)
        mark = key_node.start_mark
        key_marks[key] = (mark.line, mark.column)
        mark = value_node.start_mark
        value_marks[key] = (mark.line, mark.column)
    for source in merges:  # explicit keys win over merged ones
        if isinstance(source, PosMap):
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    key_marks[key] = source.key_marks[key]
                    value_marks[key] = source.value_marks[key]
    return mapping


@dataclass
class YamlDoc:
    """One YAML file: its text, its tree of ``PosMap``/``PosSeq`` (None if it could not be
    parsed or is empty) and the problems found while reading it."""

    path: Path
    text: str = ""
    data: Any = None
    problems: list[ProjectProblem] = field(default_factory=list)
    parsed: bool = False

    def at(self, line0: int, col0: int) -> SourceLocation:
        return SourceLocation(self.path, line0 + 1, col0 + 1)

    def problem(self, line0: int, col0: int, message: str) -> ProjectProblem:
        return ProjectProblem(self.at(line0, col0), message)

    @property
    def start(self) -> SourceLocation:
        return SourceLocation(self.path, 1, 1)


def _read_bytes(path: Path) -> bytes | str:
    """The file's bytes, or why it cannot be read. Opened without blocking and checked to be a
    regular file first: a FIFO or a device (``/dev/zero``) would hang or never end."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except ValueError:
        return "the file name holds a NUL character"
    except IsADirectoryError:
        return "it is a directory, not a file"
    except OSError as exc:
        return f"cannot read the file: {exc.strerror}"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return "it is a directory, not a file"
        if not stat.S_ISREG(info.st_mode):
            return "it is not a regular file (a FIFO, a socket or a device); list a YAML file"
        if info.st_size > MAX_FILE_BYTES:
            return f"the file is {info.st_size:,} bytes; at most {MAX_FILE_BYTES:,} are read"
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return f"cannot read the file: {exc.strerror}"
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        return f"the file is more than {MAX_FILE_BYTES:,} bytes"
    return raw


def read_yaml(path: Path) -> YamlDoc:
    """Read and parse one file; problems are collected in the result, never raised."""
    doc = YamlDoc(path)
    raw = overlaid(path, _read_bytes)
    if isinstance(raw, str):
        doc.problems.append(ProjectProblem(doc.start, raw))
        return doc
    try:
        doc.text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n")
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        doc.problems.append(doc.problem(line, col, "the file is not UTF-8 text"))
        return doc
    loader = _PositionLoader(doc.text)
    try:
        node = loader.get_single_node()
        shape = None if node is None else _shape_problem(doc, node)
        if shape is not None:
            doc.problems.append(shape)
            return doc
        if node is not None:
            _find_duplicates(doc, node, set())
        doc.data = None if node is None else _construct(node, {})
    except yaml.MarkedYAMLError as exc:
        doc.problems.append(_syntax_problem(doc, exc))
        return doc
    except yaml.reader.ReaderError as exc:
        doc.problems.append(_reader_problem(doc, exc))
        return doc
    except (ValueError, OverflowError) as exc:  # a scalar the core schema cannot build
        doc.problems.append(ProjectProblem(doc.start, f"YAML value error: {exc}"))
        return doc
    finally:
        loader.dispose()
    doc.parsed = True
    return doc


def _reader_problem(doc: YamlDoc, exc: yaml.reader.ReaderError) -> ProjectProblem:
    """A character YAML does not allow (NUL, other control characters), at its place."""
    index = min(max(exc.position, 0), len(doc.text))
    line = doc.text.count("\n", 0, index)
    col = index - (doc.text.rfind("\n", 0, index) + 1)
    found = doc.text[index : index + 1]
    name = f"U+{ord(found):04X}" if found else "a character"
    return doc.problem(
        line, col, f"{name} is a control character, which YAML does not allow in a file; remove it"
    )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _shape_problem(doc: YamlDoc, root: Node) -> ProjectProblem | None:
    """Aliases that expand beyond ``MAX_ALIAS_VALUES``, an alias inside what it names, or
    nesting beyond ``MAX_DEPTH``; in time linear in the nodes written (each is sized once)."""
    sizes: dict[int, int] = {}
    running: dict[int, int] = {id(root): 0}
    stack: list[tuple[Node, Iterator[Node]]] = [(root, iter(_children(root)))]
    added = 0
    while stack:
        node, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            sizes[id(node)] = running.pop(id(node)) + 1
            if stack:
                running[id(stack[-1][0])] += sizes[id(node)]
            continue
        key = id(item)
        if key in sizes:  # written once, used again: an alias
            added += sizes[key]
            running[id(node)] += sizes[key]
            if added > MAX_ALIAS_VALUES:
                return doc.problem(
                    *_mark(node),
                    f"aliases here expand the file by more than {MAX_ALIAS_VALUES:,} values; "
                    "write the values out or use a template",
                )
            continue
        if key in running:
            return doc.problem(
                *_mark(node),
                "an alias here names a list or mapping that contains it (a recursive alias)",
            )
        if len(stack) >= MAX_DEPTH:
            return doc.problem(*_mark(item), f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, ScalarNode):
            sizes[key] = 1
            running[id(node)] += 1
            continue
        running[key] = 0
        stack.append((item, iter(_children(item))))
    return None


def _syntax_problem(doc: YamlDoc, exc: yaml.MarkedYAMLError) -> ProjectProblem:
    mark = exc.problem_mark or exc.context_mark
    message = f"YAML syntax error: {exc.problem or exc.context or 'cannot parse'}"
    if exc.context and exc.context_mark is not None and exc.problem:
        message += (
            f" ({exc.context} at line {exc.context_mark.line + 1}, "
            f"column {exc.context_mark.column + 1})"
        )
    if mark is None:
        return ProjectProblem(doc.start, message)
    return doc.problem(mark.line, mark.column, message)


def _find_duplicates(doc: YamlDoc, node: Node, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first: dict[tuple[str, str], Node] = {}
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge" or not isinstance(key.value, str):
                _find_duplicates(doc, value, seen)
                continue
            ident = (str(key.tag), key.value)
            if ident in first:
                mark = first[ident].start_mark
                doc.problems.append(
                    doc.problem(
                        key.start_mark.line,
                        key.start_mark.column,
                        f"duplicate key {key.value!r}; it is already defined at line "
                        f"{mark.line + 1}, column {mark.column + 1}",
                    )
                )
            else:
                first[ident] = key
            _find_duplicates(doc, value, seen)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _find_duplicates(doc, item, seen)


def plain(value: Any) -> Any:
    """The tree as plain dicts, lists and scalars, so validated models hold no position types."""
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def start_of(node: Any) -> Pos | None:
    return node.start if isinstance(node, (PosMap, PosSeq)) else None


def key_pos(node: Any, key: Part) -> Pos | None:
    if isinstance(node, PosMap) and key in node:
        return node.key_marks.get(key)
    return None


def value_pos(node: Any, key: Part) -> Pos | None:
    """Where the value of ``key`` (a mapping key or a list index) is written. An empty value
    has no place of its own: point at its key."""
    if isinstance(node, PosMap) and key in node:
        if node[key] is None:
            return key_pos(node, key)
        return node.value_marks.get(key)
    if isinstance(node, PosSeq) and isinstance(key, int) and 0 <= key < len(node):
        return node.item_marks[key]
    return None


def child(node: Any, key: Part) -> Any:
    if isinstance(node, Mapping) and key in node:
        return node[key]
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def holder_pos(doc: YamlDoc, path: Sequence[Part]) -> tuple[int, int]:
    """Where the node at ``path`` sits: its key in the parent mapping, its item position in
    the parent list, or the file's start for the root."""
    if not path:
        return 0, 0
    parent = doc.data
    for part in path[:-1]:
        parent = child(parent, part)
    last = path[-1]
    pos = key_pos(parent, last) if isinstance(parent, Mapping) else value_pos(parent, last)
    return pos or holder_pos(doc, path[:-1])


def char_pos(doc: YamlDoc, at: tuple[int, int], index: int, length: int) -> tuple[int, int]:
    """File (line, column), 0-based, of character ``index`` of the string scalar of ``length``
    characters written at ``at``; follows quotes, escapes, folded lines and block scalars.
    An index at or past the end points just after the last character."""
    if length <= 0:
        return at
    if index >= length:
        line, col = _char_pos(doc, at, length - 1)
        return line, col + 1 + index - length
    return _char_pos(doc, at, max(index, 0))


def _char_pos(doc: YamlDoc, at: tuple[int, int], index: int) -> tuple[int, int]:
    lines = doc.text.split("\n")
    line, col = at
    if line >= len(lines):
        return at
    style = lines[line][col : col + 1]
    if style in ("|", ">"):
        return _block_char(lines, line, index) or at
    quote = style if style in ("'", '"') else ""
    col += len(quote)
    count = 0
    last = (line, col)
    while line < len(lines):
        text = lines[line]
        while col < len(text):
            ch = text[col]
            if quote and ch == quote and not (quote == "'" and text[col + 1 : col + 2] == "'"):
                return last[0], last[1] + 1
            if not quote and (ch == "#" and col > 0 and text[col - 1] == " "):
                return last[0], last[1] + 1
            if count == index:
                return line, col
            step = 1
            if quote == "'" and ch == "'":
                step = 2
            elif quote == '"' and ch == "\\":
                step = {"x": 4, "u": 6, "U": 10}.get(text[col + 1 : col + 2], 2)
            last = (line, col)
            col += step
            count += 1
        line += 1
        if line < len(lines):
            stripped = lines[line].lstrip(" \t")
            col = len(lines[line]) - len(stripped)
            count += 1  # the folded line break reads as one space
            if count > index:
                return line, col
    return last[0], last[1] + 1


def _block_char(lines: list[str], header: int, index: int) -> tuple[int, int] | None:
    body = [n for n in range(header + 1, len(lines)) if lines[n].strip()]
    if not body:
        return None
    indent = len(lines[body[0]]) - len(lines[body[0]].lstrip(" "))
    count = 0
    for line in range(header + 1, len(lines)):
        text = lines[line]
        if text.strip() and len(text) - len(text.lstrip(" ")) < indent:
            break
        length = max(len(text) - indent, 0)
        if index < count + length:
            return line, indent + index - count
        count += length + 1
    return None
