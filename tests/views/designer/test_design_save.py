"""Saving from design mode, as an engineer does it (Ctrl+S on the running station): the dialog
shows the diff and takes the reason, the file changes on the edited line only and the audit
record holds both hashes and the diff in a chain that verifies; an invalid screen and a file
changed on disk are refused with what to do, and nothing is written."""

from __future__ import annotations

import difflib
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction
from hmi.model.audit.screens import read_screen_change
from hmi.model.design import SetFields
from hmi.model.screens.loader import Project, load_project
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.views.designer.saving import ProblemsDialog, SaveDialog
from tests.views.audit_station import records
from tests.views.designer.design_rig import Designing, designing

LEFT = Qt.MouseButton.LeftButton


def _own_copy(project: Project, tmp_path: Path) -> Project:
    """The plant project copied for this test alone: saving writes its files."""
    target = tmp_path / "saved-project"
    shutil.copytree(project.root, target)
    return load_project(target)


def _widget_with_id(d: Designing) -> tuple[tuple[int, ...], dict[str, object]]:
    doc = d.document
    for index in range(doc.children()):
        widget = doc.widget((index,))
        if widget.get("id") and widget.get("type") == "value":
            return (index,), dict(widget)
    raise AssertionError("no value widget with an id on the screen")


def _save(qtbot: QtBot, d: Designing, reason: str, picture: Path | None = None) -> None:
    d.design.tools.actions["save"].trigger()
    dialog = d.design.saver.dialog
    assert isinstance(dialog, SaveDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.save_button.isDefault() and not dialog.save_button.autoDefault()
    dialog.reason.setText(reason)
    if picture is not None:  # for docs/designer.md
        assert dialog.grab().save(str(picture))
    qtbot.mouseClick(dialog.save_button, LEFT)
    task = d.design.saver.task
    assert task is not None
    qtbot.waitUntil(task.done, timeout=15000)
    task.result()


def test_a_save_changes_the_edited_line_only_and_is_an_audited_record(
    qtbot: QtBot,
    make_station: Callable[..., Station],
    plant_project: Project,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    project = _own_copy(plant_project, tmp_path)
    d = designing(qtbot, make_station, project, screen="tank_farm")
    path, (where, widget) = d.path, _widget_with_id(d)
    x, y, w, h = widget["rect"]  # type: ignore[misc]
    assert d.editor.push(SetFields(where, {"rect": [x + 10, y, w, h]}))
    _save(qtbot, d, "move the value clear of the pipe", artifacts / "designer_save.png")
    after = path.read_bytes()
    diff = [
        line
        for line in difflib.unified_diff(
            d.original.decode().splitlines(), after.decode().splitlines(), lineterm=""
        )
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert len(diff) == 2 and f"{x + 10}" in diff[1], diff  # one line out, one in
    record = records(d.station)[-1]
    assert record.action is AuditAction.SCREEN_SAVE and record.reason.startswith("move the")
    assert record.user_name and record.role == "engineer"
    change = read_screen_change(record)
    assert change is not None and change.file.endswith("tank_farm.yaml")
    assert change.sha256_before == hashlib.sha256(d.original).hexdigest()
    assert change.sha256_after == hashlib.sha256(after).hexdigest()
    assert any(f"{x + 10}" in line for line in change.diff)
    store = AuditStore(make_engine(d.station.trail.store.engine.url.render_as_string(False)))
    try:
        assert store.verify().ok
    finally:
        store.close()
    assert "saved (audit record" in d.station.window.status.command_label.text()
    load_project(project.root)  # the saved project loads as `hmi check` and `hmi run` read it


def test_an_invalid_screen_is_listed_and_not_written(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, tmp_path: Path
) -> None:
    project = _own_copy(plant_project, tmp_path)
    d = designing(qtbot, make_station, project, screen="tank_farm")
    where, _widget = _widget_with_id(d)
    assert d.editor.push(SetFields(where, {"tag": "No.Such.Tag"}))
    count = len(records(d.station))
    _save(qtbot, d, "")
    problems = d.design.saver.dialog
    assert isinstance(problems, ProblemsDialog) and "not saved" in problems.windowTitle()
    text = problems.problems.toPlainText()
    assert "tank_farm.yaml:" in text and "No.Such.Tag" in text  # file:line:column, the tag
    assert d.path.read_bytes() == d.original
    assert len(records(d.station)) == count  # nothing was recorded either


def test_a_file_changed_on_disk_is_never_overwritten(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, tmp_path: Path
) -> None:
    project = _own_copy(plant_project, tmp_path)
    d = designing(qtbot, make_station, project, screen="tank_farm")
    where, widget = _widget_with_id(d)
    x, y, w, h = widget["rect"]  # type: ignore[misc]
    assert d.editor.push(SetFields(where, {"rect": [x, y + 10, w, h]}))
    theirs = d.original + b"# an engineer's edit in another editor\n"
    d.path.write_bytes(theirs)
    _save(qtbot, d, "mine")
    problems = d.design.saver.dialog
    assert isinstance(problems, ProblemsDialog) and "changed on disk" in problems.windowTitle()
    assert set(problems.buttons) == {"Reload from disk", "Save as…"}
    assert d.path.read_bytes() == theirs
    copy = tmp_path / "tank_farm-mine.yaml"
    d.design.saver.copy_to(d.editor.document, copy)  # what "Save as…" does with a chosen name
    assert f"{y + 10}" in copy.read_text(encoding="utf-8") and d.path.read_bytes() == theirs
    qtbot.mouseClick(problems.buttons["Reload from disk"], LEFT)
    qtbot.waitUntil(lambda: d.design.active and d.design.editor is not None)
    assert d.design.editor is not None and d.design.editor.document.text().encode() == theirs
