"""Saving from the designer on a copy of the demo project: checked by the project's checker,
written atomically with the file's mode, never over a file that changed on disk; new, rename
and delete kept in project.yaml."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from pathlib import Path

import pytest

from hmi.model.audit.record import AuditAction
from hmi.model.design import InsertWidget, SetFields
from hmi.model.design.document import ScreenDocument
from hmi.model.design.save import FileChanged, ReasonRequired, plan_save, save_copy, save_screen
from hmi.model.design.screens import (
    check_widget,
    plan_delete_screen,
    plan_new_screen,
    plan_rename_screen,
)
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.screens import check_project, load_project

DEMO = Path(__file__).resolve().parents[3] / "screens"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "plant"
    shutil.copytree(DEMO, root)
    return root


def _changed(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_a_valid_save_writes_the_edited_line_only_and_keeps_the_mode(project: Path) -> None:
    path = project / "overview.yaml"
    os.chmod(path, 0o640)
    original = path.read_text(encoding="utf-8")
    doc = ScreenDocument.open(path)
    rect = doc.widget((0,))["rect"]
    doc.apply(SetFields((0,), {"rect": [rect[0] + 4, *rect[1:]]}))
    plan = save_screen(project, doc)
    assert plan.action is AuditAction.SCREEN_SAVE and plan.screen_id == "overview"
    saved = path.read_text(encoding="utf-8")
    assert len(_changed(original, saved)) == 2
    assert all(line in saved.splitlines() for line in original.splitlines() if "#" in line)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in project.iterdir() if p.name.endswith(".saving")]
    assert check_project(project) == []
    change = plan.change()
    assert change.main.sha256_before == ScreenDocument.open(DEMO / "overview.yaml").opened_sha256
    assert change.main.sha256_after == doc.opened_sha256  # the document now counts as saved
    assert change.diff[0] == "--- a/overview.yaml" and change.diff[1] == "+++ b/overview.yaml"


def test_an_invalid_screen_is_refused_with_the_checkers_messages(project: Path) -> None:
    path = project / "overview.yaml"
    original = path.read_bytes()
    doc = ScreenDocument.open(path)
    doc.apply(SetFields((0, 0), {"tag": "No.Such.Tag"}))
    with pytest.raises(ProjectError) as caught:
        save_screen(project, doc)
    messages = [str(p) for p in caught.value.problems]
    assert any("overview.yaml:" in m and "No.Such.Tag" in m for m in messages), messages
    line = doc.lines_of((0, 0))
    assert any(p.location.line in line for p in caught.value.problems)
    assert path.read_bytes() == original


def test_a_file_changed_on_disk_is_never_overwritten(project: Path) -> None:
    path = project / "tank_farm.yaml"
    doc = ScreenDocument.open(path)
    doc.apply(SetFields((0,), {"tooltip": "mine"}))
    theirs = path.read_text(encoding="utf-8").replace("# ", "#  ", 1)
    path.write_text(theirs, encoding="utf-8")  # an engineer's editor, a git pull
    with pytest.raises(FileChanged) as caught:
        save_screen(project, doc)
    assert caught.value.path == path.resolve()
    assert caught.value.opened_sha256 == doc.opened_sha256
    assert "reload it, or save your version under another name" in str(caught.value)
    assert path.read_text(encoding="utf-8") == theirs
    copy = project / "tank_farm.mine.yaml"
    save_copy(doc, copy)
    assert copy.read_text(encoding="utf-8") == doc.text()
    with pytest.raises(ConfigError, match="exists"):
        save_copy(doc, copy)


def test_a_change_between_plan_and_write_is_caught_too(project: Path) -> None:
    path = project / "pump_station.yaml"
    doc = ScreenDocument.open(path)
    doc.apply(SetFields((0,), {"tooltip": "mine"}))
    plan = plan_save(project, doc)
    path.write_text(path.read_text(encoding="utf-8") + "# late\n", encoding="utf-8")
    with pytest.raises(FileChanged):
        plan.write()
    assert path.read_text(encoding="utf-8").endswith("# late\n")


def test_a_required_reason_is_required(project: Path) -> None:
    listing = project / "project.yaml"
    listing.write_text(
        listing.read_text(encoding="utf-8") + "\ndesign: {reason: required}\n", encoding="utf-8"
    )
    doc = ScreenDocument.open(project / "overview.yaml")
    doc.apply(SetFields((0,), {"tooltip": "why"}))
    with pytest.raises(ReasonRequired, match="reason: required"):
        plan_save(project, doc)
    assert plan_save(project, doc, reason="MOC-17").reason == "MOC-17"


def test_a_new_screen_is_listed_and_built_from_nothing_passes_the_check(project: Path) -> None:
    listing = project / "project.yaml"
    before = listing.read_text(encoding="utf-8")
    plan = plan_new_screen(project, "filters", "Filters", level=2, parent="overview")
    plan.write()
    after = listing.read_text(encoding="utf-8")
    assert _changed(before, after) == ["+  - filters.yaml"]
    doc = ScreenDocument.open(project / "filters.yaml")
    tags = ["T1.Level", "T2.Level", "FT101.Flow", "P101.Running", "XV101.Opened"]
    for index, tag in enumerate(tags):
        rect = [20, 20 + 50 * index, 200, 40]
        doc.apply(InsertWidget((index,), {"type": "value", "tag": tag, "rect": rect}))
    save_screen(project, doc)
    loaded = load_project(project)
    assert len(loaded.screens["filters"].widgets) == 5
    assert loaded.screens["filters"].screen.parent == "overview"


def test_rename_follows_parents_navigation_and_the_start_screen(project: Path) -> None:
    plan = plan_rename_screen(project, "overview", "plant", title="Plant")
    files = sorted(w.shown for w in plan.writes)
    assert files == [
        "diagnostics.yaml", "overview.yaml", "project.yaml", "pump_station.yaml", "tank_farm.yaml"
    ]  # fmt: skip
    plan.write()
    loaded = load_project(project)
    assert loaded.start_screen == "plant"
    assert loaded.screens["plant"].screen.title == "Plant"
    assert loaded.screens["tank_farm"].screen.parent == "plant"
    change = plan.change()
    assert change.old_id == "overview" and change.action is AuditAction.SCREEN_RENAME
    assert len(change.also) == 4


def test_delete_is_refused_while_named_and_done_when_not(project: Path) -> None:
    with pytest.raises(ProjectError, match="start_screen 'overview'"):
        plan_delete_screen(project, "overview")
    with pytest.raises(ProjectError, match="unknown screen 'diagnostics' in a navigate action"):
        plan_delete_screen(project, "diagnostics")
    listing = project / "project.yaml"
    original = listing.read_text(encoding="utf-8")
    plan_new_screen(project, "spare", "Spare", level=3).write()
    plan = plan_delete_screen(project, "spare", reason="not needed")
    plan.write()
    assert not (project / "spare.yaml").exists()
    assert listing.read_text(encoding="utf-8") == original
    change = plan.change()
    assert (change.main.file, change.also[0].file) == ("spare.yaml", "project.yaml")
    assert change.main.sha256_after == ""
    assert "-screen:" in change.diff and "+++ /dev/null" in change.diff


def test_check_widget_gives_the_checkers_message_for_that_widget(project: Path) -> None:
    loaded = load_project(project)
    doc = ScreenDocument.open(project / "overview.yaml")
    assert check_widget(loaded, doc, (0, 0), {"tag": "XV101.Opened"}) == []
    problems = check_widget(loaded, doc, (0, 0), {"tag": "XV101.Opend"})
    assert problems and "XV101.Opend" in str(problems[0])
    assert problems[0].location.line in doc.lines_of((0, 0))
    assert doc.text() == (project / "overview.yaml").read_text(encoding="utf-8")


def test_a_template_saves_like_a_screen_and_is_checked_with_the_screens_that_place_it(
    project: Path,
) -> None:
    path = project / "templates" / "pump_tile.yaml"
    doc = ScreenDocument.open(path)
    doc.apply(SetFields((0,), {"tooltip": "the pump"}))
    plan = save_screen(project, doc)
    assert plan.screen_id == "pump_tile"
    assert plan.change().main.file == "templates/pump_tile.yaml"
    assert check_project(project) == []
