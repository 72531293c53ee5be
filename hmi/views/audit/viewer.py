"""The auditor view: the audit trail, read-only. Filters (time range, user, action, tag,
result, text), a records table that pages as it scrolls (fast on a million records), a
detail pane with every field of the selected record, an integrity badge that verifies the
whole chain in the background, and exports of the filtered range (CSV, JSON, PDF).

Opening it needs ``view_audit``; exporting needs ``export_audit``. The view reads through an
audit store of its own (its own connections), never through the station's trail worker, so
a long query never delays an operator's record. Verifications and exports are recorded.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hmi.model.audit.record import AuditAction, AuditResult
from hmi.model.audit.verify import VerifyResult
from hmi.model.errors import WriteDenied
from hmi.model.security import Permission
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import SessionService
from hmi.storage.audit import AuditQuery, AuditStore
from hmi.storage.db import make_engine
from hmi.storage.export import StateTexts, export_to_path
from hmi.views.audit.detail import AuditDetail
from hmi.views.audit.filters import AuditFilterBar
from hmi.views.audit.integrity import IntegrityBadge
from hmi.views.audit.report import write_store_report
from hmi.views.audit.table import PAGE_SIZE, AuditTableModel
from hmi.widgets.theme.chrome import wear_sheet

__all__ = ["EXPORT_FORMATS", "AuditorView"]

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("csv", "json", "pdf")


class AuditorView(QWidget):
    """A window of its own. ``source`` is a database URL (the view opens and closes its own
    store) or an open ``AuditStore``."""

    exported = Signal(object)  # Path, once the file is written and the export recorded
    _export_done = Signal(object, int, object)  # Path, count, VerifyResult | None
    _export_failed = Signal(str)

    def __init__(
        self,
        source: str | AuditStore,
        *,
        key: bytes | None = None,
        sessions: SessionService | None = None,
        recorder: AuditRecorder | None = None,
        site: str = "",
        states: StateTexts | None = None,
        page_size: int = PAGE_SIZE,
        verify_on_open: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        if sessions is not None and not sessions.can(Permission.VIEW_AUDIT):
            raise WriteDenied("the audit trail needs the view_audit permission")
        super().__init__(parent, Qt.WindowType.Window)
        wear_sheet(self)  # a window of the station (also shown on its own)
        self.setObjectName("AuditorView")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Audit trail — {site}" if site else "Audit trail")
        self.resize(1400, 820)
        self._owns_store = isinstance(source, str)
        self.store = AuditStore(make_engine(source), key=key) if isinstance(source, str) else source
        self._sessions = sessions
        self._recorder = recorder
        self.site = site or "HMI"
        self.states = states  # the project's state texts: MAN/AUTO next to 0/1
        self._export_thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

        column = QVBoxLayout(self)
        column.setContentsMargins(10, 10, 10, 10)
        column.setSpacing(8)
        top = QHBoxLayout()
        title = QLabel(self.windowTitle(), self)
        title.setObjectName("AuditTitle")
        title_font = title.font()  # bigger than the rest: the theme sets no font sizes
        title_font.setPointSizeF(title_font.pointSizeF() * 1.4)
        title.setFont(title_font)
        self.badge = IntegrityBadge(self)
        self.verify_button = QPushButton("Verify chain", self)
        self.verify_button.setObjectName("VerifyButton")
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.badge, 1)
        top.addWidget(self.verify_button)
        column.addLayout(top)

        self.filters = AuditFilterBar(self)
        column.addWidget(self.filters)

        self.model = AuditTableModel(self.store, page_size=page_size, states=states, parent=self)
        self.table = QTableView(self)
        self.table.setObjectName("AuditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.detail = AuditDetail(self, states=states)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setSizes([980, 420])
        column.addWidget(self.splitter, 1)
        self._fitted = False
        self._fitting = False
        self._user_sized = False
        header.sectionResized.connect(self._on_section_resized)

        bottom = QHBoxLayout()
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("AuditCount")
        self.export_label = QLabel("", self)
        self.export_label.setObjectName("ExportStatus")
        bottom.addWidget(self.count_label)
        bottom.addStretch(1)
        bottom.addWidget(self.export_label)
        self.export_buttons: dict[str, QPushButton] = {}
        for fmt in EXPORT_FORMATS:
            button = QPushButton(f"Export {fmt.upper()}…", self)
            button.setObjectName(f"Export{fmt.upper()}")
            button.clicked.connect(lambda _checked=False, f=fmt: self.ask_export(f))
            bottom.addWidget(button)
            self.export_buttons[fmt] = button
        column.addLayout(bottom)
        self._update_export_buttons()

        self.filters.changed.connect(self.model.set_query)
        self.model.count_changed.connect(self._show_count)
        self.model.loading_changed.connect(lambda _loading: self._show_count(self.model.total))
        self.model.failed.connect(lambda text: self.count_label.setText(f"query failed: {text}"))
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.verify_button.clicked.connect(self.verify)
        self.badge.verified.connect(self._on_verified)
        self._export_done.connect(self._on_exported)
        self._export_failed.connect(self._on_export_failed)
        self.model.set_query(self.filters.query())
        if verify_on_open:
            self.verify()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self.fit_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.isVisible() and not self._user_sized:
            self.fit_columns()

    def _on_section_resized(self, *_: object) -> None:
        if not self._fitting:
            self._user_sized = True  # the auditor's own widths stay

    def fit_columns(self) -> None:
        """Columns sized to what they hold at the window's width: number and time whole, the
        detail pane at most 27 %, and the last column (reason / error) keeps a readable
        share instead of being pushed out of view on a 1366-pixel screen."""
        total = max(600, self.splitter.width())
        detail = min(420, round(total * 0.27))
        self.splitter.setSizes([total - detail, detail])
        metrics = self.table.fontMetrics()
        fixed = {
            0: metrics.horizontalAdvance("0000000") + 16,
            1: metrics.horizontalAdvance("2026-12-06 21:07:23") + 16,
            7: metrics.horizontalAdvance("cancelled") + 16,
        }
        shares = {2: 0.1, 3: 0.11, 4: 0.15, 5: 0.14, 6: 0.18}  # of what is left; reason 0.32
        room = max(300, total - detail - sum(fixed.values()) - 24)
        header = self.table.horizontalHeader()
        self._fitting = True
        try:
            for col, width in fixed.items():
                header.resizeSection(col, width)
            for col, share in shares.items():
                header.resizeSection(col, round(room * share))
        finally:
            self._fitting = False
        self._fitted = True

    # -- records -------------------------------------------------------------------------------

    def set_query(self, query: AuditQuery) -> None:
        self.model.set_query(query)

    def _show_count(self, total: int | None) -> None:
        shown = self.model.rowCount()
        matching = "counting…" if total is None else f"{total:,} record(s) match"
        self.count_label.setText(f"{matching}; {shown:,} loaded (scroll for more)")

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.detail.show_record(self.model.record(rows[0].row()) if rows else None)

    # -- integrity -----------------------------------------------------------------------------

    def verify(self) -> None:
        self.badge.verify(self.store)

    def _on_verified(self, result: VerifyResult) -> None:
        self._record(
            AuditAction.AUDIT_VERIFY,
            result=AuditResult.DONE if result.ok else AuditResult.FAILED,
            reason=str(result)[:500], origin="auditor view",
        )  # fmt: skip

    def _record(
        self, action: AuditAction, then: Callable[[], None] | None = None, **kw: object
    ) -> None:
        """Record an auditor's action (when the view has a recorder), then ``then()``."""
        if self._recorder is None:
            if then is not None:
                then()
            return
        recorder = self._recorder

        async def record() -> None:
            try:
                await recorder.record_action(action, **kw)  # type: ignore[arg-type]
            except Exception as exc:
                log.error("could not record %s: %s", action.value, exc)
                self.export_label.setText(f"not recorded: {exc}")
                return
            if then is not None:
                then()

        task = asyncio.get_event_loop().create_task(record())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- export --------------------------------------------------------------------------------

    def can_export(self) -> bool:
        return self._sessions is None or self._sessions.can(Permission.EXPORT_AUDIT)

    def _update_export_buttons(self) -> None:
        allowed = self.can_export()
        for button in self.export_buttons.values():
            button.setEnabled(allowed and not self.exporting)
            button.setToolTip("" if allowed else "exporting needs the export_audit permission")

    @property
    def exporting(self) -> bool:
        return self._export_thread is not None and self._export_thread.is_alive()

    def _who(self) -> str:
        session = self._sessions.current if self._sessions is not None else None
        if session is None:
            return "station"
        user = session.user
        return f"{user.user_id} — {user.full_name} ({user.role})"

    def ask_export(self, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export the filtered records as {fmt.upper()}", f"audit.{fmt}",
            f"{fmt.upper()} (*.{fmt})",
        )  # fmt: skip
        if path:
            self.export(fmt, Path(path))

    def export(self, fmt: str, path: Path) -> None:
        """Write the records the filters select to ``path`` in the background."""
        if not self.can_export():
            raise WriteDenied("exporting the audit trail needs the export_audit permission")
        if self.exporting:
            return
        query = self.model.query
        verification = self.badge.result
        who = self._who()
        self.export_label.setText(f"exporting to {path.name}…")

        def work() -> None:
            try:
                if fmt == "pdf":
                    count, result = write_store_report(
                        self.store, path, query, site=self.site, generated_by=who,
                        verification=verification, states=self.states,
                    )  # fmt: skip
                    self._export_done.emit(path, count, result)
                else:
                    summary = export_to_path(
                        self.store, path, query, fmt=fmt, exported_by=who, states=self.states
                    )
                    self._export_done.emit(path, summary.count, summary.verification)
            except Exception as exc:
                log.exception("export to %s failed", path)
                self._export_failed.emit(str(exc))

        self._export_thread = threading.Thread(target=work, name="audit-export", daemon=True)
        self._export_thread.start()
        self._update_export_buttons()

    def _on_exported(self, path: Path, count: int, verification: VerifyResult | None) -> None:
        self._update_export_buttons()
        chain = "" if verification is None or verification.ok else " (the chain is BROKEN)"

        def done() -> None:
            self.export_label.setText(f"exported {count:,} record(s) to {path}{chain}")
            self.exported.emit(path)

        self._record(
            AuditAction.AUDIT_EXPORT, then=done, target_address=f"file:{path}",
            new_value=count, reason=str(self.model.query.describe()), origin="auditor view",
        )  # fmt: skip

    def _on_export_failed(self, text: str) -> None:
        self._update_export_buttons()
        self.export_label.setText(f"export failed: {text}")

    # -- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.model.close()
        self.badge.cancel()
        if self._owns_store and not self.exporting:  # an export under way keeps it open
            self.store.close()
        super().closeEvent(event)
