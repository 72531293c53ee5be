"""Pydantic errors turned into plain messages at the YAML position they are about.

Each error's ``loc`` is walked together with the model's annotations and the YAML tree:
parts that pydantic inserts (the tag of a discriminated union, the member name of a scalar
union) are recognised from the annotations and skipped, so what remains is a path in the data.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from hmi.model.errors import ProjectProblem
from hmi.model.screens._yaml import Part, YamlDoc, child, holder_pos, key_pos, value_pos
from hmi.model.screens.schema import WIDGET_TYPES

_HEADERS = {
    "ScreenHeader": "the 'screen:' header",
    "TemplateHeader": "the 'template:' header",
    "ProjectHeader": "the 'project:' header",
    "ScreenFile": "a screen file",
    "TemplateFile": "a template file",
    "ProjectFile": "project.yaml",
    "Settings": "'settings:'",
    "Limits": "'limits:'",
    "WritePolicy": "a write policy",
    "StateLook": "a state",
}
_KINDS = {
    "'type'": ("widget type", "types"),
    "'kind'": ("action kind", "kinds"),
    "'driver'": ("connection driver", "drivers"),
}
_NUMBER = ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float")
_TYPE_WORDS = {"float": "a number", "int": "a whole number", "str": "text", "bool": "true/false"}


@dataclass
class _Resolved:
    """Where a pydantic ``loc`` lands in the data."""

    path: list[Part] = field(default_factory=list)  # parts present in the data
    missing: Part | None = None  # the first part the data lacks
    owner: type[BaseModel] | None = None  # model of the innermost mapping
    owner_path: list[Part] = field(default_factory=list)
    annotation: Any = None  # annotation of the value the error is about
    is_key: bool = False  # the error is about a mapping key ('[key]')
    union_member: str | None = None  # scalar union member pydantic tried


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _union_members(annotation: Any) -> list[Any] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        return [_unwrap(arg) for arg in get_args(annotation) if arg is not type(None)]
    return None


def _member_for(members: list[Any], part: Part, node: Any) -> type[BaseModel] | None:
    """The member of a discriminated union that pydantic named by ``part``: the model with
    a Literal field whose value in the data is ``part``."""
    if not isinstance(node, Mapping):
        return None
    for member in members:
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        for name, info in member.model_fields.items():
            literal = get_origin(info.annotation) is Literal
            if literal and part in get_args(info.annotation) and node.get(name) == part:
                return member
    return None


def _step(annotation: Any, part: Part) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(part) if isinstance(part, str) else None
        return info.annotation if info else None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (tuple, list) and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if isinstance(part, int) and part < len(args) else None
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def resolve(doc: YamlDoc, model: type[BaseModel], loc: Sequence[Part]) -> _Resolved:
    out = _Resolved(owner=model)
    annotation: Any = model
    node = doc.data
    for part in loc:
        annotation = _unwrap(annotation)
        if part == "[key]":
            out.is_key = True
            break
        members = _union_members(annotation)
        if members is not None:
            chosen = _member_for(members, part, node)
            if chosen is not None:
                annotation = chosen
                continue
            if isinstance(part, str):
                out.union_member = part
                annotation = None
                continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.owner, out.owner_path = annotation, list(out.path)
        annotation = _step(annotation, part)
        if out.missing is not None:
            continue
        nxt = child(node, part)
        if nxt is None and not _holds(node, part):
            out.missing = part
            continue
        node = nxt
        out.path.append(part)
    out.annotation = _unwrap(annotation)
    return out


def _holds(node: Any, part: Part) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _node(doc: YamlDoc, path: Sequence[Part]) -> Any:
    node = doc.data
    for part in path:
        node = child(node, part)
    return node


def _noun(doc: YamlDoc, r: _Resolved) -> str:
    """The mapping an error is in, with its article: 'a value widget', "tag 'T1'"."""
    name = r.owner.__name__ if r.owner else ""
    node = _node(doc, r.owner_path)
    last = r.owner_path[-1] if r.owner_path else ""
    if name.endswith("Spec") and isinstance(node, Mapping) and "type" in node:
        return _article(f"{node['type']} widget")
    if name.endswith("Action") and isinstance(node, Mapping) and "kind" in node:
        return _article(f"{node['kind']} action")
    if name.endswith("Alarm") and isinstance(node, Mapping) and "kind" in node:
        return _article(f"{node['kind']} alarm")
    if name == "TagConfig":
        return f"tag {last!r}"
    if name.endswith("Connection"):
        return f"connection {last!r}"
    return _HEADERS.get(name, _article(name or "file"))


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _bare(noun: str) -> str:
    for article in ("a ", "an ", "the "):
        if noun.startswith(article):
            return noun[len(article) :]
    return noun


def _label(r: _Resolved) -> str:
    """How the value is named in a message: 'span_s', 'rect' item 2, 'tags' item 1."""
    parts = [*r.path, r.missing] if r.missing is not None else list(r.path)
    names = [p for p in parts if isinstance(p, str)]
    label = f"'{names[-1]}'" if names else "the value"
    if parts and isinstance(parts[-1], int):
        label += f" item {parts[-1] + 1}"
    return label


def _got(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        scalars = all(isinstance(item, (int, float, str, bool)) for item in value)
        if scalars and len(value) <= 8:
            return (
                "["
                + ", ".join(
                    f"{item:g}" if isinstance(item, float) else repr(item) for item in value
                )
                + "]"
            )
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _suggest(word: object, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _where(doc: YamlDoc, r: _Resolved, error: ErrorDetails) -> tuple[int, int]:
    kind = error["type"]
    parent = _node(doc, r.path[:-1]) if r.path else None
    last = r.path[-1] if r.path else None
    pos: tuple[int, int] | None = None
    if kind == "missing" and isinstance(r.missing, int) and last is not None:
        pos = value_pos(parent, last)  # a list too short: point at the list
    elif kind == "missing" or r.missing is not None:
        pos = holder_pos(doc, r.path)
    elif kind == "extra_forbidden" or r.is_key:
        pos = key_pos(parent, last) if last is not None else None
    elif kind == "union_tag_invalid":
        disc = str(error.get("ctx", {}).get("discriminator", "")).strip("'")
        pos = value_pos(_node(doc, r.path), disc)
    elif kind == "value_error" and isinstance(_node(doc, r.path), Mapping):
        pos = _mentioned_key(doc, r, str(error.get("ctx", {}).get("error", "")))
    if pos is None and last is not None:
        pos = value_pos(parent, last)
    return pos or holder_pos(doc, r.path)


def _mentioned_key(doc: YamlDoc, r: _Resolved, message: str) -> tuple[int, int] | None:
    """A check across several fields names them; point at the first one it names."""
    node = _node(doc, r.path)
    found = [
        (m.start(), key)
        for key in node
        if (m := re.search(rf"\b{re.escape(str(key))}\b", message)) is not None
    ]
    return key_pos(node, min(found)[1]) if found else None


def message(doc: YamlDoc, r: _Resolved, error: ErrorDetails) -> str:
    kind, ctx, value = error["type"], error.get("ctx", {}), error["input"]
    label = _label(r)
    if kind == "union_tag_invalid":
        disc = str(ctx.get("discriminator", ""))
        tag = ctx.get("tag")
        if disc == "'type'":
            known = list(WIDGET_TYPES)
            return f"unknown widget type {tag!r}{_suggest(tag, known)} (known types: {', '.join(known)})"
        what, plural = _KINDS.get(disc, (f"{disc.strip(chr(39))}", "values"))
        if error["loc"][:1] == ("alarms",):
            what = "alarm kind"
        known = [t.strip("' ") for t in str(ctx.get("expected_tags", "")).split(",")]
        return f"unknown {what} {tag!r}{_suggest(tag, known)} (known {plural}: {', '.join(known)})"
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "")).strip("'")
        what = "widget" if disc == "type" else "action" if disc == "kind" else "entry"
        hint = f": one of {', '.join(WIDGET_TYPES)}" if disc == "type" else ""
        return f"this {what} needs {disc!r}{hint}"
    if kind == "missing":
        if isinstance(r.missing, int):
            return _length_message(r, _node(doc, r.path))
        return f"{_bare(_noun(doc, r))} needs {r.missing!r}"
    if kind == "extra_forbidden":
        allowed = _allowed(r.owner)
        key = r.path[-1] if r.path else "?"
        return (
            f"unknown field {key!r} in {_noun(doc, r)}{_suggest(key, allowed)} "
            f"(allowed: {', '.join(allowed)})"
        )
    if kind in ("too_short", "too_long") and _fixed_length(r.annotation):
        return _length_message(r, value)
    if kind == "too_short":
        return f"{label} needs at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"{label} takes at most {ctx.get('max_length')} item(s), got {_got(value)}"
    if kind in _NUMBER:
        number = "a whole number" if kind.startswith("int") else "a number"
        if r.is_key:
            owner = _label(_Resolved(path=r.path[:-1]))
            return f"key {value!r} in {owner} must be {number}"
        return f"{label} must be {number}, got {_got(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{label} must be true or false, got {_got(value)}"
    if kind == "string_type":
        hint = "; put it in quotes" if isinstance(value, (int, float)) else ""
        return f"{label} must be text, got {_got(value)}{hint}"
    if kind in ("literal_error", "enum"):
        return f"{label} must be one of {ctx.get('expected')}, got {_got(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        where = f" for {label}" if r.path else ""
        return f"expected a mapping of 'name: value' lines{where}, got {_got(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"{label} must be a list {_description(r)}, got {_got(value)}".replace("  ", " ")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}
        bound = next((f"{words[k]} {v}" for k, v in ctx.items() if k in words), "in range")
        return f"{label} must be {bound}, got {_got(value)}"
    if kind == "string_pattern_mismatch":
        if label == "'id'":
            return (
                f"id {value!r} must start with a letter and hold only letters, digits, '_' and '-'"
            )
        pattern = str(ctx.get("pattern", ""))
        if re.fullmatch(r"\^[\w.:/\\-]+", pattern):  # a fixed prefix, e.g. ^opc\.tcp://
            return f"{label} must start with {pattern[1:].replace(chr(92), '')}, got {value!r}"
        return f"{label} {value!r} does not match the pattern {pattern}"
    if kind == "value_error":
        text = str(ctx.get("error", error["msg"]))
        if label == "'rect'":
            return f"bad geometry: rect {_got(value)}: {text}"
        return text
    return f"{label}: {error['msg']}"


def _description(r: _Resolved) -> str:
    if r.owner is None or not r.path or not isinstance(r.path[-1], str):
        return ""
    info = r.owner.model_fields.get(r.path[-1])
    return f"({info.description})" if info and info.description else ""


def _fixed_length(annotation: Any) -> int | None:
    args = get_args(annotation) if get_origin(annotation) is tuple else ()
    return len(args) if args and Ellipsis not in args else None


def _length_message(r: _Resolved, value: Any) -> str:
    names = [p for p in r.path if isinstance(p, str)]
    label = f"'{names[-1]}'" if names else "the list"
    size = _fixed_length(r.annotation)
    if size is None and r.owner is not None and names:
        info = r.owner.model_fields.get(names[-1])
        size = _fixed_length(_unwrap(info.annotation)) if info else None
    count = len(value) if isinstance(value, (list, tuple)) else "?"
    return f"{label} needs {size} values {_description(r)}, got {count}".replace("  ", " ")


def _allowed(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    skip = {"name"} if model.__name__ == "TagConfig" else set()
    return [name for name in model.model_fields if name not in skip]


def validation_problems(
    doc: YamlDoc, model: type[BaseModel], exc: ValidationError
) -> list[ProjectProblem]:
    """One problem per error; the errors of one scalar union at one place become one."""
    problems: list[ProjectProblem] = []
    unions: dict[tuple[Part, ...], tuple[tuple[int, int], list[str], Any]] = {}
    for error in exc.errors(include_url=False):
        r = resolve(doc, model, error["loc"])
        where = _where(doc, r, error)
        if r.union_member is not None and error["type"].endswith(("_type", "_parsing")):
            entry = unions.setdefault(tuple(r.path), (where, [], error["input"]))
            entry[1].append(_TYPE_WORDS.get(r.union_member, r.union_member))
            continue
        problems.append(doc.problem(*where, message(doc, r, error)))
    for path, (where, words, value) in unions.items():
        label = _label(_Resolved(path=list(path)))
        choices = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
        problems.append(doc.problem(*where, f"{label} must be {choices}, got {_got(value)}"))
    return problems
