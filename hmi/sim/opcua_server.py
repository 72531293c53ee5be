"""The demo plant over OPC UA (asyncua), e.g. at ``opc.tcp://127.0.0.1:4840/hmi/plant``.

Every point of ``hmi.sim.points`` is a Variable with a string NodeId equal to its name in
the namespace ``urn:hmi:demo-plant`` (``ns=2;s=Plant.RawWater.T1.Level``), under objects
named by the path (Objects/Plant/RawWater/T1/Level). Measurements are AnalogItemType with
EngineeringUnits (UNECE codes) and EURange. Only commands and setpoints are writable
(AccessLevel and UserAccessLevel CurrentRead|CurrentWrite); a write elsewhere answers
BadNotWritable, a write of the wrong DataType BadTypeMismatch and a value the plant refuses
BadOutOfRange. Client writes reach the process model through asyncua's PostWrite callback.
"""

from __future__ import annotations

import logging
from datetime import UTC
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.common.callback import CallbackType, ServerItemCallback

from hmi.sim.points import POINTS, POINTS_BY_NAME, UNECE_NAMESPACE, Kind, Point
from hmi.sim.process import CommandRejected, Plant, Value

__all__ = ["NAMESPACE_URI", "PlantOpcUaServer"]

log = logging.getLogger(__name__)

NAMESPACE_URI = "urn:hmi:demo-plant"
APPLICATION_URI = "urn:hmi:demo-plant:server"

_VARIANT = {
    Kind.BOOL: ua.VariantType.Boolean,
    Kind.DOUBLE: ua.VariantType.Double,
    Kind.UINT32: ua.VariantType.UInt32,
    Kind.INT32: ua.VariantType.Int32,
}
_READ = ua.AccessLevel.CurrentRead.mask
_READ_WRITE = ua.AccessLevel.CurrentRead.mask | ua.AccessLevel.CurrentWrite.mask


def _status(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


def _ns0(identifier: int) -> ua.NodeId:
    return ua.NodeId(ua.Int32(identifier), ua.Int16(0))


_GOOD = _status(ua.StatusCodes.Good)
_SENSOR_FAILURE = _status(ua.StatusCodes.BadSensorFailure)


class PlantOpcUaServer:
    """An asyncua server whose address space mirrors a ``Plant``; call ``publish()`` after
    each simulation tick to push the values that changed."""

    def __init__(
        self,
        plant: Plant,
        *,
        host: str = "127.0.0.1",
        port: int = 4840,
        certificate: Path | None = None,
        private_key: Path | None = None,
    ) -> None:
        self._plant = plant
        self.endpoint = f"opc.tcp://{host}:{port}/hmi/plant"
        self._certificate = certificate
        self._private_key = private_key
        self._server = Server()
        self.namespace_index = 0
        self._nodeids: dict[str, ua.NodeId] = {}
        self._names: dict[ua.NodeId, str] = {}
        self._published: dict[str, tuple[Value, bool]] = {}
        self._running = False

    async def start(self) -> None:
        server = self._server
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("HMI demo plant")
        await server.set_application_uri(APPLICATION_URI)
        server.allow_remote_admin(False)  # no user may bypass AccessLevel
        policies = [ua.SecurityPolicyType.NoSecurity]
        if self._certificate and self._private_key:
            await server.load_certificate(str(self._certificate))
            await server.load_private_key(str(self._private_key))
            policies += [
                ua.SecurityPolicyType.Basic256Sha256_Sign,
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
            ]
        server.set_security_policy(policies)
        self.namespace_index = await server.register_namespace(NAMESPACE_URI)
        await self._build_address_space()
        server.subscribe_server_callback(CallbackType.PostWrite, self._on_post_write)
        await self.publish()
        await server.start()
        self._running = True
        log.info("OPC UA demo plant at %s (ns=%d)", self.endpoint, self.namespace_index)

    async def stop(self) -> None:
        if self._running:
            self._running = False
            self._server.unsubscribe_server_callback(CallbackType.PostWrite, self._on_post_write)
            await self._server.stop()

    async def publish(self) -> None:
        """Write every point whose value or quality changed since the last publish."""
        values = self._plant.values()
        bad = self._plant.bad_points()
        now = ua.DateTime.now(UTC)
        write = self._server.write_attribute_value
        for name, value in values.items():
            state = (value, name in bad)
            if self._published.get(name) == state:
                continue
            self._published[name] = state
            point = POINTS_BY_NAME[name]
            status = _SENSOR_FAILURE if state[1] else _GOOD
            dv = ua.DataValue(
                Value=ua.Variant(value, _VARIANT[point.kind]),
                StatusCode=status,
                SourceTimestamp=now,
                ServerTimestamp=now,
            )
            await write(self._nodeids[name], dv)

    # --- client writes ------------------------------------------------------------------

    async def _on_post_write(self, event: ServerItemCallback, _dispatcher: Any) -> None:
        """Feed accepted client writes to the plant; sharpen the status codes asyncua gives.

        ``event.response_params`` is the list of results the client will receive, so a
        status set here is what the client sees.
        """
        results: list[ua.StatusCode] = event.response_params
        touched = False
        for i, item in enumerate(event.request_params.NodesToWrite):
            name = self._names.get(item.NodeId)
            if name is None or item.AttributeId != ua.AttributeIds.Value:
                continue
            point = POINTS_BY_NAME[name]
            if not point.writable:
                if results[i].value == ua.StatusCodes.BadUserAccessDenied:
                    results[i] = _status(ua.StatusCodes.BadNotWritable)
                continue
            if not results[i].is_good():
                continue
            touched = True
            self._published.pop(name, None)  # the node holds the client's value now
            value = item.Value.Value.Value if item.Value and item.Value.Value else None
            if value is None:  # a DataValue with a Bad status: asyncua stored null
                results[i] = _status(ua.StatusCodes.BadTypeMismatch)
                continue
            try:
                self._plant.write(name, value)
            except CommandRejected as exc:
                log.info("OPC UA write refused: %s", exc)
                results[i] = _status(ua.StatusCodes.BadOutOfRange)
        if touched:
            await self.publish()  # read-back shows what the plant made of it

    # --- address space ------------------------------------------------------------------

    def _nodeid(self, name: str) -> ua.NodeId:
        return ua.NodeId(ua.String(name), ua.Int16(self.namespace_index))

    async def _build_address_space(self) -> None:
        items: list[ua.AddNodesItem] = []
        objects: set[str] = set()
        values = self._plant.values()
        for point in POINTS:
            parts = point.name.split(".")
            for depth in range(1, len(parts)):
                name = ".".join(parts[:depth])
                if name not in objects:
                    objects.add(name)
                    parent = ".".join(parts[: depth - 1])
                    items.append(self._object_item(name, parent))
            items.extend(self._variable_items(point, values[point.name]))
            nodeid = self._nodeid(point.name)
            self._nodeids[point.name] = nodeid
            self._names[nodeid] = point.name
        for result in await self._server.iserver.isession.add_nodes(items):
            result.StatusCode.check()

    def _object_item(self, name: str, parent: str) -> ua.AddNodesItem:
        short = name.rpartition(".")[2]
        attrs = ua.ObjectAttributes(
            DisplayName=ua.LocalizedText(short), Description=ua.LocalizedText(name)
        )
        folder = not parent
        return ua.AddNodesItem(
            ParentNodeId=self._nodeid(parent) if parent else _ns0(ua.ObjectIds.ObjectsFolder),
            ReferenceTypeId=_ns0(ua.ObjectIds.Organizes if folder else ua.ObjectIds.HasComponent),
            RequestedNewNodeId=self._nodeid(name),
            BrowseName=ua.QualifiedName(short, self.namespace_index),
            NodeClass=ua.NodeClass.Object,
            NodeAttributes=attrs,
            TypeDefinition=_ns0(ua.ObjectIds.FolderType if folder else ua.ObjectIds.BaseObjectType),
        )

    def _variable_items(self, point: Point, value: Value) -> list[ua.AddNodesItem]:
        parent, _, short = point.name.rpartition(".")
        access = _READ_WRITE if point.writable else _READ
        analog = point.unit is not None
        attrs = ua.VariableAttributes(
            DisplayName=ua.LocalizedText(short),
            Description=ua.LocalizedText(point.description),
            Value=ua.Variant(value, _VARIANT[point.kind]),
            DataType=_ns0(getattr(ua.ObjectIds, point.kind.value)),
            ValueRank=ua.ValueRank.Scalar,
            AccessLevel=access,
            UserAccessLevel=access,
            MinimumSamplingInterval=100.0,
            Historizing=False,
        )
        items = [
            ua.AddNodesItem(
                ParentNodeId=self._nodeid(parent),
                ReferenceTypeId=_ns0(ua.ObjectIds.HasComponent),
                RequestedNewNodeId=self._nodeid(point.name),
                BrowseName=ua.QualifiedName(short, self.namespace_index),
                NodeClass=ua.NodeClass.Variable,
                NodeAttributes=attrs,
                TypeDefinition=_ns0(
                    ua.ObjectIds.AnalogItemType if analog else ua.ObjectIds.BaseDataVariableType
                ),
            )
        ]
        if point.unit is not None:
            eu = ua.EUInformation(
                NamespaceUri=UNECE_NAMESPACE,
                UnitId=point.unit.unit_id,
                DisplayName=ua.LocalizedText(point.unit.symbol),
                Description=ua.LocalizedText(point.unit.description),
            )
            items.append(
                self._property_item(point.name, "EngineeringUnits", eu, ua.ObjectIds.EUInformation)
            )
        if point.eu_range is not None:
            low, high = point.eu_range
            eu_range = ua.Range(Low=low, High=high)
            items.append(self._property_item(point.name, "EURange", eu_range, ua.ObjectIds.Range))
        return items

    def _property_item(self, owner: str, name: str, value: Any, datatype: int) -> ua.AddNodesItem:
        attrs = ua.VariableAttributes(
            DisplayName=ua.LocalizedText(name),
            Value=ua.Variant(value, ua.VariantType.ExtensionObject),
            DataType=_ns0(datatype),
            ValueRank=ua.ValueRank.Scalar,
            AccessLevel=_READ,
            UserAccessLevel=_READ,
            Historizing=False,
        )
        return ua.AddNodesItem(
            ParentNodeId=self._nodeid(owner),
            ReferenceTypeId=_ns0(ua.ObjectIds.HasProperty),
            RequestedNewNodeId=self._nodeid(f"{owner}.{name}"),
            BrowseName=ua.QualifiedName(name, 0),
            NodeClass=ua.NodeClass.Variable,
            NodeAttributes=attrs,
            TypeDefinition=_ns0(ua.ObjectIds.PropertyType),
        )
