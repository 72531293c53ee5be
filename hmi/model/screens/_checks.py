"""Cross-checks of widgets against the project: tags, screens, templates, files, geometry.

Checks run on validated widgets; a ``Where`` says where each field is written. For widgets
that come from a placed template there is no file position of their own: every problem lands
on the instance (or faceplate action) that placed them, saying which template and params.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hmi.model.errors import ConfigError, ProjectProblem, SourceLocation, WriteDenied
from hmi.model.expr import EvaluationError, Expression, ExpressionError
from hmi.model.screens._where import FixedWhere, Where
from hmi.model.screens._yaml import Part
from hmi.model.screens.schema import (
    BarSpec,
    ButtonSpec,
    FaceplateAction,
    GroupSpec,
    ImageSpec,
    IndicatorSpec,
    InstanceSpec,
    MomentaryAction,
    NavigateAction,
    SetAction,
    SetpointSpec,
    SymbolSpec,
    TemplateFile,
    ToggleAction,
    TrendSpec,
    ValueSpec,
    WidgetSpec,
)
from hmi.model.screens.templates import instantiate
from hmi.model.tags import DataType, TagConfig, format_spec_problem

BUILTIN_SYMBOLS = ("tank", "pump", "valve", "motor", "fan", "pipe", "arrow")
_EPSILON = 1e-6


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass
class Catalog:
    """What widgets may refer to. A tag mapped to None is defined but itself not valid: it is
    not reported again as unknown."""

    root: Path
    tags: Mapping[str, TagConfig | None]
    screens: Collection[str]
    templates: Mapping[str, TemplateFile]
    template_paths: Mapping[str, str] = field(default_factory=dict)
    broken_templates: set[str] = field(default_factory=set)  # defined, but their file is not valid
    # False when a listed file could not be read far enough to know its id: then a name that
    # is not found may well be that file's, and is not reported.
    all_screens_known: bool = True
    all_templates_known: bool = True


@dataclass
class WidgetChecks:
    """Checks one list of widgets. ``template`` is set while checking a template file: text
    holding ``${...}`` is checked after substitution, at each place the template is used."""

    catalog: Catalog
    problems: list[ProjectProblem]
    stack: tuple[str, ...] = ()
    template: TemplateFile | None = None
    literals: frozenset[str] = frozenset()
    ids: dict[str, SourceLocation] = field(default_factory=dict)

    def report(self, where: Where, location: SourceLocation, message: str) -> None:
        self.problems.append(ProjectProblem(location, where.prefix + message))

    def _skip(self, text: str | None) -> bool:
        if text is None:
            return True
        if self.template is not None and "${" in text:
            return True
        return text in self.literals

    def widgets(
        self, widgets: Sequence[WidgetSpec], where: Where, size: tuple[float, float], area: str
    ) -> None:
        for index, widget in enumerate(widgets):
            self.widget(widget, where.child(index), size, area)

    def widget(self, w: WidgetSpec, where: Where, size: tuple[float, float], area: str) -> None:
        if not where.derived:
            self._geometry(w.rect, where, size, area)
            if w.id is not None:
                first = self.ids.setdefault(w.id, where.value("id"))
                if first != where.value("id"):
                    self.report(
                        where,
                        where.value("id"),
                        f"duplicate widget id {w.id!r}; already used at line {first.line}, "
                        f"column {first.column}",
                    )
        if w.visible is not None:
            self._expression(w.visible, where, "visible")
        if isinstance(w, (ValueSpec, BarSpec, IndicatorSpec, SetpointSpec)):
            self._tag(w.tag, where)
        if isinstance(w, (ValueSpec, SetpointSpec)) and w.format is not None:
            self._format(w.format, w.tag, where)
        if isinstance(w, SetpointSpec):
            self._writable(w.tag, where, "tag", "a setpoint widget")
        elif isinstance(w, SymbolSpec):
            self._symbol(w.symbol, where)
            if w.tag is not None:
                self._tag(w.tag, where)
        elif isinstance(w, TrendSpec):
            for index, tag in enumerate(w.tags):
                self._tag(tag, where, "tags", index)
        elif isinstance(w, ImageSpec):
            self._file(w.source, where, "source", "image file")
        elif isinstance(w, ButtonSpec):
            self._action(w.action, where.child("action"))
        elif isinstance(w, InstanceSpec):
            self.use_template(w.template, w.params, where, "instance")
        elif isinstance(w, GroupSpec):
            inner = (w.rect[2], w.rect[3])
            label = f"group {w.id!r}" if w.id else "group"
            self.widgets(w.widgets, where.child("widgets"), inner, label)

    def _geometry(
        self, rect: tuple[float, float, float, float], where: Where, size: tuple[float, float],
        area: str,
    ) -> None:  # fmt: skip
        x, y, w, h = rect
        if x < 0 or y < 0 or x + w > size[0] + _EPSILON or y + h > size[1] + _EPSILON:
            self.report(
                where,
                where.value("rect"),
                f"bad geometry: rect [{x:g}, {y:g}, {w:g}, {h:g}] does not fit in the {area} "
                f"({size[0]:g} x {size[1]:g})",
            )

    def _tag(self, name: str, where: Where, *path: Part) -> bool:
        """True if the tag exists (or cannot be checked here)."""
        if self._skip(name) and name not in self.catalog.tags:
            return True
        if name in self.catalog.tags:
            return True
        location = where.value(*(path or ("tag",)))
        self.report(where, location, f"unknown tag {name!r}{suggest(name, self.catalog.tags)}")
        return False

    def _writable(self, name: str, where: Where, field_name: str, what: str) -> TagConfig | None:
        if self._skip(name):
            return None
        config = self.catalog.tags.get(name)
        if config is not None and config.write is None:
            self.report(
                where,
                where.value(field_name),
                f"{what} writes tag {name!r}, which is read-only (it has no 'write:' in "
                "project.yaml)",
            )
            return None
        return config

    def _action(self, action: Any, where: Where) -> None:
        if isinstance(action, (SetAction, MomentaryAction, ToggleAction)):
            if not self._tag(action.tag, where):
                return
            config = self._writable(action.tag, where, "tag", f"a {action.kind} action")
            if config is None:
                return
            values = {"value": getattr(action, "value", None)}
            if isinstance(action, MomentaryAction):
                values["release"] = action.release
            for name, value in values.items():
                if value is None:
                    continue
                try:
                    config.check_write(value)
                except WriteDenied as exc:
                    self.report(where, where.value(name), f"{action.kind} action {name}: {exc}")
        elif isinstance(action, NavigateAction):
            known = self.catalog.screens
            if (
                self.catalog.all_screens_known
                and not self._skip(action.screen)
                and (action.screen not in known)
            ):
                self.report(
                    where,
                    where.value("screen"),
                    f"unknown screen {action.screen!r} in a navigate action"
                    f"{suggest(action.screen, self.catalog.screens)}",
                )
        elif isinstance(action, FaceplateAction):
            self.use_template(action.template, action.params, where, "faceplate action")

    def _expression(self, text: str, where: Where, name: str) -> None:
        if self._skip(text):
            return
        try:
            expression = Expression.parse(text)
        except ExpressionError as exc:
            location = where.char((name,), exc.column - 1, len(text))
            self.report(where, location, f"bad expression {text.strip()!r}: {exc.message}")
            return
        if not expression.tags:  # made of constants: its evaluation error is known now
            try:
                expression.evaluate({})
            except EvaluationError as exc:
                location = where.char((name,), 0, len(text))
                self.report(where, location, f"bad expression {text.strip()!r}: {exc.message}")
        for tag, column in expression.references:
            if tag not in self.catalog.tags:
                self.report(
                    where,
                    where.char((name,), column - 1, len(text)),
                    f"unknown tag {tag!r} in expression {text.strip()!r}{suggest(tag, self.catalog.tags)}",
                )

    def _format(self, spec: str, tag: str, where: Where) -> None:
        if self._skip(spec) and self._skip(tag):
            return
        config = self.catalog.tags.get(tag)
        datatype = config.datatype if config is not None else None
        if datatype in (DataType.BOOL, DataType.STR):
            return  # shown as state text or as is; a format spec is not applied
        bound = format_spec_problem(spec)
        if bound is not None:
            self.report(where, where.value("format"), f"bad format spec {spec!r}: {bound}")
            return
        whole = spec[-1:] in ("d", "x", "X", "b", "o", "n", "c")
        sample: float = 1 if datatype is DataType.INT or (datatype is None and whole) else 1.5
        try:
            format(sample, spec)
        except (ValueError, TypeError) as exc:
            kind = f" for {datatype.value} tag {tag!r}" if datatype else ""
            self.report(
                where,
                where.value("format"),
                f"bad format spec {spec!r}{kind}: {exc}; use e.g. '.1f' or 'd'",
            )

    def _symbol(self, name: str, where: Where) -> None:
        if self._skip(name) or name in BUILTIN_SYMBOLS:
            return
        if not _inside(self.catalog.root, name):
            self.report(
                where,
                where.value("symbol"),
                f"unknown symbol {name!r}: not a built-in ({', '.join(BUILTIN_SYMBOLS)}) "
                f"and no such file in the project folder{suggest(name, BUILTIN_SYMBOLS)}",
            )

    def _file(self, name: str, where: Where, field_name: str, what: str) -> None:
        if not self._skip(name) and not _inside(self.catalog.root, name):
            self.report(
                where,
                where.value(field_name),
                f"{what} {name!r} does not exist in the project folder {self.catalog.root}",
            )

    def use_template(
        self, template_id: str, params: Mapping[str, str], where: Where, what: str
    ) -> None:
        """Check a placed template: it exists, its params are complete, and the widgets it
        gives with these params refer to things that exist."""
        if template_id in self.stack:
            cycle = " -> ".join((*self.stack, template_id))
            self.report(where, where.value("template"), f"template placed in itself: {cycle}")
            return
        if self._skip(template_id):
            return
        template = self.catalog.templates.get(template_id)
        if template is None:
            if not self.catalog.all_templates_known:
                return
            self.report(
                where,
                where.value("template"),
                f"unknown template {template_id!r} in {_a(what)}"
                f"{suggest(template_id, self.catalog.templates)}",
            )
            return
        declared = template.template.params
        ok = True
        for name in params:
            if name not in declared:
                ok = False
                self.report(
                    where,
                    where.key("params", name),
                    f"template {template_id!r} has no param {name!r}{suggest(name, declared)} "
                    f"(its params: {', '.join(declared) or 'none'})",
                )
        missing = [name for name in declared if name not in params]
        if missing:
            ok = False
            at = where.key("params") if where.has("params") else where.value("template")
            names = ", ".join(repr(name) for name in missing)
            self.report(where, at, f"{what} of template {template_id!r} misses param {names}")
        if not ok or template_id in self.catalog.broken_templates:
            return  # a template with problems of its own is not checked again at each use
        if self.template is not None and any("${" in v for v in params.values()):
            return
        self._derived(template, params, where)

    def _derived(self, template: TemplateFile, params: Mapping[str, str], where: Where) -> None:
        template_id = template.template.id
        at = where.key("params") if where.has("params") else where.value("template")
        path = self.catalog.template_paths.get(template_id, "")
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        prefix = f"{where.prefix}template {template_id!r} ({path}) with {shown or 'no params'}: "
        placed = FixedWhere(at, prefix)
        try:
            widgets = instantiate(template, params)
        except ConfigError as exc:
            self.report(placed, at, str(exc))
            return
        inner = WidgetChecks(
            self.catalog, self.problems, (*self.stack, template_id), None, _literals(template)
        )
        inner.widgets(widgets, placed, template.template.size, "template")


def _a(what: str) -> str:
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


def _inside(root: Path, name: str) -> bool:
    """``name`` is an existing file under the project folder."""
    try:
        path = (root / name).resolve()
        return path.is_file() and path.is_relative_to(root.resolve())
    except (OSError, ValueError):
        return False


def _literals(template: TemplateFile) -> frozenset[str]:
    """Texts of a template without placeholders: checked once in the template file itself."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if "${" not in value:
                found.add(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk([widget.model_dump() for widget in template.widgets])
    return frozenset(found)
