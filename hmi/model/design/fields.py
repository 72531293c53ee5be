"""The inspector's and the palette's view of the screen schema, read from the pydantic models.

`fields_of(type)` describes every field of a widget type as the inspector edits it (its kind,
bounds, choices, default, whether it is required), so a widget type added to
`hmi.model.screens.schema` gets an inspector with no editor code. `new_widget` gives the
palette a widget of a type with every required field filled, and `check_fields` validates one
widget's fields with the schema model, giving pydantic's message per field.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from hmi.model.screens.loader import Project
from hmi.model.screens.schema import (
    WIDGET_TYPES,
    ButtonSpec,
    FaceplateAction,
    InstanceSpec,
    ScreenFile,
    TemplateFile,
    WidgetSpec,
    iter_widgets,
)

__all__ = ["FieldDesc", "check_fields", "fields_of", "model_of", "new_widget"]

_WIDGET: TypeAdapter[Any] = TypeAdapter(WidgetSpec)

# Kinds the inspector has an editor for; anything else is edited as YAML text.
Kind = Literal["str", "int", "float", "bool", "choice", "rect", "colour", "union", "yaml"]

_SIZES: dict[str, tuple[float, float]] = {
    "label": (160, 28),
    "value": (120, 28),
    "bar": (40, 160),
    "indicator": (120, 28),
    "symbol": (64, 64),
    "button": (120, 36),
    "setpoint": (120, 28),
    "group": (240, 160),
    "image": (160, 120),
    "trend": (480, 240),
    "instance": (200, 120),
}


@dataclass(frozen=True)
class FieldDesc:
    """One field of a widget type as the inspector shows it."""

    name: str
    kind: Kind
    required: bool
    default: Any
    description: str
    optional: bool = False  # None is allowed (the field may be left unset)
    choices: tuple[Any, ...] = ()  # for "choice"
    low: float | None = None  # for numbers: the schema's bounds
    high: float | None = None
    variants: tuple[tuple[str, type[BaseModel]], ...] = ()  # for "union": (kind, model)


def model_of(widget_type: str) -> type[BaseModel]:
    """The schema model of a widget type."""
    for model in typing.get_args(typing.get_args(WidgetSpec)[0]):
        if model.model_fields["type"].annotation == Literal[widget_type]:  # type: ignore[valid-type]
            return typing.cast(type[BaseModel], model)
    raise KeyError(widget_type)


def fields_of(model: str | type[BaseModel]) -> tuple[FieldDesc, ...]:
    """Every field of a widget type (or nested model, e.g. a button action), `type` and
    `widgets` (the canvas edits those) left out."""
    cls = model_of(model) if isinstance(model, str) else model
    return tuple(
        _describe(name, info)
        for name, info in cls.model_fields.items()
        if name not in ("type", "widgets", "kind")
    )


def _describe(name: str, info: FieldInfo) -> FieldDesc:
    annotation: Any = info.annotation
    args = typing.get_args(annotation)
    optional = type(None) in args
    if optional:
        rest = tuple(a for a in args if a is not type(None))
        annotation = rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    base: dict[str, Any] = {
        "name": name,
        "required": info.is_required(),
        "default": default,
        "description": info.description or "",
        "optional": optional,
    }
    low, high = _bounds(info)
    if name == "rect":
        return FieldDesc(kind="rect", **base)
    if annotation is bool:
        return FieldDesc(kind="bool", **base)
    if annotation in (int, float):
        kind: Kind = "int" if annotation is int else "float"
        return FieldDesc(kind=kind, low=low, high=high, **base)
    if annotation is str:
        pattern = _pattern(info)
        is_colour = pattern is not None and "0-9A-Fa-f]{6}" in pattern
        return FieldDesc(kind="colour" if is_colour else "str", **base)
    if typing.get_origin(annotation) is Literal:
        return FieldDesc(kind="choice", choices=typing.get_args(annotation), **base)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return FieldDesc(kind="choice", choices=tuple(m.value for m in annotation), **base)
    variants = _variants(annotation)
    if variants:
        return FieldDesc(kind="union", variants=variants, **base)
    return FieldDesc(kind="yaml", **base)


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = high = None
    for meta in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(meta, attr, None) is not None:
                low = float(getattr(meta, attr))
        for attr in ("le", "lt"):
            if getattr(meta, attr, None) is not None:
                high = float(getattr(meta, attr))
    return low, high


def _pattern(info: FieldInfo) -> str | None:
    for meta in info.metadata:
        pattern = getattr(meta, "pattern", None)
        if pattern is not None:
            return str(pattern.pattern if isinstance(pattern, re.Pattern) else pattern)
    return None


def _variants(annotation: Any) -> tuple[tuple[str, type[BaseModel]], ...]:
    """The models of a union discriminated by a `kind` field (a button's action)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return ()
    out: list[tuple[str, type[BaseModel]]] = []
    for model in typing.get_args(annotation):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return ()
        kind = model.model_fields.get("kind")
        if kind is None or typing.get_origin(kind.annotation) is not Literal:
            return ()
        out.append((str(typing.get_args(kind.annotation)[0]), model))
    return tuple(out)


def check_fields(widget: Mapping[str, Any]) -> dict[str, str]:
    """The schema's message per field of `widget` (empty: the widget is valid on its own; the
    project checker still judges its tags and templates)."""
    try:
        _WIDGET.validate_python(dict(widget))
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            loc = error["loc"]
            name = str(loc[1]) if len(loc) > 1 else str(loc[0]) if loc else ""
            problems.setdefault(name, error["msg"])
        return problems
    return {}


def _filled(desc: FieldDesc, project: Project, widget_type: str) -> Any:
    tag = next(iter(project.tags), "")
    if desc.name == "tag":
        return tag
    if desc.name == "tags":
        return [tag]
    if desc.name == "template":
        return next(iter(project.templates), "")
    if desc.name == "symbol":
        return "tank"
    if desc.name == "source":
        images = sorted(Path(project.root).glob("**/*.[ps][nv]g"))
        return str(images[0].relative_to(project.root)) if images else "image.png"
    if desc.name == "states":
        return [{"value": 0, "text": "off"}, {"value": 1, "text": "on", "look": "active"}]
    if desc.name == "action":
        return {"kind": "navigate", "screen": project.start_screen}
    if desc.kind in ("int", "float"):
        return desc.low if desc.low is not None and math.isfinite(desc.low) else 0
    if desc.kind == "choice":
        return desc.choices[0]
    return widget_type.capitalize() if desc.name == "text" else ""


def new_widget(
    widget_type: str, project: Project, at: tuple[float, float], *, template: str | None = None
) -> dict[str, Any]:
    """A widget of `widget_type` centred on `at` (design pixels), its required fields filled
    from the project (its first tag, its start screen, the first template or `template`)."""
    if widget_type not in WIDGET_TYPES:
        raise KeyError(widget_type)
    w, h = _SIZES.get(widget_type, (120, 40))
    if template is not None:
        size = project.templates[template].template.size
        w, h = float(size[0]), float(size[1])
    x, y = max(0.0, round(at[0] - w / 2)), max(0.0, round(at[1] - h / 2))
    widget: dict[str, Any] = {"type": widget_type, "rect": [x, y, w, h]}
    for desc in fields_of(widget_type):
        if desc.required and desc.name not in widget:
            widget[desc.name] = _filled(desc, project, widget_type)
    if template is not None:
        widget["template"] = template
    if widget_type == "instance" and widget["template"] in project.templates:
        params = project.templates[widget["template"]].template.params
        if params:
            widget["params"] = _params_in_use(project, widget["template"], params)
    return widget


def _params_in_use(project: Project, template: str, params: tuple[str, ...]) -> dict[str, str]:
    """Each param's value in an instance or faceplate button already in the project (the one
    of `template` first, else any use of a param of that name), else the param's own name."""
    seen: dict[str, str] = {}
    files: list[ScreenFile | TemplateFile] = [*project.screens.values()]
    files.extend(project.templates.values())
    for screen in files:
        for widget in iter_widgets(screen.widgets):
            given: dict[str, str] = {}
            if isinstance(widget, InstanceSpec):
                given, used = widget.params, widget.template
            elif isinstance(widget, ButtonSpec) and isinstance(widget.action, FaceplateAction):
                given, used = widget.action.params, widget.action.template
            else:
                continue
            concrete = not any("${" in v for v in given.values())
            if used == template and concrete and all(p in given for p in params):
                return {p: given[p] for p in params}
            for name, value in given.items():
                if "${" not in value:
                    seen.setdefault(name, value)
    return {p: seen.get(p, p) for p in params}
