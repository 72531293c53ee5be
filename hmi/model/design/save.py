"""Saving what the designer changed: checked first, written atomically, never over a file that
changed on disk since it was opened.

Each `plan_*` function checks the whole project with the new text in place of its files (the
checker of `hmi check`, through `hmi.model.screens.sources`) and returns a `PlannedChange`:
the files to write, and the `ScreenChange` its audit record holds. Nothing is written yet.
`PlannedChange.stage()` writes each new text to a temporary file beside its file (fsync'd,
with the file's mode) and checks once more that no file changed on disk; `Staged.commit()`
then renames them over the files (`os.replace`) and fsyncs the folder. The station records
the change between the two (`AuditRecorder.screen_change`), so a change whose record could
not be made durable is never written; `write()` does both steps without a record (tools,
tests).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hmi.model.audit.record import AuditAction
from hmi.model.audit.screens import FileHashes, ScreenChange, unified_diff
from hmi.model.design.document import ScreenDocument
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.screens.loader import Project
from hmi.model.screens.sources import load_with, resolved

__all__ = [
    "PROJECT_FILE",
    "FileChanged",
    "FileWrite",
    "PlannedChange",
    "ReasonRequired",
    "Staged",
    "file_sha256",
    "plan_save",
    "save_copy",
    "save_screen",
]

PROJECT_FILE = "project.yaml"


class FileChanged(ConfigError):
    """The file on disk is not the one the designer opened (an editor, a `git pull`): reload
    it, or save under another name (`save_copy`); it is never overwritten."""

    def __init__(self, path: Path, opened_sha256: str, disk_sha256: str) -> None:
        self.path = path
        self.opened_sha256 = opened_sha256
        self.disk_sha256 = disk_sha256
        now = "was deleted" if not disk_sha256 else f"is now SHA-256 {disk_sha256[:12]}…"
        super().__init__(
            f"{path} changed on disk since it was opened (opened as SHA-256 "
            f"{opened_sha256[:12]}…; it {now}); reload it, or save your version under "
            "another name"
        )


class ReasonRequired(ConfigError):
    """The project says `design: {reason: required}` and no reason was given."""


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, "" if there is no file."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


@dataclass(frozen=True)
class FileWrite:
    """One file's change: `after` None deletes it; `before` "" with no hash: a new file."""

    path: Path
    shown: str  # relative to the project folder, as the audit record names it
    before: str
    after: str | None
    sha256_before: str

    @property
    def sha256_after(self) -> str:
        return "" if self.after is None else _sha(self.after)

    def hashes(self) -> FileHashes:
        return FileHashes(self.shown, self.sha256_before, self.sha256_after)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Staged:
    """New texts in temporary files beside their files, ready to be renamed over them."""

    writes: tuple[FileWrite, ...]
    temps: dict[Path, Path] = field(default_factory=dict)
    done: bool = False

    def commit(self) -> None:
        """Rename each temporary file over its file (deletions last), then fsync the
        folders, so after a crash each file is its old or its new text, never a mix."""
        folders: set[Path] = set()
        for write in self.writes:
            if write.after is not None:
                os.replace(self.temps[write.path], write.path)
                folders.add(write.path.parent)
        for write in self.writes:
            if write.after is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(write.path)
                folders.add(write.path.parent)
        self.done = True
        for folder in folders:
            _fsync_folder(folder)

    def discard(self) -> None:
        for temp in self.temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        self.temps.clear()


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(path: Path, like: Path) -> int:
    for candidate in (path, like):
        with contextlib.suppress(OSError):
            return stat.S_IMODE(os.stat(candidate).st_mode)
    return 0o644


@dataclass(frozen=True)
class PlannedChange:
    """A checked change: what to write, and what its audit record says."""

    action: AuditAction
    screen_id: str
    writes: tuple[FileWrite, ...]
    root: Path
    reason: str = ""
    old_id: str = ""

    def change(self) -> ScreenChange:
        diff: list[str] = []
        for write in self.writes:
            diff.extend(unified_diff(write.before, write.after or "", write.shown))
        main, *also = (w.hashes() for w in self.writes)
        return ScreenChange(
            self.action, self.screen_id, main, tuple(diff), self.old_id, tuple(also)
        )

    def stage(self) -> Staged:
        """Write the new texts to temporary files; raise `FileChanged` if a file on disk is
        not the one the change was planned on."""
        staged = Staged(self.writes)
        try:
            for write in self.writes:
                now = file_sha256(write.path)
                if now != write.sha256_before:
                    raise FileChanged(write.path, write.sha256_before, now)
                if write.after is None:
                    continue
                fd, name = tempfile.mkstemp(
                    dir=write.path.parent, prefix=f".{write.path.name}.", suffix=".saving"
                )
                staged.temps[write.path] = Path(name)
                with os.fdopen(fd, "wb") as out:
                    out.write(write.after.encode("utf-8"))
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(name, _mode_for(write.path, self.root / PROJECT_FILE))
        except BaseException:
            staged.discard()
            raise
        return staged

    def write(self) -> None:
        """Stage and commit, with no audit record (tools and tests; the station records)."""
        self.stage().commit()


def shown_name(root: Path, path: Path) -> str:
    try:
        return str(resolved(path).relative_to(root))
    except ValueError:
        return str(path)


def checked(root: Path, writes: tuple[FileWrite, ...], reason: str) -> Project:
    """The project as it would be after `writes`; raises `ProjectError` with every problem
    (file:line:column, as `hmi check` prints them), or `ReasonRequired`."""
    texts = {w.path: w.after for w in writes if w.after is not None}
    project = load_with(root, texts)
    if project.file.design.reason == "required" and not reason.strip():
        raise ReasonRequired(
            f"{root / PROJECT_FILE} says design: {{reason: required}}: give the reason for "
            "this change; it goes into the audit record"
        )
    return project


def project_root(project_dir: str | Path) -> Path:
    path = resolved(Path(project_dir))
    return path.parent if path.name == PROJECT_FILE else path


def plan_save(project_dir: str | Path, doc: ScreenDocument, *, reason: str = "") -> PlannedChange:
    """Plan saving `doc` (a screen or template file of the project): refused with the
    checker's messages if the project would be invalid, with `FileChanged` if the file is not
    the one `doc` was opened from."""
    root = project_root(project_dir)
    path = resolved(doc.path)
    disk = file_sha256(path)
    if disk != doc.opened_sha256:
        raise FileChanged(path, doc.opened_sha256, disk)
    before = path.read_text(encoding="utf-8") if disk else ""
    write = FileWrite(path, shown_name(root, path), before, doc.text(), disk)
    project = checked(root, (write,), reason)
    screen_id = next(
        (i for i, p in {**project.screen_paths, **project.template_paths}.items()
         if resolved(root / p) == path),
        None,
    )  # fmt: skip
    if screen_id is None:
        raise ConfigError(
            f"{path} is not a screen or template of the project in {root}; list it in "
            f"{PROJECT_FILE} (or create it as a new screen) to save it from the designer"
        )
    return PlannedChange(AuditAction.SCREEN_SAVE, screen_id, (write,), root, reason)


def save_screen(project_dir: str | Path, doc: ScreenDocument, *, reason: str = "") -> PlannedChange:
    """Check and write `doc` with no audit record (the station uses
    `AuditRecorder.screen_change`); `doc` then counts as opened from what was written."""
    plan = plan_save(project_dir, doc, reason=reason)
    plan.write()
    doc.mark_saved()
    return plan


def save_copy(doc: ScreenDocument, path: str | Path) -> None:
    """Write `doc` to a new file, not part of the project (the designer's "save as" when the
    file changed on disk); refuses to overwrite anything."""
    target = Path(path)
    if target.exists():
        raise ConfigError(f"{target} exists; choose a new file name")
    write = FileWrite(target, str(target), "", doc.text(), "")
    PlannedChange(AuditAction.SCREEN_SAVE, "", (write,), target.parent).write()


def refused(exc: ProjectError) -> list[str]:
    """The checker's messages, one per problem, as the designer lists them."""
    return [str(problem) for problem in exc.problems]
