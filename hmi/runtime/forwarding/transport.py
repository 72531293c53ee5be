"""One connection to a syslog collector, on asyncio streams: TCP with octet-counting frames
(RFC 6587, ``LEN SP MSG``), the same over TLS (RFC 5425; the collector's certificate verified
against the CA file and its name, a client certificate optional), or UDP (one datagram per
message, RFC 5426: nothing confirms it arrived).

Plain syslog has no acknowledgement. What the sender can know is that the collector's TCP
stack has acknowledged every byte (the socket's unsent and unacknowledged queue is empty) and
that the connection is still up: ``delivered()`` says so, and the forwarder counts a batch as
delivered only when it held for a while (``SyslogSettings.confirm_s``)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import socket
import ssl
import struct
import termios
from collections.abc import Sequence

from hmi.model.errors import HmiError
from hmi.model.forwarding import Collector, SyslogSettings

__all__ = ["ForwardingError", "SyslogConnection", "tls_context"]

log = logging.getLogger(__name__)

_UDP_MAX = 65_000  # a datagram larger than this is cut (RFC 5426 says truncate, not drop)


class ForwardingError(HmiError):
    """The collector cannot be reached or refused the connection; the message says why and
    what to check. Nothing is lost: the forwarder resends from its cursor."""


def tls_context(settings: SyslogSettings) -> ssl.SSLContext:
    """A client context that verifies the collector against ``settings.ca`` (or the system's
    CAs) and its name, TLS 1.2 or newer, with this station's certificate if one is set."""
    try:
        context = ssl.create_default_context(cafile=settings.ca)
    except (OSError, ssl.SSLError) as exc:
        raise ForwardingError(
            f"forwarding.syslog.ca {settings.ca}: cannot read it ({exc})"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.cert:
        try:
            context.load_cert_chain(settings.cert, settings.key)
        except (OSError, ssl.SSLError) as exc:
            raise ForwardingError(
                f"forwarding.syslog.cert {settings.cert} / key {settings.key}: cannot load "
                f"them ({exc}); give a PEM certificate and its private key"
            ) from None
    return context


def _why(collector: Collector, settings: SyslogSettings, exc: BaseException) -> str:
    """What went wrong, in the terms of what to check."""
    where = collector.url
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or str(exc)
        if "hostname mismatch" in reason or "IP address mismatch" in reason:
            name = settings.server_name or collector.host
            return (
                f"{where}: the collector's certificate is not for {name!r} ({reason}); set "
                "forwarding.syslog.server_name to a name the certificate carries, or give the "
                "collector a certificate for this name"
            )
        if "expired" in reason:
            return f"{where}: the collector's certificate has expired ({reason})"
        ca = settings.ca or "the system's CAs"
        return (
            f"{where}: the collector's certificate is not signed by {ca} ({reason}); check "
            "forwarding.syslog.ca"
        )
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS handshake failed ({exc.reason or exc}); is it a TLS port?"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused (is the collector running and listening there?)"
    if isinstance(exc, TimeoutError):
        return f"{where}: no answer within {settings.timeout_s:g} s (network, firewall?)"
    if isinstance(exc, socket.gaierror):
        return f"{where}: cannot resolve {collector.host!r} ({exc.strerror})"
    if isinstance(exc, ConnectionError | EOFError):
        return f"{where}: the collector closed the connection ({exc.__class__.__name__})"
    return f"{where}: {exc.__class__.__name__}: {exc}"


def _unacknowledged(sock: socket.socket | None) -> int:
    """Bytes the kernel still holds for the peer (sent but not acknowledged, or unsent); -1
    when the socket is closed."""
    if sock is None:
        return 0
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (OSError, ValueError):
        return -1
    return int(struct.unpack("i", raw)[0])


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.error: Exception | None = None

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable, ...
        self.error = exc


class SyslogConnection:
    """One open connection; ``open`` it, ``send`` framed batches, ``close``. Any failure is a
    ``ForwardingError`` and the connection is then unusable."""

    def __init__(self, settings: SyslogSettings, collector: Collector | None = None) -> None:
        self.settings = settings
        self.collector = collector or settings.collector
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_protocol: _Datagrams | None = None
        self._watch: asyncio.Task[bytes] | None = None
        self._socket: socket.socket | None = None

    @property
    def confirms(self) -> bool:
        """Whether delivery can be confirmed at all (not over UDP)."""
        return self.collector.transport != "udp"

    async def open(self) -> None:
        collector, settings = self.collector, self.settings
        try:
            if collector.transport == "udp":
                loop = asyncio.get_running_loop()
                self._udp, self._udp_protocol = await loop.create_datagram_endpoint(
                    _Datagrams, remote_addr=(collector.host, collector.port)
                )
                return
            context = tls_context(settings) if collector.transport == "tls" else None
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(
                    collector.host, collector.port, ssl=context,
                    server_hostname=(settings.server_name or collector.host) if context else None,
                    ssl_handshake_timeout=settings.timeout_s if context else None,
                ),
                settings.timeout_s,
            )  # fmt: skip
        except ForwardingError:
            raise
        except (OSError, ssl.SSLError, TimeoutError, EOFError) as exc:
            await self.close()
            raise ForwardingError(_why(collector, settings, exc)) from None
        assert self._reader is not None and self._writer is not None
        sock = self._writer.get_extra_info("socket")
        self._socket = sock if sock is not None else None
        if self._socket is not None:
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._watch = asyncio.create_task(self._reader.read(1024), name="syslog-peer")

    def _check(self) -> None:
        """Raise if the collector has closed or reset the connection."""
        if self._udp_protocol is not None and self._udp_protocol.error is not None:
            exc, self._udp_protocol.error = self._udp_protocol.error, None
            raise ForwardingError(_why(self.collector, self.settings, exc))
        watch = self._watch
        if watch is not None and watch.done():
            failure = watch.exception() if not watch.cancelled() else None
            if failure is None:
                failure = ConnectionResetError("closed by the collector")
            raise ForwardingError(_why(self.collector, self.settings, failure))

    async def send(self, messages: Sequence[bytes]) -> int:
        """Send ``messages`` (each one syslog message), waiting while the collector is slow
        (back-pressure: the stream's buffer drains before this returns); bytes sent."""
        self._check()
        if self._udp is not None:
            for message in messages:
                self._udp.sendto(message[:_UDP_MAX])
            return sum(min(len(m), _UDP_MAX) for m in messages)
        writer = self._writer
        if writer is None:
            raise ForwardingError(f"{self.collector.url}: not connected")
        data = b"".join(b"%d %b" % (len(m), m) for m in messages)
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), self.settings.timeout_s * 4)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            raise ForwardingError(_why(self.collector, self.settings, exc)) from None
        self._check()
        return len(data)

    def delivered(self) -> bool:
        """True when everything sent so far has been acknowledged by the collector's TCP stack
        and the connection is up; raises ``ForwardingError`` if it is not up."""
        self._check()
        if self._writer is None:
            return False
        transport = self._writer.transport
        waiting = _unacknowledged(self._socket)
        if waiting < 0 or transport.is_closing():
            raise ForwardingError(
                _why(self.collector, self.settings, ConnectionResetError("connection closed"))
            )
        return transport.get_write_buffer_size() == 0 and waiting == 0

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(BaseException):
                await self._watch
            self._watch = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)
