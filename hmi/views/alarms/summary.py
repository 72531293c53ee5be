"""The alarm summary: every annunciated alarm (and the shelved, suppressed and out-of-service
lists) in a sortable, filterable table; the rationalisation of the selected alarm (cause,
consequence, corrective action) beside it; and the operator's actions on alarms.

Every action goes through ``CommandService.alarm`` (permission, validation, audit record);
never to the engine directly. A refusal is shown with its reason until the next action.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import (
    ANNUNCIATED,
    UNACKNOWLEDGED,
    AlarmAction,
    AlarmState,
    AlarmStatus,
)
from hmi.model.tags import TagConfig
from hmi.runtime.alarms import AlarmChanges, AlarmEngineService
from hmi.runtime.commands import AlarmRequest, CommandResult, CommandService
from hmi.views.alarms.detail import AlarmDetail
from hmi.views.alarms.dialogs import ReasonDialog, ShelveDialog, duration_text
from hmi.views.alarms.table import (
    LISTS,
    MESSAGE,
    PRIORITY,
    STATUS_ROLE,
    AlarmTableModel,
    BlinkDelegate,
    column_widths,
)
from hmi.views.cell_table import CellTableView
from hmi.widgets.alarm_mark import BLINK_MS, PRIORITY_NUMBER, priority_pixmap
from hmi.widgets.base import set_style_property
from hmi.widgets.dialog import CommandButton
from hmi.widgets.theme.chrome import wear_sheet

__all__ = ["AlarmSummaryView"]

log = logging.getLogger(__name__)

S = AlarmState
_MASKED = frozenset({S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE})
_BUTTON_ACTIONS = {  # what each button does, for the permission it needs
    "ack": AlarmAction.ACKNOWLEDGE,
    "ack_page": AlarmAction.ACKNOWLEDGE,
    "shelve": AlarmAction.SHELVE,
    "unshelve": AlarmAction.UNSHELVE,
    "service": AlarmAction.OUT_OF_SERVICE,
    "comment": AlarmAction.COMMENT,
    "reset": AlarmAction.RESET,
}
_DONE = {
    AlarmAction.ACKNOWLEDGE: "acknowledged",
    AlarmAction.RESET: "reset",
    AlarmAction.SHELVE: "shelved",
    AlarmAction.UNSHELVE: "unshelved",
    AlarmAction.OUT_OF_SERVICE: "taken out of service",
    AlarmAction.RETURN_TO_SERVICE: "returned to service",
    AlarmAction.COMMENT: "commented",
}


class AlarmSummaryView(QWidget):
    """``alarms``: the alarm service (read); ``commands``: the one path for actions;
    ``tags``: formats values with units."""

    action_finished = Signal(object)  # each CommandResult
    _arrived = Signal()

    def __init__(
        self,
        alarms: AlarmEngineService,
        commands: CommandService,
        *,
        tags: Mapping[str, TagConfig] | None = None,
        origin: str = "alarm summary",
        refresh_ms: int = 100,
        flood_ms: int = 500,
        resync_ms: int = 1000,
        resync_rows: int = 500,
        parent: QWidget | None = None,
    ) -> None:
        """Events are gathered and shown every ``refresh_ms`` at most, every ``flood_ms`` after
        a batch of ``FLOOD_BATCH`` events or more (a flood). What changes without an
        event (the live value; when a shelved or out-of-service alarm's condition came) is read
        again every ``resync_ms``: the rows on screen, and ``resync_rows`` more in turn, so the
        whole table is current within a few seconds at a bounded cost per tick."""
        super().__init__(parent)
        wear_sheet(self)  # a window of the station (also shown on its own)
        self.setObjectName("AlarmSummary")
        self._alarms = alarms
        self._commands = commands
        self.origin = origin
        self.dialog: QDialog | None = None
        self._tasks: set[asyncio.Task[list[CommandResult]]] = set()
        self.model = AlarmTableModel(tags, self)
        self.delegate = BlinkDelegate(self.model, self)
        self._build()
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(refresh_ms)
        self._paces = (refresh_ms, flood_ms)
        self._refresh.timeout.connect(self.refresh)
        self.blink = QTimer(self)  # the one timer every unacknowledged row blinks by
        self.blink.setInterval(BLINK_MS)
        self.blink.timeout.connect(self._toggle)
        self._resync = QTimer(self)
        self._resync.setInterval(resync_ms)
        self._resync.timeout.connect(self._on_resync)
        self._resync_due = False
        self._flooding = False
        self.resync_rows = resync_rows
        self._resync_at = 0
        self._arrived.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        self._changes = AlarmChanges(alarms, self._arrived.emit)
        self.model.load(alarms.summary() + alarms.statuses(_MASKED))
        self.refresh()
        self.table.sortByColumn(PRIORITY, Qt.SortOrder.AscendingOrder)
        self._resync.start()

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.list_box = QComboBox(self)
        self.list_box.setObjectName("AlarmList")
        self.list_box.addItems(list(LISTS))
        self.list_box.currentTextChanged.connect(
            lambda name: self.model.set_filter(states=LISTS[name])
        )
        bar.addWidget(self.list_box)
        self.priority_buttons: dict[Priority, QToolButton] = {}
        for priority in Priority:
            tool = QToolButton(self)
            tool.setObjectName("AlarmPriorityFilter")
            tool.setCheckable(True)
            tool.setChecked(True)
            tool.setIcon(QIcon(priority_pixmap(priority, 16)))
            tool.setText(f"{PRIORITY_NUMBER[priority]} {priority.value.title()}")
            tool.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            tool.toggled.connect(self._priorities_changed)
            self.priority_buttons[priority] = tool
            bar.addWidget(tool)
        self.text_filter = QLineEdit(self)
        self.text_filter.setObjectName("AlarmTextFilter")
        self.text_filter.setPlaceholderText("Filter: alarm, tag or message")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.textChanged.connect(lambda text: self.model.set_filter(text=text))
        bar.addWidget(self.text_filter, 1)
        self.figures = QLabel("", self)
        self.figures.setObjectName("AlarmFigures")
        bar.addWidget(self.figures)
        column.addLayout(bar)

        middle = QHBoxLayout()
        self.table = CellTableView(self)
        self.table.setObjectName("AlarmTable")
        self.table.setModel(self.model)
        self.table.setItemDelegate(self.delegate)
        self.table.cell_painter = self.delegate  # one call paints the page
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(16, 16))
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for section, width in column_widths(self.table.font(), self.model.tags).items():
            header.resizeSection(section, width)
        header.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        middle.addWidget(self.table, 1)
        self.detail = AlarmDetail(self.model.tags, self)
        middle.addWidget(self.detail)
        column.addLayout(middle, 1)

        actions = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, slot in (
            ("ack", "Acknowledge", self.acknowledge_selected),
            ("ack_page", "Acknowledge page", self.acknowledge_page),
            ("shelve", "Shelve…", self.shelve),
            ("unshelve", "Unshelve", self.unshelve),
            ("service", "Out of service…", self.toggle_service),
            ("comment", "Comment…", self.comment),
            ("reset", "Reset", self.reset),
        ):
            button = CommandButton(text, self)
            button.setObjectName("AlarmAction")
            button.clicked.connect(slot)
            self.buttons[key] = button
            actions.addWidget(button)
        self.result = QLabel("", self)
        self.result.setObjectName("AlarmActionResult")
        self.result.setWordWrap(True)
        actions.addWidget(self.result, 1)
        column.addLayout(actions)

    # -- data ----------------------------------------------------------------------------------

    @property
    def settled(self) -> bool:
        """Whether every alarm event so far is shown (no refresh pending)."""
        return not self._changes.pending and not self._refresh.isActive()

    def _schedule(self) -> None:
        if self._flooding and self.blink.isActive():
            return  # a flood while rows blink: the next blink phase refreshes (one repaint)
        if not self._refresh.isActive():  # at most one refresh per interval, even in a flood
            self._refresh.start()

    def refresh(self) -> None:
        """Show what changed since the last refresh (every event since then, merged)."""
        batch = self._changes.take()
        self._refresh.setInterval(self._paces[batch.flood])  # a flood: fewer, bigger refreshes
        self._flooding = batch.flood
        if batch.lost:
            self.model.load(self._alarms.summary() + self._alarms.statuses(_MASKED))
        else:
            self.model.apply(self._alarms.status(alarm_id) for alarm_id in batch.alarm_ids)
        self.table.executeDelayedItemsLayout()  # now: painted with the blink, not just after
        counts = self._alarms.counts()
        unack = sum(counts.unacknowledged.values())
        self.figures.setText(
            f"{counts.annunciated} in summary, {unack} unacknowledged · {counts.shelved} shelved"
            f" · {counts.suppressed} suppressed · {counts.out_of_service} out of service"
        )
        if unack:
            if not self.blink.isActive():
                self.blink.start()
        elif self.blink.isActive() or not self.delegate.lit:
            self.blink.stop()
            self.set_lit(True)
        self._selection_changed()

    def _on_resync(self) -> None:
        if self.blink.isActive():
            self._resync_due = True  # with the next blink phase: one repaint for both
        else:
            self.resync()

    def resync(self) -> None:
        """Read again the rows on screen and the next ``resync_rows`` of the table."""
        self._resync_due = False
        if not self.isVisible():
            return
        self.model.forget_texts()
        statuses = [self._fresh(status) for status in self.visible()]
        ids = self.model.alarm_ids()
        if ids:
            start = self._resync_at % len(ids)
            chunk = ids[start : start + self.resync_rows]
            self._resync_at = start + len(chunk)
            statuses += [self._alarms.status(alarm_id) for alarm_id in chunk]
        self.model.apply(statuses)

    def _toggle(self) -> None:
        """A blink phase, and with it what waits (a flood's events, the resync): the model's
        changes and the blink reach the screen in one repaint."""
        if self._changes.pending and not self._refresh.isActive():
            self.refresh()
        if self._resync_due:
            self.resync()
        self.set_lit(not self.delegate.lit)

    def set_lit(self, lit: bool) -> None:
        """The blink phase: one repaint of the table, no model change."""
        if lit != self.delegate.lit:
            self.delegate.lit = lit
            self.table.viewport().update()

    def _priorities_changed(self) -> None:
        ticked = {p for p, b in self.priority_buttons.items() if b.isChecked()}
        self.model.set_filter(priorities=ticked)

    def selected(self) -> list[AlarmStatus]:
        rows = self.table.selectionModel().selectedRows()
        return [self._fresh(index.data(STATUS_ROLE)) for index in rows]

    def current(self) -> AlarmStatus | None:
        chosen = self.selected()
        return chosen[0] if len(chosen) == 1 else None

    def _fresh(self, status: AlarmStatus) -> AlarmStatus:
        return self._alarms.status(status.alarm_id)

    def visible(self) -> list[AlarmStatus]:
        """The rows the operator can see now (the page), in the order shown."""
        rows = self.model.rowCount()
        if not rows:
            return []
        top = max(0, self.table.rowAt(0))
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        bottom = rows - 1 if bottom < 0 else bottom
        return self.model.rows[top : bottom + 1]

    def select(self, alarm_id: str) -> None:
        for row, status in enumerate(self.model.rows):
            if status.alarm_id == alarm_id:
                index = self.model.index(row, 0)
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows
                )
                self.table.selectionModel().select(index, flags)
                self.table.scrollTo(index)
                return

    def _selection_changed(self, *_: object) -> None:
        chosen = self.selected()
        one = chosen[0] if len(chosen) == 1 else None
        self.detail.show_status(one)
        max_s = self.max_shelve_s(one.alarm_id) if one else 0.0
        b = self.buttons
        b["ack"].setEnabled(any(s.state in UNACKNOWLEDGED for s in chosen))
        b["ack_page"].setEnabled(any(s.state in UNACKNOWLEDGED for s in self.visible()))
        b["shelve"].setEnabled(one is not None and one.state in ANNUNCIATED and max_s > 0)
        b["unshelve"].setEnabled(one is not None and one.state is S.SHELVED)
        out = one is not None and one.state is S.OUT_OF_SERVICE
        b["service"].setText("Return to service…" if out else "Out of service…")
        b["service"].setEnabled(one is not None)
        b["comment"].setEnabled(one is not None)
        b["reset"].setEnabled(one is not None and one.state is S.LATCHED_ACKED)
        self._apply_access()

    def update_actions(self) -> None:
        """After a login, logout, lock or unlock: the buttons follow the new user's role."""
        self._selection_changed()

    def _apply_access(self) -> None:
        """A button the user's role may not use is disabled, its tooltip saying which
        permission and roles it needs, before anyone types a reason."""
        for key, button in self.buttons.items():
            refusal = self._commands.alarm_refusal(_BUTTON_ACTIONS[key])
            if refusal is not None:
                button.setEnabled(False)
            button.setToolTip(refusal or "")

    def max_shelve_s(self, alarm_id: str) -> float:
        """How long this alarm may be shelved: its own maximum and the project's, whichever
        is smaller (0: never)."""
        engine = self._alarms.engine
        own = engine.definition(alarm_id).max_shelve_s
        limit = engine.settings.max_shelve_s
        return limit if own is None else min(own, limit)

    # -- actions (each through the command service) --------------------------------------------

    def acknowledge_selected(self) -> None:
        self.submit([self._request(AlarmAction.ACKNOWLEDGE, s) for s in self.selected()
                     if s.state in UNACKNOWLEDGED])  # fmt: skip

    def acknowledge_page(self) -> None:
        self.submit([self._request(AlarmAction.ACKNOWLEDGE, s) for s in self.visible()
                     if s.state in UNACKNOWLEDGED])  # fmt: skip

    def reset(self) -> None:
        status = self.current()
        if status is not None:
            self.submit([self._request(AlarmAction.RESET, status)])

    def unshelve(self) -> None:
        status = self.current()
        if status is not None:
            self.submit([self._request(AlarmAction.UNSHELVE, status)])

    def shelve(self) -> None:
        status = self.current()
        if status is None:
            return
        dialog = ShelveDialog(status, self.max_shelve_s(status.alarm_id), self)
        dialog.accepted.connect(
            lambda: self.submit(
                [self._request(AlarmAction.SHELVE, status, dialog.reason, dialog.duration_s)]
            )
        )
        self._open(dialog)

    def toggle_service(self) -> None:
        status = self.current()
        if status is None:
            return
        back = status.state is S.OUT_OF_SERVICE
        action = AlarmAction.RETURN_TO_SERVICE if back else AlarmAction.OUT_OF_SERVICE
        dialog = ReasonDialog(
            status,
            title=f"{'Return' if back else 'Take'} {status.alarm_id} "
            f"{'to' if back else 'out of'} service",
            ok_text="Return to service" if back else "Take out of service",
            required=not back,
            parent=self,
        )
        dialog.accepted.connect(lambda: self.submit([self._request(action, status, dialog.reason)]))
        self._open(dialog)

    def comment(self) -> None:
        status = self.current()
        if status is None:
            return
        dialog = ReasonDialog(status, title=f"Comment on {status.alarm_id}",
                              ok_text="Add comment", label="Comment", parent=self)  # fmt: skip
        dialog.accepted.connect(
            lambda: self.submit([self._request(AlarmAction.COMMENT, status, dialog.reason)])
        )
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _: setattr(self, "dialog", None))
        dialog.open()

    def _request(
        self,
        action: AlarmAction,
        status: AlarmStatus,
        reason: str = "",
        duration_s: float | None = None,
    ) -> AlarmRequest:
        return AlarmRequest(action, status.alarm_id, reason, duration_s, self.origin)

    def submit(self, requests: list[AlarmRequest]) -> asyncio.Task[list[CommandResult]]:
        """Run the requests one after the other on the loop; the UI stays responsive."""
        task = asyncio.get_event_loop().create_task(self._run(requests))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, requests: list[AlarmRequest]) -> list[CommandResult]:
        results = []
        for request in requests:
            result = await self._commands.alarm(request)
            results.append(result)
            self.action_finished.emit(result)
        self._show_results(results)
        self.refresh()
        return results

    def _show_results(self, results: list[CommandResult]) -> None:
        refused = [r for r in results if not r.ok]
        if refused:
            first = refused[0]
            request = first.request
            assert isinstance(request, AlarmRequest)
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            text = f"{request.action.value} {request.alarm_id} {first.outcome.value}: "
            text += f"{first.message}{more}"
            outcome = first.outcome.value
        elif results:
            request = results[0].request
            assert isinstance(request, AlarmRequest)
            done = _DONE.get(request.action, "done")
            which = request.alarm_id if len(results) == 1 else f"{len(results)} alarms"
            text = f"{which} {done}"
            if request.action is AlarmAction.SHELVE and request.duration_s is not None:
                text += f" for {duration_text(request.duration_s)}"
            outcome = "done"
        else:
            return
        self.result.setText(text)
        set_style_property(self.result, "outcome", outcome)

    def release(self) -> None:
        self._refresh.stop()
        self._resync.stop()
        self.blink.stop()
        self._changes.close()
