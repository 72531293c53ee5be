"""Network drivers on an I/O thread with its own asyncio loop.

The OPC UA and Modbus drivers decode on their loop: asyncua turns a Publish response of 10,000
notifications into Python objects in one 60-80 ms stretch. On the UI loop that stretch is a
frozen screen; on a thread of its own the interpreter hands the UI thread the GIL every few
milliseconds (``sys.getswitchinterval``), so the screen stays smooth.

``ThreadedDriver`` wraps such a driver (the ``Driver`` protocol on both sides):

* calls from the station (``subscribe``, ``unsubscribe``, ``start``, ``stop``, ``write``) are
  marshalled onto the I/O loop in the order they were made;
* what the driver reports (value batches and connection health) is queued in the order it was
  reported and handed to the station's loop in chunks of at most ``chunk`` values per callback,
  so one burst never holds the UI loop for long and a health change never overtakes the values
  reported before it (a late Good value must not cover a Bad(NotConnected) mark).

The broker stays on the station's loop: it is the one place the two threads meet
(docs/architecture.md, "The thread boundary").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from hmi.drivers.base import ConnectionHealth, Driver, DriverContext, ValueBatch
from hmi.model.address import TagAddress
from hmi.model.value import TagValue

__all__ = ["IoLoop", "ThreadedDriver"]

log = logging.getLogger(__name__)

T = TypeVar("T")

CHUNK = 500  # values handed to the station's loop per callback
STOP_TIMEOUT_S = 10.0


class IoLoop:
    """An asyncio loop running on a daemon thread of its own until ``close()``."""

    def __init__(self, name: str = "hmi-io") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self.start()
        assert self._loop is not None
        return self._loop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(_shutdown(loop))
                finally:
                    asyncio.set_event_loop(None)
                    loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        ready.wait()

    def call(self, callback: Any, *args: Any) -> None:
        """Run ``callback(*args)`` on the I/O loop, after every call made before it."""
        self.loop.call_soon_threadsafe(callback, *args)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the I/O loop from another loop; cancelling the caller cancels it."""
        return await asyncio.wrap_future(self.submit(coro))

    def close(self, timeout: float = 5.0) -> None:
        """Cancel what still runs on the loop, stop it and wait for the thread (bounded).
        A later use starts a new thread and loop."""
        thread = self._stop()
        if thread is not None:
            thread.join(timeout)
            self._left_behind(thread, timeout)

    async def aclose(self, timeout: float = 5.0) -> None:
        """``close()`` for a caller on another asyncio loop: it waits without blocking it."""
        thread = self._stop()
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        self._left_behind(thread, timeout)

    def _stop(self) -> threading.Thread | None:
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is None or loop is None or not thread.is_alive():
            return None
        loop.call_soon_threadsafe(loop.stop)
        return thread

    @staticmethod
    def _left_behind(thread: threading.Thread, timeout: float) -> None:
        if thread.is_alive():
            log.warning("the I/O thread did not finish within %.0f s; left behind", timeout)


async def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    """What ``asyncio.run`` does on the way out: cancel the leftovers, close generators."""
    tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    if tasks:
        try:
            async with asyncio.timeout(2.0):
                await asyncio.gather(*tasks, return_exceptions=True)
        except TimeoutError:
            log.warning("%d task(s) on the I/O loop ignored cancellation", len(tasks))
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


class ThreadedDriver:
    """The ``Driver`` protocol on the station's loop for a driver living on an ``IoLoop``.

    ``create(context)`` makes the driver; its context's callbacks run on the I/O thread and
    queue what they are given for the station's ``context``."""

    def __init__(
        self,
        create: Callable[[DriverContext], Driver],
        io: IoLoop,
        context: DriverContext,
        *,
        chunk: int = CHUNK,
    ) -> None:
        self._io = io
        self._context = context
        self._chunk = max(1, chunk)
        # Reported by the driver, not yet handed over: value lists and health changes in the
        # order they came. Only ever touched under the lock.
        self._lock = threading.Lock()
        self._queue: deque[ValueBatch | ConnectionHealth] = deque()
        self._station: asyncio.AbstractEventLoop | None = None  # bound by start()
        self._scheduled = False
        # On the station's loop only: the value list being handed over, and how far.
        self._work: ValueBatch = ()
        self._pos = 0
        # Made here, on the caller's thread: a driver's constructor only stores its settings.
        self.inner = create(DriverContext(self._reported_values, self._reported_health))
        self.key = self.inner.key
        self._health = self.inner.health
        # Stopped, subscription changes wait here for a start: sent to the I/O loop, they
        # would start a thread and loop of its own that nothing ever stops (one a station
        # stopped before its window let go of its tags).
        self._stopped = False
        self._held: list[tuple[Callable[..., None], list[TagAddress]]] = []

    def __getattr__(self, name: str) -> Any:
        # Read-only figures of the driver (connects, requests_sent, plan, ...) for diagnostics.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- the Driver protocol, on the station's loop ---------------------------------------------

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    async def start(self) -> None:
        self._station = asyncio.get_running_loop()
        self._stopped = False
        held, self._held = self._held, []
        for change, addresses in held:
            self._io.call(change, addresses)
        self._wake_station()
        await self._io.run(self.inner.start())

    async def stop(self) -> None:
        try:
            if self._io.running:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self._io.run(self.inner.stop())
        except TimeoutError:
            # Closing the I/O loop cancels whatever it left running.
            log.warning("%s did not stop within %.0f s", self.key, STOP_TIMEOUT_S)
        finally:
            self._stopped = True
            self._hand_over_all()

    def subscribe(self, addresses: Sequence[TagAddress]) -> None:
        self._change(self.inner.subscribe, list(addresses))

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None:
        self._change(self.inner.unsubscribe, list(addresses))

    def _change(self, change: Callable[..., None], addresses: list[TagAddress]) -> None:
        if self._stopped:
            self._held.append((change, addresses))
        else:
            self._io.call(change, addresses)

    async def write(self, address: TagAddress, value: Any) -> TagValue | None:
        return await self._io.run(self.inner.write(address, value))

    async def read(self, address: TagAddress) -> TagValue:
        return await self._io.run(self.inner.read(address))

    # -- reported by the driver, on the I/O thread ----------------------------------------------

    def _reported_values(self, batch: ValueBatch) -> None:
        if batch:
            self._report(batch)  # not copied: a published batch is the receiver's

    def _reported_health(self, health: ConnectionHealth) -> None:
        self._report(health)

    def _report(self, item: ValueBatch | ConnectionHealth) -> None:
        with self._lock:
            self._queue.append(item)
            station = self._station
            if station is None or self._scheduled:
                return  # start() wakes the station; or it is awake already
            self._scheduled = True
        self._call_station(station)

    def _wake_station(self) -> None:
        with self._lock:
            station = self._station
            if station is None or self._scheduled or not self._queue:
                return
            self._scheduled = True
        self._call_station(station)

    def _call_station(self, station: asyncio.AbstractEventLoop) -> None:
        try:
            station.call_soon_threadsafe(self._hand_over)
        except RuntimeError:  # the station's loop is closed: nobody is listening any more
            with self._lock:
                self._scheduled = False

    # -- handed over, on the station's loop -----------------------------------------------------

    def _hand_over(self) -> None:
        """Up to ``chunk`` values (whole batches where they fit, slices of a bigger one) and
        the health changes between them, in order; then yield to the loop."""
        budget = self._chunk
        try:
            while budget > 0:
                if self._pos >= len(self._work):
                    with self._lock:
                        if not self._queue:
                            self._scheduled = False
                            self._work, self._pos = (), 0
                            return
                        head = self._queue.popleft()
                    if isinstance(head, ConnectionHealth):
                        self._health = head
                        self._context.report_health(head)
                        continue
                    self._work, self._pos = head, 0
                work, start = self._work, self._pos
                if start == 0 and len(work) <= budget:
                    self._pos = len(work)  # first: a listener that raises loses this batch only
                    budget -= len(work)
                    self._context.publish(work)
                else:
                    self._pos = min(start + budget, len(work))
                    budget -= self._pos - start
                    self._context.publish(work[start : self._pos])
        except BaseException:
            self._reschedule()
            raise
        self._reschedule()

    def _reschedule(self) -> None:
        station = self._station
        if station is not None and not station.is_closed():
            station.call_soon(self._hand_over)
        else:
            with self._lock:
                self._scheduled = False

    def _hand_over_all(self) -> None:
        """Everything still queued, at once (the driver has stopped)."""
        work, pos = self._work, self._pos
        self._work, self._pos = (), 0
        if pos < len(work):
            self._context.publish(work[pos:])
        while True:
            with self._lock:
                if not self._queue:
                    return
                head = self._queue.popleft()
            if isinstance(head, ConnectionHealth):
                self._health = head
                self._context.report_health(head)
            else:
                self._context.publish(head)
