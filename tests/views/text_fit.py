"""Finding text a person cannot read whole: cut by its widget, or drawn under the 9 px floor.

``cut_texts(root)`` measures every visible label and button under ``root`` with the font it
is drawn in (QFontMetrics) against the room its widget gives it; ``small_fonts(root)`` lists
text drawn smaller than ``MIN_FONT_PX``. Both return readable lines for an assertion message.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QToolButton,
    QWidget,
)

from hmi.widgets.base import MIN_FONT_PX

SLACK_PX = 1  # rounding of advances against integer widths


def _plain(label: QLabel) -> str:
    text = label.text()
    if label.textFormat() == Qt.TextFormat.RichText or text.lstrip().startswith("<"):
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def _name(widget: QWidget) -> str:
    return f"{type(widget).__name__}#{widget.objectName() or '?'}"


def _shown(widget: QWidget, root: QWidget) -> bool:
    return widget is root or widget.isVisibleTo(root)


def _label_cut(label: QLabel) -> str | None:
    text = _plain(label)
    if not text.strip() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    metrics = QFontMetrics(label.font())
    room = label.contentsRect().adjusted(
        label.margin(), label.margin(), -label.margin(), -label.margin()
    )
    if label.wordWrap():
        need = metrics.boundingRect(
            QRect(0, 0, room.width(), 100_000), int(Qt.TextFlag.TextWordWrap), text
        )
        if need.height() > room.height() + SLACK_PX:
            return f"{need.height()} px of wrapped text in {room.height()} px"
        return None
    widest = max(metrics.horizontalAdvance(line) for line in text.splitlines())
    if widest > room.width() + SLACK_PX:
        return f"{widest} px wide in {room.width()} px"
    return None


def _button_cut(button: QAbstractButton) -> str | None:
    text = button.text().replace("&&", "\x00").replace("&", "").replace("\x00", "&")
    if not text.strip():
        return None
    metrics = QFontMetrics(button.font())
    need = metrics.horizontalAdvance(text)
    if isinstance(button, QPushButton):
        option = QStyleOptionButton()
        button.initStyleOption(option)
        room = (
            button.style()
            .subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)
            .width()
        )
        if button.menu() is not None:
            room -= button.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator)
    elif isinstance(button, QToolButton):
        room = button.contentsRect().width() - 2
    else:  # check boxes, radio buttons: the indicator takes the left
        room = button.width() - button.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
    if need > room + SLACK_PX:
        return f"{need} px wide in {room} px"
    return None


def _placeholder_cut(edit: QLineEdit) -> str | None:
    """An empty entry's hint ("tag, e.g. Ta…" is elided by Qt)."""
    hint = edit.placeholderText()
    if edit.text() or not hint:
        return None
    need = QFontMetrics(edit.font()).horizontalAdvance(hint)
    room = (
        edit.contentsRect().width() - 2 * 2 - edit.textMargins().left() - edit.textMargins().right()
    )
    if need > room + SLACK_PX:
        return f"placeholder {need} px wide in {room} px"
    return None


def cut_texts(root: QWidget) -> list[str]:
    """Every visible label, button or empty entry's hint under ``root`` that does not fit."""
    found = []
    for widget in (root, *root.findChildren(QWidget)):
        if not _shown(widget, root):
            continue
        if isinstance(widget, QLabel):
            problem = _label_cut(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button_cut(widget)
        elif isinstance(widget, QLineEdit):
            problem = _placeholder_cut(widget)
        else:
            continue
        if problem:
            shown = widget.text() or getattr(widget, "placeholderText", str)()
            text = shown.replace("\n", " ")
            found.append(f"{_name(widget)} {text!r}: {problem}")
    return found


def small_fonts(root: QWidget) -> list[str]:
    """Every visible label or button under ``root`` drawn under ``MIN_FONT_PX``."""
    found = []
    for widget in (root, *root.findChildren(QWidget)):
        if not isinstance(widget, (QLabel, QAbstractButton)) or not _shown(widget, root):
            continue
        if not widget.text().strip():
            continue
        info = widget.fontInfo()
        px = info.pixelSize()
        if px < MIN_FONT_PX:
            found.append(f"{_name(widget)} {widget.text()!r}: {px} px")
    return found
