"""Saving from design mode (Ctrl+S): what changes, why, and only then the file.

The dialog shows the change as the audit record will keep it (the unified diff against the file
on disk) and asks for the reason, required when the project says ``design: {reason: required}``.
Then `plan_save` checks the whole project with the new text (the checker's file:line:column
messages are listed and nothing is written when it refuses) and the recorder writes the audit
record before the file is renamed into place. A file that changed on disk since it was opened
(an editor, a `git pull`) is never overwritten: the engineer reloads it or saves a copy.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hmi.model.design.document import ScreenDocument
from hmi.model.design.save import (
    FileChanged,
    PlannedChange,
    ReasonRequired,
    plan_save,
    refused,
    save_copy,
)
from hmi.model.design.screens import plan_delete_screen, plan_new_screen, plan_rename_screen
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.screens.loader import Project, load_project
from hmi.runtime.audit import AuditRecorder
from hmi.widgets.dialog import CommandButton, OperatorDialog

__all__ = [
    "DesignSaver",
    "NewScreenDialog",
    "ProblemsDialog",
    "SaveDialog",
    "ScreenChangeDialog",
    "changed_lines",
]

log = logging.getLogger(__name__)

PREVIEW_LINES = 400  # the dialog's preview; the record keeps up to 999 lines and the full hash


def changed_lines(before: str, after: str, name: str) -> list[str]:
    return list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), f"a/{name}", f"b/{name}", lineterm=""
        )
    )


def _monospace(view: QPlainTextEdit) -> None:
    view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    view.setReadOnly(True)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)


class SaveDialog(OperatorDialog):
    """The diff and the reason; Save is a `CommandButton` (Enter never presses it)."""

    def __init__(
        self, name: str, diff: list[str], *, required: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("DesignSaveDialog")
        self.setWindowTitle(f"Save {name}")
        self.required = required
        changed = sum(1 for line in diff[2:] if line[:1] in "+-")
        self.summary = QLabel(f"{name}: {changed} line(s) added or removed", self)
        self.diff = QPlainTextEdit(self)
        self.diff.setObjectName("DesignSaveDiff")
        _monospace(self.diff)
        shown = diff[:PREVIEW_LINES]
        cut = len(diff) - len(shown)
        self.diff.setPlainText("\n".join(shown) + (f"\n… {cut} more line(s)" if cut else ""))
        self.reason = QLineEdit(self)
        self.reason.setObjectName("DesignSaveReason")
        self.reason.setPlaceholderText(
            "why (required: the project asks for a reason)" if required else "why (optional)"
        )
        self.reason.textChanged.connect(self._update)
        self.save_button = CommandButton("Save", self)
        self.save_button.setObjectName("DesignSaveButton")
        self.save_button.clicked.connect(self.accept)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.diff, 1)
        layout.addWidget(QLabel("Reason, kept in the audit record with the diff:", self))
        layout.addWidget(self.reason)
        layout.addWidget(buttons)
        self.set_enter_button(None)
        self.resize(760, 460)
        self._update()

    def _update(self) -> None:
        self.save_button.setEnabled(bool(self.reason.text().strip()) or not self.required)


class NewScreenDialog(OperatorDialog):
    """Id, title, ISA-101 level and parent of a new, empty screen, and the reason."""

    def __init__(self, project: Project, *, required: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("DesignNewScreenDialog")
        self.setWindowTitle("New screen")
        self.required = required
        self.screen_id = QLineEdit(self)
        self.screen_id.setPlaceholderText("filters (letters, digits, _ and -)")
        self.title = QLineEdit(self)
        self.level = QSpinBox(self)
        self.level.setRange(1, 4)
        self.level.setValue(3)
        self.level.setToolTip("ISA-101: 1 overview, 2 area, 3 detail, 4 diagnostics")
        self.parent_screen = QComboBox(self)
        self.parent_screen.addItem("(none)", "")
        for screen_id, screen in project.screens.items():
            self.parent_screen.addItem(f"{screen.screen.title} ({screen_id})", screen_id)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("why (required)" if required else "why (optional)")
        form = QFormLayout()
        for label, field in (("Id", self.screen_id), ("Title", self.title),
                             ("Level", self.level), ("Parent", self.parent_screen),
                             ("Reason", self.reason)):  # fmt: skip
            form.addRow(label, field)
        self.create_button = CommandButton("Create", self)
        self.create_button.setObjectName("DesignNewScreenButton")
        self.create_button.clicked.connect(self.accept)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        for field in (self.screen_id, self.title, self.reason):
            field.textChanged.connect(self._update)
        self.set_enter_button(None)
        self._update()

    def _update(self) -> None:
        ready = bool(self.screen_id.text().strip() and self.title.text().strip())
        self.create_button.setEnabled(
            ready and (bool(self.reason.text().strip()) or not self.required)
        )

    def plan(self, root: Path) -> PlannedChange:
        parent = str(self.parent_screen.currentData() or "") or None
        return plan_new_screen(
            root, self.screen_id.text().strip(), self.title.text().strip(),
            level=self.level.value(), parent=parent, reason=self.reason.text().strip(),
        )  # fmt: skip


class ScreenChangeDialog(OperatorDialog):
    """Rename (a new id and title) or delete the screen being designed, with the reason."""

    def __init__(
        self, screen_id: str, title: str, *, delete: bool, required: bool,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("DesignScreenChangeDialog")
        self.delete = delete
        self.required = required
        self.setWindowTitle(f"{'Delete' if delete else 'Rename'} screen {screen_id}")
        self.new_id = QLineEdit(screen_id, self)
        self.new_title = QLineEdit(title, self)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("why (required)" if required else "why (optional)")
        form = QFormLayout()
        if delete:
            note = QLabel(
                f"Screen {screen_id} ({title}) is taken out of project.yaml and its file is "
                "deleted. Refused while another screen, a button or the start screen names it.",
                self,
            )
            note.setWordWrap(True)
            form.addRow(note)
        else:
            form.addRow("New id", self.new_id)
            form.addRow("Title", self.new_title)
        form.addRow("Reason", self.reason)
        self.apply_button = CommandButton("Delete" if delete else "Rename", self)
        self.apply_button.setObjectName("DesignScreenChangeButton")
        self.apply_button.clicked.connect(self.accept)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        for field in (self.new_id, self.new_title, self.reason):
            field.textChanged.connect(self._update)
        self.set_enter_button(None)
        self._update()

    def _update(self) -> None:
        ready = self.delete or bool(self.new_id.text().strip() and self.new_title.text().strip())
        self.apply_button.setEnabled(
            ready and (bool(self.reason.text().strip()) or not self.required)
        )

    def plan(self, root: Path, screen_id: str) -> PlannedChange:
        reason = self.reason.text().strip()
        if self.delete:
            return plan_delete_screen(root, screen_id, reason=reason)
        return plan_rename_screen(
            root, screen_id, self.new_id.text().strip(), title=self.new_title.text().strip(),
            reason=reason,
        )  # fmt: skip


class ProblemsDialog(OperatorDialog):
    """What stands in the way, each problem with its place; `actions` as extra buttons."""

    def __init__(
        self,
        title: str,
        text: str,
        problems: list[str],
        actions: dict[str, Callable[[], None]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("DesignProblemsDialog")
        self.setWindowTitle(title)
        label = QLabel(text, self)
        label.setWordWrap(True)
        self.problems = QPlainTextEdit(self)
        self.problems.setObjectName("DesignProblems")
        _monospace(self.problems)
        self.problems.setPlainText("\n".join(problems))
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.problems, 1)
        buttons = QDialogButtonBox(self)
        self.buttons: dict[str, QPushButton] = {}
        for name, act in (actions or {}).items():
            button = CommandButton(name, self)
            button.clicked.connect(act)
            button.clicked.connect(self.accept)
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
            self.buttons[name] = button
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
        layout.addWidget(buttons)
        self.set_enter_button(None)
        self.resize(760, 360)


class DesignSaver(QObject):
    """Ctrl+S in design mode. ``saved`` carries the audit record; ``reload`` asks design mode
    to open the file as it is on disk now."""

    saved = Signal(object)
    reload = Signal()
    created = Signal(object, str)  # the project as it is now, the new screen's id

    def __init__(
        self,
        project: Callable[[], Project],
        recorder: AuditRecorder | None,
        parent: QWidget,
        *,
        say: Callable[[str, str], None],
    ) -> None:
        super().__init__(parent)
        self._project = project
        self.recorder = recorder
        self._parent = parent
        self._say = say
        self.dialog: OperatorDialog | None = None  # the one open (tests answer it)
        self.task: asyncio.Task[None] | None = None

    def save(self, document: ScreenDocument) -> None:
        if self.recorder is None:
            self._say("design: saving needs the audit trail, which this station has not", "failed")
            return
        project = self._project()
        path = document.path
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        diff = changed_lines(before, document.text(), path.name)
        if not diff:
            self._say(f"design: {path.name} has no changes to save", "info")
            return
        dialog = SaveDialog(
            path.name, diff, required=project.file.design.reason == "required", parent=self._parent
        )
        self.dialog = dialog
        dialog.accepted.connect(
            lambda: self._start(project, document, dialog.reason.text().strip())
        )
        dialog.open()

    def new_screen(self) -> None:
        if self.recorder is None:
            self._say(
                "design: new screens need the audit trail, which this station has not", "failed"
            )
            return
        project = self._project()
        dialog = NewScreenDialog(
            project, required=project.file.design.reason == "required", parent=self._parent
        )
        self.dialog = dialog
        dialog.accepted.connect(
            lambda: setattr(self, "task", asyncio.ensure_future(self._create(project, dialog)))
        )
        dialog.open()

    def change_screen(self, document: ScreenDocument, screen_id: str, *, delete: bool) -> None:
        """Rename or delete the screen being designed (not with unsaved edits: they would be
        lost or written without their own record)."""
        if self.recorder is None:
            self._say("design: this needs the audit trail, which this station has not", "failed")
            return
        path = document.path
        if not path.exists() or path.read_text(encoding="utf-8") != document.text():
            self._say(f"design: save or undo the changes to {path.name} first", "failed")
            return
        project = self._project()
        dialog = ScreenChangeDialog(
            screen_id, project.screens[screen_id].screen.title, delete=delete,
            required=project.file.design.reason == "required", parent=self._parent,
        )  # fmt: skip
        self.dialog = dialog

        def start() -> None:
            self.task = asyncio.ensure_future(self._create(project, dialog, screen_id))

        dialog.accepted.connect(start)
        dialog.open()

    async def _create(
        self,
        project: Project,
        dialog: NewScreenDialog | ScreenChangeDialog,
        screen_id: str = "",
    ) -> None:
        """A new, renamed or deleted screen: checked, recorded, written; then ``created`` with
        the project as it is now and the screen to show (a deleted screen's parent, or the
        start screen)."""
        assert self.recorder is not None
        what = "created" if isinstance(dialog, NewScreenDialog) else (
            "deleted" if dialog.delete else "renamed"
        )  # fmt: skip
        try:
            plan = (
                dialog.plan(Path(project.root))
                if isinstance(dialog, NewScreenDialog)
                else dialog.plan(Path(project.root), screen_id)
            )
            record = await self.recorder.screen_change(plan)
            now = load_project(project.root)
        except ProjectError as exc:
            self._show(f"screen not {what}", "Nothing was written:", refused(exc))
        except ConfigError as exc:
            self._say(f"design: {exc}", "failed")
        else:
            self._say(f"design: screen {plan.screen_id} {what} (audit record {record.sequence})",
                      "done")  # fmt: skip
            shown = plan.screen_id
            if what == "deleted":
                parent = project.screens[screen_id].screen.parent
                shown = parent if parent in now.screens else now.start_screen
            self.created.emit(now, shown)

    def _start(self, project: Project, document: ScreenDocument, reason: str) -> None:
        self.task = asyncio.ensure_future(self._save(project, document, reason))

    async def _save(self, project: Project, document: ScreenDocument, reason: str) -> None:
        assert self.recorder is not None
        name = document.path.name
        try:
            plan = plan_save(project.root, document, reason=reason)
            record = await self.recorder.screen_change(plan)
        except ReasonRequired as exc:
            self._say(f"design: {exc}", "failed")
        except ProjectError as exc:
            self._show(
                f"{name} not saved",
                "The project would not be valid with this screen; nothing was written. Fix "
                "these and save again:",
                refused(exc),
            )
        except FileChanged as exc:
            self._show(
                f"{name} changed on disk",
                f"{name} was changed by someone else since it was opened in the designer "
                "(an editor, a git pull); it was not overwritten. Reload it (your unsaved "
                "changes are dropped) or save your version as a new file.",
                [str(exc)],
                {"Reload from disk": self.reload.emit, "Save as…": lambda: self._copy(document)},
            )
        except ConfigError as exc:
            self._say(f"design: {exc}", "failed")
        except Exception as exc:  # the audit trail refused: nothing was written
            log.exception("saving %s failed", name)
            self._say(f"design: {name} not saved: {exc}", "failed")
        else:
            document.mark_saved()
            self._say(f"design: {name} saved (audit record {record.sequence})", "done")
            self.saved.emit(record)

    def _show(
        self,
        title: str,
        text: str,
        problems: list[str],
        actions: dict[str, Callable[[], None]] | None = None,
    ) -> None:
        self._say(f"design: {title}", "failed")
        self.dialog = ProblemsDialog(title, text, problems, actions, self._parent)
        self.dialog.open()

    def _copy(self, document: ScreenDocument) -> None:
        suggested = document.path.with_name(document.path.stem + "-mine.yaml")
        target, _ = QFileDialog.getSaveFileName(
            self._parent, "Save a copy as", str(suggested), "Screen files (*.yaml)"
        )
        if target:
            self.copy_to(document, Path(target))

    def copy_to(self, document: ScreenDocument, target: Path) -> None:
        try:
            save_copy(document, target)
        except ConfigError as exc:
            self._say(f"design: {exc}", "failed")
        else:
            self._say(f"design: a copy saved as {target} (not part of the project)", "done")
