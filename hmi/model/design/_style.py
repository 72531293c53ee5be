"""How new values are written: in the style of what they replace, else as the demo screens
write them (lists of numbers and small mappings on one line, lists of mappings as block lists
of one-line mappings); and moving lines left or right."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

_QUOTED = (DoubleQuotedScalarString, SingleQuotedScalarString)


def is_ruamel(value: Any) -> bool:
    """A node as ruamel.yaml read it (it carries its own style and comments)."""
    return type(value).__module__.startswith("ruamel.")


def _scalar(value: Any) -> bool:
    return not isinstance(value, (Mapping, list, tuple))


def scalars_only(widget: Mapping[str, Any]) -> bool:
    """Whether a widget reads well on one line: no list holds a mapping or a list."""

    def simple(value: Any) -> bool:
        if isinstance(value, Mapping):
            return all(simple(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return all(_scalar(v) for v in value)
        return True

    return "widgets" not in widget and simple(widget)


def node_for(value: Any, like: Any = None) -> Any:
    """``value`` as a ruamel.yaml node written like ``like`` (the value it replaces)."""
    if is_ruamel(value) and not isinstance(value, ScalarBoolean):
        return value
    if isinstance(value, str):
        return type(like)(value) if isinstance(like, _QUOTED) else value
    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = node_for(item, like.get(key) if isinstance(like, Mapping) else None)
        flow = (
            bool(like.fa.flow_style())
            if isinstance(like, CommentedMap)
            else all(_scalar(v) for v in value.values())
        )
        _styled(node, flow)
        return node
    if isinstance(value, (list, tuple)):
        olds = list(like) if isinstance(like, list) else []
        seq = CommentedSeq(
            node_for(item, olds[i] if i < len(olds) else None) for i, item in enumerate(value)
        )
        flow = (
            bool(like.fa.flow_style())
            if isinstance(like, CommentedSeq)
            else all(_scalar(v) for v in value)
        )
        _styled(seq, flow)
        return seq
    return value


def _styled(node: CommentedMap | CommentedSeq, flow: bool) -> None:
    if flow:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()


def plain_node(value: Any) -> Any:
    """A ruamel.yaml node as plain Python data."""
    if isinstance(value, ScalarBoolean):
        return bool(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {plain_node(k): plain_node(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_node(v) for v in value]
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def shifted(lines: list[str], delta: int) -> list[str]:
    """``lines`` moved ``delta`` columns right (left if negative); blank lines stay as they
    are, and a line is never cut into its text."""
    if delta == 0:
        return list(lines)
    if delta > 0:
        pad = " " * delta
        return [pad + line if line.strip() else line for line in lines]
    out = []
    for line in lines:
        spaces = len(line) - len(line.lstrip(" "))
        out.append(line[min(spaces, -delta) :] if line.strip() else line)
    return out
