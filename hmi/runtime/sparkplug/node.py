"""The Sparkplug B edge node: publishes the broker's tags on an MQTT broker.

Topics are ``spBv1.0/<group>/<type>/<edge node>[/<device>]``. Tags of sim and local addresses
are the node's own metrics (NBIRTH/NDATA); the tags of each connection are one Sparkplug device
named after the connection (DBIRTH/DDATA), born when the connection is up and dead (DDEATH) when
it goes down. Every message after the NBIRTH carries ``seq`` 0-255; the NDEATH registered as the
MQTT will carries the NBIRTH's ``bdSeq``. While the broker is away, changes are kept (at most
``mqtt.buffer_max`` metric values, the oldest dropped first and counted) and replayed after the
next births with ``is_historical``. An NCMD ``Node Control/Rebirth`` makes the node born again.

With ``sparkplug.primary_host`` set, the node is born only while that host's STATE says online
(and after each connection, only once the retained STATE said so again). When the host goes
offline the node publishes NDEATH, disconnects, connects again (the next ``bdSeq``) and waits,
buffering; when the host is back, NBIRTH, DBIRTHs and the buffer replayed.

The MQTT client is paho-mqtt (Eclipse Paho, the client of the Sparkplug reference
implementation): its network loop runs on a thread of its own; what it receives is handed to
the station's loop, and everything the node decides happens on that loop.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from hmi.drivers.base import ConnectionHealth
from hmi.model.mqtt import MqttSettings, topic_id_problem
from hmi.model.value import TagValue
from hmi.runtime.broker import TagBroker
from hmi.runtime.sparkplug.client import make_client, wait_published
from hmi.runtime.sparkplug.host import PrimaryHost
from hmi.runtime.sparkplug.payload import (
    REBIRTH,
    DataType,
    Payload,
    birth_metric,
    control_metrics,
    data_metric,
    datatype_of,
    decode,
    now_ms,
)

__all__ = ["EdgeNode", "NodeStatus"]

log = logging.getLogger(__name__)

NAMESPACE = "spBv1.0"
NODE = ""  # the device key of the node's own metrics


@dataclass
class _Metric:
    name: str
    alias: int
    device: str
    datatype: DataType
    sent: TagValue | None = None  # the last value published (deadband, quality change)


@dataclass
class NodeStatus:
    connected: bool = False
    bdseq: int = 0
    births: int = 0
    buffered: int = 0
    dropped: int = 0
    last_error: str = ""
    devices: dict[str, bool] = field(default_factory=dict)


CommandHandler = Callable[[str, str, Payload], Any]


class EdgeNode:
    def __init__(
        self,
        broker: TagBroker,
        settings: MqttSettings,
        *,
        project_dir: Path | None = None,
        on_command: CommandHandler | None = None,
    ) -> None:
        self._broker = broker
        self.settings = settings
        sp = settings.sparkplug
        self._base = f"{NAMESPACE}/{sp.group_id}"
        self._node = sp.edge_node_id
        self._on_command = on_command
        self._project_dir = project_dir or Path.cwd()
        self.status = NodeStatus()
        self._metrics: dict[str, _Metric] = {}
        self._devices: dict[str, list[_Metric]] = {NODE: []}
        for alias, name in enumerate(sorted(broker.tags), start=1):
            if not sp.publishes(name):
                continue
            tag = broker.tags[name]
            address = tag.address
            device = NODE if address.scheme in ("sim", "local") else address.connection
            problem = None if device == NODE else topic_id_problem(device)
            if problem is not None:
                log.error(
                    "mqtt: connection %r cannot be a Sparkplug device id (it %s); its tags "
                    "are not published", device, problem,
                )  # fmt: skip
                continue
            metric = _Metric(name, alias, device, datatype_of(tag))
            self._metrics[name] = metric
            self._devices.setdefault(device, []).append(metric)
        self._keys = {
            m.device: broker.tag(m.name).address.driver_key for m in self._metrics.values()
        }
        self._alive: set[str] = set()  # devices born in this session
        self._pending: dict[str, dict[str, TagValue]] = {}
        self._buffer: deque[tuple[str, TagValue]] = deque()
        self._seq = 0
        self._online = False  # NBIRTH sent in the current MQTT session
        self.host = PrimaryHost(sp.primary_host)
        self._cycling: asyncio.Task[None] | None = None  # NDEATH, disconnect, connect again
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._client: mqtt.Client | None = None
        self.connected = asyncio.Event()

    @property
    def aliases(self) -> dict[int, str]:
        """Each published metric's alias and tag name."""
        return {m.alias: m.name for m in self._metrics.values()}

    def set_command_handler(self, handler: CommandHandler | None) -> None:
        """What NCMD/DCMD metrics go to (other than ``Node Control/Rebirth``)."""
        self._on_command = handler

    # -- life cycle ----------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = make_client(self.settings, self._project_dir)
        client.on_connect = self._paho_connect
        client.on_disconnect = self._paho_disconnect
        client.on_message = self._paho_message
        client.on_connect_fail = self._paho_connect_fail
        self._set_will(client)
        return client

    def _set_will(self, client: mqtt.Client) -> None:
        death = Payload(timestamp=now_ms())
        control_metrics(death, self.status.bdseq, death.timestamp, birth=False)
        client.will_set(self._topic("NDEATH"), death.SerializeToString(), qos=1)

    async def start(self) -> None:
        """Subscribe to the tags, connect (in the background: a broker that is away is
        retried, and changes are buffered meanwhile)."""
        self._loop = asyncio.get_running_loop()
        for name in self._metrics:
            self._broker.subscribe(name)
        self._broker.add_listener(self._on_value)
        self._broker.add_health_listener(self._on_health)
        self._client = self._make_client()
        self._connect(self._client)
        self._flusher = asyncio.create_task(self._flush_loop(), name="sparkplug-flush")

    def _connect(self, client: mqtt.Client) -> None:
        client.connect_async(
            self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
        )
        client.loop_start()

    async def stop(self) -> None:
        """Flush what is pending, publish NDEATH (the will is not sent on a clean
        disconnect), disconnect."""
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        if self._cycling is not None:
            await asyncio.gather(self._cycling, return_exceptions=True)
        self._broker.remove_listener(self._on_value)
        self._broker.remove_health_listener(self._on_health)
        client = self._client
        if client is None:
            return
        if self._online:
            self._flush()
            death = Payload(timestamp=now_ms())
            control_metrics(death, self.status.bdseq, death.timestamp, birth=False)
            info = client.publish(self._topic("NDEATH"), death.SerializeToString(), qos=1)
            await asyncio.to_thread(wait_published, info, 5.0, "NDEATH")
        self._client = None  # from here on, a disconnection is ours
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        for name in self._metrics:
            self._broker.unsubscribe(name)

    # -- paho's thread -> the station's loop ---------------------------------------------------

    def _paho_connect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        assert self._loop is not None
        if reason.is_failure:
            self._loop.call_soon_threadsafe(self._refused, str(reason))
            return
        client.subscribe(f"{self._base}/NCMD/{self._node}", qos=1)
        client.subscribe(f"{self._base}/DCMD/{self._node}/+", qos=1)
        if self.host.topic is not None:
            client.subscribe(self.host.topic, qos=1)
        self._loop.call_soon_threadsafe(self._connected)

    def _paho_connect_fail(self, _client: Any, _u: Any) -> None:
        # paho says only that it failed; the reason (refused, TLS) is the last exception.
        exc = sys.exc_info()[1]
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "no connection"
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._unreachable, reason)

    def _paho_disconnect(self, client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        # Here, before paho reconnects: the next session's will carries the next bdSeq.
        self.status.bdseq = (self.status.bdseq + 1) % 256
        self._set_will(client)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._disconnected, str(reason))

    def _paho_message(self, _client: Any, _u: Any, message: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._message, message.topic, bytes(message.payload))

    # -- on the station's loop -----------------------------------------------------------------

    def _refused(self, reason: str) -> None:
        self.status.last_error = f"broker refused the connection: {reason}"
        log.error("mqtt %s: %s", self.settings.broker, self.status.last_error)

    def _unreachable(self, reason: str) -> None:
        text = f"cannot connect: {reason}"
        if text != self.status.last_error:
            log.error("mqtt %s: %s; retrying", self.settings.broker, text)
        self.status.last_error = text

    def _connected(self) -> None:
        self.status.connected = True
        self.status.last_error = ""
        log.info("mqtt: connected to %s", self.settings.broker)
        self.connected.set()
        if self.host.online:
            self._birth()
        else:
            log.info("mqtt: waiting for primary host %r to be online", self.host.host_id)

    def _disconnected(self, reason: str) -> None:
        if self.status.connected and self._client is not None and self._cycling is None:
            log.warning("mqtt: lost %s (%s); buffering", self.settings.broker, reason)
        self.status.connected = False
        self.connected.clear()
        self.host.new_session()
        self._offline()

    def _offline(self) -> None:
        self._online = False
        self._alive.clear()
        # What was gathered but not sent goes to the buffer, in order.
        for values in self._pending.values():
            for name, value in values.items():
                self._keep(name, value)
        self._pending.clear()

    def _message(self, topic: str, data: bytes) -> None:
        parts = topic.split("/")
        if parts[1] == "STATE":
            self._host_state(data)
            return
        try:
            payload = decode(data)
        except ValueError as exc:
            log.warning("mqtt: %s ignored: %s", topic, exc)
            return
        if parts[2] == "NCMD":
            for metric in payload.metrics:
                if metric.name == REBIRTH and metric.boolean_value:
                    log.info("mqtt: rebirth asked by %s", topic)
                    self._birth()
                    return
        if self._on_command is not None:
            device = parts[4] if len(parts) > 4 else NODE
            self._on_command(parts[2], device, payload)

    def _host_state(self, data: bytes) -> None:
        if not self.host.update(data) or self._cycling is not None:
            return
        if self.host.online:
            log.info("mqtt: primary host %r is online", self.host.host_id)
            if self.status.connected:
                self._birth()
        elif self._online:
            log.warning(
                "mqtt: primary host %r is offline: NDEATH, reconnecting, buffering until it is "
                "back", self.host.host_id,
            )  # fmt: skip
            self._cycling = asyncio.create_task(self._cycle(), name="sparkplug-host-offline")

    async def _cycle(self) -> None:
        """NDEATH, disconnect, connect again (paho's disconnect callback moves the will to
        the next bdSeq) and wait there for the host."""
        client = self._client
        try:
            self._offline()
            if client is None:
                return
            death = Payload(timestamp=now_ms())
            control_metrics(death, self.status.bdseq, death.timestamp, birth=False)
            info = client.publish(self._topic("NDEATH"), death.SerializeToString(), qos=1)
            await asyncio.to_thread(wait_published, info, 5.0, "NDEATH")
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
            if self._client is client:  # not stopped meanwhile
                self._connect(client)
        finally:
            self._cycling = None

    # -- births, data, deaths ------------------------------------------------------------------

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq = (seq + 1) % 256
        return seq

    def _topic(self, kind: str, device: str = NODE) -> str:
        return f"{self._base}/{kind}/{self._node}" + (f"/{device}" if device else "")

    def _publish(self, topic: str, payload: Payload) -> bool:
        client = self._client
        if client is None:
            return False
        info = client.publish(topic, payload.SerializeToString(), qos=0)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def _birth(self) -> None:
        """NBIRTH (seq 0) with the node's metrics, then a DBIRTH per connection that is up,
        then what was buffered."""
        self._seq = 0
        self._pending.clear()
        births = Payload(timestamp=now_ms(), seq=self._next_seq())
        control_metrics(births, self.status.bdseq, births.timestamp, birth=True)
        for metric in self._devices[NODE]:
            self._birth_metric(births, metric)
        if not self._publish(self._topic("NBIRTH"), births):
            return
        self._online = True
        self._alive.clear()
        self.status.births += 1
        for device in self._devices:
            if device != NODE and self._device_up(device):
                self._device_birth(device)
        self._replay()

    def _birth_metric(self, payload: Payload, metric: _Metric) -> None:
        value = self._broker.latest(metric.name)
        birth_metric(payload, metric.alias, self._broker.tag(metric.name), value)
        metric.sent = value

    def _device_up(self, device: str) -> bool:
        health: ConnectionHealth | None = self._broker.health.get(self._keys.get(device, ""))
        return health is not None and health.ok

    def _device_birth(self, device: str) -> None:
        payload = Payload(timestamp=now_ms(), seq=self._next_seq())
        for metric in self._devices[device]:
            self._birth_metric(payload, metric)
        self._pending.pop(device, None)
        if self._publish(self._topic("DBIRTH", device), payload):
            self._alive.add(device)
            self.status.devices[device] = True

    def _device_death(self, device: str) -> None:
        self._pending.pop(device, None)
        self._alive.discard(device)
        self.status.devices[device] = False
        payload = Payload(timestamp=now_ms(), seq=self._next_seq())
        self._publish(self._topic("DDEATH", device), payload)

    def _on_health(self, health: ConnectionHealth) -> None:
        if not self._online:
            return
        for device, key in self._keys.items():
            if key != health.key:
                continue
            if health.ok and device not in self._alive:
                self._device_birth(device)
            elif not health.ok and device in self._alive:
                self._device_death(device)

    def _on_value(self, name: str, value: TagValue) -> None:
        metric = self._metrics.get(name)
        if metric is None:
            return
        if not self._online:
            self._keep(name, value)
            return
        if metric.device != NODE and metric.device not in self._alive:
            return  # a dead device's metrics are not data; its DBIRTH carries the news
        if not self._changed(metric, value):
            return
        self._pending.setdefault(metric.device, {})[name] = value

    def _changed(self, metric: _Metric, value: TagValue) -> bool:
        sent = metric.sent
        if sent is None or sent.quality != value.quality:
            return True
        old, new = sent.value, value.value
        band = self.settings.sparkplug.deadband
        numbers = isinstance(new, (int, float)) and isinstance(old, (int, float))
        if band and numbers and not isinstance(new, bool):
            return abs(new - old) > band
        return bool(new != old)

    def _keep(self, name: str, value: TagValue) -> None:
        limit = self.settings.buffer_max
        if limit <= 0:
            self.status.dropped += 1
            return
        if len(self._buffer) >= limit:
            self._buffer.popleft()
            self.status.dropped += 1
        self._buffer.append((name, value))
        self.status.buffered = len(self._buffer)

    def _replay(self) -> None:
        """Buffered values as DATA with ``is_historical``, per device, in order."""
        if not self._buffer:
            return
        log.info("mqtt: replaying %d buffered values", len(self._buffer))
        by_device: dict[str, Payload] = {}
        while self._buffer:
            name, value = self._buffer.popleft()
            metric = self._metrics[name]
            if value == metric.sent:
                continue  # the birth just carried it as the current value
            payload = by_device.get(metric.device)
            if payload is None:
                payload = by_device[metric.device] = Payload(timestamp=now_ms())
            data_metric(
                payload, metric.alias, metric.datatype, value, quality_changed=True,
                historical=True,
            )  # fmt: skip
        self.status.buffered = 0
        for device, payload in by_device.items():
            payload.seq = self._next_seq()
            kind = "NDATA" if device == NODE else "DDATA"
            self._publish(self._topic(kind, device), payload)

    async def _flush_loop(self) -> None:
        period = self.settings.sparkplug.publish_ms / 1000
        while True:
            await asyncio.sleep(period)
            try:
                self._flush()
            except Exception:  # the node publishes on; the log says what went wrong
                log.exception("mqtt: publishing failed")

    def _flush(self) -> None:
        if not self._online or not self._pending:
            return
        pending, self._pending = self._pending, {}
        for device, values in pending.items():
            payload = Payload(timestamp=now_ms(), seq=self._next_seq())
            for name, value in values.items():
                metric = self._metrics[name]
                changed = metric.sent is None or metric.sent.quality != value.quality
                data_metric(payload, metric.alias, metric.datatype, value, quality_changed=changed)
                metric.sent = value
            kind = "NDATA" if device == NODE else "DDATA"
            if not self._publish(self._topic(kind, device), payload):
                for name, value in values.items():
                    self._keep(name, value)
