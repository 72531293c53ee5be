"""A project's screens as the designer changes them: new, rename, delete (each kept in
project.yaml, each checked and planned like a save), and checking one widget's new value with
the checker's own message before the inspector takes it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hmi.model.audit.record import AuditAction
from hmi.model.design.document import ScreenDocument
from hmi.model.design.edits import SetFields, WidgetPath
from hmi.model.design.headers import list_file, new_screen_text, set_fields, unlist_file
from hmi.model.design.save import (
    PROJECT_FILE,
    FileWrite,
    PlannedChange,
    checked,
    file_sha256,
    project_root,
    shown_name,
)
from hmi.model.errors import ConfigError, ProjectError, ProjectProblem
from hmi.model.screens.loader import Project, load_project, load_screen_file
from hmi.model.screens.sources import overlay_texts, resolved

__all__ = ["check_widget", "plan_delete_screen", "plan_new_screen", "plan_rename_screen"]

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


def _read(path: Path) -> tuple[str, str]:
    return path.read_text(encoding="utf-8"), file_sha256(path)


def _project_write(root: Path, change: Any) -> FileWrite:
    path = resolved(root / PROJECT_FILE)
    before, sha = _read(path)
    return FileWrite(path, PROJECT_FILE, before, change(before, str(path)), sha)


def plan_new_screen(
    project_dir: str | Path,
    screen_id: str,
    title: str,
    *,
    level: int = 2,
    parent: str | None = None,
    file: str | None = None,
    size: tuple[int, int] = (1920, 1080),
    reason: str = "",
) -> PlannedChange:
    """A new screen file (`<id>.yaml` beside project.yaml unless `file` says where) with an
    empty widget list, listed at the end of project.yaml's `screens:`."""
    root = project_root(project_dir)
    if not _ID.match(screen_id):
        raise ConfigError(f"screen id {screen_id!r}: start with a letter; letters, digits, _ and -")
    name = file or f"{screen_id}.yaml"
    path = resolved(root / name)
    if not path.is_relative_to(root):
        raise ConfigError(f"{name}: a screen file stays inside the project folder {root}")
    if path.exists():
        raise ConfigError(f"{path} exists already; choose another file name")
    text = new_screen_text(screen_id, title, level, parent, size)
    writes = (
        FileWrite(path, shown_name(root, path), "", text, ""),
        _project_write(root, lambda t, w: list_file(t, w, "screens", name)),
    )
    checked(root, writes, reason)
    return PlannedChange(AuditAction.SCREEN_NEW, screen_id, writes, root, reason)


def _screen_path(project: Project, screen_id: str) -> Path:
    listed = project.screen_paths.get(screen_id)
    if listed is None:
        raise ConfigError(f"there is no screen {screen_id!r} in {project.root}")
    return resolved(Path(project.root) / listed)


def plan_rename_screen(
    project_dir: str | Path,
    old_id: str,
    new_id: str,
    *,
    title: str | None = None,
    reason: str = "",
) -> PlannedChange:
    """Give a screen a new id (and title): in its file, in project.yaml's `start_screen`, and
    wherever the project's screens and templates name it (`parent:`, navigate buttons)."""
    root = project_root(project_dir)
    if not _ID.match(new_id):
        raise ConfigError(f"screen id {new_id!r}: start with a letter; letters, digits, _ and -")
    project = load_project(root)
    if new_id != old_id and new_id in project.screens:
        raise ConfigError(f"screen id {new_id!r} is taken; choose another")
    main = _screen_path(project, old_id)
    writes: list[FileWrite] = []
    header: dict[str, Any] = {"id": new_id}
    if title is not None:
        header["title"] = title
    before, sha = _read(main)
    after = _renamed_references(ScreenDocument(before, main), old_id, new_id)
    after = set_fields(after, str(main), "screen", header)
    writes.append(FileWrite(main, shown_name(root, main), before, after, sha))
    if project.start_screen == old_id:
        writes.append(
            _project_write(root, lambda t, w: set_fields(t, w, "project", {"start_screen": new_id}))
        )
    others = {**project.screen_paths, **project.template_paths}
    for other_id, listed in sorted(others.items()):
        path = resolved(root / listed)
        if path == main:
            continue
        before, sha = _read(path)
        after = _renamed_references(ScreenDocument(before, path), old_id, new_id)
        kind = "screen" if other_id in project.screen_paths else "template"
        if kind == "screen" and project.screens[other_id].screen.parent == old_id:
            after = set_fields(after, str(path), "screen", {"parent": new_id})
        if after != before:
            writes.append(FileWrite(path, shown_name(root, path), before, after, sha))
    checked(root, tuple(writes), reason)
    return PlannedChange(
        AuditAction.SCREEN_RENAME, new_id, tuple(writes), root, reason, old_id=old_id
    )


def _renamed_references(doc: ScreenDocument, old_id: str, new_id: str) -> str:
    """The document's text with every navigate button to `old_id` sent to `new_id`."""

    def walk(parent: WidgetPath) -> None:
        for index in range(doc.children(parent)):
            path = (*parent, index)
            action = doc.widget(path).get("action")
            if (
                isinstance(action, Mapping)
                and action.get("kind") == "navigate"
                and action.get("screen") == old_id
            ):
                doc.apply(SetFields(path, {"action": {**action, "screen": new_id}}))
            walk(path)

    walk(())
    return doc.text()


def plan_delete_screen(
    project_dir: str | Path, screen_id: str, *, reason: str = ""
) -> PlannedChange:
    """Take a screen out of project.yaml and delete its file; refused with the checker's
    messages while anything still names it (the start screen, a parent, a button)."""
    root = project_root(project_dir)
    project = load_project(root)
    path = _screen_path(project, screen_id)
    listed = next(n for n in project.file.screens if resolved(root / n) == path)
    before, sha = _read(path)
    writes = (  # committed project.yaml first, then the file goes (Staged.commit)
        FileWrite(path, shown_name(root, path), before, None, sha),
        _project_write(root, lambda t, w: unlist_file(t, w, "screens", listed)),
    )
    checked(root, writes, reason)
    return PlannedChange(AuditAction.SCREEN_DELETE, screen_id, writes, root, reason)


def check_widget(
    project: Project, doc: ScreenDocument, path: WidgetPath, values: Mapping[str, Any]
) -> list[ProjectProblem]:
    """What the checker says about the widget at `path` with `values` set (the inspector
    refuses a value with these messages); empty when the value is good. Only this screen is
    re-checked, against the loaded `project`, so it is quick enough for every field edit."""
    trial = doc.copy()
    trial.apply(SetFields(path, values))
    lines = trial.lines_of(path)
    with overlay_texts({trial.path: trial.text()}):
        try:
            load_screen_file(trial.path, project)
        except ProjectError as exc:
            mine = [p for p in exc.problems if p.location.line in lines]
            return mine or list(exc.problems)
    return []
