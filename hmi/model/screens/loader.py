"""Load a project folder: ``project.yaml``, its screen and template files, all cross-checked.

Every problem names file, line and column (1-based, as editors show them) and says what to
do; all are collected, so one run shows everything. Broken parts are still used where possible
(a tag with a bad address is known by name: widgets using it are not reported again).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hmi.model.alarms.definitions import AlarmDefinition, check_alarms
from hmi.model.errors import ProjectError, ProjectProblem
from hmi.model.project import ProjectFile
from hmi.model.screens._checks import Catalog, WidgetChecks, suggest
from hmi.model.screens._files import LoadedFile, read_screen, read_template, validate
from hmi.model.screens._template_checks import check_placeholders, check_template_uses
from hmi.model.screens._where import NodeWhere
from hmi.model.screens._yaml import YamlDoc, child, lexists, plain, read_yaml
from hmi.model.screens.schema import (
    MAX_TEMPLATE_DEPTH,
    MAX_WIDGETS,
    InstanceSpec,
    ScreenFile,
    ScreenHeader,
    Strict,
    TemplateFile,
    TemplateHeader,
)
from hmi.model.screens.templates import PlacedCount
from hmi.model.tags import TagConfig

__all__ = [
    "Project",
    "check_project",
    "json_schema",
    "listed_files",
    "load_project",
    "load_screen_file",
    "load_template_file",
]

log = logging.getLogger(__name__)

PROJECT_FILE = "project.yaml"
_DRIVERS = {"opcua", "modbus"}


class Project(Strict):
    """A loaded, cross-checked project: what the runtime builds from."""

    root: str
    file: ProjectFile
    screens: dict[str, ScreenFile]
    templates: dict[str, TemplateFile]
    screen_paths: dict[str, str] = {}
    template_paths: dict[str, str] = {}

    @property
    def tags(self) -> dict[str, TagConfig]:
        return self.file.tags

    @property
    def alarms(self) -> tuple[AlarmDefinition, ...]:
        """The alarms written in ``alarms:``, each connection's default communication-loss
        alarm (``ProjectFile.comm_loss_alarms``), then the station's own (``station_alarms``)."""
        return (*self.file.alarms, *self.file.comm_loss_alarms(), *self.file.station_alarms())

    @property
    def start_screen(self) -> str:
        return self.file.project.start_screen


def _project_yaml(path: str | Path) -> Path:
    path = Path(path)
    try:
        folder = path.is_dir() or not path.suffix
    except (OSError, ValueError):
        folder = False
    return path / PROJECT_FILE if folder else path


def _resolved(path: Path) -> Path:
    """``path`` absolute, symlinks followed as far as they go (a loop is left for the read)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def project_path(root: Path, name: str) -> Path | str:
    """The file a project lists as ``name`` (relative to its folder ``root``), or why it is
    refused: project files, like images, stay inside the project folder, so a listed path
    never reads (or quotes) a file of the machine's."""
    if "\x00" in name:
        return "the file name holds a NUL character"
    if Path(name).is_absolute():
        return "an absolute path; list files relative to the project folder"
    path = _resolved(root / name)
    if not path.is_relative_to(root):
        return (
            f"it is outside the project folder {root} (the path or a symlink leads out); "
            "project files stay inside the project folder"
        )
    return path


class _ProjectLoader:
    """One run over a project; collects problems instead of raising."""

    def __init__(self, path: str | Path) -> None:
        self.file = _resolved(_project_yaml(path))
        self.root = self.file.parent
        self.problems: list[ProjectProblem] = []
        self.project_file: ProjectFile | None = None
        self.screens: list[LoadedFile] = []
        self.templates: list[LoadedFile] = []

    def run(self) -> Project | None:
        doc = read_yaml(self.file)
        if not os.path.lexists(self.file):
            doc.problems[:] = [
                ProjectProblem(doc.start, f"no {PROJECT_FILE} here; a project folder needs one")
            ]
        self.project_file = validate(
            doc, ProjectFile, "it needs 'project:' (name, start_screen), 'tags:' and 'screens:'"
        )
        self.problems.extend(doc.problems)
        tags = self._tags(doc)
        self._connections(doc, tags)
        self._alarms(doc, tags)
        self.screens = self._files(doc, "screens", read_screen)
        self.templates = self._files(doc, "templates", read_template)
        screen_ids = self._ids(self.screens, "screen")
        template_ids = self._ids(self.templates, "template")
        catalog = Catalog(
            self.root,
            tags,
            screen_ids,
            {i: f.model for i, f in template_ids.items() if isinstance(f.model, TemplateFile)},
            {i: f.listed for i, f in template_ids.items()},
            {i for i, f in template_ids.items() if f.model is None},
            all(f.header is not None for f in self.screens),
            all(f.header is not None for f in self.templates),
        )
        self._start_screen(doc, catalog)
        for found in self.templates:
            before = len(self.problems)
            _check_template(found, catalog, self.problems)
            if len(self.problems) > before and found.header is not None:
                catalog.broken_templates.add(found.header.id)
        for found in self.screens:
            _check_screen(found, catalog, self.problems)
        self.problems = _sorted(self.problems)
        if self.problems or self.project_file is None:
            return None
        return Project(
            root=str(self.root),
            file=self.project_file,
            screens={i: f.model for i, f in screen_ids.items()},  # type: ignore[misc]
            templates=dict(catalog.templates),
            screen_paths={i: str(f.doc.path) for i, f in screen_ids.items()},
            template_paths={i: str(f.doc.path) for i, f in template_ids.items()},
        )

    def _alarms(self, doc: YamlDoc, tags: Mapping[str, TagConfig | None]) -> None:
        if self.project_file is None:
            return
        project = self.project_file
        for problem in check_alarms(project.alarms, tags, project.connections):
            where = NodeWhere(doc, ("alarms", problem.index)).value(problem.field)
            self.problems.append(ProjectProblem(where, problem.message))
        ids = {alarm.id: index for index, alarm in enumerate(project.alarms)}
        for alarm in project.comm_loss_alarms():
            if alarm.id in ids:
                self.problems.append(
                    ProjectProblem(
                        NodeWhere(doc, ("connections",)).key(alarm.connection),
                        f"connection {alarm.connection!r} gets the communication-loss alarm "
                        f"{alarm.id!r}, but alarm {ids[alarm.id]} already has that id: rename "
                        "that alarm, make it kind: comm_loss for this connection, or set "
                        "comm_loss_alarm: false on the connection",
                    )
                )

    def _tags(self, doc: YamlDoc) -> dict[str, TagConfig | None]:
        if self.project_file is not None:
            return dict(self.project_file.tags)
        raw = child(doc.data, "tags")
        tags: dict[str, TagConfig | None] = {}
        for name, config in raw.items() if isinstance(raw, Mapping) else ():
            try:
                tags[str(name)] = TagConfig.model_validate(plain(config)).model_copy(
                    update={"name": str(name)}
                )
            except ValidationError:
                tags[str(name)] = None
        return tags

    def _connections(self, doc: YamlDoc, tags: Mapping[str, TagConfig | None]) -> None:
        """An OPC UA or Modbus address names a connection of the same driver."""
        raw = child(doc.data, "connections")
        connections = raw if isinstance(raw, Mapping) else {}
        for name, config in tags.items():
            if config is None or config.address.scheme not in ("opcua", "modbus"):
                continue
            address = config.address
            where = NodeWhere(doc, ("tags", name)).value("address")
            known = connections.get(address.connection)
            if address.connection not in connections:
                self.problems.append(
                    ProjectProblem(
                        where,
                        f"tag {name!r}: connection {address.connection!r} is not defined in "
                        f"'connections:'{suggest(address.connection, map(str, connections))} "
                        f"(defined: {', '.join(map(str, connections)) or 'none'})",
                    )
                )
            elif isinstance(known, Mapping) and known.get("driver") in _DRIVERS - {address.scheme}:
                self.problems.append(
                    ProjectProblem(
                        where,
                        f"tag {name!r}: connection {address.connection!r} is a "
                        f"{known.get('driver')} connection, but the address is {address.scheme}",
                    )
                )

    def _files(
        self, doc: YamlDoc, key: str, read: Callable[[Path, str], LoadedFile]
    ) -> list[LoadedFile]:
        listed = child(doc.data, key)
        found: list[LoadedFile] = []
        seen: dict[Path, int] = {}
        for index, name in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(name, str):
                continue  # reported by validation
            where = NodeWhere(doc, (key,)).value(index)
            kind = key.rstrip("s")
            path = project_path(self.root, name)
            if isinstance(path, str):
                self.problems.append(ProjectProblem(where, f"{kind} file {name!r}: {path}"))
                continue
            if path in seen:
                self.problems.append(ProjectProblem(where, f"{name!r} is listed twice in '{key}:'"))
                continue
            seen[path] = index
            if not lexists(path):
                self.problems.append(
                    ProjectProblem(
                        where, f"{kind} file {name!r} does not exist (looked for {path})"
                    )
                )
                continue
            entry = read(path, name)
            self.problems.extend(entry.doc.problems)
            found.append(entry)
        return found

    def _ids(self, files: list[LoadedFile], kind: str) -> dict[str, LoadedFile]:
        ids: dict[str, LoadedFile] = {}
        for found in files:
            if found.header is None:
                continue
            first = ids.setdefault(found.header.id, found)
            if first is not found:
                where = NodeWhere(found.doc, (kind,)).value("id")
                self.problems.append(
                    ProjectProblem(
                        where,
                        f"duplicate {kind} id {found.header.id!r}; {first.listed} already uses it",
                    )
                )
        return ids

    def _start_screen(self, doc: YamlDoc, catalog: Catalog) -> None:
        if self.project_file is None:
            return
        start = self.project_file.project.start_screen
        if catalog.all_screens_known and start not in catalog.screens:
            self.problems.append(
                ProjectProblem(
                    NodeWhere(doc, ("project",)).value("start_screen"),
                    f"start_screen {start!r} is not a screen of this project"
                    f"{suggest(start, catalog.screens)} "
                    f"(screens: {', '.join(sorted(catalog.screens)) or 'none'})",
                )
            )


def _check_screen(found: LoadedFile, catalog: Catalog, problems: list[ProjectProblem]) -> None:
    header = found.header
    if not isinstance(header, ScreenHeader):
        return
    known = catalog.screens
    if header.parent is not None and catalog.all_screens_known and header.parent not in known:
        problems.append(
            ProjectProblem(
                NodeWhere(found.doc, ("screen",)).value("parent"),
                f"parent screen {header.parent!r} is not a screen of this project"
                f"{suggest(header.parent, catalog.screens)}",
            )
        )
    if _too_many_widgets(found, catalog, problems, "screen"):
        return
    checks = WidgetChecks(catalog, problems)
    where = NodeWhere(found.doc, ("widgets",))
    for index, widget in found.widgets:
        checks.widget(widget, where.child(index), header.size, "screen")


def _check_template(found: LoadedFile, catalog: Catalog, problems: list[ProjectProblem]) -> None:
    header = found.header
    if not isinstance(header, TemplateHeader):
        return
    check_placeholders(found.doc, ("template", "title"), header.params, problems)
    check_placeholders(found.doc, ("widgets",), header.params, problems)
    if not isinstance(found.model, TemplateFile):
        return
    if _too_many_widgets(found, catalog, problems, "template"):
        return
    checks = WidgetChecks(catalog, problems, (header.id,), found.model)
    where = NodeWhere(found.doc, ("widgets",))
    for index, widget in found.widgets:
        checks.widget(widget, where.child(index), header.size, "template")


def _too_many_widgets(
    found: LoadedFile, catalog: Catalog, problems: list[ProjectProblem], kind: str
) -> bool:
    """A screen or template that gives more than ``MAX_WIDGETS`` widgets once its templates
    are placed is reported at the widget that crosses the limit, and not checked further."""
    count = PlacedCount(catalog.templates)
    total = 0
    where = NodeWhere(found.doc, ("widgets",))
    for index, widget in found.widgets:
        total += count((widget,))
        if total > MAX_WIDGETS:
            at = where.child(index)
            location = at.value("template") if isinstance(widget, InstanceSpec) else at.key("type")
            problems.append(
                ProjectProblem(
                    location,
                    f"this {kind} holds more than {MAX_WIDGETS:,} widgets once its templates "
                    f"are placed (groups and templates placed up to {MAX_TEMPLATE_DEPTH} deep "
                    "included); split it into several screens",
                )
            )
            return True
    return False


def _sorted(problems: list[ProjectProblem]) -> list[ProjectProblem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (str(p.location.file), p.location.line, p.location.column))


def load_project(path: str | Path) -> Project:
    """Load and cross-check a project (its folder or its project.yaml); raise ``ProjectError``
    with every problem found."""
    loader = _ProjectLoader(path)
    project = loader.run()
    if project is None:
        raise ProjectError(loader.problems)
    log.info(
        "loaded project %s: %d screens, %d templates, %d tags",
        loader.file, len(project.screens), len(project.templates), len(project.tags),
    )  # fmt: skip
    return project


def check_project(path: str | Path) -> list[ProjectProblem]:
    """Every problem in a project, sorted by file and line; empty if it is valid."""
    loader = _ProjectLoader(path)
    loader.run()
    return loader.problems


def listed_files(path: str | Path) -> dict[Path, str] | None:
    """The screen and template files a project.yaml lists, each mapped to its kind ("screen"
    or "template"), even when the project is invalid (live reload watches them to re-check it);
    None when project.yaml itself cannot be read as YAML."""
    doc = read_yaml(_resolved(_project_yaml(path)))
    if not isinstance(doc.data, Mapping):
        return None
    listed: dict[Path, str] = {}
    for key, kind in (("screens", "screen"), ("templates", "template")):
        names = child(doc.data, key)
        for name in names if isinstance(names, list) else []:
            found = project_path(doc.path.parent, name) if isinstance(name, str) else None
            if isinstance(found, Path):
                listed.setdefault(found, kind)
    return listed


def _shown(path: str | Path, root: str) -> str:
    """A project file as an engineer names it: relative to the project folder."""
    full = (Path(root) / path).resolve()
    try:
        return str(full.relative_to(Path(root).resolve()))
    except ValueError:
        return str(full)


def _catalog(project: Project, **replace: Any) -> Catalog:
    return Catalog(
        Path(project.root),
        dict(project.tags),
        replace.get("screens", set(project.screens)),
        replace.get("templates", project.templates),
        {i: _shown(p, project.root) for i, p in project.template_paths.items()},
    )


def _same_file(a: str | Path, b: Path, root: str) -> bool:
    return (Path(root) / a).resolve() == b.resolve()


def _other_owner(paths: Mapping[str, str], ident: str, path: Path, root: str) -> str | None:
    other = paths.get(ident)
    if other is None or _same_file(other, path, root):
        return None
    return _shown(other, root)


def _without_file(
    items: Mapping[str, Any], paths: Mapping[str, str], path: Path, root: str
) -> dict[str, Any]:
    """``items`` less the one that came from ``path``: a reloaded file may change its id."""
    return {i: v for i, v in items.items() if not _same_file(paths.get(i, ""), path, root)}


def load_screen_file(path: str | Path, project: Project) -> ScreenFile:
    """Validate one screen file against a loaded project (live reload); raise ``ProjectError``."""
    path = _resolved(Path(path))
    found = read_screen(path, str(path))
    problems = list(found.doc.problems)
    header = found.header
    screens = set(_without_file(project.screens, project.screen_paths, path, project.root))
    if isinstance(header, ScreenHeader):
        screens.add(header.id)
        other = _other_owner(project.screen_paths, header.id, path, project.root)
        if other is not None:
            problems.append(
                ProjectProblem(
                    NodeWhere(found.doc, ("screen",)).value("id"),
                    f"duplicate screen id {header.id!r}; {other} already uses it",
                )
            )
    _check_screen(found, _catalog(project, screens=screens), problems)
    if problems or not isinstance(found.model, ScreenFile):
        raise ProjectError(_sorted(problems))
    return found.model


def load_template_file(path: str | Path, project: Project) -> TemplateFile:
    """Validate one template file against a loaded project (live reload), including the
    screens that place it: a changed param list must not break them silently."""
    path = _resolved(Path(path))
    found = read_template(path, str(path))
    problems = list(found.doc.problems)
    header = found.header
    templates = _without_file(project.templates, project.template_paths, path, project.root)
    if isinstance(header, TemplateHeader):
        other = _other_owner(project.template_paths, header.id, path, project.root)
        if other is not None:
            problems.append(
                ProjectProblem(
                    NodeWhere(found.doc, ("template",)).value("id"),
                    f"duplicate template id {header.id!r}; {other} already uses it",
                )
            )
        if isinstance(found.model, TemplateFile):
            templates[header.id] = found.model
    catalog = _catalog(project, templates=templates)
    _check_template(found, catalog, problems)
    if isinstance(found.model, TemplateFile) and not problems:
        for screen_id, screen_path in project.screen_paths.items():
            if screen_id in project.screens:
                doc = read_yaml(_resolved(Path(project.root) / screen_path))
                check_template_uses(doc, found.model.template.id, catalog, problems)
    if problems or not isinstance(found.model, TemplateFile):
        raise ProjectError(_sorted(problems))
    return found.model


def json_schema() -> dict[str, Any]:
    """JSON Schema of screen and template files, for editors' completion and hover help."""
    schema = TypeAdapter(ScreenFile | TemplateFile).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "HMI screen or template file",
        "description": "A screen (screen: + widgets:) or a template (template: + widgets:).",
        **schema,
    }
