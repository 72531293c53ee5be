"""Field tables from the JSON Schema of screen files (the one ``hmi schema`` prints).

Each widget type's table lists its own fields (the ones every widget has are in one table of
their own); objects a field refers to (a state row, a button action, a trend pen) get a table
too, once, and are linked from where they are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from hmi.model.screens.loader import json_schema

__all__ = ["COMMON_FIELDS", "FieldTables", "type_text"]

COMMON_FIELDS = ("id", "rect", "tooltip", "visible", "font_size")
"""Fields every widget has (``WidgetSpecBase``); each widget's own table leaves them out."""

Schema = Mapping[str, Any]


def _ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def anchor(name: str) -> str:
    return name.lower()


def type_text(schema: Schema) -> str:
    """How a field's type reads in the guide: ``number``, ``[number, number]``, ``"a" | "b"`` (escaped in a table cell),
    ``list of [StateLook](#statelook)``, ``text or none``."""
    name = _ref_name(schema)
    if name is not None:
        return f"[{name}](#{anchor(name)})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " | ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    if schema.get("discriminator", {}).get("propertyName") == "type":
        return "[widget](#widget-types)"
    for union in ("anyOf", "oneOf"):
        if union in schema:
            options = [o for o in schema[union] if o.get("type") != "null"]
            text = " or ".join(type_text(option) for option in options)
            return f"{text} or none" if len(options) < len(schema[union]) else text
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(type_text(item) for item in schema["prefixItems"]) + "]"
        return f"list of {type_text(schema.get('items', {}))}"
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"map of text to {type_text(values)}" if isinstance(values, Mapping) else "map"
    return {"string": "text", "boolean": "true/false"}.get(str(kind), str(kind or "any"))


def _limits(schema: Schema) -> list[str]:
    words = {
        "exclusiveMinimum": "> {}", "minimum": "≥ {}", "exclusiveMaximum": "< {}",
        "maximum": "≤ {}", "minItems": "at least {} item(s)", "pattern": "matches `{}`",
    }  # fmt: skip
    found = [text.format(schema[key]) for key, text in words.items() if key in schema]
    if "prefixItems" in schema:  # a fixed [x, y, ...]: the type says how many
        found = [f for f in found if not f.startswith("at least")]
    for option in schema.get("anyOf", ()):
        found += _limits(option)
    return found


def _default(schema: Schema, required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in schema:
        return ""
    default = schema["default"]
    if default is None:
        return "none"
    return f"`{json.dumps(default, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class FieldTables:
    """Markdown tables for the widget types and the objects they use."""

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema if schema is not None else json_schema()
        self.defs: Mapping[str, Schema] = self.schema["$defs"]
        self.widgets: dict[str, str] = {}  # widget type -> its definition's name
        for name, definition in self.defs.items():
            kind = definition.get("properties", {}).get("type", {}).get("const")
            if isinstance(kind, str) and name.endswith("Spec"):
                self.widgets[kind] = name
        self._written: set[str] = set()

    def table(self, name: str, *, skip: tuple[str, ...] = ()) -> str:
        """One definition's fields as a table: field, type, default, what it means."""
        definition = self.defs[name]
        if "enum" in definition:
            values = ", ".join(f"`{value}`" for value in definition["enum"])
            return f"One of {values}.\n"
        required = set(definition.get("required", ()))
        rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
        for field, schema in definition.get("properties", {}).items():
            if field in skip:
                continue
            meaning = schema.get("description", "")
            limits = _limits(schema)
            if limits:
                meaning = f"{meaning} ({', '.join(limits)})" if meaning else ", ".join(limits)
            rows.append(
                f"| `{field}` | {_cell(type_text(schema))} "
                f"| {_cell(_default(schema, field in required))} | {_cell(meaning)} |"
            )
        return "\n".join(rows) + "\n"

    def referenced(self, name: str) -> Iterator[str]:
        """The definitions ``name`` refers to, depth first, each once per guide."""
        for schema in self._walk(self.defs[name]):
            target = _ref_name(schema)
            if target is None or target in self._written or target == name:
                continue
            if target.endswith("Spec") and target in self.widgets.values():
                continue  # a group's widgets are the widgets of this guide
            self._written.add(target)
            yield target
            yield from self.referenced(target)

    def _walk(self, schema: Any) -> Iterator[Schema]:
        if isinstance(schema, Mapping):
            yield schema
            for value in schema.values():
                yield from self._walk(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from self._walk(value)

    def description(self, name: str) -> str:
        return str(self.defs[name].get("description", ""))
