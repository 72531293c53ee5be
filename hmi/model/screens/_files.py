"""Reading one screen or template file: the model if it is valid, else what can be salvaged."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from hmi.model.errors import ProjectProblem
from hmi.model.screens._messages import validation_problems
from hmi.model.screens._yaml import YamlDoc, child, plain, read_yaml
from hmi.model.screens.schema import (
    ScreenFile,
    ScreenHeader,
    TemplateFile,
    TemplateHeader,
    WidgetSpec,
)

_WIDGET: TypeAdapter[WidgetSpec] = TypeAdapter(WidgetSpec)
_Model = TypeVar("_Model", bound=BaseModel)


@dataclass
class LoadedFile:
    """One screen or template file as read: the whole model if valid, else what was salvaged
    (header and the widgets that validate on their own) so cross-checks still run."""

    doc: YamlDoc
    listed: str  # as written in project.yaml
    model: ScreenFile | TemplateFile | None = None
    header: ScreenHeader | TemplateHeader | None = None
    widgets: list[tuple[int, WidgetSpec]] = field(default_factory=list)


def validate(doc: YamlDoc, model: type[_Model], what: str) -> _Model | None:
    if not doc.parsed:
        return None
    if doc.data is None:
        doc.problems.append(ProjectProblem(doc.start, f"the file is empty; {what}"))
        return None
    try:
        return model.model_validate(plain(doc.data))
    except ValidationError as exc:
        doc.problems.extend(validation_problems(doc, model, exc))
        return None


def _salvage(doc: YamlDoc, header_model: type[BaseModel], header_key: str) -> LoadedFile:
    found = LoadedFile(doc, "")
    with contextlib.suppress(ValidationError):
        header = header_model.model_validate(plain(child(doc.data, header_key)))
        found.header = header  # type: ignore[assignment]
    widgets = child(doc.data, "widgets")
    for index, raw in enumerate(widgets if isinstance(widgets, list) else []):
        try:
            found.widgets.append((index, _WIDGET.validate_python(plain(raw))))
        except ValidationError:
            continue
    return found


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Reading a file makes millions of small containers and no reference cycle; the cyclic
    collector, run every few hundred thousand allocations over every object alive, made
    reading 100,000 widgets 2-4x slower than reading them without it (bench/bench_check.py;
    libyaml's own loader pays the same). Memory is still freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_screen(path: Path, listed: str) -> LoadedFile:
    with _no_cycle_collection():
        doc = read_yaml(path)
        what = "a screen needs 'screen:' (id, title) and 'widgets:'"
        model = validate(doc, ScreenFile, what)
        if model is None:
            found = _salvage(doc, ScreenHeader, "screen")
        else:
            found = LoadedFile(doc, listed, model, model.screen, list(enumerate(model.widgets)))
    found.listed = listed
    return found


def read_template(path: Path, listed: str) -> LoadedFile:
    with _no_cycle_collection():
        doc = read_yaml(path)
        what = "a template needs 'template:' (id, size, params) and 'widgets:'"
        model = validate(doc, TemplateFile, what)
        if model is None:
            found = _salvage(doc, TemplateHeader, "template")
        else:
            found = LoadedFile(doc, listed, model, model.template, list(enumerate(model.widgets)))
    found.listed = listed
    return found
