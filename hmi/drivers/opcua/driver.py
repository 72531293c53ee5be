"""The OPC UA driver: one per connection, a supervisor task, a fresh session per connection.

The supervisor connects, creates the subscriptions and monitored items of every subscribed tag,
then watches three signals of a lost connection: asyncua's ``connection_lost_callback`` (socket
closed, or its watchdog's ServerStatus read failing every ``keepalive_s``), a status change
from the server on a subscription (BadTimeout, transferred), and two keep-alive periods without
any publish response. On loss it reports DISCONNECTED (the broker marks the tags
Bad(NotConnected), keeping their values), drops the session and reconnects with capped
exponential backoff (``reconnect_min_s`` .. ``reconnect_max_s``), re-creating everything; the
server's initial notifications bring fresh Good values. A refused certificate, a missing
password, a rejected identity are FAILED: it keeps trying, slowly, so trusting the certificate
with ``hmi certs trust`` is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from asyncua import Client, ua

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext
from hmi.drivers.opcua.certs import Pki
from hmi.drivers.opcua.quality import quality_of, status_text
from hmi.drivers.opcua.session import (
    SessionSettings,
    close_client,
    explain,
    open_client,
    read_operation_limits,
)
from hmi.drivers.opcua.subscriptions import GroupRules, SubscriptionSet
from hmi.drivers.opcua.values import builtin_type, coerce_variant, tag_value
from hmi.model.address import TagAddress
from hmi.model.errors import ConfigError, DriverError, WriteFailed
from hmi.model.project import OpcUaConnection
from hmi.model.quality import Quality, QualityReason
from hmi.model.value import TagValue

__all__ = ["OpcUaDriver", "opcua_driver"]

log = logging.getLogger(__name__)

_CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)
_S = ua.StatusCodes
# Session-level codes: the session or channel is gone, reconnect.
_SESSION_GONE = {
    _S.BadSessionIdInvalid,
    _S.BadSessionClosed,
    _S.BadSessionNotActivated,
    _S.BadSecureChannelIdInvalid,
    _S.BadSecureChannelClosed,
    _S.BadConnectionClosed,
    _S.BadServerHalted,
    _S.BadShutdown,
    _S.BadCommunicationError,
    _S.BadTimeout,
    _S.BadRequestTimeout,
    _S.BadSubscriptionIdInvalid,
    _S.BadNoSubscription,
}


class _Lost(Exception):
    """The connection is gone; the message says why."""


class _Live:
    """One connected session and its subscriptions."""

    def __init__(self, client: Client, subs: SubscriptionSet) -> None:
        self.client = client
        self.subs = subs
        self.lost: str | None = None


class OpcUaDriver:
    """Serves the ``opcua://<connection>/<NodeId>`` addresses of one connection."""

    def __init__(
        self,
        key: str,
        connection: OpcUaConnection,
        context: DriverContext,
        *,
        pki: Pki | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(connection, OpcUaConnection):
            raise ConfigError(
                f"{key}: the OPC UA driver needs an opcua connection, not {connection!r}"
            )
        self.key = key
        self.connection = connection
        self._context = context
        self._pki = pki
        self._environ = environ
        self._rules = GroupRules(connection)
        self._wanted: dict[TagAddress, ua.NodeId] = {}
        self._to_add: set[TagAddress] = set()
        self._to_remove: set[TagAddress] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._live: _Live | None = None
        self._types: dict[ua.NodeId, ua.VariantType | None] = {}  # per node
        self._datatypes: dict[ua.NodeId, ua.VariantType | None] = {}  # per DataType
        self._health = ConnectionHealth(key, ConnectionState.STOPPED, "not started")
        self.connects = 0
        self._per_call = connection.max_items_per_call  # lowered by what servers refuse

    # -- the Driver protocol ----------------------------------------------------------------------

    @property
    def health(self) -> ConnectionHealth:
        return self._health

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._supervise(), name=f"opcua supervisor {self.key}"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_health(ConnectionState.STOPPED, "stopped")

    def subscribe(self, addresses: Sequence[TagAddress]) -> None:
        refused = []
        for address in addresses:
            if address in self._wanted:
                continue
            try:
                node_id = ua.NodeId.from_string(address.path)
            except Exception as exc:  # asyncua raises several kinds for a malformed NodeId
                log.warning(
                    "%s: %s is not a NodeId asyncua can parse: %s", address, address.path, exc
                )
                why = f"{address.path!r} is not a NodeId"
                refused.append((address, TagValue.now(None, _CONFIG_ERROR, detail=why)))
                continue
            self._wanted[address] = node_id
            # Also when a removal is still pending: the sync removes before it adds, so the
            # item is made anew and the server sends its current value, which the broker
            # forgot when the last subscriber left (an unchanging value would never come).
            self._to_add.add(address)
        if refused:
            self._context.publish(refused)
        self._wake.set()

    def unsubscribe(self, addresses: Sequence[TagAddress]) -> None:
        for address in addresses:
            if self._wanted.pop(address, None) is None:
                continue
            if address in self._to_add:
                self._to_add.discard(address)
            else:
                self._to_remove.add(address)
        self._wake.set()

    async def write(self, address: TagAddress, value: Any) -> TagValue | None:
        """Coerce to the node's DataType, write the Value alone (no timestamps or status: many
        servers refuse those), then read the value back."""
        live = self._live
        if live is None or live.lost is not None:
            raise WriteFailed(f"{address}: not connected to {self.connection.endpoint}")
        try:
            node_id = ua.NodeId.from_string(address.path)
        except Exception:
            raise ConfigError(f"{address}: {address.path!r} is not a NodeId") from None
        uaclient = live.client.uaclient
        try:
            vtype = await self._variant_type(live.client, node_id, address)
            variant = coerce_variant(value, vtype, str(address))
            item = ua.WriteValue()
            item.NodeId = node_id
            item.AttributeId = ua.AttributeIds.Value
            item.Value = ua.DataValue(Value=variant, StatusCode=None)
            params = ua.WriteParameters()
            params.NodesToWrite = [item]
            (status,) = await uaclient.write(params)
            if not status.is_good():
                raise WriteFailed(f"{status_text(status)} (writing {value!r} to {address})")
            read = ua.ReadParameters()
            read.NodesToRead = [ua.ReadValueId(NodeId=node_id, AttributeId=ua.AttributeIds.Value)]
            (dv,) = await uaclient.read(read)
        except ua.UaStatusCodeError as exc:
            raise WriteFailed(f"{status_text(exc.code)} (writing {value!r} to {address})") from None
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise WriteFailed(
                f"{address}: no answer from {self.connection.endpoint} ({type(exc).__name__}); "
                "the value may or may not have been written"
            ) from None
        return tag_value(dv, time.time())

    async def read(self, address: TagAddress) -> TagValue:
        """The node's Value attribute, read now (one Read service call)."""
        live = self._live
        if live is None or live.lost is not None:
            raise DriverError(f"{address}: not connected to {self.connection.endpoint}")
        try:
            node_id = ua.NodeId.from_string(address.path)
        except Exception:
            raise ConfigError(f"{address}: {address.path!r} is not a NodeId") from None
        read = ua.ReadParameters()
        read.NodesToRead = [ua.ReadValueId(NodeId=node_id, AttributeId=ua.AttributeIds.Value)]
        try:
            (dv,) = await live.client.uaclient.read(read)
        except ua.UaStatusCodeError as exc:
            raise DriverError(f"{status_text(exc.code)} (reading {address})") from None
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise DriverError(
                f"{address}: no answer from {self.connection.endpoint} ({type(exc).__name__})"
            ) from None
        return tag_value(dv, time.time())

    # -- data types for writes --------------------------------------------------------------------

    async def _variant_type(
        self, client: Client, node_id: ua.NodeId, address: TagAddress
    ) -> ua.VariantType | None:
        if node_id in self._types:
            return self._types[node_id]
        read = ua.ReadParameters()
        read.NodesToRead = [ua.ReadValueId(NodeId=node_id, AttributeId=ua.AttributeIds.DataType)]
        (dv,) = await client.uaclient.read(read)
        if dv.StatusCode is not None and not dv.StatusCode.is_good():
            raise WriteFailed(f"{status_text(dv.StatusCode)} (reading the DataType of {address})")
        datatype = dv.Value.Value if dv.Value is not None else None
        vtype = None
        if isinstance(datatype, ua.NodeId):
            vtype = await builtin_type(client.uaclient, datatype, self._datatypes)
        self._types[node_id] = vtype
        return vtype

    # -- the supervisor ---------------------------------------------------------------------------

    def _set_health(self, state: ConnectionState, detail: str) -> None:
        if self._health.state is state and self._health.detail == detail:
            return
        previous = self._health.state
        self._health = ConnectionHealth(self.key, state, detail)
        quiet = state in (
            ConnectionState.CONNECTING,
            ConnectionState.CONNECTED,
            ConnectionState.STOPPED,
        )
        # One line when the state changes (or a FAILED connection fails for another reason),
        # not one per retry: the status bar shows every attempt.
        news = state is not previous or state is ConnectionState.FAILED
        level = (logging.INFO if quiet else logging.WARNING) if news else logging.DEBUG
        log.log(level, "%s: %s: %s", self.key, state.value, detail)
        self._context.report_health(self._health)

    async def _supervise(self) -> None:
        conn = self.connection
        low, high = conn.reconnect_min_s, max(conn.reconnect_min_s, conn.reconnect_max_s)
        delay = low
        attempt = 0
        reason = ""
        self._set_health(ConnectionState.CONNECTING, f"connecting to {conn.endpoint}")
        while True:
            attempt += 1
            try:
                settings = SessionSettings.from_connection(conn, self._environ)
                live = await self._open(settings)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                fatal, detail = explain(
                    exc, SessionSettings(conn.endpoint, timeout_s=conn.timeout_s)
                )
                if fatal:
                    self._set_health(ConnectionState.FAILED, detail)
                else:
                    state = (
                        ConnectionState.CONNECTING
                        if self.connects == 0
                        else ConnectionState.DISCONNECTED
                    )
                    lead = f"connection lost ({reason}); " if reason else ""
                    self._set_health(state, f"{lead}{detail}; retrying (attempt {attempt})")
                log.debug("%s: connect attempt %d failed", self.key, attempt, exc_info=True)
                # Someone has to act first: try again at the slowest pace, not at once.
                await asyncio.sleep(high if fatal else delay)
                delay = min(delay * 2, high)
                continue
            delay, attempt = low, 0
            self.connects += 1
            try:
                await self._serve(live, settings)
            except _Lost as lost:
                reason = str(lost)
            except Exception as exc:  # a bug or a server's oddity: start over, do not die
                log.exception("%s: unexpected error while connected", self.key)
                reason = f"{type(exc).__name__}: {exc}"
            except BaseException:  # stopped: close politely
                self._live = None
                await close_client(live.client, timeout_s=min(conn.timeout_s, 2.0))
                raise
            self._live = None
            self._set_health(
                ConnectionState.DISCONNECTED, f"connection lost ({reason}); reconnecting"
            )
            await close_client(live.client, timeout_s=0.5)  # the server may not answer at all
            await asyncio.sleep(low)  # a server going down may still accept for a moment

    async def _open(self, settings: SessionSettings) -> _Live:
        live_ref: list[_Live] = []

        async def on_lost(exc: Exception) -> None:
            self._lose(
                live_ref[0] if live_ref else None, f"{type(exc).__name__}: {exc}".rstrip(": ")
            )

        client = await open_client(settings, self._pki, on_lost=on_lost)
        try:
            limits = await read_operation_limits(client)
        except BaseException:
            await close_client(client)
            raise
        per_call = self._per_call
        if limits.max_monitored_items_per_call:
            per_call = min(per_call, limits.max_monitored_items_per_call)
        subs = SubscriptionSet(
            client.uaclient.session,
            self._context.publish,
            lambda why: self._lose(live_ref[0] if live_ref else None, why),
            max_per_call=per_call,
            keepalive_s=self.connection.keepalive_s,
            max_notifications=self.connection.max_notifications_per_publish,
        )
        live = _Live(client, subs)
        live_ref.append(live)
        return live

    def _lose(self, live: _Live | None, why: str) -> None:
        if live is not None and live.lost is None:
            live.lost = why or "connection lost"
            self._wake.set()

    async def _serve(self, live: _Live, settings: SessionSettings) -> None:
        self._types.clear()  # the server may have been reconfigured while we were away
        self._datatypes.clear()
        self._to_add = set(self._wanted)
        self._to_remove = set()
        self._live = live
        if self._to_add:
            detail = f"{settings.label}: subscribing {len(self._to_add)} items"
            self._set_health(ConnectionState.CONNECTED, detail)
        await self._sync(live)
        self._set_health(ConnectionState.CONNECTED, self._connected_detail(live, settings))
        check_every = max(0.05, min(self.connection.keepalive_s / 2, 1.0))
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(check_every):  # wait_for may swallow a cancel (3.11)
                    await self._wake.wait()
            self._wake.clear()
            if live.lost is not None:
                raise _Lost(live.lost)
            overdue = live.subs.overdue_s()
            if overdue > 0:
                raise _Lost("no keep-alive from the server for two keep-alive periods")
            if self._to_add or self._to_remove:
                await self._sync(live)
                self._set_health(ConnectionState.CONNECTED, self._connected_detail(live, settings))

    def _connected_detail(self, live: _Live, settings: SessionSettings) -> str:
        refused = len(live.subs.refused)
        extra = f", {refused} refused" if refused else ""
        return f"{settings.label}: {len(live.subs.items)} items{extra}"

    async def _sync(self, live: _Live) -> None:
        """Bring the server's monitored items in line with the subscribed addresses."""
        removes, self._to_remove = self._to_remove, set()
        adds, self._to_add = self._to_add, set()
        entries: list[tuple[TagAddress, ua.NodeId, Any]] = []
        try:
            if removes:
                await live.subs.remove(removes)
            entries = [
                (a, self._wanted[a], self._rules.settings_for(a.path))
                for a in adds
                if a in self._wanted
            ]
            if entries:
                started = time.perf_counter()
                await live.subs.add(entries)
                log.info(
                    "%s: %d monitored items set up in %.2f s",
                    self.key,
                    len(entries),
                    time.perf_counter() - started,
                )
            self._per_call = live.subs.per_call  # what this server took, for the next session
        except ua.UaStatusCodeError as exc:
            if exc.code in _SESSION_GONE or live.lost is not None:
                raise _Lost(live.lost or status_text(exc.code)) from None
            # A call refused as a whole (not per item): its tags cannot be served as asked.
            log.error("%s: subscribing failed: %s", self.key, status_text(exc.code))
            bad = quality_of(exc.code)
            why = status_text(exc.code)
            self._context.publish([(a, TagValue.now(None, bad, detail=why)) for a, _, _ in entries])
        except (TimeoutError, ConnectionError, OSError) as exc:
            if isinstance(exc, TimeoutError):  # perhaps too big a batch for a slow server
                self._per_call = max(1, live.subs.per_call // 2)
            raise _Lost(live.lost or f"{type(exc).__name__}: {exc}") from None


def opcua_driver(key: str, connection: Any, context: DriverContext) -> OpcUaDriver:
    """The ``DriverFactory`` for the ``opcua`` scheme."""
    return OpcUaDriver(key, connection, context)
