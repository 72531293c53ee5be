"""Templates (faceplates): widget groups written once with ``${param}`` placeholders.

``instantiate`` substitutes the parameters into every text of every widget (groups, actions,
state texts, tooltips, ``visible`` expressions, tag names, params of nested faceplates) and
validates the result again, so a placed template is checked like any hand-written widget.
``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hmi.model.errors import ConfigError
from hmi.model.screens.schema import (
    MAX_TEMPLATE_DEPTH,
    MAX_WIDGETS,
    ButtonSpec,
    FaceplateAction,
    GroupSpec,
    InstanceSpec,
    ScreenFile,
    TemplateFile,
    TrendSpec,
    WidgetSpec,
    iter_widgets,
)

__all__ = [
    "PlacedCount",
    "PlaceholderError",
    "check_params",
    "find_placeholders",
    "instantiate",
    "instantiate_title",
    "substitute",
]

_MARK = re.compile(r"\$\$\{|\$\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WIDGETS: TypeAdapter[tuple[WidgetSpec, ...]] = TypeAdapter(tuple[WidgetSpec, ...])


class PlaceholderError(ConfigError):
    """A ``${...}`` that cannot be read; ``index`` is the 0-based character where it starts."""

    def __init__(self, message: str, index: int) -> None:
        self.message = message
        self.index = index
        super().__init__(message)


def _scan(text: str) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, name) of each placeholder; name None for an escaped ``$${``."""
    for match in _MARK.finditer(text):
        start = match.start()
        if match.group() == "$${":
            yield start, match.end(), None
            continue
        close = text.find("}", start)
        if close < 0:
            raise PlaceholderError(f"'${{' without a closing '}}' in {text!r}", start)
        name = text[start + 2 : close]
        if not _NAME.match(name):
            raise PlaceholderError(
                f"placeholder ${{{name}}} in {text!r} is not a name (letters, digits, _); "
                "write $${ for a literal ${",
                start,
            )
        yield start, close + 1, name


def find_placeholders(text: str) -> list[tuple[str, int]]:
    """(name, 0-based index) of every ``${name}`` in ``text``."""
    return [(name, start) for start, _, name in _scan(text) if name is not None]


def substitute(text: str, params: Mapping[str, str]) -> str:
    """``text`` with each ``${name}`` replaced; a name missing from ``params`` is an error."""
    if "$" not in text:
        return text
    out: list[str] = []
    last = 0
    for start, end, name in _scan(text):
        out.append(text[last:start])
        if name is None:
            out.append("${")
        elif name in params:
            out.append(str(params[name]))
        else:
            raise PlaceholderError(
                f"${{{name}}} is used but is not a declared param "
                f"(declared: {', '.join(sorted(params)) or 'none'})",
                start,
            )
        last = end
    out.append(text[last:])
    return "".join(out)


def check_params(template: TemplateFile, params: Mapping[str, str]) -> None:
    """Raise ``ConfigError`` unless ``params`` gives exactly the template's declared params."""
    declared = template.template.params
    missing = [name for name in declared if name not in params]
    unknown = sorted(name for name in params if name not in declared)
    problems = []
    if missing:
        problems.append(f"missing param {', '.join(repr(n) for n in missing)}")
    if unknown:
        problems.append(f"unknown param {', '.join(repr(n) for n in unknown)}")
    if problems:
        raise ConfigError(
            f"template {template.template.id!r}: {' and '.join(problems)}; "
            f"its params are: {', '.join(declared) or 'none'}"
        )


def _fill(value: Any, params: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, params)
    if isinstance(value, Mapping):
        return {_fill(key, params): _fill(item, params) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_fill(item, params) for item in value]
    return value


def instantiate(template: TemplateFile, params: Mapping[str, str]) -> tuple[WidgetSpec, ...]:
    """The template's widgets with ``params`` substituted, validated again."""
    check_params(template, params)
    name = template.template.id
    try:
        raw = [_fill(widget.model_dump(mode="python"), params) for widget in template.widgets]
    except PlaceholderError as exc:
        raise ConfigError(f"template {name!r}: {exc.message}") from None
    try:
        return _WIDGETS.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"template {name!r} with params {dict(params)}: widgets are not valid after "
            f"substitution: {where}: {first['msg']}"
        ) from None


def instantiate_title(template: TemplateFile, params: Mapping[str, str]) -> str:
    """The faceplate's window title with ``params`` substituted."""
    check_params(template, params)
    try:
        return substitute(template.template.title, params)
    except PlaceholderError as exc:
        raise ConfigError(f"template {template.template.id!r} title: {exc.message}") from None


def trended_tags(
    screens: Iterable[ScreenFile], templates: Mapping[str, TemplateFile]
) -> frozenset[str]:
    """Every tag some trend shows: on a screen, in a placed template, or in a faceplate a
    button opens, with the template's parameters filled in. Templates that place each other
    in a loop are expanded once per (template, params)."""
    found: set[str] = set()
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def expand(template_id: str, params: Mapping[str, str]) -> None:
        key = (template_id, tuple(sorted(params.items())))
        template = templates.get(template_id)
        if key in seen or template is None:
            return
        seen.add(key)
        try:
            visit(instantiate(template, params))
        except ConfigError:
            return  # the loader reports it

    def visit(widgets: Iterable[WidgetSpec]) -> None:
        for widget in iter_widgets(tuple(widgets)):
            if isinstance(widget, TrendSpec):
                found.update(widget.tags)
            elif isinstance(widget, InstanceSpec):
                expand(widget.template, widget.params)
            elif isinstance(widget, ButtonSpec) and isinstance(widget.action, FaceplateAction):
                expand(widget.action.template, widget.action.params)

    for screen in screens:
        visit(screen.widgets)
    return frozenset(found)


class PlacedCount:
    """How many widgets a list of widgets gives once its templates are placed (groups and
    templates placing templates included), counted without building them: each (template,
    params) is instantiated once. Counting stops just past ``MAX_WIDGETS``; a template placed
    more than ``MAX_TEMPLATE_DEPTH`` deep counts as past the limit too. Cycles and templates
    that cannot be placed count 0 (the checks report them)."""

    def __init__(self, templates: Mapping[str, TemplateFile]) -> None:
        self._templates = templates
        self._memo: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}

    def __call__(self, widgets: Iterable[WidgetSpec], stack: tuple[str, ...] = ()) -> int:
        total = 0
        for widget in widgets:
            total += 1
            if isinstance(widget, GroupSpec):
                total += self(widget.widgets, stack)
            elif isinstance(widget, InstanceSpec):
                total += self._instance(widget, stack)
            if total > MAX_WIDGETS:
                break
        return total

    def _instance(self, widget: InstanceSpec, stack: tuple[str, ...]) -> int:
        key = (widget.template, tuple(sorted(widget.params.items())))
        known = self._memo.get(key)
        if known is not None:
            return known
        template = self._templates.get(widget.template)
        if template is None or widget.template in stack:
            return 0
        if len(stack) >= MAX_TEMPLATE_DEPTH:
            return MAX_WIDGETS + 1
        try:
            placed = instantiate(template, widget.params)
        except ConfigError:
            return 0
        count = self(placed, (*stack, widget.template))
        self._memo[key] = count
        return count
