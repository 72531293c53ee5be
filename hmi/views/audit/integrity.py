"""The integrity badge: verifies the whole chain on a worker thread, with progress, and says
the outcome in one line: green "chain verified: N records", or red "chain broken at record
#n (uuid): what is wrong"."""

from __future__ import annotations

import logging
import re
import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QWidget

from hmi.model.audit.verify import VerifyResult
from hmi.storage.audit import AuditKeyError, AuditStore, ChainHead

__all__ = ["IntegrityBadge", "describe_verification", "integrity_statement"]

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^record \d+ \([0-9a-f-]+\):\s*")


class _Stopped(Exception):
    """The view closed while verifying."""


def describe_verification(result: VerifyResult) -> str:
    if result.ok:
        return f"chain verified: {result.count:,} records"
    problem = result.first_problem
    if problem is None:
        return f"chain broken: {result.problems} problem(s) in {result.count:,} records"
    what = _PREFIX.sub("", problem.message)
    more = f"; {result.problems - 1} more problem(s)" if result.problems > 1 else ""
    return f"chain broken at record #{problem.sequence} ({problem.uuid}): {what}{more}"


_SCHEMES = {
    "hmac-sha256": "HMAC-SHA256 with the site's audit key: only a holder of the key can make "
    "a chain that verifies",
    "sha256": "none: plain SHA-256, which anyone who can write the database could recompute "
    "over a rewritten chain; compare the head with a checkpoint kept outside the database",
}


def integrity_statement(
    result: VerifyResult | None, head: ChainHead | None, checkpoint: str = ""
) -> list[tuple[str, str]]:
    """(label, sentence) lines saying what was verified: the range walked, the head it ended
    at, the checkpoint compared ("" when none was) and the key (or none)."""
    if result is None:
        walked = "not verified for this report"
    else:
        span = (
            f"records #{result.first_sequence} to #{result.last_sequence} ({result.count:,})"
            if result.count
            else "no records"
        )
        outcome = (
            "intact: every record's hash recomputed from its fields matches, each links to "
            "the one before it, and the chain ends at the stored head"
            if result.ok
            else f"BROKEN: {describe_verification(result)}"
        )
        walked = f"{span}, the whole chain from its first record: {outcome}"
    scheme = head.scheme if head is not None else ""
    return [
        ("Verified", walked),
        ("Head", f"record #{head.sequence}, hash {head.hash}" if head and head.hash else "—"),
        ("Checkpoint", checkpoint or "none compared (no checkpoint was given)"),
        ("Key", _SCHEMES.get(scheme, "— (an empty chain)")),
    ]


class IntegrityBadge(QFrame):
    """``state`` property: idle | running | ok | broken | error (the style sheet colours it)."""

    verified = Signal(object)  # VerifyResult
    _progress = Signal(int, int)
    _done = Signal(object)
    _error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IntegrityBadge")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel("chain not verified yet", self)
        self.label.setObjectName("IntegrityText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("IntegrityProgress")
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.bar.hide()
        row.addWidget(self.label, 1)
        row.addWidget(self.bar)
        self.result: VerifyResult | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._progress.connect(self._on_progress)
        self._done.connect(self._on_done)
        self._error.connect(self._on_error)
        self._set_state("idle")

    @property
    def state(self) -> str:
        return str(self.property("state"))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _set_state(self, state: str) -> None:
        self.setProperty("state", state)
        for widget in (self, self.label):
            widget.setProperty("state", state)
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def verify(self, store: AuditStore) -> None:
        """Start verifying the whole chain in the background (once at a time)."""
        if self.running:
            return
        self.result = None
        self.label.setText("verifying the chain…")
        self.bar.setRange(0, 0)
        self.bar.show()
        self._set_state("running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._work, args=(store,), name="audit-verify", daemon=True
        )
        self._thread.start()

    def _work(self, store: AuditStore) -> None:
        def progress(done: int, total: int) -> None:
            if self._stop.is_set():
                raise _Stopped
            self._progress.emit(done, total)

        try:
            # A wrong key would make every record look tampered: say that it is the key.
            store.check_key()
            result = store.verify(progress=progress, workers=1)
        except _Stopped:
            return
        except AuditKeyError as exc:
            if not self._stop.is_set():
                self._error.emit(str(exc))
            return
        except Exception as exc:
            if not self._stop.is_set():
                log.exception("verify failed")
                self._error.emit(str(exc))
            return
        if not self._stop.is_set():
            self._done.emit(result)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(done, total) / total))
            self.bar.setFormat(f"{done:,} / {total:,}")

    def _on_done(self, result: VerifyResult) -> None:
        self.result = result
        self.bar.hide()
        self.label.setText(describe_verification(result))
        self.label.setToolTip(str(result))
        self._set_state("ok" if result.ok else "broken")
        self.verified.emit(result)

    def _on_error(self, text: str) -> None:
        self.bar.hide()
        self.label.setText(f"could not verify the chain: {text}")
        self._set_state("error")

    def cancel(self) -> None:
        """Stop a verification under way (at its next progress report) and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
