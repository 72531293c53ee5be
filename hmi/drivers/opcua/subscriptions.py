"""Subscriptions and monitored items of one session, and the notification hot path.

Notifications take the low-overhead path: each subscription is created with the session's
raw publish callback, which gets the whole ``PublishResult``; one pass over its
``DataChangeNotification`` makes ONE batch for ``DriverContext.publish``. asyncua's
``Subscription`` handler path would instead make an event object and a task per notification.

Monitored items are created in batches (at most ``max_per_call``, lowered to the server's
MaxMonitoredItemsPerCall). Following the specification rather than one server's habits:
BadTooManyOperations (and kin) halve the batch; a deadband a server refuses on a non-analog
item is dropped for that item and the item created again; BadTooManyMonitoredItems opens one
more subscription; revised publishing intervals and keep-alive counts are what the keep-alive
watch uses; queues larger than one simply deliver several values per item in one batch.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import ua
from asyncua.client.ua_session import UaSession

from hmi.drivers.base import ValueBatch
from hmi.drivers.opcua.quality import quality_of, status_text
from hmi.drivers.opcua.values import builtin_type, tag_value
from hmi.model.address import TagAddress
from hmi.model.project import OpcUaConnection
from hmi.model.quality import Quality, QualityReason
from hmi.model.value import TagValue

log = logging.getLogger(__name__)

_S = ua.StatusCodes
_VT = ua.VariantType
_CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)
# A node of these DataTypes may carry any Variant (BaseDataType, Number, Integer, ...).
_ANY = frozenset({_VT.Variant, _VT.Null, _VT.ExtensionObject, _VT.DataValue, _VT.DiagnosticInfo})
_DEADBAND = {"none": 0, "absolute": 1, "percent": 2}
_FILTER_REFUSED = {
    _S.BadFilterNotAllowed,
    _S.BadMonitoredItemFilterUnsupported,
    _S.BadMonitoredItemFilterInvalid,
    _S.BadDeadbandFilterInvalid,
}
_SMALLER_BATCH = {
    _S.BadTooManyOperations,
    _S.BadTooManyMonitoredItems,
    _S.BadEncodingLimitsExceeded,
    _S.BadRequestTooLarge,
    _S.BadResponseTooLarge,
}


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How one tag is subscribed."""

    publishing_interval_ms: float
    sampling_interval_ms: float
    queue_size: int = 1
    deadband_type: str = "none"
    deadband_value: float = 0.0

    def data_change_filter(self) -> ua.DataChangeFilter | None:
        if self.deadband_type == "none":
            return None
        return ua.DataChangeFilter(
            Trigger=ua.DataChangeTrigger.StatusValue,
            DeadbandType=_DEADBAND[self.deadband_type],
            DeadbandValue=self.deadband_value,
        )


class GroupRules:
    """``groups:`` of a connection: the first whose glob matches the NodeId string wins; the
    connection's own fields are the default and fill what a group leaves out."""

    def __init__(self, connection: OpcUaConnection) -> None:
        c = connection
        self.default = GroupSettings(
            c.publishing_interval_ms,
            c.sampling_interval_ms,
            c.queue_size,
            c.deadband_type,
            c.deadband_value,
        )
        self._rules: list[tuple[re.Pattern[str], GroupSettings]] = []
        for g in c.groups:

            def pick(value: Any, default: Any) -> Any:
                return default if value is None else value

            settings = GroupSettings(
                pick(g.publishing_interval_ms, c.publishing_interval_ms),
                pick(g.sampling_interval_ms, c.sampling_interval_ms),
                pick(g.queue_size, c.queue_size),
                pick(g.deadband_type, c.deadband_type),
                pick(g.deadband_value, c.deadband_value),
            )
            self._rules.append((re.compile(fnmatch.translate(g.match)), settings))

    def settings_for(self, node_id: str) -> GroupSettings:
        for pattern, settings in self._rules:
            if pattern.match(node_id):
                return settings
        return self.default


class MonitoredItem:
    """One tag's monitored item; ``last`` is its last value, kept for Bad values sent empty."""

    __slots__ = (
        "address",
        "filtered",
        "handle",
        "last",
        "node_id",
        "server_id",
        "settings",
        "sub",
        "vtype",
    )

    def __init__(
        self, address: TagAddress, node_id: ua.NodeId, settings: GroupSettings, handle: int
    ) -> None:
        self.address = address
        self.node_id = node_id
        self.settings = settings
        self.handle = handle
        self.server_id: int | None = None
        self.sub: _Subscription | None = None
        self.filtered = settings.deadband_type != "none"
        self.last: Any = None
        self.vtype: ua.VariantType | None = None  # what the node's DataType travels as


@dataclass(slots=True, eq=False)
class _Subscription:
    id: int
    requested_ms: float
    revised_ms: float
    keepalive_count: int
    count: int = 0
    full: bool = False

    @property
    def keepalive_s(self) -> float:
        return self.revised_ms * max(self.keepalive_count, 1) / 1000.0


class SubscriptionSet:
    """The subscriptions of one session. ``publish`` gets one batch per notification message;
    ``on_lost(reason)`` is called when the server says a subscription is gone."""

    def __init__(
        self,
        session: UaSession,
        publish: Callable[[ValueBatch], None],
        on_lost: Callable[[str], None],
        *,
        max_per_call: int,
        keepalive_s: float,
        max_notifications: int = 0,
    ) -> None:
        self._session = session
        self._publish = publish
        self._on_lost = on_lost
        self.per_call = max(1, max_per_call)
        self._keepalive_s = keepalive_s
        self._max_notifications = max_notifications
        self._subs: list[_Subscription] = []
        self._by_handle: dict[int, MonitoredItem] = {}
        self.items: dict[TagAddress, MonitoredItem] = {}
        self.refused: dict[TagAddress, str] = {}
        self.wrong_types: dict[TagAddress, str] = {}
        self._datatypes: dict[ua.NodeId, ua.VariantType | None] = {}
        self._next_handle = 1
        self.last_activity = time.monotonic()
        self.notifications = 0

    # -- the hot path ---------------------------------------------------------------------------

    def _on_publish(self, result: ua.PublishResult) -> None:
        self.last_activity = time.monotonic()
        data = result.NotificationMessage.NotificationData
        if not data:
            return  # keep-alive
        batch: list[tuple[TagAddress, TagValue]] = []
        append = batch.append
        by_handle = self._by_handle
        now = time.time()
        for notification in data:
            if type(notification) is ua.DataChangeNotification:
                for change in notification.MonitoredItems:
                    item = by_handle.get(change.ClientHandle)
                    if item is None:
                        continue  # removed meanwhile
                    variant = change.Value.Value
                    if (
                        item.vtype is not None
                        and variant is not None
                        and variant.VariantType is not item.vtype
                        and variant.VariantType is not _VT.Null
                    ):
                        append((item.address, self._wrong_type(item, variant, now)))
                        continue
                    value = tag_value(change.Value, now, item.last)
                    item.last = value.value
                    append((item.address, value))
            elif isinstance(notification, ua.StatusChangeNotification):
                status = notification.Status
                if status.value == _S.GoodSubscriptionTransferred or status.is_bad():
                    self._on_lost(f"subscription {result.SubscriptionId}: {status_text(status)}")
        if batch:
            self.notifications += len(batch)
            self._publish(batch)

    def _wrong_type(self, item: MonitoredItem, variant: ua.Variant, now: float) -> TagValue:
        """A value that is not of the node's DataType is not trusted: Bad(ConfigError)."""
        expected = item.vtype.name if item.vtype is not None else "?"
        why = (
            f"{item.node_id.to_string()} is a {expected} node but the server sent a "
            f"{variant.VariantType.name}"
        )
        if self.wrong_types.get(item.address) != why:
            self.wrong_types[item.address] = why
            log.warning("%s: %s", item.address, why)
        return TagValue(item.last, _CONFIG_ERROR, None, now, why)

    def overdue_s(self, now: float | None = None) -> float:
        """Seconds past two keep-alive periods without a publish response (0: all is well)."""
        if not self._subs:
            return 0.0
        period = max(max(sub.keepalive_s for sub in self._subs), self._keepalive_s / 2)
        silent = (now if now is not None else time.monotonic()) - self.last_activity
        return max(0.0, silent - 2 * period)

    # -- adding ---------------------------------------------------------------------------------

    async def add(self, entries: Iterable[tuple[TagAddress, ua.NodeId, GroupSettings]]) -> None:
        """Create monitored items; a refused one is published as Bad (ConfigError and the like)
        at once. Errors of the session itself (connection lost) propagate."""
        by_interval: dict[float, list[MonitoredItem]] = {}
        for address, node_id, settings in entries:
            if address in self.items:
                continue
            item = MonitoredItem(address, node_id, settings, self._next_handle)
            self._next_handle += 1
            self.items[address] = item
            by_interval.setdefault(settings.publishing_interval_ms, []).append(item)
        await self._read_types([i for items in by_interval.values() for i in items])
        for interval, items in by_interval.items():
            pending = items
            while pending:
                sub = next(
                    (s for s in self._subs if s.requested_ms == interval and not s.full), None
                )
                if sub is None:
                    try:
                        sub = await self._new_subscription(interval)
                    except ua.UaStatusCodeError as exc:
                        if exc.code not in (_S.BadTooManySubscriptions, _S.BadTooManyOperations):
                            raise
                        self._refuse(pending, exc.code)
                        break
                before = sub.count
                pending = await self._create_in(sub, pending)
                if pending and sub.count == before:  # a fresh subscription took nothing
                    self._refuse(pending, _S.BadTooManyMonitoredItems)
                    break

    async def _read_types(self, items: Sequence[MonitoredItem]) -> None:
        """The DataType of each node, read before its item exists (its first value may beat
        the CreateMonitoredItems response), as the Variant type its values must have."""
        for start in range(0, len(items), self.per_call):
            chunk = items[start : start + self.per_call]
            params = ua.ReadParameters()
            params.NodesToRead = [
                ua.ReadValueId(NodeId=i.node_id, AttributeId=ua.AttributeIds.DataType)
                for i in chunk
            ]
            try:
                results = await self._session.read(params)
            except ua.UaStatusCodeError as exc:
                if exc.code not in _SMALLER_BATCH:
                    raise
                log.info("DataTypes not read (%s): values go unchecked", status_text(exc.code))
                return
            for item, dv in zip(chunk, results, strict=True):
                datatype = dv.Value.Value if dv.Value is not None else None
                if (dv.StatusCode is None or dv.StatusCode.is_good()) and isinstance(
                    datatype, ua.NodeId
                ):
                    vtype = await builtin_type(self._session, datatype, self._datatypes)
                    item.vtype = None if vtype in _ANY else vtype

    async def _new_subscription(self, interval_ms: float) -> _Subscription:
        keepalive = max(1, math.ceil(self._keepalive_s * 1000 / interval_ms))
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=interval_ms,
            RequestedLifetimeCount=keepalive * 4,
            RequestedMaxKeepAliveCount=keepalive,
            MaxNotificationsPerPublish=self._max_notifications,
            PublishingEnabled=True,
            Priority=0,
        )
        result = await self._session.create_subscription(params, callback=self._on_publish)
        sub = _Subscription(
            result.SubscriptionId,
            interval_ms,
            result.RevisedPublishingInterval,
            result.RevisedMaxKeepAliveCount,
        )
        if result.RevisedPublishingInterval != interval_ms:
            log.info(
                "publishing interval %g ms revised by the server to %g ms",
                interval_ms,
                result.RevisedPublishingInterval,
            )
        self.last_activity = time.monotonic()
        self._subs.append(sub)
        return sub

    async def _create_in(
        self, sub: _Subscription, items: list[MonitoredItem]
    ) -> list[MonitoredItem]:
        """Create ``items`` in ``sub``; returns those that did not fit (subscription full)."""
        overflow: list[MonitoredItem] = []
        queue = list(items)
        while queue:
            batch, queue = queue[: self.per_call], queue[self.per_call :]
            for item in batch:
                self._by_handle[item.handle] = item  # notifications may beat the response
            try:
                results = await self._create_batch(sub.id, batch)
                self.last_activity = time.monotonic()  # any answer shows the server is alive
            except ua.UaStatusCodeError as exc:
                for item in batch:
                    self._by_handle.pop(item.handle, None)
                if exc.code in _SMALLER_BATCH and self.per_call > 1:
                    self.per_call = max(1, min(self.per_call, len(batch)) // 2)
                    log.info(
                        "server refused %d items in one call (%s); trying %d",
                        len(batch),
                        exc,
                        self.per_call,
                    )
                    queue = batch + queue
                    continue
                if exc.code == _S.BadTooManyMonitoredItems:
                    sub.full = True
                    return overflow + batch + queue
                raise
            retry: list[MonitoredItem] = []
            for item, result in zip(batch, results, strict=True):
                code = result.StatusCode.value
                if code & 0x80000000 == 0:
                    item.server_id = result.MonitoredItemId
                    item.sub = sub
                    sub.count += 1
                    continue
                self._by_handle.pop(item.handle, None)
                if code in _FILTER_REFUSED and item.filtered:
                    log.info(
                        "%s: deadband refused (%s); subscribing without",
                        item.address,
                        status_text(code),
                    )
                    item.filtered = False
                    retry.append(item)
                elif code == _S.BadTooManyMonitoredItems:
                    sub.full = True
                    overflow.append(item)
                else:
                    self._refuse([item], code)
            if sub.full:  # the rest goes to another subscription
                return overflow + retry + queue
            queue = retry + queue
        return overflow

    async def _create_batch(
        self, sub_id: int, batch: Sequence[MonitoredItem]
    ) -> list[ua.MonitoredItemCreateResult]:
        requests = []
        for item in batch:
            params = ua.MonitoringParameters()
            params.ClientHandle = item.handle
            params.SamplingInterval = item.settings.sampling_interval_ms
            params.QueueSize = item.settings.queue_size
            params.DiscardOldest = True
            if item.filtered:
                params.Filter = item.settings.data_change_filter()
            request = ua.MonitoredItemCreateRequest()
            request.ItemToMonitor = ua.ReadValueId(
                NodeId=item.node_id, AttributeId=ua.AttributeIds.Value
            )
            request.MonitoringMode = ua.MonitoringMode.Reporting
            request.RequestedParameters = params
            requests.append(request)
        create = ua.CreateMonitoredItemsParameters()
        create.SubscriptionId = sub_id
        create.ItemsToCreate = requests
        create.TimestampsToReturn = ua.TimestampsToReturn.Both
        return await self._session.create_monitored_items(create)

    def _refuse(self, items: Sequence[MonitoredItem], code: int) -> None:
        text = status_text(code)
        quality = quality_of(code)
        batch = []
        for item in items:
            log.warning(
                "%s: the server refuses to monitor %s: %s",
                item.address,
                item.node_id.to_string(),
                text,
            )
            self.items.pop(item.address, None)
            self._by_handle.pop(item.handle, None)
            self.refused[item.address] = text
            batch.append((item.address, TagValue.now(None, quality, detail=text)))
        if batch:
            self._publish(batch)

    # -- removing -------------------------------------------------------------------------------

    async def remove(self, addresses: Iterable[TagAddress]) -> None:
        by_sub: dict[int, list[int]] = {}
        for address in addresses:
            self.refused.pop(address, None)
            self.wrong_types.pop(address, None)
            item = self.items.pop(address, None)
            if item is None:
                continue
            self._by_handle.pop(item.handle, None)
            if item.sub is not None and item.server_id is not None:
                item.sub.count -= 1
                item.sub.full = False
                by_sub.setdefault(item.sub.id, []).append(item.server_id)
        for sub_id, ids in by_sub.items():
            for start in range(0, len(ids), self.per_call):
                params = ua.DeleteMonitoredItemsParameters()
                params.SubscriptionId = sub_id
                params.MonitoredItemIds = ids[start : start + self.per_call]
                await self._session.delete_monitored_items(params)
