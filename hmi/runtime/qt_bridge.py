"""The one Qt file of the runtime: hands the broker's changes to widgets on the UI thread,
in batches, at a bounded rate whatever the input rate."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from hmi.drivers.base import ConnectionHealth
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandResult, CommandService

log = logging.getLogger(__name__)

SLICE_S = 0.004  # the longest one flush holds the UI loop before Qt may paint what changed

ValueCallback = Callable[[TagValue], None]


class Binding:
    """One widget's subscription to one tag; ``release()`` ends it (idempotent)."""

    __slots__ = ("_bridge", "callback", "tag")

    def __init__(self, bridge: QtTagBridge, tag: str, callback: ValueCallback) -> None:
        self._bridge: QtTagBridge | None = bridge
        self.tag = tag
        self.callback = callback

    def release(self) -> None:
        if self._bridge is not None:
            self._bridge._release(self)
            self._bridge = None


class QtTagBridge(QObject):
    """Binds widgets to tags. On each tick it takes the broker's batch of changes and calls the
    callbacks of the widgets bound to the changed tags (only those)."""

    health_changed = Signal(object)  # ConnectionHealth
    command_finished = Signal(object)  # CommandResult
    flushed = Signal(int)  # how many tag changes this tick delivered
    access_changed = Signal()  # someone logged in or out, or the station locked or unlocked

    def __init__(
        self,
        broker: TagBroker,
        commands: CommandService,
        *,
        refresh_hz: float = 10.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.broker = broker
        self.commands = commands
        self._callbacks: dict[str, list[Binding]] = {}
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(1000 / refresh_hz)))
        self._timer.timeout.connect(self._tick)
        # Changes taken but not yet shown, and how far delivery got: a tick delivers for at
        # most ``slice_s``, then lets Qt paint what changed before the next slice.
        self.slice_s = SLICE_S
        self._queue: list[tuple[str, TagValue]] = []
        self._pos = 0
        self._delivered = 0
        self._more = QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._next_slice)
        self._pending: set[asyncio.Task[CommandResult]] = set()
        self.last_flush_time = 0.0
        broker.add_health_listener(self.health_changed.emit)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def bind(self, tag: str, callback: ValueCallback) -> Binding:
        """Subscribe ``callback`` to a tag; it is called at once with the current value."""
        current = self.broker.subscribe(tag)
        binding = Binding(self, tag, callback)
        self._callbacks.setdefault(tag, []).append(binding)
        callback(current)
        return binding

    def _release(self, binding: Binding) -> None:
        bindings = self._callbacks.get(binding.tag)
        if bindings and binding in bindings:
            bindings.remove(binding)
            if not bindings:
                del self._callbacks[binding.tag]
            self.broker.unsubscribe(binding.tag)

    def bound_tags(self) -> list[str]:
        return list(self._callbacks)

    def flush(self) -> None:
        """Take the broker's changes and show every one of them now."""
        self._take()
        self._deliver(math.inf)

    def _tick(self) -> None:
        self._take()
        if not self._more.isActive():
            self._deliver(self.slice_s)

    def _next_slice(self) -> None:
        self._deliver(self.slice_s)

    def _take(self) -> None:
        changes = self.broker.take_changes()
        self.last_flush_time = time.monotonic()
        if not changes:
            return
        callbacks = self._callbacks
        fresh = [(tag, value) for tag, value in changes.items() if tag in callbacks]
        if self._pos < len(self._queue):  # still showing the last tick's: the newest wins
            merged = dict(self._queue[self._pos :])
            merged.update(fresh)
            fresh = list(merged.items())
        elif not fresh:
            self.flushed.emit(0)  # changes, none of them on a bound tag
            return
        self._queue, self._pos = fresh, 0

    def _deliver(self, budget_s: float) -> None:
        """Call the bound callbacks of the queued changes in order for up to ``budget_s``;
        what is left goes on after Qt has painted (a zero-time timer: posted events first)."""
        queue, callbacks = self._queue, self._callbacks
        if not queue:
            return
        clock = time.perf_counter
        deadline = clock() + budget_s
        pos, end, delivered = self._pos, len(queue), 0
        while pos < end:
            tag, value = queue[pos]
            pos += 1
            bindings = callbacks.get(tag)
            if bindings:
                for binding in tuple(bindings):
                    try:
                        binding.callback(value)
                    except Exception:
                        log.exception("widget bound to %s failed to show %s", tag, value)
                delivered += 1
            if clock() >= deadline:
                break
        self._delivered += delivered
        if pos < end:
            self._pos = pos
            self._more.start()
            return
        delivered, self._delivered = self._delivered, 0
        self._queue, self._pos = [], 0
        self._more.stop()
        self.flushed.emit(delivered)

    def health(self) -> dict[str, ConnectionHealth]:
        return dict(self.broker.health)

    def write_refusal(self, tag: str) -> str | None:
        """Why a write of ``tag`` would be refused now (None: it may be tried); widgets that
        write disable themselves with it and re-ask on ``access_changed``."""
        return self.commands.write_refusal(tag)

    @property
    def pending_writes(self) -> int:
        """Writes submitted whose result has not come back yet."""
        return len(self._pending)

    def submit_write(self, tag: str, value: Any, origin: str = "") -> asyncio.Task[CommandResult]:
        """Send a write through the command service without blocking the UI; the result
        arrives on ``command_finished`` (and on the returned task)."""
        task = asyncio.get_event_loop().create_task(self.commands.write(tag, value, origin=origin))
        self._pending.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[CommandResult]) -> None:
        self._pending.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("write task failed: %s", task.exception())
            return
        self.command_finished.emit(task.result())
