"""Checks of templates: placeholders name declared params; screens that place a template are
re-checked when only the template changed (live reload)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pydantic import ValidationError

from hmi.model.errors import ProjectProblem
from hmi.model.screens._checks import Catalog, WidgetChecks, suggest
from hmi.model.screens._where import NodeWhere, Where
from hmi.model.screens._yaml import Part, YamlDoc, child, plain
from hmi.model.screens.schema import (
    ButtonSpec,
    FaceplateAction,
    GroupSpec,
    InstanceSpec,
    ScreenFile,
    WidgetSpec,
)
from hmi.model.screens.templates import PlaceholderError, find_placeholders


def check_placeholders(
    doc: YamlDoc, path: tuple[Part, ...], declared: Collection[str], problems: list[ProjectProblem]
) -> None:
    """Every ``${name}`` under ``path`` names a declared param; reported at its character."""
    node = doc.data
    for part in path:
        node = child(node, part)
    where = NodeWhere(doc, path[:-1]) if path else None
    if isinstance(node, str) and where is not None:
        try:
            found = find_placeholders(node)
        except PlaceholderError as exc:
            location = where.char(path[-1:], exc.index, len(node))
            problems.append(ProjectProblem(location, exc.message))
            return
        for name, index in found:
            if name not in declared:
                problems.append(
                    ProjectProblem(
                        where.char(path[-1:], index, len(node)),
                        f"${{{name}}} is not a param of this template{suggest(name, declared)} "
                        f"(declared in 'params:': {', '.join(declared) or 'none'})",
                    )
                )
    elif isinstance(node, Mapping):
        for key in node:
            check_placeholders(doc, (*path, key), declared, problems)
    elif isinstance(node, list):
        for index in range(len(node)):
            check_placeholders(doc, (*path, index), declared, problems)


def check_template_uses(
    doc: YamlDoc, template_id: str, catalog: Catalog, problems: list[ProjectProblem]
) -> None:
    """Check every instance and faceplate action of ``template_id`` in one screen file. A
    screen file that is itself not valid is left to its own reload."""
    if not doc.parsed or doc.problems:
        return
    try:
        screen = ScreenFile.model_validate(plain(doc.data))
    except ValidationError:
        return
    _walk(
        screen.widgets, NodeWhere(doc, ("widgets",)), template_id, WidgetChecks(catalog, problems)
    )


def _walk(
    widgets: Sequence[WidgetSpec], where: Where, template_id: str, checks: WidgetChecks
) -> None:
    for index, widget in enumerate(widgets):
        at = where.child(index)
        if isinstance(widget, InstanceSpec) and widget.template == template_id:
            checks.use_template(widget.template, widget.params, at, "instance")
        elif isinstance(widget, ButtonSpec) and isinstance(widget.action, FaceplateAction):
            if widget.action.template == template_id:
                action = widget.action
                checks.use_template(
                    action.template, action.params, at.child("action"), "faceplate action"
                )
        elif isinstance(widget, GroupSpec):
            _walk(widget.widgets, at.child("widgets"), template_id, checks)
