"""Forwarding to a SIEM: audit records and alarm events as syslog (RFC 5424 over TCP, TLS or
UDP), from a persisted cursor, at least once. ``forwarder`` (the service), ``messages`` (the
three formats), ``transport`` (one connection), ``source`` (what is read, the cursor file)."""

from hmi.runtime.forwarding.forwarder import EventForwarder, ForwardStatus
from hmi.runtime.forwarding.source import EventSource, ForwardCursor, Position
from hmi.runtime.forwarding.transport import ForwardingError

__all__ = [
    "EventForwarder",
    "EventSource",
    "ForwardCursor",
    "ForwardStatus",
    "ForwardingError",
    "Position",
]
