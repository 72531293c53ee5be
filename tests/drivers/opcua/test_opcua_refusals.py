"""Servers that refuse: a strict server that refuses this station's certificate at
OpenSecureChannel (as open62541, node-opcua, Kepware and Siemens do), and a connection whose
configuration cannot work; through a real TagBroker, its tags say why."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua
from asyncua.server.uaprocessor import UaProcessor
from asyncua.ua.ua_binary import struct_from_binary, uatcp_to_binary

from hmi.drivers.base import ConnectionState, DriverRegistry
from hmi.drivers.opcua import OpcUaDriver, opcua_driver
from hmi.drivers.opcua.certs import Pki
from hmi.model.address import parse_address
from hmi.model.project import OpcUaConnection
from hmi.model.quality import Quality, QualityReason
from hmi.model.tags import TagConfig
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandResult, CommandService, Outcome
from tests.drivers.opcua.opcua_plant import PlantServer, Sink, free_port

CONFIG_ERROR = Quality.bad(QualityReason.CONFIG_ERROR)
REFUSED = ua.StatusCode(ua.StatusCodes.BadSecurityChecksFailed)


def run(coro: Coroutine[Any, Any, Any], timeout: float = 40) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connection(endpoint: str, **fields: Any) -> OpcUaConnection:
    base: dict[str, Any] = {
        "driver": "opcua",
        "endpoint": endpoint,
        "keepalive_s": 0.5,
        "publishing_interval_ms": 50,
        "timeout_s": 2,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.4,
    }
    return OpcUaConnection.model_validate(base | fields)


class TrustList:
    """The server's own list of trusted client certificates, checked at OpenSecureChannel;
    an untrusted one is answered the way ``how`` says ("fault": a ServiceFault in the
    OpenSecureChannel reply, "error": an ERR message), then the socket is closed."""

    def __init__(self, server: PlantServer, folder: Path, how: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True)
        self.refusals = 0
        iserver = server.server.iserver
        original = UaProcessor.open_secure_channel
        trust = self

        def open_secure_channel(
            processor: UaProcessor, algohdr: Any, seqhdr: Any, body: Any
        ) -> None:
            sender = bytes(algohdr.SenderCertificate or b"")
            if processor.iserver is not iserver or not sender or trust.trusts(sender):
                return original(processor, algohdr, seqhdr, body)
            trust.refusals += 1
            transport = processor._transport
            if how == "error":
                transport.write(uatcp_to_binary(ua.MessageType.Error, ua.ErrorMessage(REFUSED, "")))
            else:
                request = struct_from_binary(ua.OpenSecureChannelRequest, body)
                processor._connection.select_policy(
                    algohdr.SecurityPolicyURI, sender, request.Parameters.SecurityMode
                )
                fault = ua.ServiceFault()
                fault.ResponseHeader.ServiceResult = REFUSED
                processor.send_response(
                    request.RequestHeader.RequestHandle, seqhdr, fault, ua.MessageType.SecureOpen
                )
            transport.close()
            return None

        self.patch = open_secure_channel

    def trusts(self, der: bytes) -> bool:
        return any(p.read_bytes() == der for p in self.folder.iterdir())


@pytest.fixture
def strict_server(server_certificate: tuple[Path, Path]) -> Iterator[PlantServer]:
    server = PlantServer(free_port(), server_certificate)
    yield server
    server.close()


@pytest.mark.parametrize("how", ["fault", "error"])
def test_a_server_refusing_the_station_certificate_fails_clearly_and_connects_once_trusted(
    strict_server, trusting_pki: Pki, tmp_path, monkeypatch, caplog, until, how
):
    trust = TrustList(strict_server, tmp_path / "server-trusted", how)
    monkeypatch.setattr(UaProcessor, "open_secure_channel", trust.patch)
    conn = connection(strict_server.endpoint, security="SignAndEncrypt", reconnect_max_s=0.5)
    level = parse_address(f"opcua://plant/{strict_server.node_id('Level')}")
    caplog.set_level(logging.INFO)

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context, pki=trusting_pki)
        driver.subscribe([level])
        await driver.start()
        try:
            await until(lambda: trust.refusals >= 3, timeout=10, what="three refusals")
            assert driver.health.state is ConnectionState.FAILED
            detail = driver.health.detail
            assert "refused this station's certificate (BadSecurityChecksFailed)" in detail
            assert "hmi certs show-own" in detail
            assert "AssertionError" not in detail
            assert [s for s in sink.states() if s is ConnectionState.FAILED] == [
                ConnectionState.FAILED
            ], "reported once, not once per attempt"
            # Slowly: at the cap (0.5 s), not at the first delay (0.1 s) doubling from there.
            attempts = trust.refusals
            await asyncio.sleep(1.2)
            assert trust.refusals - attempts <= 3

            # The server's administrator trusts the station while it runs.
            shutil.copy(trusting_pki.own_cert, trust.folder / "station.der")
            await until(lambda: sink.value(level) == 1.5, timeout=10, what="connected")
            assert driver.health.state is ConnectionState.CONNECTED
        finally:
            await driver.stop()

    run(main())
    tracebacks = [r for r in caplog.records if r.exc_info and r.name.startswith("asyncua.client")]
    tracebacks += [r for r in caplog.records if r.exc_info and r.name.startswith("hmi")]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]
    ours = [r for r in caplog.records if r.name.startswith("hmi") and r.levelno >= logging.WARNING]
    assert [r.getMessage().split(": ")[1] for r in ours] == ["failed"]
    echoes = [r for r in caplog.records if r.name.startswith("asyncua") and r.levelno >= 40]
    assert echoes == [], [r.getMessage() for r in echoes]  # asyncua's error at each attempt


def test_tags_of_a_failed_connection_are_config_error_with_its_message(plant, until):
    """FAILED (a password variable that is not set): every tag of the connection, those
    subscribed before and after it failed, is Bad(ConfigError) with the connection's message,
    not Bad(NotConnected) or Initial."""
    conn = connection(plant.endpoint, username="operator", password_env="HMI_TEST_NO_SUCH_PW")
    tags = {
        "level": TagConfig(address=f"opcua://plant/{plant.node_id('Level')}"),
        "count": TagConfig(address=f"opcua://plant/{plant.node_id('Count')}"),
    }

    async def main() -> None:
        broker = TagBroker(tags, DriverRegistry({"opcua": opcua_driver}), {"plant": conn})
        await broker.start()
        broker.subscribe("level")
        try:
            await until(
                lambda: broker.latest("level").quality == CONFIG_ERROR, timeout=5, what="Bad"
            )
            health = broker.health["opcua://plant"]
            assert health.state is ConnectionState.FAILED
            assert "HMI_TEST_NO_SUCH_PW is not set" in health.detail
            assert broker.latest("level").detail == health.detail
            late = broker.subscribe("count")  # after the failure
            assert late.quality == CONFIG_ERROR and late.detail == health.detail
            assert broker.take_changes()["count"].quality == CONFIG_ERROR
        finally:
            await broker.stop()

    run(main())


def test_writes_refused_before_sending_are_denied_and_read_backs_compare_as_values(plant, until):
    """Through the command service: 'abc' for a Double node is refused by the driver before
    anything is sent (denied, the node unchanged); '12.5' from a str tag is taken by the
    server and read back as 12.5 (done)."""
    conn = connection(plant.endpoint)
    tags = {
        "text": TagConfig(
            name="text", address=f"opcua://plant/{plant.node_id('Level')}", datatype="str",
            write={},
        ),
        "small": TagConfig(
            name="small", address=f"opcua://plant/{plant.node_id('Small')}", datatype="int",
            write={},
        ),
    }  # fmt: skip

    async def main() -> list[CommandResult]:
        broker = TagBroker(tags, DriverRegistry({"opcua": opcua_driver}), {"plant": conn})
        service = CommandService(broker)
        await broker.start()
        try:
            broker.subscribe("text")
            await until(lambda: broker.latest("text").quality.is_good, timeout=10, what="Good")
            return [
                await service.write("text", "abc"),
                await service.write("text", "12.5"),
                await service.write("small", 300),  # Byte: 0..255
            ]
        finally:
            await broker.stop()

    try:
        abc, number, big = run(main())
        assert abc.outcome is Outcome.DENIED, abc
        assert "is not a valid Double; nothing was sent" in abc.message
        assert number.outcome is Outcome.DONE, number
        assert number.read_back == 12.5
        assert plant.read("Level") == 12.5
        assert big.outcome is Outcome.DENIED and "outside the range of Byte" in big.message
        assert plant.read("Small") == 3
    finally:
        plant.write("Level", 1.5)


def test_values_not_of_the_nodes_datatype_are_config_error(plant, until, monkeypatch):
    """A Double node that sends a string, then a number again; a node whose DataType is
    changed at run time to String and then sends strings: never Good with the wrong type."""
    level = parse_address(f"opcua://plant/{plant.node_id('Level')}")
    count = parse_address(f"opcua://plant/{plant.node_id('Count')}")

    def send(value: ua.Variant, on: str = "Level") -> None:
        """As a server that does not check its own values (asyncua does, switched off)."""
        node_id = ua.NodeId.from_string(plant.node_id(on))
        plant.call(plant.server.write_attribute_value(node_id, ua.DataValue(value)))

    aspace = plant.server.iserver.aspace
    monkeypatch.setattr(aspace, "_is_expected_variant_type", lambda *args: True)

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", connection(plant.endpoint), sink.context)
        driver.subscribe([level, count])
        await driver.start()
        try:
            await until(lambda: sink.value(level) == 1.5, timeout=10, what="Good")
            send(ua.Variant("12.5 m", ua.VariantType.String))
            await until(lambda: sink.latest[level].quality == CONFIG_ERROR, timeout=5, what="Bad")
            bad = sink.latest[level]
            assert bad.value == 1.5, "the last good value stays, marked"
            assert "is a Double node but the server sent a String" in bad.detail
            assert all(v.value != "12.5 m" for b in sink.batches for a, v in b if a == level)
            send(ua.Variant(2.5, ua.VariantType.Double))
            await until(lambda: sink.value(level) == 2.5, timeout=5, what="Good again")
            assert sink.latest[level].quality.is_good

            # Count's DataType (Int16) changed at run time on the server, then a String value.
            target = plant.server.get_node(plant.node_id("Count"))
            plant.call(
                target.write_attribute(
                    ua.AttributeIds.DataType,
                    ua.DataValue(ua.Variant(ua.NodeId(ua.ObjectIds.String), ua.VariantType.NodeId)),
                )
            )
            send(ua.Variant("five", ua.VariantType.String), on="Count")
            await until(
                lambda: sink.latest[count].quality == CONFIG_ERROR, timeout=5, what="Bad count"
            )
            assert "is a Int16 node but the server sent a String" in sink.latest[count].detail
        finally:
            await driver.stop()
            plant.call(
                plant.server.get_node(plant.node_id("Count")).write_attribute(
                    ua.AttributeIds.DataType,
                    ua.DataValue(ua.Variant(ua.NodeId(ua.ObjectIds.Int16), ua.VariantType.NodeId)),
                )
            )
            plant.write("Count", 5)
            plant.write("Level", 1.5)

    run(main())
