"""Opening an OPC UA session: endpoint choice, security, trust check, user identity.

Used by the driver (one session per connection attempt) and by ``browse``. Only services of
the specification are used (GetEndpoints, OpenSecureChannel, CreateSession, ActivateSession,
Read), so any compliant server works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua
from asyncua.crypto import security_policies
from asyncua.ua.ua_binary import nodeid_from_binary, struct_from_binary

from hmi.drivers.opcua.certs import (
    CertificateRefused,
    Pki,
    check_server_certificate,
    ensure_own_certificate,
)
from hmi.drivers.opcua.quality import status_name, status_text
from hmi.drivers.opcua.values import ns0
from hmi.model.errors import ConfigError
from hmi.model.project import OpcUaConnection

log = logging.getLogger(__name__)

POLICIES: Mapping[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
_MODES = {
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}
# Status codes after which trying again cannot help until someone changes something.
_FATAL = {
    "BadCertificateUntrusted": "the server does not trust this station's certificate",
    "BadCertificateInvalid": "the server refuses this station's certificate",
    "BadCertificateUriInvalid": "the server refuses this station's certificate (URI)",
    "BadCertificateUseNotAllowed": "the server refuses this station's certificate (key usage)",
    "BadCertificateTimeInvalid": "a certificate is outside its validity period",
    "BadCertificateRevoked": "the server has revoked this station's certificate",
    "BadSecurityPolicyRejected": "the server rejects the security policy",
    "BadSecurityModeRejected": "the server rejects the security mode",
    "BadIdentityTokenInvalid": "the server rejects the user identity",
    "BadIdentityTokenRejected": "the server rejects the user name or password",
    "BadUserAccessDenied": "the server denies access to this user",
    "BadUserSignatureInvalid": "the server rejects the user signature",
}


class _RefusalEcho(logging.Filter):
    """asyncua's own ERROR for a server's refusal ("Got error status from server: ...
    (BadSecurityChecksFailed)" for a ServiceFault, "Received an error: ErrorMessage(...)" at
    CRITICAL for an ERR message), logged at every attempt, is dropped: the refusal is raised to
    the driver, which explains it once a state change (``OpcUaDriver._set_health``) and shows
    it on the status bar; a refused certificate retried for a shift made thousands of them."""

    REFUSALS = (*_FATAL, "BadSecurityChecksFailed")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        said = str(record.msg)
        if said.startswith("Got error status"):  # a ServiceFault
            text = record.getMessage()
            return not any(f"({name})" in text for name in self.REFUSALS)
        if said.startswith("Received an error") and isinstance(record.args, tuple):  # an ERR
            code = getattr(getattr(record.args[0], "Error", None), "value", None)
            return not (isinstance(code, int) and status_name(code) in self.REFUSALS)
        return True


logging.getLogger("asyncua.client.ua_client.UASocketProtocol").addFilter(_RefusalEcho())


class SessionRefused(ConfigError):
    """The server (or our own configuration) refuses the session: retrying will not help."""


class ChannelRefused(SessionRefused):
    """A secured server refused to open a secure channel with this station's certificate.

    Strict servers (open62541, node-opcua, Kepware, Siemens) check the client's certificate at
    OpenSecureChannel and answer an untrusted one with an ERR message or a ServiceFault, most
    often BadSecurityChecksFailed; asyncua turns the latter into a bare AssertionError."""

    def __init__(self, endpoint: str, code: int | None) -> None:
        self.code = code
        status = f" ({status_name(code)})" if code is not None else ""
        super().__init__(
            f"{endpoint}: the server refused this station's certificate{status}; give the "
            "server's administrator this station's certificate (`hmi certs show-own`) to put "
            "on its trusted list, or trust it there among the rejected ones; the station "
            "keeps trying and connects once it is trusted"
        )


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Everything needed to open one session; built from an ``OpcUaConnection``."""

    endpoint: str
    security: str = "None"
    policy: str = "Basic256Sha256"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 4.0
    keepalive_s: float = 5.0

    @staticmethod
    def from_connection(
        connection: OpcUaConnection, environ: Mapping[str, str] | None = None
    ) -> SessionSettings:
        """The password is read from the variable ``password_env`` names, never the project."""
        environ = os.environ if environ is None else environ
        password = None
        if connection.username and connection.password_env:
            password = environ.get(connection.password_env)
            if password is None:
                raise SessionRefused(
                    f"environment variable {connection.password_env} is not set; it must hold "
                    f"the password of OPC UA user {connection.username!r}"
                )
        return SessionSettings(
            endpoint=connection.endpoint,
            security=connection.security,
            policy=connection.policy,
            username=connection.username,
            password=password,
            timeout_s=connection.timeout_s,
            keepalive_s=connection.keepalive_s,
        )

    @property
    def label(self) -> str:
        security = "no security" if self.security == "None" else f"{self.security} {self.policy}"
        user = f", user {self.username}" if self.username else ""
        return f"{self.endpoint} ({security}{user})"


@dataclass(frozen=True, slots=True)
class OperationLimits:
    """The server's OperationLimits (0: none given)."""

    max_monitored_items_per_call: int = 0
    max_nodes_per_read: int = 0
    max_nodes_per_write: int = 0
    max_nodes_per_browse: int = 0


def _first_cert(chain: bytes) -> bytes:
    """A ServerCertificate may be a chain (concatenated DER); the first one is the server's."""
    if len(chain) < 4 or chain[0] != 0x30 or chain[1] != 0x82:
        return chain
    return chain[: int.from_bytes(chain[2:4], "big") + 4]


def _pick_endpoint(
    endpoints: list[ua.EndpointDescription], settings: SessionSettings
) -> ua.EndpointDescription:
    mode = _MODES[settings.security]
    policy_uri = POLICIES[settings.policy].URI
    for endpoint in endpoints:
        if endpoint.SecurityMode == mode and endpoint.SecurityPolicyUri == policy_uri:
            return endpoint
    offered = sorted(
        {f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]}/{e.SecurityMode.name}" for e in endpoints}
    )
    raise SessionRefused(
        f"{settings.endpoint} offers no {settings.policy}/{settings.security} endpoint; it "
        f"offers {', '.join(offered) or 'none'}: change security/policy of the connection"
    )


async def open_client(
    settings: SessionSettings,
    pki: Pki | None = None,
    *,
    on_lost: Callable[[Exception], Coroutine[Any, Any, None]] | None = None,
) -> Client:
    """A connected, activated client. Raises ``CertificateRefused`` / ``SessionRefused`` for what
    needs a person to act, anything else (``OSError``, timeouts, status codes) for what may pass."""
    if settings.security != "None" and settings.policy not in POLICIES:
        raise SessionRefused(f"security policy {settings.policy!r} is not supported")
    client = Client(
        settings.endpoint, timeout=settings.timeout_s, watchdog_intervall=settings.keepalive_s
    )
    client.name = client.description = f"HMI operator station {socket.gethostname()}"
    client.product_uri = "urn:hmi:operator-station"
    client.application_uri = f"urn:{socket.gethostname() or 'localhost'}:hmi:station"
    # Short enough that a server drops our orphaned sessions soon; each reconnect opens a new one.
    client.session_timeout = int(max(30_000, settings.keepalive_s * 10_000))
    if settings.security != "None":
        own = await asyncio.to_thread(ensure_own_certificate, pki)
        client.application_uri = own.application_uri  # must match the certificate's SAN URI
        endpoints = await client.connect_and_get_server_endpoints()
        endpoint = _pick_endpoint(endpoints, settings)
        server_der = _first_cert(endpoint.ServerCertificate or b"")
        if not server_der:
            raise SessionRefused(f"{settings.endpoint} sends no certificate for its endpoint")
        await asyncio.to_thread(check_server_certificate, server_der, pki, server=settings.endpoint)
        await client.set_security(
            POLICIES[settings.policy],
            str(own.cert_path),
            str(own.key_path),
            server_certificate=server_der,
            mode=_MODES[settings.security],
        )
    if settings.username:
        client.set_user(settings.username)
        if settings.password is not None:
            client.set_password(settings.password)
    client.connection_lost_callback = on_lost
    if settings.security != "None":
        _refusals_as_errors(client, settings.endpoint)
    try:
        await client.connect(auto_reconnect=False)
    except BaseException:
        with contextlib.suppress(Exception):
            client.disconnect_socket()  # connect() has undone the rest
        raise
    _stop_publishing_on_loss(client)
    return client


def _stop_publishing_on_loss(client: Client) -> None:
    """When the socket goes, end asyncua's publish loop at once: its next round would log a
    traceback ("Publish iteration crashed") per second for a session that is gone. The driver
    sees the loss itself and opens a new session; this one is never used again."""
    protocol = client.uaclient.protocol
    if protocol is None:
        return
    chained = protocol.on_connection_lost

    def lost(exc: Exception | None) -> None:
        task = getattr(client.uaclient.session, "_publish_task", None)
        if isinstance(task, asyncio.Task):
            task.cancel()
        if chained is not None:
            chained(exc)

    protocol.on_connection_lost = lost


_SERVICE_FAULT = ns0(ua.ObjectIds.ServiceFault_Encoding_DefaultBinary)


def _refusals_as_errors(client: Client, endpoint: str) -> None:
    """Make a refused OpenSecureChannel a ``ChannelRefused`` with the server's status.

    asyncua takes a ServiceFault answering OpenSecureChannel for the response itself, logs a
    traceback and fails with an empty AssertionError; an ERR message comes through as the
    status. Both hooks are on this client's own objects (instance attributes)."""
    connect_socket = client.connect_socket
    open_channel = client.open_secure_channel

    async def connect_socket_then_watch() -> None:
        await connect_socket()
        protocol = client.uaclient.protocol
        process = getattr(protocol, "_process_received_message", None)
        if protocol is None or process is None:
            return

        def process_message(msg: Any) -> None:
            if isinstance(msg, ua.Message) and isinstance(
                msg.SecurityHeader(), ua.AsymmetricAlgorithmHeader
            ):  # only OpenSecureChannel is secured asymmetrically
                body = msg.body()
                if nodeid_from_binary(body.copy()) == _SERVICE_FAULT:
                    nodeid_from_binary(body)
                    header = struct_from_binary(ua.ResponseHeader, body)
                    raise ua.UaStatusCodeError(header.ServiceResult.value)
            process(msg)

        protocol._process_received_message = process_message  # type: ignore[method-assign]

    async def open_channel_or_refuse(renew: bool = False) -> None:
        if renew:
            await open_channel(renew)
            return
        try:
            await open_channel(renew)
        except OSError:  # timeouts and lost connections included: they may pass
            raise
        except ua.UaStatusCodeError as exc:
            raise ChannelRefused(endpoint, exc.code) from None
        except (AssertionError, ua.UaError):
            raise ChannelRefused(endpoint, None) from None

    client.connect_socket = connect_socket_then_watch  # type: ignore[method-assign]
    client.open_secure_channel = open_channel_or_refuse  # type: ignore[method-assign]


async def close_client(client: Client, timeout_s: float = 2.0) -> None:
    """Close the session (deleting its subscriptions) if the server still answers, then drop
    the socket. Raises nothing but cancellation."""
    try:
        async with asyncio.timeout(timeout_s):  # wait_for may lose a cancel on 3.11
            await client.disconnect()
    except Exception as exc:  # the connection may already be gone
        log.debug("closing %s: %r", client, exc)
    finally:
        # After asyncua's watchdog gave up, its state says DISCONNECTED while the socket may
        # still be open (a server that stopped answering): close the transport itself.
        protocol = client.uaclient.protocol
        transport = protocol.transport if protocol is not None else None
        if transport is not None and not transport.is_closing():
            transport.close()
        with contextlib.suppress(Exception):
            client.disconnect_socket()


async def read_operation_limits(client: Client) -> OperationLimits:
    """The OperationLimits a server reports (absent ones read as 0: no limit)."""
    ids = ua.ObjectIds
    nodes = [
        ids.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
        ids.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
        ids.Server_ServerCapabilities_OperationLimits_MaxNodesPerWrite,
        ids.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
    ]
    params = ua.ReadParameters()
    params.NodesToRead = [
        ua.ReadValueId(NodeId=ns0(n), AttributeId=ua.AttributeIds.Value) for n in nodes
    ]
    try:
        values = await client.uaclient.read(params)
    except ua.UaStatusCodeError as exc:
        log.info("server does not report its operation limits: %s", exc)
        return OperationLimits()
    found = []
    for dv in values:
        good = dv.StatusCode is None or dv.StatusCode.is_good()
        value = dv.Value.Value if good and dv.Value is not None else None
        found.append(int(value) if isinstance(value, int) and value > 0 else 0)
    return OperationLimits(*found)


def explain(exc: BaseException, settings: SessionSettings) -> tuple[bool, str]:
    """``(fatal, detail)`` for a failed connection attempt: fatal ones need a person to act."""
    if isinstance(exc, CertificateRefused | SessionRefused):
        return True, str(exc)
    if isinstance(exc, ua.UaStatusCodeError):
        name = status_name(exc.code)
        if name in _FATAL:
            hint = ""
            if name.startswith("BadCertificate"):
                hint = "; give the server's administrator this station's certificate (`hmi certs show-own`)"
            elif "Identity" in name or "User" in name:
                hint = "; check username and the password in the environment variable"
            return True, f"{settings.endpoint}: {_FATAL[name]} ({name}){hint}"
        return False, f"{settings.endpoint}: {status_text(exc.code)}"
    if isinstance(exc, ConnectionRefusedError):
        return False, f"{settings.endpoint} refuses connections (is the server running?)"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return False, f"{settings.endpoint} does not answer within {settings.timeout_s:g} s"
    if isinstance(exc, socket.gaierror):
        return False, f"cannot resolve the host of {settings.endpoint}: {exc.strerror}"
    if isinstance(exc, OSError):
        return False, f"cannot reach {settings.endpoint}: {exc.strerror or exc}"
    return False, f"{settings.endpoint}: {type(exc).__name__}: {exc}"
