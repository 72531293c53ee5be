"""What live reload found, shown to the people who can act on it.

A screen-file error is the engineer's, not the operator's: the operator keeps the last good
screen, and the status bar carries at most a quiet mark ("screen changes not applied"). A user
whose role holds ``edit_config`` (engineers, administrators) sees the mark with the count, and
a panel listing every problem as ``file:line:column: message``; it opens by itself when new
problems come in and from the mark. The panel floats over the window, outside every layout, so
nothing on the canvas moves when it comes or goes. Which view applies follows the logged-in
user (``set_engineer``), live.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ReloadProblemsView"]

PANEL_WIDTH = 0.6  # of the window
PANEL_HEIGHT = 0.4
MARGIN = 8


def _restyle(widget: QWidget) -> None:
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


class ReloadPanel(QFrame):
    """The engineer's list of open problems, over the bottom right of the window."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("ReloadPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 8)
        column.setSpacing(4)
        row = QHBoxLayout()
        self.title = QLabel("", self)
        self.title.setObjectName("ReloadPanelTitle")
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("ReloadPanelClose")
        self.close_button.setText("Close")
        self.close_button.setToolTip("hide the list; the mark in the status bar opens it again")
        self.close_button.clicked.connect(self.hide)
        row.addWidget(self.title, 1)
        row.addWidget(self.close_button)
        column.addLayout(row)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("ReloadProblems")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        column.addWidget(self.text, 1)
        self.hide()

    def _content_height(self, width: int) -> int:
        """As tall as the wrapped list needs (the list scrolls past PANEL_HEIGHT)."""
        inner = width - 2 * 8 - 2 * 6  # the panel's and the list's margins
        metrics = self.text.fontMetrics()
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.TextFlag.TextWrapAnywhere)
        text = metrics.boundingRect(0, 0, inner, 100_000, flags, self.text.toPlainText())
        chrome = self.title.sizeHint().height() + 6 + 8 + 4 + 2 * 6
        return text.height() + metrics.lineSpacing() + chrome

    def place(self) -> None:
        """Bottom right of the parent, above the status bar; never in a layout."""
        parent = self.parentWidget()
        if parent is None:
            return
        area = parent.rect()
        width = min(max(360, int(area.width() * PANEL_WIDTH)), area.width())
        height = min(max(96, self._content_height(width)), int(area.height() * PANEL_HEIGHT))
        self.setGeometry(
            area.right() - width - MARGIN + 1, area.bottom() - height - MARGIN + 1, width, height
        )


class ReloadProblemsView(QObject):
    """The status-bar ``mark`` and the floating ``panel``. ``show_problems`` and
    ``show_notice`` take what live reload reports; ``set_engineer`` whose view applies."""

    def __init__(self, window: QWidget, panel_parent: QWidget) -> None:
        super().__init__(window)
        self.mark = QToolButton(window)
        self.mark.setObjectName("ReloadMark")
        self.mark.setAutoRaise(True)
        self.mark.clicked.connect(self.toggle_panel)
        self.mark.hide()
        self.panel = ReloadPanel(panel_parent)  # placed by the window as the parent resizes
        self.problems: list[str] = []
        self.notice = ""
        self.engineer = False

    # -- what live reload reports --------------------------------------------------------------

    def show_problems(self, problems: list[str]) -> None:
        new = [p for p in problems if p not in self.problems]
        self.problems = list(problems)
        self._update(open_panel=bool(new))

    def show_notice(self, text: str) -> None:
        opened = text != self.notice and bool(text)
        self.notice = text
        self._update(open_panel=opened)

    def set_engineer(self, engineer: bool) -> None:
        """The logged-in user may edit the configuration (engineer, admin): show them the
        problems; anyone else: only the quiet mark."""
        if engineer == self.engineer:
            return
        self.engineer = engineer
        self._update(open_panel=engineer)

    def text(self) -> str:
        """Everything the engineer's panel lists."""
        return "\n".join([*self.problems, *([self.notice] if self.notice else [])])

    # -- showing it ----------------------------------------------------------------------------

    def toggle_panel(self) -> None:
        if not self.engineer:
            return
        if self.panel.isVisible():
            self.panel.hide()
        else:
            self._open_panel()

    def _open_panel(self) -> None:
        self.panel.place()
        self.panel.show()
        self.panel.raise_()

    def _update(self, *, open_panel: bool) -> None:
        errors = len(self.problems)
        open_items = bool(errors or self.notice)
        kind = "error" if errors else "notice"
        if not open_items or not (errors or self.engineer):  # a restart is not theirs either
            self.mark.hide()
            self.panel.hide()
            return
        if self.engineer:
            self.mark.setText(
                f"⚠ {errors} screen-file problem{'s' if errors != 1 else ''}"
                if errors
                else "restart needed"
            )
            self.mark.setToolTip("show the problems live reload found (file:line:column)")
            self.mark.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.mark.setText("screen changes not applied")
            self.mark.setToolTip(
                "an engineer's change to the screen files is not applied; the screens shown "
                "are the last good ones"
            )
            self.mark.unsetCursor()
        self.mark.setProperty("kind", kind)
        self.mark.setProperty("engineer", self.engineer)
        _restyle(self.mark)
        self.mark.show()
        title = f"Screen files: {errors} problem{'s' if errors != 1 else ''}" if errors else ""
        self.panel.title.setText(title or "Project changed")
        self.panel.setProperty("kind", kind)
        _restyle(self.panel)
        self.panel.text.setPlainText(self.text())
        if not self.engineer:
            self.panel.hide()
        elif open_panel:
            self._open_panel()
