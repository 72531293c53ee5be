"""An ad-hoc trend: the operator picks any tags of the project and trends them, without a
screen file. The main window opens it with ``AdhocTrendDialog(ctx, parent=window)``."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi.model.screens.schema import TrendSpec
from hmi.model.tags import DataType
from hmi.runtime.history import HistorySource
from hmi.widgets.context import WidgetContext
from hmi.widgets.dialog import OperatorDialog
from hmi.widgets.trend.widget import TrendWidget

ADHOC_SPAN_S = 900.0
_TAG = Qt.ItemDataRole.UserRole  # the tag name on each list item


class AdhocTrendDialog(OperatorDialog):
    """A tag list with a filter on the left, the trend on the right. Text tags cannot be
    trended and are not listed. Closing the dialog releases the trend's tags."""

    def __init__(
        self,
        ctx: WidgetContext,
        tags: Iterable[str] = (),
        parent: QWidget | None = None,
        *,
        history: HistorySource | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ad-hoc trend")
        self.setObjectName("AdhocTrendDialog")
        self.ctx = ctx
        self._history = history
        self.trend: TrendWidget | None = None
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter tags…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tag_list = QListWidget(self)
        self.tag_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        # The tag on one line, its description wrapped below: never cut at the list's edge.
        self.tag_list.setWordWrap(True)
        self.tag_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tag_list.itemDoubleClicked.connect(lambda item: self.add(item.data(_TAG)))
        for name, config in sorted(ctx.tags.items()):
            if config.datatype is DataType.STR:
                continue
            text = f"{name}\n{config.description}" if config.description else name
            item = QListWidgetItem(text, self.tag_list)
            item.setData(_TAG, name)
            item.setToolTip(str(config.address))
        add = QPushButton("Add ›", self)
        add.clicked.connect(self.add_selected)
        remove = QPushButton("‹ Remove", self)
        remove.clicked.connect(self.remove_selected)
        self.placeholder = QLabel("Choose tags to trend: double-click or select and Add.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        side = QVBoxLayout()
        side.addWidget(self.filter)
        side.addWidget(self.tag_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        side.addLayout(buttons)
        self._body = QHBoxLayout(self)
        self._body.addLayout(side, 1)
        self._body.addWidget(self.placeholder, 3)
        self.resize(1100, 560)
        for tag in tags:
            self.add(tag)

    def visible_tags(self) -> list[str]:
        return [
            self.tag_list.item(i).data(_TAG)
            for i in range(self.tag_list.count())
            if not self.tag_list.item(i).isHidden()
        ]

    def _apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tag_list.count()):
            item = self.tag_list.item(i)
            item.setHidden(not all(word in item.text().lower() for word in words))

    def add(self, tag: str) -> None:
        """Trend ``tag`` too (the trend is made with the first one)."""
        if tag not in self.ctx.tags:
            return
        if self.trend is None:
            spec = TrendSpec(
                type="trend", id="adhoc", tags=(tag,), span_s=ADHOC_SPAN_S, rect=(0, 0, 800, 500)
            )
            self.trend = TrendWidget(spec, self.ctx, self, history=self._history)
            self._body.replaceWidget(self.placeholder, self.trend)
            self.placeholder.hide()
        else:
            self.trend.add_pen(tag)

    def add_selected(self) -> None:
        for item in self.tag_list.selectedItems():
            self.add(item.data(_TAG))

    def remove_selected(self) -> None:
        if self.trend is None:
            return
        for item in self.tag_list.selectedItems():
            self.trend.remove_pen(item.data(_TAG))

    def release(self) -> None:
        if self.trend is not None:
            self.trend.release()

    def done(self, result: int) -> None:
        self.release()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.release()
        super().closeEvent(event)
