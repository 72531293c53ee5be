"""Waiting for the first painted screen: what ``hmi run --smoke`` reports before it exits."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from hmi.storage.trail import AuditTrail
    from hmi.storage.users import UserStore
    from hmi.views.main_window import MainWindow


class FirstPaint(QObject):
    """Resolves ``painted`` once ``widget`` has handled its first paint event (the event
    filter sees the event before the widget paints; the future is set on the next turn of the
    loop, after the paint). Qt paints nothing that is not shown, so this is the screen seen."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.widget = widget
        self.painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget and event.type() == QEvent.Type.Paint:
            self.widget.removeEventFilter(self)
            QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        if not self.painted.done():
            self.painted.set_result(None)


async def close_after_first_paint(
    window: MainWindow, trail: AuditTrail, users: UserStore, timeout_s: float = 60.0
) -> tuple[int, str]:
    """``hmi run --smoke``: wait until the window's screen has painted, then close the window as
    an operator would; (0, what painted) or (1, why not). Never opens the first-administrator
    dialog: a station without an administrator is a refusal, not a wait."""
    started = time.monotonic()
    canvas = window.canvas
    first = FirstPaint(canvas) if canvas is not None else None  # before the loop runs again
    if await trail.call(users.needs_admin):
        code, said = 1, "no administrator; add one with `hmi users add`"
    elif canvas is None or first is None:
        code, said = 1, "no screen was built"
    else:
        try:
            await asyncio.wait_for(first.painted, timeout_s)
        except TimeoutError:
            code, said = 1, f"no paint in {timeout_s:.0f} s"
        else:
            size = canvas.size()
            code, said = (
                0,
                (
                    f"screen {window.current_screen_id!r} painted ({size.width()}x{size.height()}) "
                    f"{time.monotonic() - started:.2f} s after start"
                ),
            )
    window.quit()
    return code, said
