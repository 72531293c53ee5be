"""Offscreen pictures of the guide's examples: each example screen built by the station's own
canvas and widgets, bound to memory tags through the real broker and bridge, styled by the
ISA-101 theme, and grabbed at its design size (scale 1)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from hmi.drivers.defaults import default_registry
from hmi.guide.examples import (
    EXAMPLES,
    OTHER_SCREEN_YAML,
    PROJECT_YAML,
    SAMPLE_VALUES,
    TEMPLATE_YAML,
)
from hmi.model.screens.loader import Project, load_project
from hmi.model.value import TagValue
from hmi.resources import icon_path, theme_path
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.history import MemoryHistory
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome as theme

__all__ = ["render_pictures", "write_example_project"]

SETTLE_S = 0.3  # let trends and symbols paint what they were fed
TREND_HISTORY_S = 600


def write_example_project(folder: Path) -> Project:
    """The examples as a project in ``folder``, loaded by the checker ``hmi check`` uses
    (``ProjectError`` names the example that is not valid)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{example.type}.yaml" for example in EXAMPLES]
    (folder / "project.yaml").write_text(
        PROJECT_YAML.replace("SCREENS", ", ".join(names)), encoding="utf-8"
    )
    (folder / "pump_tile.yaml").write_text(TEMPLATE_YAML, encoding="utf-8")
    (folder / "tank_farm.yaml").write_text(OTHER_SCREEN_YAML, encoding="utf-8")
    (folder / "images").mkdir(exist_ok=True)
    shutil.copyfile(icon_path("hmi"), folder / "images" / "logo.svg")
    for example in EXAMPLES:
        (folder / f"{example.type}.yaml").write_text(example.screen_yaml(), encoding="utf-8")
    return load_project(folder)


def _feed_history(broker: TagBroker) -> None:
    """Ten minutes of a level and a setpoint step, for the trend to backfill."""
    now = time.time()
    level, sp = broker.tag("T1.Level").address, broker.tag("LIC101.SP").address
    for age in range(TREND_HISTORY_S, 0, -10):
        t = now - age
        progress = 1 - age / TREND_HISTORY_S
        broker.publish(
            [
                (level, TagValue.now(48 + 14.4 * progress**0.6, source_time=t)),
                (sp, TagValue.now(60.0 if age < 420 else 50.0, source_time=t)),
            ]
        )


def _feed_values(broker: TagBroker, bridge: QtTagBridge, values: Mapping[str, Any]) -> None:
    """The sample values, now, to the widgets just bound."""
    for tag, value in values.items():
        broker.publish([(broker.tag(tag).address, TagValue.now(value))])
    bridge.flush()


def render_pictures(
    folder: Path, out: Path, *, values: Mapping[str, Any] = SAMPLE_VALUES
) -> dict[str, Path]:
    """Render every example into ``out/<type>.png`` showing ``values``; the example project
    is written to ``folder``. Needs a QApplication (offscreen is fine); returns the pictures
    by type."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("render_pictures needs a QApplication")
    theme.install(app, theme_path().read_text(encoding="utf-8"))
    project = write_example_project(folder)
    broker = TagBroker(project.tags, default_registry(), {})
    bridge = QtTagBridge(broker, CommandService(broker))
    history = MemoryHistory()  # what a trend backfills from, fed as the station's historian is
    broker.add_listener(history.record)
    _feed_history(broker)
    loop = qasync.QEventLoop(app)  # trends ask the history asynchronously
    asyncio.set_event_loop(loop)
    out.mkdir(parents=True, exist_ok=True)
    pictures: dict[str, Path] = {}
    for example in EXAMPLES:
        ctx = WidgetContext(
            bridge=bridge,
            tags=project.tags,
            navigate=lambda _screen: None,
            open_faceplate=lambda _template, _params: None,
            project_root=folder,
            screen_id=example.type,
            history=history,
        )
        canvas = ScreenCanvas.for_screen(project.screens[example.type], ctx, project.templates)
        canvas.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        canvas.resize(*example.size)
        canvas.show()
        _feed_values(broker, bridge, values)
        loop.run_until_complete(asyncio.sleep(SETTLE_S))
        image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        path = out / f"{example.type}.png"
        if not image.save(str(path), "PNG", 9):  # highest compression: small files in docs/
            raise OSError(f"could not write {path}")
        pictures[example.type] = path
        canvas.release()
        canvas.close()
        canvas.deleteLater()
    app.processEvents()
    asyncio.set_event_loop(None)
    loop.close()
    return pictures
