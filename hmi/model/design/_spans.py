"""Where a screen file's widgets are, in lines: each widget's run (leading comments, dash,
deeper-indented lines) and the file's indentation as ruamel.yaml names it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmi.model.errors import ConfigError
from hmi.model.screens.sources import PosMap, PosSeq


@dataclass(frozen=True)
class Item:
    lead: int  # first line of its leading blank and comment lines
    start: int  # the dash line
    end: int  # one past its last line
    dash: int  # column of its "-"
    flow: bool  # written as a flow mapping {...}


@dataclass(frozen=True)
class WidgetList:
    """One `widgets:` list: where its items are and where a new one goes."""

    items: tuple[Item, ...]
    key_line: int
    key_col: int
    empty_flow: tuple[int, int] | None  # where "[]" is written, for a list written empty


@dataclass(frozen=True)
class Indent:
    mapping: int = 2
    sequence: int = 4
    offset: int = 2


def _blank(line: str) -> bool:
    return not line.strip()


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def items_of(lines: list[str], seq: PosSeq, where: Path) -> tuple[Item, ...]:
    """Where each widget of a block list is: its leading lines, its dash, its end."""
    starts = []
    for line, col in seq.item_marks:
        text = lines[line]
        dash = text.rfind("-", 0, col)
        if dash < 0 or text[dash + 1 : col].strip():
            raise ConfigError(f"{where}:{line + 1}: cannot find this widget's '- '")
        starts.append((line, dash, text[col : col + 1] == "{"))
    items: list[Item] = []
    floor = 0
    for number, (start, dash, flow) in enumerate(starts):
        bound = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        end = start + 1
        for j in range(start + 1, bound):
            text = lines[j]
            if _blank(text):
                continue
            deep = _indent(text) > dash
            if not deep and not _comment(text):
                break
            if deep:
                end = j + 1
        lead = start
        while lead - 1 >= floor and (_blank(lines[lead - 1]) or _comment(lines[lead - 1])):
            lead -= 1
        if not items:
            lead = max(lead, _first_lead(lines, start))
        items.append(Item(lead, start, end, dash, flow))
        floor = end
    return tuple(items)


def _first_lead(lines: list[str], start: int) -> int:
    """The first widget's leading lines stop at the line of the key that holds the list."""
    for j in range(start - 1, -1, -1):
        if not (_blank(lines[j]) or _comment(lines[j])):
            return j + 1
    return 0


def guess_indent(lines: list[str], data: Mapping[str, Any]) -> Indent:
    """The file's indentation as ruamel.yaml names it, from where its keys and dashes are."""
    mapping = 2
    for value in data.values():
        if isinstance(value, PosMap) and value:
            first = next(iter(value.key_marks.values()))
            if first[1] > 0:
                mapping = first[1]
                break
    widgets = data.get("widgets")
    if isinstance(data, PosMap) and isinstance(widgets, PosSeq) and widgets.item_marks:
        line, col = widgets.item_marks[0]
        dash = lines[line].rfind("-", 0, col)
        key_col = data.key_marks["widgets"][1]
        if dash >= key_col:
            return Indent(mapping, dash - key_col + (col - dash), dash - key_col)
    return Indent(mapping, 4, 2)
