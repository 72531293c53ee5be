"""Where the station's secondary views open: over the main window, below its header.

The alarm summary, alarm history, KPIs, ad-hoc trends, the audit trail and the users dialog
are windows of their own (an operator keeps the summary open beside the process screen, moves a
trend to a second monitor, sizes each as the task needs), but never lost: each is a dialog-type
window transient for the main window, which window managers keep stacked above it, in kiosk and
full screen too (the main window's "stays on top" layer is its transients' layer). Each opens
below the header, so the alarm banner stays in sight, and above the status bar (connections,
user, clock) as far as its minimum size allows. Esc closes a view that is not a dialog already:
on a kiosk box without a window manager there is no title bar to close it with.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QWidget

__all__ = ["CASCADE", "FRAME_ALLOWANCE", "MARGIN", "SecondaryWindows"]

MARGIN = 8
"""Pixels between the header's bottom (and the screen's sides) and a secondary view's frame."""
CASCADE = 28
"""Each further view open at the same time starts this much lower and to the right."""
FRAME_ALLOWANCE = 40
"""Room kept under a view for the title bar a window manager adds around it."""

_PLACED = "hmiPlaced"
_FLAGS = (
    Qt.WindowType.Dialog
    | Qt.WindowType.WindowTitleHint
    | Qt.WindowType.WindowSystemMenuHint
    | Qt.WindowType.WindowMaximizeButtonHint
    | Qt.WindowType.WindowCloseButtonHint
)  # no minimise button asked for: a minimised alarm summary is a hidden one


class SecondaryWindows:
    """Presents secondary views for ``window`` (the main window), below ``header`` and, when
    there is room, above ``footer`` (the status bar: connections, user, clock)."""

    def __init__(self, window: QWidget, header: QWidget, footer: QWidget | None = None) -> None:
        self.window = window
        self.header = header
        self.footer = footer

    def present(self, view: QWidget) -> QWidget:
        """Make ``view`` the main window's transient, place it the first time, show it in
        front and give it the focus."""
        if view.parentWidget() is not self.window:
            size = view.size()
            view.setParent(self.window, _FLAGS)
            view.resize(size)
            if not isinstance(view, QDialog):
                close = QShortcut(QKeySequence(Qt.Key.Key_Escape), view)
                close.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                close.activated.connect(view.close)
        if not view.property(_PLACED):
            self.place(view)
            view.setProperty(_PLACED, True)
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def area(self) -> QRect:
        """The part of the main window's screen between the header and the status bar (the
        screen's bottom if the window is not shown), in global coordinates."""
        available = self.window.screen().availableGeometry()
        header_bottom = self.header.mapToGlobal(QPoint(0, self.header.height())).y()
        top = max(available.top(), header_bottom + MARGIN)
        left = max(available.left(), self.window.geometry().left()) + MARGIN
        bottom = available.bottom()
        if self.footer is not None and self.footer.isVisible():
            bottom = min(bottom, self.footer.mapToGlobal(QPoint(0, 0)).y() - 1)
        return QRect(QPoint(left, top), QPoint(available.right(), bottom))

    def place(self, view: QWidget) -> None:
        """Below the header, cascaded after the views already open, as large as asked but
        no larger than the screen under the header."""
        area = self.area()
        step = CASCADE * (self._others_open(view) % 6)
        right = area.right() - MARGIN  # the frame's sides and a margin
        left = min(area.left() + step, max(area.left(), right - view.width()))
        top = min(
            area.top() + step,
            max(area.top(), area.bottom() - FRAME_ALLOWANCE - view.height()),
        )
        width = min(view.width(), right + 1 - left)
        height = min(view.height(), area.bottom() + 1 - top - FRAME_ALLOWANCE)
        view.resize(max(width, view.minimumWidth()), max(height, view.minimumHeight()))
        view.move(left, top)

    def _others_open(self, view: QWidget) -> int:
        return sum(
            1
            for child in self.window.children()
            if isinstance(child, QWidget)
            and child is not view
            and child.isWindow()
            and child.isVisible()
            and child.property(_PLACED)
        )
