"""The line scheduler: what goes on the line next, and what a silence means.

One scheduler per line (TCP connection, gateway or serial port); every unit on the line shares
its queue. Writes go first; then the poll block that has been due longest, each block at its
own period. Up to ``max_in_flight`` requests are outstanding (always 1 on RTU). An answer is
handed to the driver once the next request is on the line, so the driver decodes and
publishes while the device works on that one instead of leaving the line idle.

A unit that stays silent through its retries goes offline: its tags go Bad(CommFailure) and it
is probed with one block, one attempt, at growing intervals (capped at ``backoff_max``), so it
costs the line one timeout per interval instead of one per block per cycle; the other units
keep their rates. A lost link fails every tag with Bad(NotConnected) and is reopened with
capped exponential backoff (at once, and from the shortest delay, after a link that
answered). Blocks not read for ``stale_periods`` periods (plus the time one
silent unit may hold the line: its timeout times its attempts) are reported stale.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hmi.drivers.base import ConnectionState
from hmi.model.errors import ConfigError
from hmi.model.quality import QualityReason

from .errors import LineDown, NoResponse
from .pdu import (
    GATEWAY_EXCEPTIONS,
    TRANSIENT_EXCEPTIONS,
    ModbusExceptionResponse,
    ProtocolError,
    read_data,
    read_request,
)
from .plan import Block
from .transport import Transport

log = logging.getLogger(__name__)

T = TypeVar("T")
Exchange = Callable[[int, bytes], Awaitable[bytes]]
"""``exchange(unit, pdu) -> response pdu``, with the line's timeout and retries."""

FIRST_BACKOFF_S = 0.5


class PollHandler(Protocol):
    """What the scheduler tells the driver. Called on the loop; must not block. ``on_data``
    comes one loop turn after its answer (the next request has gone out by then); the other
    reports about the line (``on_line``, ``on_unit``, ``on_refused``, ``on_failed``) come only
    after the line was awaited again, so they keep the order of what happened on it."""

    def on_line(self, state: ConnectionState, detail: str) -> None: ...

    def on_data(self, block: Block, data: bytes) -> None: ...

    def on_refused(self, block: Block, exc: ModbusExceptionResponse) -> None: ...

    def on_failed(self, block: Block, reason: QualityReason, detail: str) -> None: ...

    def on_unit(self, unit: int, online: bool, detail: str) -> None: ...

    def on_stale(self, block: Block) -> None: ...

    def on_tick(self) -> None: ...


@dataclass(slots=True, eq=False)
class _Timer:
    block: Block
    due: float
    last_ok: float | None = None
    busy: bool = False
    stale: bool = False
    retired: bool = False


@dataclass(slots=True)
class _Unit:
    online: bool = True
    backoff: float = 0.0
    retry_at: float = 0.0
    probing: bool = False


class LineScheduler:
    def __init__(
        self,
        handler: PollHandler,
        *,
        opener: Callable[[], Awaitable[Transport]],
        timeout: float,
        retries: int,
        backoff_max: float,
        stale_periods: float,
    ) -> None:
        self._handler = handler
        self._opener = opener
        self._timeout = timeout
        self._retries = retries
        self._backoff_max = backoff_max
        self._stale_periods = stale_periods
        self._timers: dict[tuple[Any, ...], _Timer] = {}
        self._heap: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()
        self._units: dict[int, _Unit] = {}
        self._writes: deque[tuple[Callable[[Exchange], Awaitable[Any]], asyncio.Future[Any]]]
        self._writes = deque()
        self._writing = False
        self._wake = asyncio.Event()
        self._transport: Transport | None = None
        self._down: asyncio.Future[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self.requests = 0
        """Requests sent, retries included."""
        self.answers = 0
        """Well-formed answers received (exception answers included)."""
        self.registers = 0
        """Registers (or bits) read successfully."""

    @property
    def connected(self) -> bool:
        return self._transport is not None

    # -- plan ----------------------------------------------------------------------------------

    def set_plan(self, blocks: Sequence[Block]) -> None:
        """Poll these blocks from now on. A block already known (same unit, table, range and
        period) keeps its timing; a new one is due at once."""
        now = time.monotonic()
        timers: dict[tuple[Any, ...], _Timer] = {}
        for block in blocks:
            timer = self._timers.get(block.key)
            if timer is None:
                timer = _Timer(block, now)
                self._push(timer)
            timer.block = block
            timers[block.key] = timer
        for key, timer in self._timers.items():
            if key not in timers:
                timer.retired = True
        self._timers = timers
        self._wake.set()

    def _push(self, timer: _Timer) -> None:
        heapq.heappush(self._heap, (timer.due, next(self._seq), timer))

    def _unit(self, unit: int) -> _Unit:
        state = self._units.get(unit)
        if state is None:
            state = self._units[unit] = _Unit()
        return state

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="modbus line")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        """Open the line, serve it until it drops, reopen with capped exponential backoff."""
        first = min(FIRST_BACKOFF_S, self._backoff_max)
        delay = first
        while True:
            try:
                transport = await self._opener()
            except ConfigError as exc:
                self._handler.on_line(ConnectionState.FAILED, str(exc))
                return
            except (OSError, TimeoutError) as exc:
                detail = f"cannot connect ({exc or type(exc).__name__}); next try in {delay:g} s"
                self._handler.on_line(ConnectionState.DISCONNECTED, detail)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)
                continue
            answers = self.answers
            reason = await self._serve(transport)
            self._handler.on_line(ConnectionState.DISCONNECTED, reason)
            if self.answers > answers:
                # The link worked (a gateway closing its connections now and then, the end
                # of an outage): reconnect at once, and back off from the shortest delay.
                delay = first
                continue
            # Dropped before anything answered (a server at its connection limit, a device
            # server that accepts and closes): keep backing off rather than hammering it.
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)

    async def _serve(self, transport: Transport) -> str:
        loop = asyncio.get_running_loop()
        self._transport = transport
        self._down = loop.create_future()
        self._units.clear()  # a new link: every unit gets a fresh chance
        now = time.monotonic()
        for timer in self._timers.values():
            timer.due = now
            self._push(timer)
        self._handler.on_line(ConnectionState.CONNECTED, "")
        tasks = [loop.create_task(self._worker(transport)) for _ in range(transport.max_in_flight)]
        tasks.append(loop.create_task(self._housekeeping()))
        try:
            ends: list[asyncio.Future[Any]] = [transport.lost, self._down]
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
            return self._down.result() if self._down.done() else "connection lost"
        finally:
            self._transport = None
            transport.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            while self._writes:
                _, waiter = self._writes.popleft()
                if not waiter.done():
                    waiter.set_exception(LineDown("the line went down before the write was sent"))

    # -- the queue -----------------------------------------------------------------------------

    async def write(self, job: Callable[[Exchange], Awaitable[T]]) -> T:
        """Run ``job`` (a write, a read-modify-write, its read-back) ahead of every poll, one
        write job at a time so that nothing another write does lands in between."""
        if self._transport is None:
            raise LineDown("not connected")
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._writes.append((job, waiter))
        self._wake.set()
        return await waiter

    async def _next(self) -> _Timer | tuple[Callable[[Exchange], Awaitable[Any]], Any]:
        while True:
            if self._writes and not self._writing:
                self._writing = True
                return self._writes.popleft()
            now = time.monotonic()
            heap = self._heap
            while heap and heap[0][0] <= now:
                due, _, timer = heapq.heappop(heap)
                if timer.retired or timer.busy or timer.due != due:
                    continue
                unit = self._unit(timer.block.unit)
                if not unit.online:
                    # One probe at a time, and not before the unit's backoff is over.
                    timer.due = now + self._timeout if unit.probing else max(unit.retry_at, now)
                    if timer.due > now:
                        self._push(timer)
                        continue
                    unit.probing = True
                timer.busy = True
                return timer
            self._wake.clear()
            try:
                wait = heap[0][0] - now if heap else None
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the event is set, and stopping the line would hang.
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _worker(self, transport: Transport) -> None:
        try:
            while True:
                job = await self._next()
                if isinstance(job, _Timer):
                    await self._poll(transport, job)
                else:
                    await self._run_write(transport, *job)
        except LineDown as exc:
            if self._down is not None and not self._down.done():
                self._down.set_result(str(exc))
        except Exception as exc:  # a bug must not kill the line silently
            log.exception("Modbus line worker failed")
            if self._down is not None and not self._down.done():
                self._down.set_result(f"internal error: {exc}")

    async def _exchange(self, transport: Transport, unit: int, pdu: bytes, attempts: int) -> bytes:
        error: Exception = NoResponse("no attempt made")
        for _ in range(attempts):
            self.requests += 1
            try:
                answer = await transport.request(unit=unit, pdu=pdu, timeout=self._timeout)
            except (NoResponse, ProtocolError) as exc:
                error = exc
            else:
                self.answers += 1
                return answer
        raise error

    async def _run_write(
        self, transport: Transport, job: Callable[[Exchange], Awaitable[Any]], waiter: Any
    ) -> None:
        attempts = 1 + self._retries

        async def exchange(unit: int, pdu: bytes) -> bytes:
            return await self._exchange(transport, unit, pdu, attempts)

        try:
            result = await job(exchange)
        except LineDown as exc:
            if not waiter.done():
                waiter.set_exception(exc)
            raise
        except Exception as exc:
            if not waiter.done():
                waiter.set_exception(exc)
        else:
            if not waiter.done():
                waiter.set_result(result)
        finally:
            self._writing = False
            self._wake.set()

    # -- polling -------------------------------------------------------------------------------

    async def _poll(self, transport: Transport, timer: _Timer) -> None:
        block = timer.block
        unit = self._unit(block.unit)
        probe = not unit.online
        now = time.monotonic()
        timer.due = max(timer.due + block.period_ms / 1000.0, now)
        try:
            pdu = await self._exchange(
                transport,
                block.unit,
                read_request(block.function, block.start, block.count),
                1 if probe else 1 + self._retries,
            )
            data = read_data(block.function, block.count, pdu)
        except ModbusExceptionResponse as exc:
            if exc.code in GATEWAY_EXCEPTIONS:
                self._silent(block, unit, f"{exc} (reported by the gateway)")
            else:
                self._answered(block.unit, unit)
                if exc.code in TRANSIENT_EXCEPTIONS:
                    log.debug("%s: %s; read again next period", block, exc)
                elif exc.code == 0x04:
                    self._call(
                        self._handler.on_failed, block, QualityReason.DEVICE_FAILURE, str(exc)
                    )
                else:
                    self._call(self._handler.on_refused, block, exc)
        except NoResponse:
            self._silent(block, unit, f"no answer within {self._timeout:g} s")
        except ProtocolError as exc:
            self._answered(block.unit, unit)
            self._call(self._handler.on_failed, block, QualityReason.COMM_FAILURE, str(exc))
        else:
            self._answered(block.unit, unit)
            timer.last_ok = time.monotonic()
            timer.stale = False
            self.registers += block.count
            asyncio.get_running_loop().call_soon(self._call, self._handler.on_data, block, data)
        finally:
            if probe:
                unit.probing = False
            timer.busy = False
            if not timer.retired:
                self._push(timer)

    def _answered(self, number: int, unit: _Unit) -> None:
        if unit.online:
            return
        unit.online = True
        unit.backoff = 0.0
        now = time.monotonic()
        for timer in self._timers.values():
            if timer.block.unit == number and not timer.busy:
                timer.due = now
                self._push(timer)
        self._call(self._handler.on_unit, number, True, "answering again")

    def _silent(self, block: Block, unit: _Unit, detail: str) -> None:
        if unit.online:
            unit.online = False
            unit.backoff = min(FIRST_BACKOFF_S * 2, self._backoff_max)
            self._call(self._handler.on_unit, block.unit, False, f"{block}: {detail}")
        else:
            unit.backoff = min(unit.backoff * 2, self._backoff_max)
        unit.retry_at = time.monotonic() + unit.backoff
        log.debug("unit %d silent (%s); next try in %.3g s", block.unit, detail, unit.backoff)

    async def _housekeeping(self) -> None:
        while True:
            periods = [t.block.period_ms for t in self._timers.values()]
            await asyncio.sleep(min(max(min(periods, default=1000) / 2000, 0.05), 1.0))
            now = time.monotonic()
            # Allow for one silent unit holding the line through its retries before it is
            # backed off: that delays everyone once and is not worth an alarm-like Stale.
            allowance = (1 + self._retries) * self._timeout
            for timer in self._timers.values():
                age = self._stale_periods * timer.block.period_ms / 1000.0 + allowance
                if timer.last_ok is not None and not timer.stale and now - timer.last_ok > age:
                    timer.stale = True
                    self._call(self._handler.on_stale, timer.block)
            self._call(self._handler.on_tick)

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("Modbus driver callback %s failed", getattr(callback, "__name__", ""))
