"""The property inspector: one editor per field of the selected widgets' type, built from the
schema (`hmi.model.design.fields`), and the palette of widget types and templates.

An edit is checked before it is given out: the selected widgets' new fields are applied to a
copy of the document and the project is loaded with its text, as `hmi check` would; a refusal
is shown under the field with the checker's message and nothing is applied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from hmi.model.design.document import ScreenDocument
from hmi.model.design.edits import REMOVE, Batch, Edit, InsertWidget, SetFields, WidgetPath
from hmi.model.design.fields import FieldDesc, check_fields, fields_of, new_widget
from hmi.model.design.screens import check_widget
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.screens.loader import Project
from hmi.model.screens.schema import WIDGET_TYPES
from hmi.model.screens.sources import load_with
from hmi.views.designer.overlay import PALETTE_MIME

__all__ = ["Inspector", "Palette", "checked_edit"]


def checked_edit(root: Path, doc: ScreenDocument, edit: Edit) -> list[str]:
    """The checker's messages if `edit` would leave the project invalid (empty: it is fine):
    the whole project loaded with the edited text, as `hmi check` does."""
    copy = doc.copy()
    try:
        copy.apply(edit)
        load_with(root, {doc.path: copy.text()})
    except ProjectError as exc:
        return [str(p) for p in exc.problems]
    except ConfigError as exc:
        return [str(exc)]
    return []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return yaml.safe_dump(_plain(value), default_flow_style=True, width=10_000).strip()
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _number(text: str, desc: FieldDesc) -> float | int:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("the value must be a finite number")
    if desc.low is not None and value < desc.low:
        raise ValueError(f"the value must be at least {desc.low:g}")
    if desc.high is not None and value > desc.high:
        raise ValueError(f"the value must be at most {desc.high:g}")
    return int(value) if desc.kind == "int" or value.is_integer() else value


class _YamlEdit(QPlainTextEdit):
    """YAML text; `finished` when it loses focus with changed text (as a line edit's
    editingFinished)."""

    finished = Signal()

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._committed = text

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self.toPlainText() != self._committed:
            self._committed = self.toPlainText()
            self.finished.emit()


class Inspector(QWidget):
    """Fields of the selected widgets; `edited` carries a checked `SetFields` (or a `Batch` of
    them for a multi-selection)."""

    edited = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designInspector")
        self._project = project
        self._doc: ScreenDocument | None = None
        self._paths: tuple[WidgetPath, ...] = ()
        self.editors: dict[str, QWidget] = {}
        self.messages: dict[str, QLabel] = {}
        self._form = QFormLayout(self)
        self.shown_paths: tuple[WidgetPath, ...] = ()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    def show_selection(self, doc: ScreenDocument, paths: tuple[WidgetPath, ...]) -> None:
        """Build the editors for the widgets at `paths` (all of one type, else only the fields
        every widget has: the base fields)."""
        self._doc, self._paths = doc, tuple(paths)
        self.shown_paths = self._paths
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors.clear()
        self.messages.clear()
        if not paths:
            return
        widgets = [doc.widget(p) for p in paths]
        types = {str(w.get("type")) for w in widgets}
        shown = fields_of(types.pop() if len(types) == 1 else "group")
        if len(set(w.get("type") for w in widgets)) > 1:
            shown = tuple(d for d in shown if d.name != "title")
        first = widgets[0]
        for desc in shown:
            value = first.get(desc.name, desc.default)
            editor = self._editor(desc, value)
            editor.setToolTip(desc.description)
            message = QLabel("")
            message.setObjectName("fieldRefused")
            message.setWordWrap(True)
            message.hide()
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(editor)
            column.addWidget(message)
            self._form.addRow(desc.name.replace("_", " "), box)
            self.editors[desc.name] = editor
            self.messages[desc.name] = message

    def _editor(self, desc: FieldDesc, value: Any) -> QWidget:
        commit: Callable[[Any], None] = lambda v, d=desc: self.commit(d, v)  # noqa: E731
        if desc.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(commit)
            return box
        if desc.kind == "choice":
            combo = QComboBox()
            for choice in desc.choices:
                combo.addItem(str(choice), choice)
            combo.setCurrentIndex(max(0, combo.findText(str(value))))
            combo.activated.connect(lambda i, c=combo: commit(c.itemData(i)))
            return combo
        if desc.kind in ("yaml", "union"):
            text = _YamlEdit(_text(value))
            text.finished.connect(lambda w=text: commit(w.toPlainText()))
            text.setFixedHeight(56 if desc.kind == "yaml" else 72)
            text.setPlaceholderText("YAML, e.g. [1, 2]" if desc.kind == "yaml" else "{kind: set}")
            return text
        line = QLineEdit(_text(value))
        if desc.kind == "colour":
            line.setPlaceholderText("#rrggbb")
        if desc.optional:
            line.setPlaceholderText("(default)")
        line.editingFinished.connect(lambda w=line: commit(w.text()))
        return line

    def commit_text(self, name: str) -> bool:
        """Commit a YAML editor's text (the text editors have no 'editing finished')."""
        editor = self.editors[name]
        assert isinstance(editor, QPlainTextEdit)
        desc = next(d for d in self._descs() if d.name == name)
        return self.commit(desc, editor.toPlainText())

    def _descs(self) -> tuple[FieldDesc, ...]:
        assert self._doc is not None
        return fields_of(str(self._doc.widget(self._paths[0]).get("type")))

    def _parse(self, desc: FieldDesc, raw: Any) -> Any:
        if not isinstance(raw, str) or desc.kind == "str":
            return REMOVE if raw == "" and desc.optional else raw
        text = raw.strip()
        if text == "" and (desc.optional or not desc.required):
            return REMOVE
        if desc.kind in ("int", "float"):
            return _number(text, desc)
        if desc.kind == "colour":
            return text
        return yaml.safe_load(text)

    def commit(self, desc: FieldDesc, raw: Any) -> bool:
        """Check the new value on every selected widget; give out the edit, or refuse it at the
        field with the checker's message. True if the edit was given out."""
        if self._doc is None:
            return False
        message = self.messages[desc.name]
        try:
            value = self._parse(desc, raw)
        except (ValueError, yaml.YAMLError) as exc:
            return self._refuse(message, str(exc))
        edits = tuple(SetFields(p, {desc.name: value}) for p in self._paths)
        if value is not REMOVE:
            for path in self._paths:
                problems = check_fields({**self._doc.widget(path), desc.name: value})
                if problems:
                    return self._refuse(message, next(iter(problems.values())))
        edit: Edit = edits[0] if len(edits) == 1 else Batch(f"Set {desc.name}", edits)
        for path in self._paths:  # the checker on this screen, against the loaded project
            found = check_widget(self._project, self._doc, path, {desc.name: value})
            if found:
                return self._refuse(message, "\n".join(str(p) for p in found))
        message.hide()
        self.edited.emit(edit)
        return True

    def _refuse(self, message: QLabel, text: str) -> bool:
        message.setText(text)
        message.show()
        return False


class Palette(QListWidget):
    """Every widget type of the schema and every template of the project; a double-click
    places one at the centre of the screen (`placed` carries a checked `InsertWidget`)."""

    placed = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designPalette")
        self._project = project
        for widget_type in WIDGET_TYPES:
            if widget_type == "instance":
                continue
            item = QListWidgetItem(widget_type)
            item.setData(Qt.ItemDataRole.UserRole, (widget_type, None))
            self.addItem(item)
        for template in project.templates:
            item = QListWidgetItem(f"template: {template}")
            item.setData(Qt.ItemDataRole.UserRole, ("instance", template))
            self.addItem(item)
        self.setViewMode(QListWidget.ViewMode.IconMode)  # a flow of names, wrapped
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setGridSize(QSize(170, 30))
        self.setDragEnabled(True)
        self.setDragDropMode(QListWidget.DragDropMode.DragOnly)  # onto the canvas, not within
        self.setMovement(QListWidget.Movement.Static)
        self.itemDoubleClicked.connect(self._double_clicked)
        self.centre: tuple[float, float] = (400.0, 300.0)
        self.count_in: Callable[[], int] = lambda: 0

    def insert_for(self, item: QListWidgetItem, at: tuple[float, float]) -> InsertWidget:
        widget_type, template = item.data(Qt.ItemDataRole.UserRole)
        return self.insert_of(widget_type, template, at)

    def insert_of(
        self, widget_type: str, template: str | None, at: tuple[float, float]
    ) -> InsertWidget:
        widget = new_widget(widget_type, self._project, at, template=template)
        return InsertWidget((self.count_in(),), widget)

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        """A drag of one entry onto the canvas (the overlay places it where it is let go)."""
        data = QMimeData()
        if items:
            widget_type, template = items[0].data(Qt.ItemDataRole.UserRole)
            data.setData(PALETTE_MIME, f"{widget_type}\t{template or ''}".encode())
        return data

    def dropped(self, payload: str, at: tuple[float, float]) -> InsertWidget | None:
        """The edit a drop of ``payload`` (`PALETTE_MIME`) at ``at`` makes; None if unknown."""
        widget_type, _, template = payload.partition("\t")
        known = {tuple(self.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.count())}
        if (widget_type, template or None) not in known:
            return None
        return self.insert_of(widget_type, template or None, at)

    def _double_clicked(self, item: QListWidgetItem) -> None:
        self.placed.emit(self.insert_for(item, self.centre))
