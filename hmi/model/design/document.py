"""A screen file opened for editing: edits change only the lines of the widgets they touch.

The file is kept as its lines. Each widget of a block list owns a run of lines: the blank and
comment lines just above its dash (its leading comments), the dash line, and every line after
it that is indented deeper than the dash. An edit works on that run only:

- `SetFields` reads the widget's own lines with ruamel.yaml's round-trip loader, changes the
  fields and dumps them back in the file's indentation (comments, key order, quoting and flow
  style kept), so only the changed fields' lines differ;
- `RemoveWidget` and `MoveWidget` cut the run and paste it, re-indented, where it goes, with
  its comments; the inverse of a removal carries the text back (`WidgetText`);
- `InsertWidget` of plain data is dumped in the style of its neighbours (a one-line flow
  mapping among one-line widgets).

Every other line of the file is never rewritten, so it is byte-identical after any edit and its
undo, whatever ruamel.yaml would have made of it. Positions come from the loader's own parse
(`hmi.model.screens.sources`), so the document sees the file exactly as `hmi check` does.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from hmi.model.design._spans import Item, WidgetList, guess_indent, items_of
from hmi.model.design._style import is_ruamel, node_for, plain_node, scalars_only, shifted
from hmi.model.design.edits import (
    REMOVE,
    Batch,
    Edit,
    InsertWidget,
    MoveWidget,
    RemoveWidget,
    SetFields,
    WidgetPath,
)
from hmi.model.errors import ConfigError
from hmi.model.screens.sources import PosMap, PosSeq, YamlDoc, parse_text, plain

__all__ = ["ScreenDocument", "WidgetText"]

_ODD_BREAKS = ("\x85", "\u2028", "\u2029")


class WidgetText(dict[str, Any]):
    """A widget's fields as plain data that also carry the lines it was written as (with its
    leading comments, the dash at column `dash`): the inverse of a removal, so undo puts the
    widget back byte for byte. Used as plain data, it is a dict like any other."""

    def __init__(self, fields: Mapping[str, Any], lines: Sequence[str], dash: int) -> None:
        super().__init__(fields)
        self.lines = tuple(lines)
        self.dash = dash


class ScreenDocument:
    """A screen (or template) file as an editable `DesignDocument`."""

    def __init__(self, text: str, path: Path, *, opened_sha256: str | None = None) -> None:
        self._path = Path(path)
        self._bom = text.startswith("\ufeff")
        body = text[1:] if self._bom else text
        if any(c in body for c in _ODD_BREAKS) or "\r" in body.replace("\r\n", ""):
            raise ConfigError(
                f"{self._path}: the file has line breaks other than LF or CRLF (NEL, U+2028, "
                "U+2029 or a lone CR); the designer edits lines exactly and cannot place them. "
                "Save it with LF line ends and open it again"
            )
        self._newline = "\r\n" if "\r\n" in body else "\n"
        self._lines: list[str] = body.splitlines(keepends=True) if body else []
        self._parsed: YamlDoc | None = None
        self._lists: dict[WidgetPath, WidgetList] = {}  # where each list's widgets are, per parse
        self.opened_sha256 = opened_sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
        doc = self._doc()
        if not doc.parsed or not isinstance(doc.data, Mapping):
            why = "; ".join(str(p) for p in doc.problems) or "it is not a YAML mapping"
            raise ConfigError(f"{self._path}: cannot open for design: {why}")
        self._style = guess_indent(self._lines, doc.data)
        self._yaml = YAML(typ="rt")
        self._yaml.preserve_quotes = True
        self._yaml.width = 4096
        self._yaml.indent(
            mapping=self._style.mapping, sequence=self._style.sequence, offset=self._style.offset
        )

    @classmethod
    def open(cls, path: str | Path) -> ScreenDocument:
        """Open a file; `opened_sha256` is of its bytes, to tell later whether it changed."""
        path = Path(path)
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: the file is not UTF-8 text ({exc})") from exc
        return cls(text, path, opened_sha256=hashlib.sha256(raw).hexdigest())

    @classmethod
    def from_text(cls, text: str, path: str | Path) -> ScreenDocument:
        return cls(text, Path(path))

    @property
    def path(self) -> Path:
        return self._path

    def text(self) -> str:
        return ("\ufeff" if self._bom else "") + "".join(self._lines)

    def mark_saved(self) -> None:
        """The text is now the file's: later saves compare the disk against it."""
        self.opened_sha256 = hashlib.sha256(self.text().encode("utf-8")).hexdigest()

    def lines_of(self, path: WidgetPath) -> range:
        """The widget's own lines, 1-based as the checker names them (comments above not
        included)."""
        lst, index = self._slot(path)
        item = lst.items[index]
        return range(item.start + 1, item.end + 1)

    def copy(self) -> ScreenDocument:
        """An independent document with the same text (to try an edit on)."""
        return ScreenDocument(self.text(), self._path, opened_sha256=self.opened_sha256)

    def yaml_doc(self) -> YamlDoc:
        """The text as the loader parses it (positions, YAML 1.2 core); do not change it."""
        return self._doc()

    # -- reading -----------------------------------------------------------------------------

    def widget(self, path: WidgetPath) -> Mapping[str, Any]:
        node = self._node(path)
        return plain(node)  # type: ignore[no-any-return]

    def children(self, path: WidgetPath = ()) -> int:
        holder = self._doc().data if not path else self._node(path)
        found = holder.get("widgets") if isinstance(holder, Mapping) else None
        return len(found) if isinstance(found, list) else 0

    # -- editing -----------------------------------------------------------------------------

    def apply(self, edit: Edit) -> Edit:
        if isinstance(edit, Batch):
            done: list[Edit] = []
            try:
                for part in edit.edits:
                    done.append(self.apply(part))
            except Exception:
                for undo in reversed(done):
                    self.apply(undo)
                raise
            return Batch(edit.name, tuple(reversed(done)))
        if isinstance(edit, SetFields):
            return self._set(edit)
        if isinstance(edit, InsertWidget):
            return self._insert(edit.path, edit.widget)
        if isinstance(edit, RemoveWidget):
            return self._remove(edit.path)
        if isinstance(edit, MoveWidget):
            return self._move(edit)
        raise ConfigError(f"{self._path}: not an edit: {edit!r}")

    def _set(self, edit: SetFields) -> Edit:
        lst, index = self._slot(edit.path)
        item = lst.items[index]
        for key, value in edit.values.items():
            if not isinstance(key, str):
                raise ConfigError(f"{self._where(edit.path)}: field names are text, not {key!r}")
            if value is not REMOVE:
                _check_data(value, f"{self._where(edit.path)}: field {key!r}")
        wrapper = self._load_run(self._lines[item.start : item.end], item.dash)
        node = wrapper["w"][0]
        if not isinstance(node, CommentedMap):
            raise ConfigError(f"{self._where(edit.path)}: the widget is not a mapping")
        before: dict[str, Any] = {}
        at: dict[str, int] = {}
        keys = list(node)
        for key, value in edit.values.items():
            if key in node:
                old = node[key]
                before.setdefault(key, old)
                at.setdefault(key, keys.index(key))
                if value is REMOVE:
                    del node[key]
                elif not _same(old, value):
                    node[key] = node_for(value, old)
            elif value is not REMOVE:
                before.setdefault(key, REMOVE)
                node.insert(min(edit.at_index(key, len(node)), len(node)), key, node_for(value))
        lines = self._dump_run(wrapper, item.dash)
        if lines != self._lines[item.start : item.end]:
            self._replace_widget(edit.path, item, lines)
        removed = {k: i for k, i in at.items() if edit.values[k] is REMOVE}
        return SetFields(edit.path, before, removed) if removed else SetFields(edit.path, before)

    def _insert(self, path: WidgetPath, widget: Mapping[str, Any]) -> Edit:
        if not path:
            raise ConfigError(f"{self._path}: an insert needs a path to the new widget's place")
        lst = self._list(path[:-1])
        index = path[-1]
        if not 0 <= index <= len(lst.items):
            raise ConfigError(
                f"{self._where(path)}: no place {index} in a list of {len(lst.items)} widgets"
            )
        if isinstance(widget, WidgetText):
            dash = self._dash_for(lst)
            lines = shifted(list(widget.lines), dash - widget.dash)
            lines = [_with_newline(line, self._newline) for line in lines]
        else:
            _check_data(widget, f"{self._where(path)}: the new widget")
            if not isinstance(widget, Mapping) or not widget:
                raise ConfigError(f"{self._where(path)}: a widget is a mapping of its fields")
            lines = self._render_new(lst, index, widget)
        if lst.empty_flow is not None:
            line, col = lst.empty_flow
            text = self._lines[line]
            close = text.index("]", col) + 1
            rest = text[close:].rstrip("\r\n")
            self._lines[line] = text[:col].rstrip() + rest + self._newline
            at = line + 1
        else:
            at = lst.items[index].lead if index < len(lst.items) else lst.items[-1].end
        self._replace(at, at, lines)
        return RemoveWidget(path)

    def _remove(self, path: WidgetPath) -> Edit:
        lst, index = self._slot(path)
        item = lst.items[index]
        fields = self.widget(path)
        lines = self._lines[item.lead : item.end]
        self._replace(item.lead, item.end, [])
        if len(lst.items) == 1:  # what stays is still a list: "widgets: []"
            text = self._lines[lst.key_line]
            colon = text.index(":", lst.key_col + len("widgets"))
            self._lines[lst.key_line] = text[: colon + 1] + " []" + text[colon + 1 :]
        return InsertWidget(path, WidgetText(fields, lines, item.dash))

    def _move(self, edit: MoveWidget) -> Edit:
        source, target = edit.source, edit.target
        if not target or target[:-1][: len(source)] == source:
            raise ConfigError(f"{self._where(source)}: cannot move a widget into itself")
        before = self.text()
        undo = self._remove(source)
        try:
            self._insert(target, undo.widget)  # type: ignore[union-attr]
        except ConfigError:
            self._restore(before)
            raise
        return MoveWidget(target, source)

    # -- where things are ----------------------------------------------------------------------

    def _where(self, path: WidgetPath) -> str:
        return f"{self._path}: widget {list(path)}"

    def _doc(self) -> YamlDoc:
        if self._parsed is None:
            self._parsed = parse_text("".join(self._lines), self._path)
            self._lists.clear()
        return self._parsed

    def _replace(self, start: int, end: int, lines: list[str]) -> None:
        self._lines[start:end] = lines
        self._parsed = None

    def _replace_widget(self, path: WidgetPath, item: Item, lines: list[str]) -> None:
        """A widget's own lines replaced. When it keeps its number of lines (a move, a resize,
        most property edits), every other widget stays where it was: only this widget is
        read again (at its place in the file, so its positions are the file's), not the
        whole file, which keeps a batch of edits on a large screen fast."""
        parsed = self._parsed
        same = len(lines) == item.end - item.start
        self._lines[item.start : item.end] = lines
        self._parsed = None
        if parsed is None or not same:
            return
        alone = parse_text("\n" * item.start + "".join(lines), self._path)
        holder: Any = parsed.data if len(path) == 1 else _child(parsed.data, path[:-1])
        seq = holder.get("widgets") if isinstance(holder, PosMap) else None
        if not (alone.parsed and isinstance(alone.data, PosSeq) and isinstance(seq, PosSeq)):
            return
        if len(alone.data) != 1 or alone.data.item_marks[0] != seq.item_marks[path[-1]]:
            return
        seq[path[-1]] = alone.data[0]
        parsed.text = "".join(self._lines)
        self._parsed = parsed

    def _restore(self, text: str) -> None:
        body = text[1:] if self._bom else text
        self._lines = body.splitlines(keepends=True)
        self._parsed = None

    def _node(self, path: WidgetPath) -> PosMap:
        lst_node = self._doc().data
        node: Any = lst_node
        for depth, index in enumerate(path):
            items = node.get("widgets") if isinstance(node, Mapping) else None
            if not isinstance(items, list) or not 0 <= index < len(items):
                raise ConfigError(f"{self._where(path[: depth + 1])}: no such widget")
            node = items[index]
        if not isinstance(node, PosMap):
            raise ConfigError(f"{self._where(path)}: the widget is not a mapping")
        return node

    def _slot(self, path: WidgetPath) -> tuple[WidgetList, int]:
        if not path:
            raise ConfigError(f"{self._path}: the edit needs the path of a widget")
        self._node(path)
        return self._list(path[:-1]), path[-1]

    def _list(self, path: WidgetPath) -> WidgetList:
        self._doc()
        found = self._lists.get(path)
        if found is None:
            found = self._lists[path] = self._find_list(path)
        return found

    def _find_list(self, path: WidgetPath) -> WidgetList:
        holder: Any = self._doc().data if not path else self._node(path)
        if not isinstance(holder, PosMap) or "widgets" not in holder:
            what = "the screen has no 'widgets:' list" if not path else "it is not a group"
            raise ConfigError(f"{self._where(path) if path else self._path}: {what}")
        seq = holder["widgets"]
        key_line, key_col = holder.key_marks["widgets"]
        if seq is None or (isinstance(seq, list) and not seq):
            at = holder.value_marks.get("widgets") if seq is not None else None
            return WidgetList((), key_line, key_col, at)
        if not isinstance(seq, PosSeq):
            raise ConfigError(f"{self._where(path)}: 'widgets:' is not a list")
        line, col = seq.start
        if self._lines[line][col : col + 1] == "[":
            raise ConfigError(
                f"{self._path}:{line + 1}:{col + 1}: this widgets list is written in flow style "
                "([...]); write it as a block list (one '- ' per widget) to edit it here"
            )
        return WidgetList(items_of(self._lines, seq, self._path), key_line, key_col, None)

    def _dash_for(self, lst: WidgetList) -> int:
        if lst.items:
            return lst.items[0].dash
        return lst.key_col + self._style.offset

    # -- ruamel.yaml ---------------------------------------------------------------------------

    def _load_run(self, lines: list[str], dash: int) -> CommentedMap:
        text = "w:\n" + "".join(shifted(lines, self._style.offset - dash)).replace("\r\n", "\n")
        loaded = self._yaml.load(text)
        if not isinstance(loaded, CommentedMap) or not isinstance(loaded.get("w"), CommentedSeq):
            raise ConfigError(f"{self._path}: cannot read this widget's lines")
        return loaded

    def _dump_run(self, wrapper: CommentedMap, dash: int) -> list[str]:
        out = io.StringIO()
        self._yaml.dump(wrapper, out)
        lines = out.getvalue().splitlines(keepends=True)[1:]
        return [
            _with_newline(line, self._newline) for line in shifted(lines, dash - self._style.offset)
        ]

    def _render_new(self, lst: WidgetList, index: int, widget: Mapping[str, Any]) -> list[str]:
        node = node_for(widget)
        neighbours = [lst.items[i] for i in (index - 1, index) if 0 <= i < len(lst.items)]
        flow = scalars_only(widget) and (not neighbours or any(n.flow for n in neighbours))
        if isinstance(node, CommentedMap):
            if flow:
                node.fa.set_flow_style()
            else:
                node.fa.set_block_style()
        wrapper = CommentedMap()
        wrapper["w"] = CommentedSeq([node])
        return self._dump_run(wrapper, self._dash_for(lst))


def _child(data: Any, path: WidgetPath) -> Any:
    node = data
    for index in path:
        node = node["widgets"][index]
    return node


def _with_newline(line: str, newline: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2] + newline
    if line.endswith("\n"):
        return line[:-1] + newline
    return line


def _same(old: Any, new: Any) -> bool:
    """Whether `new` is what `old` already says (then its text is kept as written)."""
    if is_ruamel(new):
        return old is new
    value = plain_node(old)
    return type(value) is type(new) and value == new


def _check_data(value: Any, where: str, depth: int = 0) -> None:
    if depth > 32:
        raise ConfigError(f"{where}: nested too deep")
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)):
                raise ConfigError(f"{where}: a mapping key must be a scalar, not {key!r}")
            _check_data(item, where, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_data(item, where, depth + 1)
        return
    raise ConfigError(f"{where}: {type(value).__name__} is not YAML data ({value!r})")
