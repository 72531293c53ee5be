"""Browse server (the tag picker's button): an OPC UA connection's address space as a tree,
read level by level as the engineer opens it; the variables picked become new tags, named by
the engineer, added to project.yaml in one checked, audited step.

The browse runs as tasks on the station's asyncio loop (asyncua is asyncio: the UI never
waits on the network); closing the dialog cancels what is still running. Errors (the server
away, a refused session, a project the checker refuses) are shown in the dialog; nothing is
written then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hmi.model.design.save import refused
from hmi.model.design.tag_search import name_problem, plan_add_tags
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.project import OpcUaConnection
from hmi.model.screens.loader import Project, load_project
from hmi.runtime.audit import AuditRecorder
from hmi.widgets.dialog import CommandButton, OperatorDialog

if TYPE_CHECKING:
    from hmi.drivers.opcua.browse import BrowsedNode, Browser

__all__ = ["BrowseDialog", "opcua_connections"]

log = logging.getLogger(__name__)
_CLOSING: set[asyncio.Future[None]] = set()

OBJECTS = "i=85"
NODE = Qt.ItemDataRole.UserRole  # (BrowseName path, BrowsedNode) of a tree item
LOADED = Qt.ItemDataRole.UserRole + 1  # its children have been read


def opcua_connections(project: Project) -> list[str]:
    """The project's OPC UA connections, the ones Browse server can browse."""
    return [n for n, c in project.file.connections.items() if isinstance(c, OpcUaConnection)]


class BrowseDialog(OperatorDialog):
    """``added`` carries the project as it is after the write and the names added."""

    added = Signal(object, list)

    def __init__(
        self, project: Project, recorder: AuditRecorder | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("DesignBrowseDialog")
        self.setWindowTitle("Browse server: add tags to project.yaml")
        self.resize(880, 600)
        self.project = project
        self.recorder = recorder
        self.required = project.file.design.reason == "required"
        self.tasks: set[asyncio.Task[Any]] = set()
        self.browser: tuple[str, asyncio.Future[Browser]] | None = None  # connection, session
        self._known = {t.address.raw: n for n, t in project.tags.items()}
        self.connection = QComboBox(self)
        for name in opcua_connections(project):
            conn = project.file.connections[name]
            assert isinstance(conn, OpcUaConnection)
            self.connection.addItem(f"{name}  ({conn.endpoint})", name)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("DesignBrowseTree")
        self.tree.setHeaderLabels(["Browse name", "Type", "Access", "Units", "Tag"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for column, width in ((1, 80), (2, 60), (3, 70), (4, 170)):
            self.tree.setColumnWidth(column, width)
        self.picks = QTreeWidget(self)
        self.picks.setObjectName("DesignBrowsePicks")
        self.picks.setRootIsDecorated(False)
        self.picks.setHeaderLabels(["New tag (double-click to rename)", "Node"])
        self.picks.setColumnWidth(0, 330)
        self.status = QLabel(self)
        self.status.setObjectName("DesignBrowseStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("why (required)" if self.required else "why (optional)")
        self.add_button = CommandButton("Add tags", self)
        self.add_button.setObjectName("DesignBrowseAddButton")
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        buttons = QDialogButtonBox(self)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.tree)
        split.addWidget(self.picks)
        split.setSizes([400, 140])
        form = QFormLayout()
        form.addRow("Connection", self.connection)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        reason_row = QFormLayout()
        reason_row.addRow("Reason", self.reason)
        layout.addLayout(reason_row)
        layout.addWidget(buttons)
        self.connection.currentIndexChanged.connect(lambda _i: self.browse_root())
        self.tree.itemExpanded.connect(self._on_expanded)
        self.tree.itemChanged.connect(self._on_checked)
        self.picks.itemChanged.connect(lambda _item, _col: self._update())
        self.picks.itemDoubleClicked.connect(lambda item, _c: self.picks.editItem(item, 0))
        self.reason.textChanged.connect(self._update)
        self.add_button.clicked.connect(self.add)
        self.finished.connect(self._cancel)
        self.set_enter_button(None)
        self.browse_root()

    # -- browsing ------------------------------------------------------------------------------

    @property
    def connection_name(self) -> str:
        return str(self.connection.currentData() or "")

    def browse_root(self) -> None:
        """Read the connection's Objects folder afresh (a new connection chosen)."""
        self._cancel()
        self.tree.clear()
        self.picks.clear()
        self._update()
        if self.connection_name:
            self._start(self._children(None))

    def _on_expanded(self, item: QTreeWidgetItem) -> None:
        if not item.data(0, LOADED):
            item.setData(0, LOADED, True)
            self._start(self._children(item))

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _cancel(self, *_args: object) -> None:
        for task in list(self.tasks):
            task.cancel()
        self.close_session()

    def _session(self, name: str) -> asyncio.Future[Browser]:
        """The dialog's one session on connection ``name`` (opened on the first read, shared
        by the reads that follow and any running at once)."""
        from hmi.drivers.opcua.browse import Browser
        from hmi.drivers.opcua.session import SessionSettings

        if self.browser is not None and self.browser[0] == name:
            return self.browser[1]
        self.close_session()
        conn = self.project.file.connections[name]
        assert isinstance(conn, OpcUaConnection)
        opening = asyncio.ensure_future(Browser.open(SessionSettings.from_connection(conn)))
        self.browser = (name, opening)
        return opening

    def close_session(self) -> None:
        """End the dialog's session, if one is open or opening (closed on the loop)."""
        if self.browser is None:
            return
        _, opening = self.browser
        self.browser = None

        def close(done: asyncio.Future[Browser]) -> None:
            if not done.cancelled() and done.exception() is None:
                closing = asyncio.ensure_future(done.result().close())
                _CLOSING.add(closing)  # kept until done (the dialog may be gone by then)
                closing.add_done_callback(_CLOSING.discard)

        opening.add_done_callback(close)

    async def _children(self, item: QTreeWidgetItem | None) -> None:
        name = self.connection_name
        conn = self.project.file.connections[name]
        assert isinstance(conn, OpcUaConnection)
        path, node = item.data(0, NODE) if item is not None else ((), None)
        waiting = QTreeWidgetItem(item or self.tree, ["reading…"])
        waiting.setDisabled(True)
        try:
            browser = await asyncio.shield(self._session(name))
            tree = await browser.tree(node.node_id if node else OBJECTS, depth=1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the server away, refused, a timeout: said, nothing kept
            log.info("browsing %s failed: %s", name, exc)
            self.close_session()  # the next read opens a new one
            self._drop(waiting)
            if item is not None:
                item.setData(0, LOADED, False)  # expanding again tries again
            self.say(f"Cannot browse {name} ({conn.endpoint}): {_why(exc)}", failed=True)
            return
        self._drop(waiting)
        for child in tree.children:
            self._add_item(item, (*path, child.browse_name), child)
        if item is None:
            count = len(tree.children)
            self.say(f"{name}: {count} nodes under Objects; open one to read what it holds.")

    def _drop(self, waiting: QTreeWidgetItem) -> None:
        parent = waiting.parent()
        if parent is not None:
            parent.removeChild(waiting)
        else:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(waiting))

    def _add_item(
        self, parent: QTreeWidgetItem | None, path: tuple[str, ...], node: BrowsedNode
    ) -> QTreeWidgetItem:
        from hmi.drivers.opcua.browse import taggable

        variable = node.node_class == "Variable"
        kind = (node.data_type + ("" if node.scalar else "[]")) if variable else ""
        known = self._known.get(f"opcua://{self.connection_name}/{node.node_id}", "")
        item = QTreeWidgetItem(
            parent or self.tree, [node.browse_name, kind, node.access, node.units, known]
        )
        item.setToolTip(0, node.node_id + (f"\n{node.description}" if node.description else ""))
        item.setData(0, NODE, (path, node))
        self.tree.blockSignals(True)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        if not variable:
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        elif known:
            item.setToolTip(4, f"the project's tag {known} reads this node")
        elif taggable(node):
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
        else:
            item.setToolTip(0, f"{node.node_id}: not a tag (an array, write-only or of a type "
                               "a tag cannot hold)")  # fmt: skip
            item.setForeground(0, self.palette().placeholderText())
        self.tree.blockSignals(False)
        return item

    # -- picking and naming --------------------------------------------------------------------

    def _on_checked(self, item: QTreeWidgetItem, column: int) -> None:
        if column != 0 or item.data(0, NODE) is None or not self._checkable(item):
            return
        path, node = item.data(0, NODE)
        row = self._pick_of(node.node_id)
        if item.checkState(0) == Qt.CheckState.Checked and row is None:
            from hmi.drivers.opcua.browse import tag_name

            pick = QTreeWidgetItem([tag_name(path), node.node_id])
            pick.setFlags(pick.flags() | Qt.ItemFlag.ItemIsEditable)
            pick.setData(0, NODE, (path, node))
            self.picks.addTopLevelItem(pick)
        elif item.checkState(0) != Qt.CheckState.Checked and row is not None:
            self.picks.takeTopLevelItem(self.picks.indexOfTopLevelItem(row))
        self._update()

    def pick(self, *names: str) -> None:
        """Tick the variables whose BrowseName paths (dotted, below Objects) are ``names``
        (their items must have been read: tests and scripts)."""
        wanted = {tuple(n.split(".")) for n in names}
        for item in self._items():
            path, _node = item.data(0, NODE)
            if path in wanted and self._checkable(item):
                item.setCheckState(0, Qt.CheckState.Checked)

    @staticmethod
    def _checkable(item: QTreeWidgetItem) -> bool:
        return bool(item.flags() & Qt.ItemFlag.ItemIsUserCheckable)

    def item(self, dotted: str) -> QTreeWidgetItem | None:
        """The tree's item at a dotted BrowseName path, if it has been read."""
        wanted = tuple(dotted.split("."))
        return next((i for i in self._items() if i.data(0, NODE)[0] == wanted), None)

    def _items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item.data(0, NODE) is not None:
                found.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return found

    def _pick_of(self, node_id: str) -> QTreeWidgetItem | None:
        for i in range(self.picks.topLevelItemCount()):
            row = self.picks.topLevelItem(i)
            if row.text(1) == node_id:
                return row
        return None

    def names(self) -> list[str]:
        return [self.picks.topLevelItem(i).text(0).strip()
                for i in range(self.picks.topLevelItemCount())]  # fmt: skip

    def problems(self) -> list[str]:
        """What is wrong with the names given (each checked against the project's tags and
        the other new names)."""
        names = self.names()
        found = []
        for index, name in enumerate(names):
            others = {*self.project.tags, *names[:index], *names[index + 1 :]}
            problem = name_problem(name, others)
            if problem is not None:
                found.append(problem)
        return found

    def _update(self) -> None:
        problems = self.problems()
        reason_ok = bool(self.reason.text().strip()) or not self.required
        self.add_button.setEnabled(bool(self.names()) and not problems and reason_ok)
        if problems:
            self.say("; ".join(problems), failed=True)
        elif self.names():
            count = len(self.names())
            self.say(f"{count} new tag{'s' * (count != 1)}: Add tags writes them to project.yaml "
                     "(checked as hmi check does, one audit record).")  # fmt: skip

    def say(self, text: str, *, failed: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("outcome", "failed" if failed else "info")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    # -- adding --------------------------------------------------------------------------------

    def add(self) -> None:
        if self.add_button.isEnabled():
            self.add_button.setEnabled(False)
            self._start(self._add())

    async def _add(self) -> None:
        from hmi.drivers.opcua.browse import tags_yaml_of

        named = []
        for i in range(self.picks.topLevelItemCount()):
            row = self.picks.topLevelItem(i)
            named.append((row.text(0).strip(), row.data(0, NODE)[1]))
        names = [name for name, _node in named]
        root = self.project.root
        try:
            if self.recorder is None:
                raise ConfigError("adding tags needs the audit trail, which this station has not")
            text = tags_yaml_of(named, self.connection_name)
            plan = plan_add_tags(root, text, names, reason=self.reason.text().strip())
            record = await self.recorder.screen_change(plan)
            now = load_project(root)
        except ProjectError as exc:
            self.say("Not added; project.yaml would not pass hmi check:\n" +
                     "\n".join(refused(exc)), failed=True)  # fmt: skip
            self._update_button()
            return
        except ConfigError as exc:
            self.say(f"Not added: {exc}", failed=True)
            self._update_button()
            return
        self.say(f"Added {', '.join(names)} to project.yaml (audit record {record.sequence}).")
        self.project = now
        self._known.update({now.tags[n].address.raw: n for n in names})
        self.tree.blockSignals(True)
        for item in self._items():
            _path, node = item.data(0, NODE)
            tag = self._known.get(f"opcua://{self.connection_name}/{node.node_id}")
            if tag in names:
                item.setText(4, tag)
                item.setData(0, Qt.ItemDataRole.CheckStateRole, None)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        self.tree.blockSignals(False)
        self.picks.clear()
        self.added.emit(now, names)

    def _update_button(self) -> None:
        text = self.status.text()
        self._update()
        self.say(text, failed=True)


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time (is the server running, the endpoint right?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running on that port?)"
    return str(exc) or type(exc).__name__
