"""Driving design mode as an engineer does: the real station on the demo plant's screen files,
the mouse and keys on the design overlay at design coordinates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.design.edits import DesignDocument
from hmi.model.screens.loader import Project
from hmi.views.designer.editor import ScreenEditor
from hmi.views.designer.mode import DesignMode
from hmi.views.designer.overlay import DesignOverlay

LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


@dataclass
class Designing:
    station: Station
    design: DesignMode
    path: Path
    original: bytes

    @property
    def editor(self) -> ScreenEditor:
        assert self.design.editor is not None
        return self.design.editor

    @property
    def overlay(self) -> DesignOverlay:
        assert self.design.overlay is not None
        return self.design.overlay

    @property
    def document(self) -> DesignDocument:
        return self.editor.document

    def point(self, x: float, y: float) -> QPoint:
        """The overlay's pixel over a design point."""
        x0, y0, _w, _h = self.editor.canvas.stage_rect()
        scale = self.editor.canvas.scale
        return QPoint(round(x0 + x * scale), round(y0 + y * scale))

    def centre(self, path: tuple[int, ...]) -> QPoint:
        x, y, w, h = self.editor.rect(path)
        return self.point(x + w / 2, y + h / 2)

    def move(self, to: QPoint, modifiers: Qt.KeyboardModifier = NO_KEYS) -> None:
        """A mouse move with the left button held (QTest's moves carry no buttons)."""
        event = QMouseEvent(
            QEvent.Type.MouseMove, QPointF(to), QPointF(self.overlay.mapToGlobal(to)),
            Qt.MouseButton.NoButton, LEFT, modifiers,
        )  # fmt: skip
        QApplication.sendEvent(self.overlay, event)

    def drag(
        self,
        qtbot: QtBot,
        start: QPoint,
        end: QPoint,
        *,
        press: Qt.KeyboardModifier = NO_KEYS,
        held: Qt.KeyboardModifier = NO_KEYS,
    ) -> None:
        qtbot.mousePress(self.overlay, LEFT, press, start)
        steps = 6
        for i in range(1, steps + 1):
            self.move(start + (end - start) * (i / steps), held)
        qtbot.mouseRelease(self.overlay, LEFT, held, end)


def designing(
    qtbot: QtBot,
    make_station: Callable[..., Station],
    project: Project,
    *,
    screen: str,
    role: str = "engineer",
) -> Designing:
    """The station on ``screen`` (1366x768, shown), an engineer signed in, in design mode."""
    station = make_station(project, screen=screen, role=role)
    window = station.window
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    design = station.design
    assert design is not None
    path = Path(project.screen_paths[screen])
    original = path.read_bytes()
    assert design.enter(), window.status.command_label.text()
    qtbot.waitUntil(lambda: design.editor is not None and design.editor.canvas.scale > 0)
    return Designing(station, design, path, original)


def trend_rows_apart(station: Station) -> bool:
    """Every shown button of each trend tool bar on the screen inside its bar and clear of the
    others (so not before a rebuilt screen is laid out: a picture taken then shows them piled)."""
    from PySide6.QtWidgets import QToolButton

    from hmi.widgets.trend.toolbar import TrendToolbar

    canvas = station.window.canvas
    if canvas is None:
        return False
    for bar in canvas.findChildren(TrendToolbar):
        rects = [b.geometry() for b in bar.findChildren(QToolButton) if b.isVisible()]
        if bar.note.isVisible():
            rects.append(bar.note.geometry())
        if not rects or not all(bar.rect().contains(r) for r in rects):
            return False
        if any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :]):
            return False
    return True
