"""A screen built from nothing in the designer (issue 15's acceptance): New screen…, five
widgets placed from the palette and bound to demo tags, saved; the project passes `hmi check`
and the new screen paints in `hmi run --smoke` on the running demo plant."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction
from hmi.model.design import SetFields
from hmi.model.screens.loader import Project, load_project
from hmi.views.designer.saving import (
    NewScreenDialog,
    ProblemsDialog,
    SaveDialog,
    ScreenChangeDialog,
)
from tests.views.audit_station import records
from tests.views.designer.design_rig import Designing, designing
from tests.views.designer.test_design_save import _own_copy

ROOT = Path(__file__).resolve().parents[3]
TAGS = ("T1.Level", "T2.Level", "LIC101.SP", "FT101.Flow", "XV101.Position")
PASSWORD = "Kiwi-Turbine-7743-pq"


def _hmi(*args: str, env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmi.cli", *args], capture_output=True, text=True, timeout=120,
        env=env, cwd=ROOT, **kw,
    )  # type: ignore[call-overload]  # fmt: skip


def test_a_screen_built_from_nothing_checks_and_runs(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, tmp_path: Path
) -> None:
    project = _own_copy(plant_project, tmp_path)
    d = designing(qtbot, make_station, project, screen="tank_farm")
    window = d.station.window
    d.design.tools.actions["new_screen"].trigger()
    dialog = d.design.saver.dialog
    assert isinstance(dialog, NewScreenDialog)
    assert not dialog.create_button.isEnabled()  # id and title first
    dialog.screen_id.setText("filters")
    dialog.title.setText("Sand filters")
    dialog.parent_screen.setCurrentIndex(dialog.parent_screen.findData("tank_farm"))
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.current_screen_id == "filters" and d.design.active, timeout=15000
    )
    created = records(d.station)[-1]
    assert created.action is AuditAction.SCREEN_NEW
    editor, panels = d.design.editor, d.design.panels
    assert editor is not None and panels is not None and editor.document.children() == 0

    palette = panels.palette_list
    value = next(
        palette.item(i) for i in range(palette.count()) if palette.item(i).text() == "value"
    )
    for n, tag in enumerate(TAGS):
        assert editor.push(palette.insert_for(value, (300.0, 120.0 + 80 * n)))
        assert editor.push(SetFields((n,), {"tag": tag, "id": f"val_{n}"}))
    assert editor.document.children() == 5
    d.design.tools.actions["save"].trigger()
    _finish_save(qtbot, d)
    saved = (Path(project.root) / "filters.yaml").read_text(encoding="utf-8")
    assert all(tag in saved for tag in TAGS)
    assert records(d.station)[-1].action is AuditAction.SCREEN_SAVE

    reloaded = load_project(project.root)
    assert [w.tag for w in reloaded.screens["filters"].widgets] == list(TAGS)  # type: ignore[union-attr]
    env = dict(os.environ, HMI_DATA_DIR=str(tmp_path / "run-data"), QT_QPA_PLATFORM="offscreen")
    checked = _hmi("check", str(project.root), env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    added = _hmi("users", "add", "chief", "--role", "admin", "--name", "Run Check", env=env,
                 input=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    ran = _hmi("run", "--smoke", "--screen", "filters", str(project.root), env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "screen 'filters' painted" in ran.stdout


def _finish_save(qtbot: QtBot, d: Designing) -> None:
    """The save dialog opened by the action: a reason, Save, wait for the write."""
    design = d.design
    dialog = design.saver.dialog
    assert isinstance(dialog, SaveDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.reason.setText("new detail screen for the filters")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    task = design.saver.task
    assert task is not None
    qtbot.waitUntil(task.done, timeout=15000)
    task.result()


def test_rename_then_delete_a_screen_from_design_mode(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, tmp_path: Path
) -> None:
    """A screen nothing names (the pump station is named by buttons, so first a new one):
    renamed in place, then deleted; each one record; a named screen's delete is refused."""
    project = _own_copy(plant_project, tmp_path)
    d = designing(qtbot, make_station, project, screen="tank_farm")
    window, saver = d.station.window, d.design.saver
    d.design.tools.actions["delete_screen"].trigger()  # tank_farm: the overview's button names it
    refused = saver.dialog
    assert isinstance(refused, ScreenChangeDialog) and refused.apply_button.isEnabled()
    qtbot.mouseClick(refused.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: saver.task is not None and saver.task.done(), timeout=15000)
    assert isinstance(saver.dialog, ProblemsDialog) and "not deleted" in saver.dialog.windowTitle()
    assert (Path(project.root) / "tank_farm.yaml").exists()

    d.design.tools.actions["new_screen"].trigger()
    new = saver.dialog
    assert isinstance(new, NewScreenDialog)
    new.screen_id.setText("scratch")
    new.title.setText("Scratch")
    qtbot.mouseClick(new.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.current_screen_id == "scratch" and d.design.active, timeout=15000
    )
    d.design.tools.actions["rename_screen"].trigger()
    rename = saver.dialog
    assert isinstance(rename, ScreenChangeDialog)
    rename.new_id.setText("sand_filters")
    rename.new_title.setText("Sand filters")
    qtbot.mouseClick(rename.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_screen_id == "sand_filters" and d.design.active,
                    timeout=15000)  # fmt: skip
    assert "sand_filters" in load_project(project.root).screens
    d.design.tools.actions["delete_screen"].trigger()
    delete = saver.dialog
    assert isinstance(delete, ScreenChangeDialog)
    qtbot.mouseClick(delete.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_screen_id == project.start_screen, timeout=15000)
    assert "sand_filters" not in load_project(project.root).screens
    actions = [r.action for r in records(d.station)[-3:]]
    assert actions == [AuditAction.SCREEN_NEW, AuditAction.SCREEN_RENAME, AuditAction.SCREEN_DELETE]
