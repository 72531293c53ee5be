"""Which dynamic properties the style sheet selects on, for which widget classes: so that a
property no rule reads is set without re-polishing the widget.

Re-polishing (``style.unpolish`` + ``style.polish``) matches every rule of the application's
style sheet against the widget again and resets its palette and font: 110-180 us a widget,
as much again for each child (the quality badge), against 7 us for the ``setProperty``
itself. A state widget changes its ``look`` on every state change of its tag, so on a busy
screen this was most of the theme's CPU. The answer is read from the style sheet's text
once per (sheet, class, property): a selector ``Class[prop...]``, ``*[prop...]`` or a bare
``[prop...]`` matches when ``Class`` is the widget's class or one of its bases; when such a
selector goes on to a descendant (``SetpointWidget[quality="bad"] QLineEdit``) the children
are re-polished too. A widget inside another widget's own style sheet is always re-polished.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtWidgets import QApplication, QWidget

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_BLOCK = re.compile(r"\{[^{}]*\}")
_TYPE = re.compile(r"^[A-Za-z_*][\w-]*")


@dataclass(frozen=True)
class Restyle:
    """What a change of one property must re-polish."""

    widget: bool
    children: bool


ALL = Restyle(widget=True, children=True)
NOTHING = Restyle(widget=False, children=False)

_cache: dict[tuple[tuple[str, ...], str], Restyle] = {}
_sheet = ""


def selectors(sheet: str) -> list[list[str]]:
    """The selectors of ``sheet``, each as its compounds (``["SetpointWidget[quality="bad"]",
    "QLineEdit"]``), comments and declaration blocks dropped."""
    text = _BLOCK.sub(",", _COMMENT.sub("", sheet))
    found: list[list[str]] = []
    for selector in split_outside_brackets(text, ","):
        compounds = [part for part in split_outside_brackets(selector, " >+~") if part.strip()]
        if compounds:
            found.append([part.strip() for part in compounds])
    return found


def split_outside_brackets(text: str, separators: str) -> list[str]:
    """``text`` split at any of ``separators`` outside ``[...]`` and quotes."""
    parts, start, depth, quote = [], 0, 0, ""
    for at, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif depth == 0 and (char in separators or (char.isspace() and " " in separators)):
            parts.append(text[start:at])
            start = at + 1
    parts.append(text[start:])
    return parts


def restyle_for(sheet: str, classes: tuple[str, ...], name: str) -> Restyle:
    """What a change of property ``name`` on a widget whose class and bases are ``classes``
    must re-polish under ``sheet``."""
    attribute = re.compile(r"\[\s*" + re.escape(name) + r"\s*[\]=~|^$*]")
    widget = children = False
    for compounds in selectors(sheet):
        for at, compound in enumerate(compounds):
            if not attribute.search(compound):
                continue
            found = _TYPE.match(compound)
            kind = found.group(0) if found else "*"
            if kind == "*" or kind in classes:
                widget = True
                children = children or at < len(compounds) - 1
    return Restyle(widget=widget, children=children)


_classes: dict[type, tuple[str, ...]] = {}


def class_names(widget: QWidget) -> tuple[str, ...]:
    """The widget's class and its bases as Qt names them (Python subclasses included)."""
    found = _classes.get(type(widget))
    if found is not None:
        return found
    names = []
    meta = widget.metaObject()
    while meta is not None:
        names.append(meta.className())
        meta = meta.superClass()
    found = _classes[type(widget)] = tuple(names)
    return found


def restyle(widget: QWidget, name: str) -> Restyle:
    """What a change of property ``name`` on ``widget`` must re-polish now."""
    global _sheet
    parent: QWidget | None = widget
    while parent is not None:
        if parent.styleSheet():
            return ALL  # a sheet of its own: not worth reading, re-polish as before
        parent = parent.parentWidget()
    app = QApplication.instance()
    sheet = app.styleSheet() if isinstance(app, QApplication) else ""
    if not sheet:
        return NOTHING
    if sheet != _sheet:
        _cache.clear()
        _sheet = sheet
    classes = class_names(widget)
    key = (classes, name)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = restyle_for(sheet, classes, name)
    return found
