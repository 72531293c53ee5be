"""What the station's watches of a shared database have in common (``SessionWatch``,
``SharedAlarms``): a task on the station's loop, woken by a PostgreSQL channel's notices (a
listener thread) and by its own poll, reading on a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from hmi.storage.shared.user_watch import ChannelListener

__all__ = ["ChannelWatch"]


class ChannelWatch:
    """Holds the task, the listener and the reader thread; ``stop`` ends all three, in that
    order (the task first, so nothing asks the reader for more)."""

    def __init__(self, reader_name: str) -> None:
        self._reader = ThreadPoolExecutor(1, thread_name_prefix=reader_name)
        self._task: asyncio.Task[None] | None = None
        self.listener: ChannelListener | None = None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.listener is not None:
            await asyncio.to_thread(self.listener.stop)
            self.listener = None
        self._reader.shutdown(wait=True)
