"""Test helpers: a real asyncua server on loopback, run in its own thread and event loop so that each test
can use ``asyncio.run`` while the server keeps running (and can be stopped and restarted).

The plant server has a few variables of different types under ``ns=2;s=Plant.*``, a server
certificate, every security policy, users (``operator``/``viewer``, password ``secret``;
``viewer`` may not write) and a switchable "strict" mode that behaves like stricter servers do:
it refuses CreateMonitoredItems calls above a size (BadTooManyOperations) and percent deadbands
(BadMonitoredItemFilterUnsupported).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.common.utils import ServiceError
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import SimpleRoleRuleset, User, UserRole
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from hmi.drivers.base import ConnectionHealth, ConnectionState, DriverContext, ValueBatch
from hmi.model.address import TagAddress
from hmi.model.value import TagValue

NS_URI = "urn:hmi:test:plant"
SERVER_URI = "urn:hmi:test:server"
PASSWORDS = {"operator": "secret", "viewer": "secret"}
WRITE_REQUEST = ua.NodeId(ua.ObjectIds.WriteRequest_Encoding_DefaultBinary)

# name: (value, variant type, writable)
VARIABLES: dict[str, tuple[Any, ua.VariantType, bool]] = {
    "Level": (1.5, ua.VariantType.Double, True),
    "Count": (5, ua.VariantType.Int16, True),
    "Running": (True, ua.VariantType.Boolean, True),
    "Name": ("pump", ua.VariantType.String, True),
    "Total": (42, ua.VariantType.UInt32, False),
    "Stamp": (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), ua.VariantType.DateTime, True),
    "Small": (3, ua.VariantType.Byte, True),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_certificate(folder: Path, uri: str, name: str) -> tuple[Path, Path]:
    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        name,
        {},
        [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost")],
        extended=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.der", folder / f"{name}.pem"
    cert_path.write_bytes(cert.public_bytes(Encoding.DER))
    key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return cert_path, key_path


class Users(UserManager):
    def get_user(self, iserver, username=None, password=None, certificate=None):  # type: ignore[no-untyped-def]
        if username is None:
            return User(role=UserRole.User)
        if PASSWORDS.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class ViewersMayNotWrite(SimpleRoleRuleset):
    def check_validity(self, user, action_type_id, body):  # type: ignore[no-untyped-def]
        if user.name == "viewer" and action_type_id == WRITE_REQUEST:
            return False
        return super().check_validity(user, action_type_id, body)


@dataclass
class Strictness:
    """Server-side behaviour of stricter servers; off by default."""

    max_items_per_call: int = 0  # BadTooManyOperations above
    max_items_per_subscription: int = 0  # BadTooManyMonitoredItems for the ones above
    refuse_percent_deadband: bool = False  # BadMonitoredItemFilterUnsupported
    calls: list[int] = field(default_factory=list)
    per_subscription: dict[int, int] = field(default_factory=dict)


class PlantServer:
    def __init__(self, port: int, certificate: tuple[Path, Path] | None) -> None:
        self.port = port
        self.endpoint = f"opc.tcp://127.0.0.1:{port}"
        self.strict = Strictness()
        self._certificate = certificate
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.server: Server = self.call(self._build())
        self.ns = 2

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _build(self) -> Server:
        server = Server(user_manager=Users())
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("HMI test plant")
        policies = [ua.SecurityPolicyType.NoSecurity]
        if self._certificate:
            await server.load_certificate(str(self._certificate[0]))
            await server.load_private_key(str(self._certificate[1]))
            await server.set_application_uri(SERVER_URI)
            policies += [
                ua.SecurityPolicyType.Basic256Sha256_Sign,
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Aes128Sha256RsaOaep_Sign,
                ua.SecurityPolicyType.Aes128Sha256RsaOaep_SignAndEncrypt,
            ]
        server.set_security_policy(policies, permission_ruleset=ViewersMayNotWrite())
        server.set_identity_tokens([ua.AnonymousIdentityToken, ua.UserNameIdentityToken])
        self.ns = await server.register_namespace(NS_URI)
        plant = await server.nodes.objects.add_object(ua.NodeId("Plant", self.ns), "Plant")
        for name, (value, vtype, writable) in VARIABLES.items():
            node = await plant.add_variable(
                ua.NodeId(f"Plant.{name}", self.ns), name, ua.Variant(value, vtype)
            )
            if writable:
                await node.set_writable()
        level = server.get_node(ua.NodeId("Plant.Level", self.ns))
        await level.add_property(
            ua.NodeId("Plant.Level.EURange", self.ns),
            ua.QualifiedName("EURange", 0),
            ua.Range(Low=0.0, High=10.0),
        )
        units = ua.EUInformation(
            DisplayName=ua.LocalizedText("m"), Description=ua.LocalizedText("metre")
        )
        await level.add_property(
            ua.NodeId("Plant.Level.EngineeringUnits", self.ns),
            ua.QualifiedName("EngineeringUnits", 0),
            units,
        )
        many = await plant.add_object(ua.NodeId("Plant.Many", self.ns), "Many")
        for i in range(40):
            await many.add_variable(ua.NodeId(f"Plant.Many.V{i}", self.ns), f"V{i}", float(i))
        self._make_strict(server)
        await server.start()
        return server

    def _make_strict(self, server: Server) -> None:
        service = server.iserver.subscription_service
        original = service.create_monitored_items
        strict = self.strict

        async def create(
            params: ua.CreateMonitoredItemsParameters,
        ) -> list[ua.MonitoredItemCreateResult]:
            items = params.ItemsToCreate
            strict.calls.append(len(items))
            if strict.max_items_per_call and len(items) > strict.max_items_per_call:
                raise ServiceError(ua.StatusCodes.BadTooManyOperations)

            def percent(item: ua.MonitoredItemCreateRequest) -> bool:
                f = item.RequestedParameters.Filter
                return isinstance(f, ua.DataChangeFilter) and f.DeadbandType == 2

            keep = [
                i
                for i, it in enumerate(items)
                if not (strict.refuse_percent_deadband and percent(it))
            ]
            refused = ua.StatusCode(ua.StatusCodes.BadMonitoredItemFilterUnsupported)
            results = [ua.MonitoredItemCreateResult(StatusCode=refused) for _ in items]
            if strict.max_items_per_subscription:
                room = strict.max_items_per_subscription - strict.per_subscription.get(
                    params.SubscriptionId, 0
                )
                full = ua.StatusCode(ua.StatusCodes.BadTooManyMonitoredItems)
                for i in keep[max(0, room) :]:
                    results[i] = ua.MonitoredItemCreateResult(StatusCode=full)
                keep = keep[: max(0, room)]
                strict.per_subscription[params.SubscriptionId] = strict.per_subscription.get(
                    params.SubscriptionId, 0
                ) + len(keep)
            if keep:
                kept = copy.copy(params)
                kept.ItemsToCreate = [items[i] for i in keep]
                for index, result in zip(keep, await original(kept), strict=True):
                    results[index] = result
            return results

        service.create_monitored_items = create  # type: ignore[method-assign]

    def node_id(self, name: str) -> str:
        return f"ns={self.ns};s=Plant.{name}"

    def write(self, name: str, value: Any) -> None:
        vtype = VARIABLES[name][1] if name in VARIABLES else ua.VariantType.Double
        node = self.server.get_node(self.node_id(name))
        self.call(node.write_value(ua.Variant(value, vtype)))

    def read(self, name: str) -> Any:
        return self.call(self.server.get_node(self.node_id(name)).read_value())

    def set_operation_limit(self, value: int) -> None:
        node = self.server.get_node(
            ua.NodeId(
                ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall
            )
        )
        self.call(node.write_value(ua.Variant(value, ua.VariantType.UInt32)))

    def stop(self) -> None:
        """Stop listening first: asyncua waits for open connections when it closes its
        listening socket, and a client reconnecting at once would keep it waiting."""

        async def stop() -> None:
            if self.server.bserver is not None and self.server.bserver._server is not None:
                self.server.bserver._server.close()
            await self.server.stop()

        self.call(stop())

    def start(self) -> None:
        self.call(self.server.start())

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()


class Sink:
    """The driver's DriverContext, recording everything."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[TagAddress, TagValue]]] = []
        self.health: list[ConnectionHealth] = []
        self.context = DriverContext(self._publish, self.health.append)
        self.latest: dict[TagAddress, TagValue] = {}

    def _publish(self, batch: ValueBatch) -> None:
        self.batches.append(list(batch))
        self.latest.update(batch)

    def value(self, address: TagAddress) -> Any:
        tv = self.latest.get(address)
        return None if tv is None else tv.value

    def states(self) -> list[ConnectionState]:
        return [h.state for h in self.health]

    def state(self) -> ConnectionState | None:
        return self.health[-1].state if self.health else None
