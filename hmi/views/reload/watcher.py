"""Live reload: watch a project's files, re-validate what changed, hand over what is valid.

Editors often save by writing a temporary file and renaming it over the old one; the watcher
then loses the file, so the folders are watched too and files are added again when they
reappear. Changes are debounced (an editor's save is several events).

The watched files are the ones project.yaml lists, even while the project does not load (a
newly listed screen with errors): then any change to one of them checks the whole project
again, since the fix may be in any file. Files no longer listed are no longer watched.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from hmi.model.errors import ProjectError
from hmi.model.screens.loader import (
    Project,
    listed_files,
    load_project,
    load_screen_file,
    load_template_file,
)
from hmi.model.screens.schema import ScreenFile, TemplateFile

__all__ = ["LiveReload", "project_dir", "project_yaml"]

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200


def project_dir(project: Project) -> Path:
    root = Path(project.root)
    return root.parent if root.suffix in (".yaml", ".yml") else root


def project_yaml(project: Project) -> Path:
    root = Path(project.root)
    return root if root.suffix in (".yaml", ".yml") else root / "project.yaml"


def _key(path: str | Path) -> str:
    return os.path.abspath(path)


def _signature(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class LiveReload(QObject):
    """Emits ``reloaded(project)`` with the new project after a valid change, and
    ``problems_changed(list[str])`` with every problem still open (``file:line:col: message``;
    empty when all files are valid again). ``restart_needed(text)`` when project.yaml changed
    what only a restart applies (connections, tags)."""

    reloaded = Signal(object)  # Project
    problems_changed = Signal(list)  # list[str]
    restart_needed = Signal(str)

    def __init__(
        self, project: Project, *, debounce_ms: int = DEBOUNCE_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.project = project
        self._running = project  # what the broker was built from
        self._problems: dict[str, list[str]] = {}
        self._pending: set[str] = set()
        self._signatures: dict[str, tuple[int, int] | None] = {}
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_file_changed)
        self._watcher.directoryChanged.connect(self._on_directory_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._reload)
        self._watch(project)

    def tags_taken_on(self, project: Project) -> None:
        """The broker took on ``project``'s new tags (the designer's Browse server added
        them): they are running, so their change to project.yaml needs no restart."""
        self._running = self._running.model_copy(
            update={"file": self._running.file.model_copy(update={"tags": project.file.tags})}
        )

    # -- what is watched -----------------------------------------------------------------------

    def _files(self, project: Project) -> dict[str, str]:
        """Every watched file, mapped to its kind: project, screen or template."""
        root = project_dir(project)
        files = {_key(project_yaml(project)): "project"}
        files.update({_key(root / path): "screen" for path in project.screen_paths.values()})
        files.update({_key(root / path): "template" for path in project.template_paths.values()})
        return files

    def _watch(self, project: Project) -> None:
        self._watch_files(self._files(project))

    def _watch_listed(self) -> None:
        """Watch what project.yaml lists now, though the project did not load; if it cannot
        be read at all, keep the files watched so far."""
        listed = listed_files(project_yaml(self.project))
        if listed is None:
            return
        files = {_key(project_yaml(self.project)): "project"}
        files.update({_key(path): kind for path, kind in listed.items()})
        self._watch_files(files)

    def _watch_files(self, files: dict[str, str]) -> None:
        self._kinds = files
        folders = {os.path.dirname(path) for path in self._kinds}
        stale = [p for p in self._watcher.files() if p not in self._kinds]
        stale += [d for d in self._watcher.directories() if d not in folders]
        if stale:
            self._watcher.removePaths(stale)
        self._add(list(self._kinds) + sorted(folders))
        known = self._signatures
        self._signatures = {path: known.get(path, _signature(path)) for path in self._kinds}

    def _add(self, paths: Iterable[str]) -> None:
        watched = set(self._watcher.files()) | set(self._watcher.directories())
        missing = [p for p in paths if p not in watched and os.path.exists(p)]
        if missing:
            self._watcher.addPaths(missing)

    def watched_files(self) -> list[str]:
        return sorted(self._watcher.files())

    @property
    def problems(self) -> list[str]:
        return [problem for problems in self._problems.values() for problem in problems]

    # -- events --------------------------------------------------------------------------------

    def _on_file_changed(self, path: str) -> None:
        self._changed(_key(path))

    def _on_directory_changed(self, folder: str) -> None:
        folder = _key(folder)
        for path in self._kinds:
            if os.path.dirname(path) == folder and _signature(path) != self._signatures.get(path):
                self._changed(path)

    def _changed(self, path: str) -> None:
        if path not in self._kinds:
            return
        self._pending.add(path)
        self._add([path])  # after a rename-replace the watcher has dropped the file
        self._timer.start()

    # -- reloading -----------------------------------------------------------------------------

    def reload_now(self) -> None:
        """Handle pending changes at once instead of after the debounce (tests, shortcuts)."""
        self._timer.stop()
        self._reload()

    def _reload(self) -> None:
        pending, self._pending = self._pending, set()
        self._add(pending)
        present = {p for p in pending if os.path.exists(p)}
        if not present:
            return  # mid rename-replace: the directory event brings it back
        for path in present:
            self._signatures[path] = _signature(path)
        project_file = _key(project_yaml(self.project))
        if project_file in present or project_file in self._problems:
            changed = self._reload_project(project_file)
        else:
            changed = False
            for path in sorted(present):
                changed = self._reload_file(path) or changed
        if changed:
            self.reloaded.emit(self.project)
        self.problems_changed.emit(self.problems)

    def _reload_project(self, path: str) -> bool:
        try:
            project = load_project(self.project.root)
        except ProjectError as exc:  # every file was checked: these are all the problems
            self._problems = {path: [str(problem) for problem in exc.problems]}
            self._watch_listed()
            return False
        except Exception as exc:  # unreadable file, encoding: show it, keep running
            self._problems[path] = [f"{path}: {exc}"]
            self._watch_listed()
            return False
        self._problems.clear()  # the whole project, every file, validated
        restart = []
        if project.file.connections != self._running.file.connections:
            restart.append("connections")
        if project.file.tags != self._running.file.tags:
            restart.append("tags")
        if restart:
            self.restart_needed.emit(
                f"{path}: {' and '.join(restart)} changed; restart the HMI to apply them "
                "(screens are already updated)"
            )
        self.project = project
        self._watch(project)
        return True

    def _reload_file(self, path: str) -> bool:
        kind = self._kinds[path]
        try:
            loaded: ScreenFile | TemplateFile = (
                load_screen_file(path, self.project)
                if kind == "screen"
                else load_template_file(path, self.project)
            )
        except ProjectError as exc:
            self._problems[path] = [str(problem) for problem in exc.problems]
            return False
        except Exception as exc:
            self._problems[path] = [f"{path}: {exc}"]
            return False
        self._problems.pop(path, None)
        self.project = self._replace(self.project, kind, path, loaded)
        return True

    def _replace(
        self, project: Project, kind: str, path: str, loaded: ScreenFile | TemplateFile
    ) -> Project:
        """The project with one screen or template swapped for its reloaded version (its id
        may have changed)."""
        root = project_dir(project)
        screen = kind == "screen"
        paths = project.screen_paths if screen else project.template_paths
        items: Mapping[str, ScreenFile | TemplateFile] = (
            project.screens if screen else project.templates
        )
        old_id = next((i for i, p in paths.items() if _key(root / p) == path), None)
        new_id = loaded.screen.id if isinstance(loaded, ScreenFile) else loaded.template.id
        new_items = {k: v for k, v in items.items() if k != old_id}
        new_items[new_id] = loaded
        new_paths = {k: v for k, v in paths.items() if k != old_id}
        new_paths[new_id] = paths.get(old_id or "", path)
        if screen:
            update = {"screens": new_items, "screen_paths": new_paths}
        else:
            update = {"templates": new_items, "template_paths": new_paths}
        return project.model_copy(update=update)
