"""Where the theme's style sheet goes: on the chrome and the station's windows, never on the
application, so that no screen widget is drawn through Qt's style-sheet style.

``install`` reads the theme once: its style sheet and the screen colours in it
(``hmi.widgets.theme.colors``). Screen widgets built after it dress themselves from
``colors()``; before it, or with no theme, they keep Qt's default look (what
``bench/bench_theme.py`` compares the theme with).

The style sheet itself goes on each window of the station (``wear_sheet``: every
``OperatorDialog`` and view does it) and, in the main window, on every widget beside the way
down to the screen (``dress_children``, then ``dress_new_child`` as each is first polished: the
header, the navigation, the status bar, the designer's tools and panels, the secondary views),
never on that way itself (the main window, its central widget, the screen area, the canvas),
whose palettes give the grey the sheet gave.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QChildEvent, QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from hmi.widgets.theme.colors import ScreenColors, own_sheet, read_colors
from hmi.widgets.theme.dress import Dress, put_on

__all__ = [
    "colors",
    "dress_children",
    "dress_new_child",
    "install",
    "sheet",
    "uninstall",
    "wear_ground",
    "wear_own_sheet",
    "wear_sheet",
]

_DIRECT = Qt.FindChildOption.FindDirectChildrenOnly
_sheet = ""
_colors: ScreenColors | None = None
_own: dict[str, str] = {}


def install(app: QApplication, text: str) -> None:
    """The theme ``text`` (a style sheet with a ``ScreenTheme`` rule) for what is built next.
    Tooltips, which are windows of no one, take its tooltip colours as their palette."""
    global _sheet, _colors
    app.setStyleSheet("")
    _sheet = text
    _colors = read_colors(text)
    _own.clear()
    tips = QPalette(QToolTip.palette())
    tips.setColor(QPalette.ColorRole.ToolTipBase, _colors["tipFill"])
    tips.setColor(QPalette.ColorRole.ToolTipText, _colors["tipText"])
    QToolTip.setPalette(tips)


def uninstall() -> None:
    """No theme for what is built next (tests that compare with Qt's default look)."""
    global _sheet, _colors
    _sheet = ""
    _colors = None
    _own.clear()


def sheet() -> str:
    """The theme's style sheet ("" without a theme)."""
    return _sheet


def colors() -> ScreenColors | None:
    """The screen widgets' colours (None without a theme: Qt's default look)."""
    return _colors


def wear_sheet(widget: QWidget) -> None:
    """The theme's style sheet on ``widget`` (a window, or a piece of the main window's
    chrome), unless it has one of its own already."""
    if _sheet and not widget.styleSheet():
        widget.setStyleSheet(_sheet)


def wear_own_sheet(widget: QWidget, cls: str) -> None:
    """The rules of the theme that start at ``cls`` (``own_sheet``) as ``widget``'s own
    style sheet: a compound screen widget's (the setpoint: its field's states)."""
    if not _sheet:
        return
    found = _own.get(cls)
    if found is None:
        found = _own[cls] = own_sheet(_sheet, cls)
    if found:
        widget.setStyleSheet(found)


def wear_ground(widget: QWidget, name: str) -> None:
    """One of the screen's grounds (``area``, ``stage``) as ``widget``'s background."""
    if _colors is not None:
        put_on(widget, Dress(fill=_colors.rgba(name)))


def dress_new_child(event: QChildEvent, way: Callable[[QWidget], bool]) -> None:
    """For a ``childEvent`` of a widget on the way down to the screen (the main window, its
    central widget, the screen area): a child first polished there gets the style sheet,
    unless ``way`` says it is the next step of the way. A ``childEvent`` rather than an event
    filter: a filter would run Python for every event of those widgets, paints included."""
    if event.type() is QEvent.Type.ChildPolished:
        child = event.child()
        if isinstance(child, QWidget) and not way(child):
            wear_sheet(child)


def dress_children(parent: QWidget, way: Callable[[QWidget], bool]) -> None:
    """The style sheet on ``parent``'s children already there, except the way on."""
    for child in parent.findChildren(QWidget, options=_DIRECT):
        if not way(child):
            wear_sheet(child)
