"""The Modbus driver: serves every ``modbus://<connection>/...`` address of one connection.
Its writes go out through ``writes.py``; this module polls and publishes.

It keeps the subscribed points, builds the ``PollPlan`` from them and what the devices taught
it, hands the blocks to the line's ``LineScheduler``, and turns what comes back into
``TagValue`` batches, one batch per block read. Only changes are published (a new value or a
new quality), as OPC UA subscriptions do; staleness is the driver's job, since only it knows
each tag's poll period: a value not refreshed for ``stale_periods`` periods turns
Uncertain(Stale). A float that decodes to NaN or infinity is what a failed transmitter sends:
Bad(SensorFailure), the last good value kept.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext
from hmi.model.address import TagAddress
from hmi.model.errors import ConfigError, DriverError, WriteDenied, WriteFailed
from hmi.model.project import ModbusConnection
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

from . import pdu as fc
from .codec import FLOATS, BlockDecoder, Point
from .cost import default_gap
from .linelog import LineLog
from .plan import Block, Knowledge, Limits, PollPlan, cut_for
from .scheduler import Exchange, LineScheduler
from .transport import Transport, check_connection, describe, open_transport
from .writes import check_read_back, payload_for, read_point, write_point

__all__ = ["ModbusDriver", "modbus_driver"]

log = logging.getLogger(__name__)

_CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)
_SENSOR_FAILURE = Quality.bad(QualityReason.SENSOR_FAILURE)
_STALE = Quality.uncertain(QualityReason.STALE)
_NOT_GOOD = object()
"""In ``_Reading.last`` where the point's last published value is not Good (or none yet):
unequal to every value, so the next value read is published."""


@dataclass(slots=True, eq=False)
class _Reading:
    """One block of the plan with its decoder, and per decoded point (in the decoder's order)
    the value it was last published Good with, else ``_NOT_GOOD``. ``last`` is only trusted
    while ``generation`` equals the driver's, which moves whenever ``_live`` changes other
    than by ``on_data`` publishing a Good value."""

    block: Block
    decoder: BlockDecoder
    keys: tuple[str, ...]
    addresses: tuple[TagAddress, ...]
    last: list[Any]
    generation: int = -1

    @staticmethod
    def of(block: Block, points: Sequence[Point]) -> _Reading:
        decoder = BlockDecoder(block.start, points)
        addresses = tuple(p.address for p in decoder.points)
        return _Reading(block, decoder, tuple(a.raw for a in addresses), addresses, [])


def _sent(value: float) -> str:
    """The ``detail`` of a float that is not a number: ``device sent NaN`` (or inf, -inf)."""
    return "device sent NaN" if math.isnan(value) else f"device sent {value}"


class ModbusDriver:
    """One connection (a line): TCP, RTU over a serial port, or RTU over TCP. ``problems``
    says, per address, why it is Bad(ConfigError) (what the device answered, or why the
    address cannot be read in one request)."""

    def __init__(
        self,
        key: str,
        connection: ModbusConnection,
        context: DriverContext,
        *,
        opener: Callable[[], Awaitable[Transport]] | None = None,
        log_summary_s: float = 60.0,
    ) -> None:
        self.key = key
        self._connection = connection
        self._context = context
        self._limits = Limits(
            max_registers=connection.max_registers,
            max_bits=connection.max_bits,
            max_gap=default_gap(connection),
            unit_max_registers=dict(connection.unit_max_registers),
        )
        self._points: dict[TagAddress, Point] = {}
        # Last published value per subscribed address, keyed by the URI text: the hot path
        # looks up one str (its hash is cached) per tag per read.
        self._live: dict[str, TagValue | None] = {}
        self._readings: dict[int, _Reading] = {}  # by id() of each block of the plan
        self._generation = 0
        self._problems: dict[TagAddress, str] = {}
        self._knowledge = Knowledge()
        self._plan = PollPlan()
        self._replan_pending = False
        self._silent_units: dict[int, str] = {}
        self._scheduler = LineScheduler(
            self,
            opener=opener or self._open,
            timeout=connection.timeout_s,
            retries=connection.retries,
            backoff_max=connection.backoff_max_s,
            stale_periods=connection.stale_periods,
        )
        self._health = ConnectionHealth(key, ConnectionState.CONNECTING, "not started")
        self._log = LineLog(key, summary_s=log_summary_s)

    async def _open(self) -> Transport:
        return await open_transport(self._connection)

    # -- Driver protocol -----------------------------------------------------------------------

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    @property
    def plan(self) -> PollPlan:
        return self._plan

    @property
    def problems(self) -> dict[TagAddress, str]:
        return dict(self._problems)

    @property
    def requests_sent(self) -> int:
        return self._scheduler.requests

    @property
    def registers_read(self) -> int:
        return self._scheduler.registers

    async def start(self) -> None:
        try:
            check_connection(self._connection)
        except ConfigError as exc:
            self._set_health(ConnectionState.FAILED, str(exc))
            self._mark(self._points, _CONFIG_ERROR, str(exc))
            return
        self._set_health(ConnectionState.CONNECTING, describe(self._connection))
        self._replan()
        self._scheduler.start()

    async def stop(self) -> None:
        await self._scheduler.stop()
        self._set_health(ConnectionState.STOPPED)

    def subscribe(self, addresses: Sequence[TagAddress]) -> None:
        refused: list[tuple[TagAddress, TagValue]] = []
        for address in addresses:
            try:
                point = self._point(address)
            except ConfigError as exc:
                self._problems[address] = str(exc)
                refused.append((address, TagValue.now(None, _CONFIG_ERROR, detail=str(exc))))
                continue
            self._points[address] = point
            self._live.setdefault(address.raw, None)
        if refused:
            self._context.publish(refused)
        self._replan_soon()

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None:
        for address in addresses:
            self._points.pop(address, None)
            self._live.pop(address.raw, None)
            self._problems.pop(address, None)
        self._readings = {}  # until the new plan: read what is still subscribed, block by block
        self._replan_soon()

    async def write(self, address: TagAddress, value: Any) -> TagValue | None:
        """Encode and range-check (``WriteDenied`` before anything is sent), write ahead of
        every poll, read back and compare; the read-back value is returned and published."""
        try:
            point = self._points.get(address) or self._point(address)
        except ConfigError as exc:
            raise WriteDenied(str(exc)) from None
        payload = payload_for(point, value)
        if not self._scheduler.connected:
            raise WriteFailed(f"{address}: {self.key} is not connected ({self._health.detail})")
        try:
            read_back = await self._scheduler.write(
                lambda exchange: self._write_job(exchange, point, payload, value)
            )
        except fc.ModbusExceptionResponse as exc:
            raise WriteFailed(f"{address}: unit {point.unit} answered {exc}") from exc
        except WriteFailed:
            raise
        except DriverError as exc:
            raise WriteFailed(f"{address}: write not confirmed: {exc}") from exc
        return read_back

    async def read(self, address: TagAddress) -> TagValue:
        """The address's registers or bits, read now, ahead of every poll (as writes are)."""
        point = self._points.get(address) or self._point(address)
        if not self._scheduler.connected:
            raise DriverError(f"{address}: {self.key} is not connected ({self._health.detail})")

        async def job(exchange: Exchange) -> TagValue:
            data = await read_point(exchange, point)
            return TagValue.now(point.decode(data, point.offset))

        try:
            return await self._scheduler.write(job)
        except fc.ModbusExceptionResponse as exc:
            raise DriverError(f"{address}: unit {point.unit} answered {exc}") from exc

    # -- writing (the Modbus side: writes.py) --------------------------------------------------

    async def _write_job(
        self, exchange: Exchange, point: Point, payload: bytes | bool, value: Any
    ) -> TagValue | None:
        force = self._connection.force_multiple_write
        data, written = await write_point(exchange, point, payload, value, force_multiple=force)
        read_back = TagValue.now(point.decode(data, point.offset))
        if point.kind in FLOATS and not math.isfinite(read_back.value):
            read_back = read_back._replace(quality=_SENSOR_FAILURE, detail=_sent(read_back.value))
            self._mark([point.address], _SENSOR_FAILURE, read_back.detail)
        elif point.address.raw in self._live:
            self._live[point.address.raw] = read_back
            self._generation += 1
            self._context.publish([(point.address, read_back)])
        if not point.check_readback:
            return None  # a momentary command: the device may already have reset it, so no
            # read-back can confirm it (the command service then does not compare)
        check_read_back(point, value, read_back.value, data, written)
        return read_back

    # -- plan ----------------------------------------------------------------------------------

    def _point(self, address: TagAddress) -> Point:
        if address.scheme != "modbus" or address.driver_key != self.key:
            raise ConfigError(f"{address} is not served by {self.key}")
        point = Point.from_address(address, self._connection.poll_ms)
        if point.unit == 0 and self._connection.transport == "rtu":
            raise ConfigError(f"{address}: unit 0 is broadcast on a serial line; nothing answers")
        return point

    def _replan_soon(self) -> None:
        """Subscriptions come one address at a time: plan once they have all arrived."""
        if self._replan_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # start() plans
        self._replan_pending = True
        loop.call_soon(self._replan)

    def _replan(self) -> None:
        self._replan_pending = False
        self._plan = PollPlan.build(self._points.values(), self._limits, self._knowledge)
        self._readings = {id(b): _Reading.of(b, b.points) for b in self._plan.blocks}
        left_out = self._plan.left_out
        for address in list(self._problems):
            if address in self._points and address not in left_out:
                del self._problems[address]
        fresh = [a for a, why in left_out.items() if self._problems.get(a) != why]
        self._problems.update(left_out)
        if fresh:
            for address in fresh:
                log.warning("%s left out of polling: %s", address, left_out[address])
            self._mark(fresh, _CONFIG_ERROR)
        self._scheduler.set_plan(self._plan.blocks)

    # -- what the scheduler reports ------------------------------------------------------------

    def on_line(self, state: ConnectionState, detail: str) -> None:
        if state is ConnectionState.CONNECTED:
            self._silent_units.clear()
            self._log.forget_units()
            self._log.line(state, describe(self._connection))
            self._set_health(state, describe(self._connection))
            return
        self._log.line(state, detail)
        self._set_health(state, detail)
        if state is ConnectionState.FAILED:
            self._mark(self._points, _CONFIG_ERROR, detail)
            return
        self._mark(
            [a for a in self._points if a not in self._problems],
            Quality.bad(QualityReason.NOT_CONNECTED),
            detail,
        )

    def on_data(self, block: Block, data: bytes) -> None:
        """Publish what changed in one block, as one batch. The hot path of the driver: the
        whole block decoded in a few C calls, one list comparison when nothing changed, and
        per changed value one TagValue, stored and published."""
        if self._log.failing:
            self._log.block_read(str(block))
        reading = self._readings.get(id(block))
        if reading is None or reading.block is not block:
            # From a plan replaced while the read was on the line: its points may be read by
            # another block now, or no longer subscribed.
            live = self._live
            reading = _Reading.of(block, [p for p in block.points if p.address.raw in live])
            self._generation += 1  # the readings of the current plan must look at _live again
        values = reading.decoder.decode(data)
        if reading.generation != self._generation:
            self._resync(reading)
        last = reading.last
        if values == last:
            return
        faulty = reading.decoder.not_finite(values)
        if faulty:
            self._sensor_failed(reading, values, faulty)
        now = time.time()
        live = self._live
        keys = reading.keys
        addresses = reading.addresses
        make = tuple.__new__  # builds the same TagValue as its Python-level __new__, in C
        batch = []
        for key, address, value, previous in zip(keys, addresses, values, last, strict=True):
            if value != previous:
                new = make(TagValue, (value, GOOD, None, now, ""))
                live[key] = new
                batch.append((address, new))
        reading.last = values
        if batch:
            self._context.publish(batch)

    def _resync(self, reading: _Reading) -> None:
        reading.last = [
            _NOT_GOOD if old is None or old.quality is not GOOD else old.value
            for old in map(self._live.get, reading.keys)
        ]
        reading.generation = self._generation

    def _sensor_failed(self, reading: _Reading, values: list[Any], slots: list[int]) -> None:
        """Mark the points at ``slots`` Bad(SensorFailure), keeping their last good value, and
        put their previous entry back in ``values`` so the caller leaves them alone."""
        for slot in slots:
            self._mark([reading.addresses[slot]], _SENSOR_FAILURE, _sent(values[slot]))
            values[slot] = reading.last[slot]

    def on_refused(self, block: Block, exc: fc.ModbusExceptionResponse) -> None:
        position = cut_for(block)
        now = time.monotonic()
        if position is None:
            why = f"unit {block.unit} refused {block.table} {block.start}..{block.end - 1}: {exc}"
            self._knowledge.refuse(block, why, now)
        else:
            log.info("%s answered %s; reading it as two parts from %d", block, exc, position)
            self._knowledge.add_cut(block.unit, block.table, position, now)
        self._replan()

    def on_failed(self, block: Block, reason: QualityReason, detail: str) -> None:
        self._log.block_failed(str(block), detail)
        self._mark([p.address for p in block.points], Quality.bad(reason), detail)

    def on_unit(self, unit: int, online: bool, detail: str) -> None:
        self._log.unit(unit, online, detail)
        if online:
            self._silent_units.pop(unit, None)
        else:
            self._silent_units[unit] = detail
            self._mark(
                [a for a, p in self._points.items() if p.unit == unit and a not in self._problems],
                Quality.bad(QualityReason.COMM_FAILURE),
                f"unit {unit} does not answer: {detail}",
            )
        if self._scheduler.connected:
            silent = ", ".join(f"unit {u} silent" for u in sorted(self._silent_units))
            detail = describe(self._connection) + (f"; {silent}" if silent else "")
            self._set_health(ConnectionState.CONNECTED, detail)

    def on_stale(self, block: Block) -> None:
        stale = [p.address for p in block.points if self._good(p.address)]
        if stale:
            self._mark(stale, _STALE)

    def on_tick(self) -> None:
        self._log.tick()
        since = self._knowledge.since
        if since is not None and time.monotonic() - since > self._connection.relearn_s:
            log.info("%s: trying refused addresses and merged reads again", self.key)
            self._knowledge.forget()
            self._replan()

    # -- publishing ----------------------------------------------------------------------------

    def _good(self, address: TagAddress) -> bool:
        value = self._live.get(address.raw)
        return value is not None and value.quality.is_good

    def _mark(self, addresses: Iterable[TagAddress], quality: Quality, detail: str = "") -> None:
        """The last value (or None) with another quality, for each subscribed address whose
        quality differs. ``detail`` (else the address's known problem) says why."""
        live = self._live
        problems = self._problems
        batch = []
        for address in addresses:
            key = address.raw
            if key not in live:
                continue
            old = live[key]
            why = detail or problems.get(address, "")
            if old is None:
                new = TagValue.now(None, quality, detail=why)
            elif old.quality != quality or old.detail != why:
                new = old.with_quality(quality, why)
            else:
                continue
            live[key] = new
            batch.append((address, new))
        if batch:
            self._generation += 1
            self._context.publish(batch)

    def _set_health(self, state: ConnectionState, detail: str = "") -> None:
        if self._health.state is state and self._health.detail == detail:
            return
        self._health = ConnectionHealth(self.key, state, detail)
        self._context.report_health(self._health)


def modbus_driver(key: str, connection: ModbusConnection, context: DriverContext) -> ModbusDriver:
    """The factory the driver registry calls: ``factory(key, connection_config, context)``."""
    if not isinstance(connection, ModbusConnection):
        raise ConfigError(f"{key}: expected a Modbus connection, got {type(connection).__name__}")
    return ModbusDriver(key, connection, context)
