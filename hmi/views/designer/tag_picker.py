"""The tag picker: search the project's tags by name, description or units, each shown with
its live value and quality from the station's broker (refreshed as the bridge delivers); for
a project with an OPC UA connection, **Browse server…** (`browse_requested`) opens the
dialog that adds tags from the server (`browse_dialog.BrowseDialog`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.model.design.tag_search import search_tags
from hmi.model.tags import TagConfig
from hmi.model.value import TagValue
from hmi.runtime.qt_bridge import Binding, QtTagBridge

__all__ = ["TagPicker"]


class TagPicker(QWidget):
    """`picked` carries the chosen tag's name (double-click or Enter); `browse_requested`
    the Browse server button (shown when `browsable`)."""

    picked = Signal(str)
    browse_requested = Signal()

    def __init__(
        self,
        tags: Mapping[str, TagConfig],
        bridge: QtTagBridge,
        parent: QWidget | None = None,
        *,
        browsable: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("designTagPicker")
        self._tags = tags
        self._bridge = bridge
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search tags")
        self.query.setToolTip("Every word in the tag's name, description or units")
        self.query.setClearButtonEnabled(True)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Tag", "Value", "Quality", "Description"])
        self.table.setColumnWidth(0, 130)  # the panel is 300 px: tag, value, quality fit
        self.table.setColumnWidth(1, 62)
        self.table.setColumnWidth(2, 52)
        self.browse_button = QPushButton("Browse server…")
        self.browse_button.setObjectName("DesignBrowseButton")
        self.browse_button.setToolTip("Add tags from an OPC UA server of the project")
        self.browse_button.setVisible(browsable)
        self.browse_button.clicked.connect(self.browse_requested)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.query.textChanged.connect(self.search)
        self.query.returnPressed.connect(self._pick_current)
        self.table.itemDoubleClicked.connect(lambda item, _col: self.picked.emit(item.text(0)))
        self._bindings: list[Binding] = []
        self.destroyed.connect(lambda _obj, b=self._bindings: [x.release() for x in b])
        self.search("")

    def search(self, query: str) -> None:
        """Show the matching tags, each bound to the bridge while it is shown."""
        for binding in self._bindings:
            binding.release()
        self._bindings.clear()
        self.table.clear()
        for name in search_tags(self._tags, query):
            tag = self._tags[name]
            units = f" [{tag.units}]" if tag.units else ""
            item = QTreeWidgetItem(self.table, [name, "", "", f"{tag.description}{units}"])
            self._bindings.append(
                self._bridge.bind(name, lambda v, i=item, f=tag.format: _show(i, v, f))
            )
        if self.table.topLevelItemCount():
            self.table.setCurrentItem(self.table.topLevelItem(0))

    def _pick_current(self) -> None:
        item = self.table.currentItem()
        if item is not None:
            self.picked.emit(item.text(0))


def _show(item: QTreeWidgetItem, value: TagValue, spec: str) -> None:
    text = "" if value.value is None else str(value.value)
    if spec and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
        with contextlib.suppress(ValueError):
            text = format(value.value, spec)
    item.setText(1, text)
    item.setText(2, value.quality.level.name.lower())
