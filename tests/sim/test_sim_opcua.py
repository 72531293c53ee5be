"""The demo plant's OPC UA server, through a bare asyncua client on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client, Node, ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from hmi.sim.opcua_server import APPLICATION_URI, NAMESPACE_URI
from hmi.sim.points import M3_PER_H, MODE_AUTO, MODE_MAN, PERCENT, POINTS, UNECE_NAMESPACE
from hmi.sim.runner import PlantStack
from tests.conftest import Until
from tests.sim.conftest import RunningPlant, eventually, free_port

pytestmark = pytest.mark.timeout(60)

Body = Callable[[Client, Callable[[str], Node]], Awaitable[None]]


def with_client(running_plant: RunningPlant, body: Body) -> None:
    async def main() -> None:
        async with Client(running_plant.opcua_url, timeout=5) as client:
            ns = await client.get_namespace_index(NAMESPACE_URI)
            await body(client, lambda name: client.get_node(ua.NodeId(name, ns)))

    asyncio.run(main())


def test_browse_the_plant_structure(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        ns = await client.get_namespace_index(NAMESPACE_URI)
        plant = await client.nodes.objects.get_child([f"{ns}:Plant"])
        areas = {(await child.read_browse_name()).Name for child in await plant.get_children()}
        assert areas == {"RawWater", "Transfer", "Treated", "Faults", "System"}
        level = await client.nodes.objects.get_child(
            [f"{ns}:Plant", f"{ns}:RawWater", f"{ns}:T1", f"{ns}:Level"]
        )
        assert level.nodeid == ua.NodeId("Plant.RawWater.T1.Level", ns)
        p101 = await plant.get_child([f"{ns}:Transfer", f"{ns}:P101"])
        names = {(await child.read_browse_name()).Name for child in await p101.get_children()}
        assert names == {"Run", "Reset", "Running", "Fault", "Current", "RunHours", "Starts"}
        for point in POINTS:  # every point by its hand-written NodeId, with its DataType
            datatype = await node(point.name).read_data_type()
            assert datatype == ua.NodeId(getattr(ua.ObjectIds, point.kind.value), 0), point.name

    with_client(running_plant, body)


def test_analog_items_carry_engineering_units_and_ranges(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        level = node("Plant.RawWater.T1.Level")
        assert await level.read_type_definition() == ua.NodeId(ua.ObjectIds.AnalogItemType, 0)
        eu = await (await level.get_child("0:EngineeringUnits")).read_value()
        assert eu.NamespaceUri == UNECE_NAMESPACE
        assert eu.UnitId == PERCENT.unit_id == (ord("P") << 8 | ord("1"))
        assert eu.DisplayName.Text == "%"
        eu_range = await (await level.get_child("0:EURange")).read_value()
        assert (eu_range.Low, eu_range.High) == (0.0, 100.0)
        flow_eu = await node("Plant.RawWater.FT101.Flow.EngineeringUnits").read_value()
        assert flow_eu.UnitId == M3_PER_H.unit_id and flow_eu.DisplayName.Text == "m³/h"
        for point in POINTS:
            if point.unit is not None:
                unit = await node(f"{point.name}.EngineeringUnits").read_value()
                assert unit.UnitId == point.unit.unit_id, point.name

    with_client(running_plant, body)


def test_only_commands_and_setpoints_are_writable(running_plant: RunningPlant) -> None:
    write = ua.AccessLevel.CurrentWrite.mask

    async def body(client: Client, node: Callable[[str], Node]) -> None:
        for point in POINTS:
            n = node(point.name)
            access = await n.read_attribute(ua.AttributeIds.AccessLevel)
            user = await n.read_attribute(ua.AttributeIds.UserAccessLevel)
            for level in (access.Value.Value, user.Value.Value):
                assert bool(level & write) == point.writable, point.name

    with_client(running_plant, body)


class Collector:
    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        self.values.setdefault(node.nodeid.Identifier, []).append(val)


def test_subscription_sees_values_move(running_plant: RunningPlant, until: Until) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        collector = Collector()
        subscription = await client.create_subscription(50, collector)
        names = ["Plant.System.PlantTime", "Plant.Treated.T2.Level", "Plant.Transfer.FT102.Flow"]
        await subscription.subscribe_data_change([node(name) for name in names])
        await until(
            lambda: all(len(set(collector.values.get(n, []))) >= 3 for n in names),
            timeout=10,
            what="three different values of each subscribed point",
        )
        await subscription.delete()

    with_client(running_plant, body)


def test_writing_a_command_starts_and_stops_a_pump(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        run, running = node("Plant.Transfer.P102.Run"), node("Plant.Transfer.P102.Running")
        await run.write_value(True)
        assert await run.read_value() is True
        await eventually(running.read_value, bool, what="P102.Running")
        assert await node("Plant.Transfer.P102.Current").read_value() > 1.0
        await run.write_value(False)
        await eventually(running.read_value, lambda v: not v, what="P102 stopped")
        assert await node("Plant.Transfer.P102.Current").read_value() == 0.0

    with_client(running_plant, body)


def test_write_to_a_read_only_node_is_refused(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await node("Plant.RawWater.T1.Level").write_value(12.5)
        assert refused.value.code == ua.StatusCodes.BadNotWritable
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await node("Plant.Transfer.P101.Running").write_value(False)
        assert refused.value.code == ua.StatusCodes.BadNotWritable
        assert await node("Plant.RawWater.T1.Level").read_value() != 12.5

    with_client(running_plant, body)


def test_write_of_the_wrong_type_is_refused(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        sp = node("Plant.Transfer.LIC101.SP")
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await node("Plant.Transfer.P102.Run").write_value(
                ua.Variant(1.0, ua.VariantType.Double)
            )
        assert refused.value.code == ua.StatusCodes.BadTypeMismatch
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await sp.write_value(ua.Variant(61, ua.VariantType.Int64))
        assert refused.value.code == ua.StatusCodes.BadTypeMismatch
        assert await node("Plant.Transfer.P102.Run").read_value() is False

    with_client(running_plant, body)


def test_setpoint_write_feeds_the_loop_and_range_is_enforced(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        sp = node("Plant.Transfer.LIC101.SP")
        original = await sp.read_value()
        await sp.write_value(ua.Variant(62.5, ua.VariantType.Double))
        assert running_plant.call(lambda: running_plant.plant.lic101.setpoint) == 62.5
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await sp.write_value(ua.Variant(150.0, ua.VariantType.Double))
        assert refused.value.code == ua.StatusCodes.BadOutOfRange
        assert await sp.read_value() == 62.5  # the refused value never stuck
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await node("Plant.Transfer.LIC101.Mode").write_value(
                ua.Variant(7, ua.VariantType.Int32)
            )
        assert refused.value.code == ua.StatusCodes.BadOutOfRange
        await sp.write_value(ua.Variant(original, ua.VariantType.Double))

    with_client(running_plant, body)


def test_sensor_failure_gives_bad_sensor_failure(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        level, pv, mode = (
            node("Plant.Treated.T2.Level"),
            node("Plant.Transfer.LIC101.PV"),
            node("Plant.Transfer.LIC101.Mode"),
        )
        fault = node("Plant.Faults.T2LevelFail")
        assert (await level.read_data_value()).StatusCode.is_good()
        await fault.write_value(True)
        try:
            for n in (level, pv):
                status = (await n.read_data_value(raise_on_bad_status=False)).StatusCode
                assert status.value == ua.StatusCodes.BadSensorFailure
            await eventually(mode.read_value, lambda v: v == MODE_MAN, what="LIC101 shed to MAN")
        finally:
            await fault.write_value(False)
        assert (await level.read_data_value()).StatusCode.is_good()
        await mode.write_value(ua.Variant(MODE_AUTO, ua.VariantType.Int32))
        assert await mode.read_value() == MODE_AUTO

    with_client(running_plant, body)


def test_python_fault_injection_shows_over_opcua(running_plant: RunningPlant) -> None:
    async def body(client: Client, node: Callable[[str], Node]) -> None:
        running_plant.call(running_plant.plant.set_fault, "P101Trip")
        fault = node("Plant.Transfer.P101.Fault")
        await eventually(fault.read_value, bool, what="P101.Fault")
        assert await node("Plant.Transfer.P101.Running").read_value() is False
        await node("Plant.Transfer.P101.Reset").write_value(True)
        assert await fault.read_value() is False
        assert await node("Plant.Transfer.P101.Reset").read_value() is False
        await node("Plant.Transfer.P101.Run").write_value(True)

    with_client(running_plant, body)


async def _certificate(folder: Path, name: str, uri: str, use: list[Any]) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.der", folder / f"{name}.pem"
    await setup_self_signed_certificate(key, cert, uri, "localhost", use, {"commonName": name})
    return cert, key


def test_basic256sha256_when_a_certificate_is_given(tmp_path: Path) -> None:
    async def main() -> None:
        server_cert, server_key = await _certificate(
            tmp_path, "server", APPLICATION_URI, [ExtendedKeyUsageOID.SERVER_AUTH]
        )
        client_cert, client_key = await _certificate(
            tmp_path, "client", "urn:hmi:test-client", [ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        stack = PlantStack(
            opcua_port=free_port(),
            modbus_port=free_port(),
            certificate=server_cert,
            private_key=server_key,
        )
        async with stack:
            client = Client(stack.opcua.endpoint, timeout=5)
            endpoints = await client.connect_and_get_server_endpoints()
            modes = {e.SecurityMode for e in endpoints}
            assert modes == {
                ua.MessageSecurityMode.None_,
                ua.MessageSecurityMode.Sign,
                ua.MessageSecurityMode.SignAndEncrypt,
            }
            client.application_uri = "urn:hmi:test-client"
            await client.set_security_string(
                f"Basic256Sha256,SignAndEncrypt,{client_cert},{client_key}"
            )
            async with client:
                ns = await client.get_namespace_index(NAMESPACE_URI)
                level = client.get_node(ua.NodeId("Plant.RawWater.T1.Level", ns))
                assert 0.0 < await level.read_value() < 100.0

    asyncio.run(main())
