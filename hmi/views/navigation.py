"""Navigation by the ISA-101 display hierarchy: level-1 and level-2 screens as buttons, a
breadcrumb of the parent chain (overview > area > detail) and a back button."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from hmi.model.screens.schema import ScreenFile

__all__ = ["Breadcrumb", "NavBar", "parent_chain"]

NAV_LEVELS = (1, 2)
DIAGNOSTIC_LEVEL = 4


def parent_chain(screens: Mapping[str, ScreenFile], screen_id: str) -> list[str]:
    """Screen ids from the top of the hierarchy down to ``screen_id`` (loops cut)."""
    chain: list[str] = []
    current: str | None = screen_id
    while current is not None and current in screens and current not in chain:
        chain.append(current)
        current = screens[current].screen.parent
    return chain[::-1]


def _clear(layout: QHBoxLayout, keep: tuple[QWidget, ...] = ()) -> None:
    """Empty a layout; its widgets other than ``keep`` are hidden and deleted."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None and widget not in keep:
            widget.hide()
            widget.deleteLater()


class Breadcrumb(QFrame):
    """``Overview > Tank farm > ...``: every ancestor is a link, the current screen is not."""

    navigate = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Breadcrumb")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 0, 8, 0)
        self._layout.setSpacing(4)
        self.crumbs: list[QPushButton] = []

    def show_chain(self, screens: Mapping[str, ScreenFile], screen_id: str) -> None:
        _clear(self._layout)
        self.crumbs = []
        for index, crumb_id in enumerate(parent_chain(screens, screen_id)):
            if index:
                separator = QLabel("›", self)
                separator.setObjectName("BreadcrumbSeparator")
                self._layout.addWidget(separator)
                separator.show()
            crumb = QPushButton(screens[crumb_id].screen.title, self)
            crumb.setObjectName("BreadcrumbItem")
            crumb.setFlat(True)
            crumb.setProperty("screen", crumb_id)
            current = crumb_id == screen_id
            crumb.setProperty("current", current)
            if not current:
                crumb.setCursor(Qt.CursorShape.PointingHandCursor)
                crumb.clicked.connect(lambda _=False, target=crumb_id: self.navigate.emit(target))
            self._layout.addWidget(crumb)
            crumb.show()
            self.crumbs.append(crumb)
        self._layout.addStretch(1)

    def text(self) -> str:
        return " > ".join(crumb.text() for crumb in self.crumbs)


class NavBar(QFrame):
    """Back button, one button per level-1/level-2 screen (checked: the screen shown or the
    area it belongs to), the breadcrumb, and the diagnostics screens at the right end."""

    navigate = Signal(str)
    back = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NavBar")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 4)
        self._layout.setSpacing(6)
        self.back_button = QPushButton("◀ Back", self)
        self.back_button.setObjectName("BackButton")
        self.back_button.setEnabled(False)
        self.back_button.clicked.connect(self.back.emit)
        self.breadcrumb = Breadcrumb(self)
        self.breadcrumb.navigate.connect(self.navigate.emit)
        self.buttons: dict[str, QPushButton] = {}
        self._screens: Mapping[str, ScreenFile] = {}

    def set_screens(self, screens: Mapping[str, ScreenFile]) -> None:
        """(Re)build the buttons, e.g. after a live reload added a screen."""
        _clear(self._layout, keep=(self.back_button, self.breadcrumb))
        self.buttons = {}
        self._screens = screens
        self._layout.addWidget(self.back_button)
        for level in NAV_LEVELS:
            for screen_id, screen in screens.items():
                if screen.screen.level == level:
                    self._layout.addWidget(self._button(screen_id, screen, level))
        self._layout.addWidget(self.breadcrumb, 1)
        for screen_id, screen in screens.items():
            if screen.screen.level == DIAGNOSTIC_LEVEL:
                self._layout.addWidget(self._button(screen_id, screen, DIAGNOSTIC_LEVEL))

    def _button(self, screen_id: str, screen: ScreenFile, level: int) -> QPushButton:
        button = QPushButton(screen.screen.title, self)
        button.setObjectName("NavButton")
        button.setProperty("level", level)
        button.setProperty("screen", screen_id)
        button.setCheckable(True)
        button.clicked.connect(lambda _=False, target=screen_id: self._clicked(target))
        # the checked button is bold (theme): make room for that so its text is never cut
        bold = QFont(button.font())
        bold.setBold(True)
        button.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(button.text()) + 40)
        button.show()
        self.buttons[screen_id] = button
        return button

    def _clicked(self, screen_id: str) -> None:
        self.buttons[screen_id].setChecked(True)  # until the window confirms the change
        self.navigate.emit(screen_id)

    def show_current(self, screen_id: str, *, can_go_back: bool) -> None:
        chain = parent_chain(self._screens, screen_id)
        lit = next((s for s in reversed(chain) if s in self.buttons), None)
        for target, button in self.buttons.items():
            button.setChecked(target == lit)
        self.back_button.setEnabled(can_go_back)
        self.breadcrumb.show_chain(self._screens, screen_id)
