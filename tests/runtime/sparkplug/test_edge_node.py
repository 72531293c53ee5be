"""The Sparkplug B edge node against a real Mosquitto, read by an independent paho subscriber
that decodes with classes generated from the .proto at test time."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hmi.drivers.defaults import default_registry
from hmi.model.mqtt import MqttSettings
from hmi.model.project import ProjectFile
from hmi.runtime.broker import TagBroker
from hmi.runtime.sparkplug import EdgeNode
from tests.drivers.opcua.opcua_plant import PlantServer
from tests.drivers.opcua.opcua_plant import free_port as ua_port
from tests.runtime.sparkplug.mqtt_parts import Mosquitto, Subscriber, make_tls, payload_class

GROUP, NODE = "Riverside", "HMI-01"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def payload_cls(tmp_path: Path) -> Any:
    return payload_class(tmp_path)


def _project(endpoint: str | None) -> ProjectFile:
    connections = {}
    tags: dict[str, Any] = {
        "Count": {"address": "sim://counter?min=0&max=1000000&step=1&interval=0.05",
                  "datatype": "int", "description": "a counter", "units": "n"},
        "Setpoint": {"address": "local://sp?type=float&initial=12.5", "units": "m3/h",
                     "range": [0, 50], "write": {"min": 0, "max": 40}},
    }  # fmt: skip
    if endpoint is not None:
        connections["plant"] = {"driver": "opcua", "endpoint": endpoint, "keepalive_s": 0.5,
                                "reconnect_max_s": 0.5}  # fmt: skip
        tags["Level"] = {"address": "opcua://plant/ns=2;s=Plant.Level", "units": "%"}
    return ProjectFile.model_validate(
        {"project": {"name": "p", "start_screen": "main"}, "screens": ["main.yaml"],
         "connections": connections, "tags": tags}
    )  # fmt: skip


def _settings(url: str, **extra: Any) -> MqttSettings:
    return MqttSettings.model_validate(
        {"broker": url, "sparkplug": {"group_id": GROUP, "edge_node_id": NODE, "publish_ms": 50},
         **extra}
    )  # fmt: skip


def _names(payload: Any) -> dict[str, Any]:
    return {m.name: m for m in payload.metrics}


def _props(metric: Any) -> dict[str, Any]:
    out = {}
    for key, value in zip(metric.properties.keys, metric.properties.values, strict=True):
        out[key] = getattr(value, value.WhichOneof("value"))
    return out


def _seqs_in_order(messages: list[tuple[str, Any]]) -> None:
    """After each NBIRTH (seq 0), every message of the node counts up by one, mod 256."""
    expected = None
    for topic, payload in messages:
        kind = topic.split("/")[2]
        if kind in ("NDEATH", "NCMD", "DCMD") or topic.startswith("spBv1.0/STATE/"):
            continue
        if kind == "NBIRTH":
            assert payload.seq == 0, f"{topic}: NBIRTH seq {payload.seq}"
            expected = 1
            continue
        assert payload.seq == expected, f"{topic}: seq {payload.seq}, expected {expected}"
        expected = (expected + 1) % 256


def test_births_data_rebirth_device_death_and_ndeath(
    mosquitto: Mosquitto, payload_cls: Any
) -> None:
    plant = PlantServer(ua_port(), None)
    project = _project(plant.endpoint)
    sub = Subscriber(mosquitto.port, payload_cls)

    async def main() -> None:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        node = EdgeNode(broker, _settings(mosquitto.url))
        await broker.start()
        await node.start()
        try:
            _, birth = (await asyncio.to_thread(sub.wait, lambda: sub.of("NBIRTH"), 10, "NBIRTH"))[
                0
            ]
            metrics = _names(birth)
            assert birth.seq == 0
            assert metrics["bdSeq"].long_value == 0 and metrics["bdSeq"].datatype == 4
            assert metrics["Node Control/Rebirth"].boolean_value is False
            count, sp = metrics["Count"], metrics["Setpoint"]
            assert count.datatype == 4 and count.alias > 0 and count.timestamp > 0
            assert _props(count)["description"] == "a counter"
            assert _props(sp) == {"engUnit": "m3/h", "engLow": 0.0, "engHigh": 50.0, "Quality": 0}
            assert sp.double_value == 12.5
            assert "Level" not in metrics  # a device's metric, in its DBIRTH
            topic, dbirth = (
                await asyncio.to_thread(sub.wait, lambda: sub.of("DBIRTH"), 30, "DBIRTH")
            )[0]
            assert topic == f"spBv1.0/{GROUP}/DBIRTH/{NODE}/plant"
            level = _names(dbirth)["Level"]
            assert level.datatype == 10 and _props(level)["engUnit"] == "%"

            def level_values() -> list[float]:
                born = [] if level.is_null else [level.double_value]
                return born + [
                    m.double_value for _, p in sub.of("DDATA") for m in p.metrics
                    if m.alias == level.alias and not m.is_null  # a null: Bad meanwhile
                ]  # fmt: skip

            def level_seen() -> list[float]:
                values = level_values()
                return values if 1.5 in values else []

            values = await asyncio.to_thread(sub.wait, level_seen, 20, "Level 1.5")
            assert set(values) == {1.5}  # never a made-up value (a null is no number)
            # NDATA by alias, on change: the counter moves every 50 ms
            datas = await asyncio.to_thread(
                sub.wait, lambda: len(sub.of("NDATA")) >= 5 and sub.of("NDATA"), 10, "NDATA"
            )
            values = [m.long_value for _, p in datas for m in p.metrics if m.alias == count.alias]
            assert values == sorted(values) and len(set(values)) == len(values)
            assert all(not m.name for _, p in datas for m in p.metrics)
            # rebirth on the primary host's NCMD
            ncmd = payload_cls()
            metric = ncmd.metrics.add(name="Node Control/Rebirth", datatype=11, boolean_value=True)
            assert metric.boolean_value
            await asyncio.to_thread(
                sub.publish, f"spBv1.0/{GROUP}/NCMD/{NODE}", ncmd.SerializeToString()
            )
            await asyncio.to_thread(sub.wait, lambda: len(sub.of("NBIRTH")) >= 2, 10, "rebirth")
            again = _names(sub.of("NBIRTH")[1][1])
            assert again["bdSeq"].long_value == 0  # the same MQTT session
            await asyncio.to_thread(
                sub.wait, lambda: len(sub.of("DBIRTH")) >= 2, 10, "DBIRTH again"
            )
            # a malformed NCMD is ignored; the node publishes on
            await asyncio.to_thread(sub.publish, f"spBv1.0/{GROUP}/NCMD/{NODE}", b"\xff\xff\xff")
            n = len(sub.of("NDATA"))
            await asyncio.to_thread(sub.wait, lambda: len(sub.of("NDATA")) > n + 2, 10, "NDATA on")
            # the device's connection is cut: DDEATH, and no DDATA of it after
            await asyncio.to_thread(plant.stop)
            await asyncio.to_thread(sub.wait, lambda: sub.of("DDEATH"), 30, "DDEATH")
            assert sub.of("DDEATH")[0][0] == f"spBv1.0/{GROUP}/DDEATH/{NODE}/plant"
        finally:
            await node.stop()
            await broker.stop()
        death = await asyncio.to_thread(sub.wait, lambda: sub.of("NDEATH"), 10, "NDEATH")
        assert _names(death[0][1])["bdSeq"].long_value == 0

    try:
        asyncio.run(main())
        _seqs_in_order(sub.messages)
    finally:
        sub.close()
        plant.stop()


def test_store_and_forward_across_a_broker_restart(mosquitto: Mosquitto, payload_cls: Any) -> None:
    project = _project(None)
    sub = Subscriber(mosquitto.port, payload_cls)

    async def main() -> None:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        node = EdgeNode(broker, _settings(mosquitto.url, buffer_max=10_000))
        await broker.start()
        await node.start()
        try:
            await asyncio.to_thread(sub.wait, lambda: sub.of("NBIRTH"), 10, "NBIRTH")
            await asyncio.to_thread(sub.wait, lambda: len(sub.of("NDATA")) > 3, 10, "NDATA")
            alias = _names(sub.of("NBIRTH")[0][1])["Count"].alias
            seen: list[int] = []  # what the station saw while the broker was away

            def record(name: str, value: Any) -> None:
                if name == "Count" and not node.status.connected:
                    seen.append(value.value)

            broker.add_listener(record)
            await asyncio.to_thread(mosquitto.stop)
            while node.status.connected:
                await asyncio.sleep(0.02)
            # the broker stays away until the node has also failed to reconnect once: its next
            # try is then 2 s off (paho's backoff), so the test's subscriber (0.5 s at most) is
            # back and subscribed before the node's NBIRTH, which it would miss otherwise
            while node.status.buffered < 20 or "cannot connect" not in node.status.last_error:
                await asyncio.sleep(0.05)
            broker.remove_listener(record)
            await asyncio.to_thread(mosquitto.start)
            await asyncio.to_thread(sub.wait, lambda: sub.subscriptions >= 2, 10, "resubscribed")
            assert not node.status.connected, "the node came back before the subscriber"
            await asyncio.to_thread(sub.wait, lambda: len(sub.of("NBIRTH")) >= 2, 20, "rebirth")

            def replay() -> list[Any]:  # after the second NBIRTH
                with sub.lock:
                    kinds = [t.split("/")[2] for t, _ in sub.messages]
                    after = sub.messages[len(kinds) - kinds[::-1].index("NBIRTH") :]
                return [m for t, p in after if "/NDATA/" in t for m in p.metrics if m.is_historical]

            history = await asyncio.to_thread(sub.wait, replay, 10, "history")
            assert node.status.dropped == 0
            live = [m.long_value for _, p in sub.of("NDATA") for m in p.metrics
                    if m.alias == alias and not m.is_historical]  # fmt: skip
            replayed = [m.long_value for m in history if m.alias == alias]
            assert len(replayed) >= 20
            # nothing lost inside the bound: every value of the outage, in order
            assert seen and replayed[: len(seen)] == seen
            assert replayed[0] > max(v for v in live if v < replayed[0])
            birth2 = _names(sub.of("NBIRTH")[1][1])
            assert birth2["bdSeq"].long_value == 1  # a new MQTT session, a new bdSeq
        finally:
            await node.stop()
            await broker.stop()

    try:
        asyncio.run(main())
    finally:
        sub.close()


def test_buffer_bound_drops_the_oldest(mosquitto: Mosquitto, payload_cls: Any) -> None:
    project = _project(None)

    async def main() -> None:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        node = EdgeNode(broker, _settings(mosquitto.url, buffer_max=5))
        await asyncio.to_thread(mosquitto.stop)
        await broker.start()
        await node.start()
        try:
            while node.status.dropped < 10:
                await asyncio.sleep(0.05)
            assert node.status.buffered == 5
        finally:
            await node.stop()
            await broker.stop()

    asyncio.run(main())


def test_refused_credentials_say_so_and_the_station_runs_on(
    tmp_path: Path, payload_cls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    passwords = tmp_path / "passwd"
    passwords.write_text("", encoding="utf-8")
    import subprocess

    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "hmi-edge", "right"], check=True)
    secure = Mosquitto(tmp_path, extra=f"password_file {passwords}\n", allow_anonymous=False)
    secure.start()
    project = _project(None)

    async def main() -> None:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        node = EdgeNode(broker, _settings(secure.url, username="hmi-edge",
                                          password_env="I17_TEST_MQTT_PASSWORD"))  # fmt: skip
        await broker.start()
        await node.start()
        try:
            for _ in range(200):
                if node.status.last_error:
                    break
                await asyncio.sleep(0.02)
            assert "refused" in node.status.last_error
            assert not node.status.connected
            assert broker.latest("Count").quality.is_good  # the station runs on
        finally:
            await node.stop()
            await broker.stop()

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("I17_TEST_MQTT_PASSWORD", "wrong")
            caplog.set_level(logging.ERROR)
            asyncio.run(main())
    finally:
        secure.stop()


def test_tls_with_a_password_and_a_wrong_ca(tmp_path: Path, payload_cls: Any) -> None:
    import subprocess

    ca, cert, key = make_tls(tmp_path, "site")
    other_ca, _, _ = make_tls(tmp_path, "other")
    passwords = tmp_path / "passwd"
    passwords.write_text("", encoding="utf-8")
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "hmi-edge", "s3cret"], check=True)
    secure = Mosquitto(
        tmp_path,
        extra=f"password_file {passwords}\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n",
        allow_anonymous=False,
    )
    secure.start()
    url = f"mqtts://127.0.0.1:{secure.port}"
    project = _project(None)
    seen: list[str] = []
    watcher = mqtt_client(secure.port, ca, seen)

    async def run(ca_file: Path) -> EdgeNode:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        node = EdgeNode(
            broker,
            _settings(url, username="hmi-edge", password_env="I17_TEST_MQTT_PASSWORD",
                      ca=ca_file.name),
            project_dir=ca_file.parent,
        )  # fmt: skip
        await broker.start()
        await node.start()
        try:
            for _ in range(300):
                if node.status.births or node.status.last_error:
                    break
                await asyncio.sleep(0.02)
        finally:
            await node.stop()
            await broker.stop()
        return node

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("I17_TEST_MQTT_PASSWORD", "s3cret")
            good = asyncio.run(run(ca))
            assert good.status.births == 1, good.status.last_error
            bad = asyncio.run(run(other_ca))
        assert bad.status.births == 0
        assert "certificate verify failed" in bad.status.last_error
        assert f"spBv1.0/{GROUP}/NBIRTH/{NODE}" in seen  # over TLS, to a client of the site CA
    finally:
        watcher.loop_stop()
        secure.stop()


def mqtt_client(port: int, ca: Path, seen: list[str]) -> Any:
    """A paho subscriber over TLS with the site's CA and the edge's credentials."""
    import threading

    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-watcher")
    client.tls_set(ca_certs=str(ca))
    client.username_pw_set("hmi-edge", "s3cret")
    ready = threading.Event()
    client.on_connect = lambda c, *a: c.subscribe("spBv1.0/#", qos=1)
    client.on_subscribe = lambda *a: ready.set()
    client.on_message = lambda _c, _u, m: seen.append(m.topic)
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert ready.wait(10), "the TLS watcher did not subscribe"
    return client


def _state(online: bool, timestamp: int) -> bytes:
    return json.dumps({"online": online, "timestamp": timestamp}).encode()


def test_primary_host_state(
    mosquitto: Mosquitto, payload_cls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project = _project(None)
    sub = Subscriber(mosquitto.port, payload_cls)
    settings = _settings(mosquitto.url, buffer_max=10_000)
    settings = settings.model_copy(
        update={"sparkplug": settings.sparkplug.model_copy(update={"primary_host": "scada"})}
    )
    state_topic = "spBv1.0/STATE/scada"

    def sessions() -> int:  # connections of the edge node, as the broker itself logged them
        log = (mosquitto.folder / "mosquitto.log").read_text(encoding="utf-8")
        return log.count(f"as hmi-{NODE}")

    async def publish_state(payload: bytes) -> None:
        await asyncio.to_thread(sub.publish, state_topic, payload, retain=True)

    async def ndata_goes_on() -> None:
        n = len(sub.of("NDATA"))
        await asyncio.to_thread(sub.wait, lambda: len(sub.of("NDATA")) > n + 2, 10, "NDATA on")

    async def main() -> None:
        broker = TagBroker(project.tags, default_registry(), project.connections)
        node = EdgeNode(broker, settings)
        await broker.start()
        await node.start()
        try:
            await asyncio.wait_for(node.connected.wait(), 10)
            await asyncio.sleep(0.5)
            assert not sub.of("NBIRTH")  # no host online yet: nothing published
            assert node.status.buffered > 0  # but kept
            await publish_state(_state(True, 1000))
            _, birth = (await asyncio.to_thread(sub.wait, lambda: sub.of("NBIRTH"), 10, "NBIRTH"))[
                0
            ]
            assert _names(birth)["bdSeq"].long_value == 0
            await ndata_goes_on()
            # an older STATE (a stale retained message) is ignored: the node stays born
            caplog.clear()
            await publish_state(_state(False, 500))
            await ndata_goes_on()
            assert "timestamp 500 is older than 1000" in caplog.text
            # malformed STATE: a clear message, the node keeps its state
            for bad, why in (
                (b"online", "not JSON"),
                (b'{"online": "yes", "timestamp": 1500}', '"online" is not true or false'),
                (b'{"online": false}', '"timestamp" is not a number'),
                (b"[1, 2]", "not a JSON object"),
            ):
                caplog.clear()
                await publish_state(bad)
                await ndata_goes_on()
                assert why in caplog.text and "still taken as online" in caplog.text
            assert not sub.of("NDEATH") and len(sub.of("NBIRTH")) == 1
            assert sessions() == 1
            # the host goes offline: NDEATH (of the NBIRTH's bdSeq), disconnect, reconnect, wait
            await publish_state(_state(False, 2000))
            _, death = (await asyncio.to_thread(sub.wait, lambda: sub.of("NDEATH"), 10, "NDEATH"))[
                0
            ]
            assert _names(death)["bdSeq"].long_value == 0
            await asyncio.to_thread(sub.wait, lambda: sessions() == 2, 10, "a new MQTT session")
            await asyncio.wait_for(node.connected.wait(), 10)
            counted = len(sub.messages)
            while node.status.buffered < 5:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            with sub.lock:
                later = [t for t, _ in sub.messages[counted:] if "/STATE/" not in t]
            assert later == []  # connected again, but silent while the host is offline
            assert len(sub.of("NBIRTH")) == 1
            # the host is back: a fresh NBIRTH with the next bdSeq, then the buffer as history
            await publish_state(_state(True, 3000))
            await asyncio.to_thread(sub.wait, lambda: len(sub.of("NBIRTH")) >= 2, 10, "rebirth")
            assert _names(sub.of("NBIRTH")[1][1])["bdSeq"].long_value == 1

            def after_rebirth() -> list[Any]:
                with sub.lock:
                    kinds = [t.split("/")[2] for t, _ in sub.messages]
                    later = sub.messages[len(kinds) - kinds[::-1].index("NBIRTH") :]
                return [m for t, p in later if "/NDATA/" in t for m in p.metrics if m.is_historical]

            replayed = await asyncio.to_thread(sub.wait, after_rebirth, 10, "history")
            assert len(replayed) >= 4  # what changed while the host was away
            assert node.status.dropped == 0
        finally:
            await node.stop()
            await broker.stop()
        deaths = lambda: len(sub.of("NDEATH")) >= 2 and sub.of("NDEATH")  # noqa: E731
        death = await asyncio.to_thread(sub.wait, deaths, 10, "NDEATH")
        assert _names(death[1][1])["bdSeq"].long_value == 1

    try:
        caplog.set_level(logging.INFO, logger="hmi.runtime.sparkplug")
        asyncio.run(main())
        _seqs_in_order(sub.messages)
    finally:
        sub.close()
