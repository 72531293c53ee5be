"""Schema of ``forwarding:`` in ``project.yaml``: where the station sends its audit records and
alarm events (a SIEM's syslog collector), and when a failure to send becomes a station alarm.

Only the settings and the collector's address live here (pure, no sockets); the sender is
``hmi.runtime.forwarding``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from hmi.model.alarms.definitions import ConnectionAlarm, Priority
from hmi.model.errors import ConfigError
from hmi.model.tags import Strict

__all__ = [
    "FORWARDING_ALARM_ID",
    "FORWARDING_CONNECTION",
    "Collector",
    "ForwardingSettings",
    "SyslogSettings",
    "parse_collector",
]

FORWARDING_CONNECTION = "$forwarding"
"""The pseudo-connection the forwarding station alarm watches (never a key of ``connections:``:
a connection's name cannot start with ``$`` there without quoting, and none serves tags)."""
FORWARDING_ALARM_ID = "station.forwarding"

_DEFAULT_PORT = {"tcp": 514, "tls": 6514, "udp": 514}
_SD_NAME = re.compile(r"^[!-~]{1,32}$")  # printable US-ASCII, then no = ] " (checked below)


@dataclass(frozen=True, slots=True)
class Collector:
    """A syslog collector's address, parsed once: ``tcp://host:port`` (octet-counted frames,
    RFC 6587), ``tls://host:port`` (RFC 5425) or ``udp://host:port`` (one datagram each)."""

    transport: Literal["tcp", "tls", "udp"]
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}://{host}:{self.port}"


def parse_collector(url: str) -> Collector:
    """``url`` as a ``Collector``; ``ConfigError`` saying what is wrong with it."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT:
        raise ConfigError(
            f"collector {url!r}: the scheme must be tcp://, tls:// or udp:// "
            "(e.g. tls://siem.example.org:6514)"
        )
    try:
        port = parts.port or _DEFAULT_PORT[scheme]
    except ValueError:
        raise ConfigError(f"collector {url!r}: the port must be a number 1-65535") from None
    if not parts.hostname:
        raise ConfigError(f"collector {url!r}: no host (e.g. {scheme}://siem.example.org)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"collector {url!r}: only {scheme}://host:port, nothing after it")
    return Collector(scheme, parts.hostname, port)  # type: ignore[arg-type]


class SyslogSettings(Strict):
    """One syslog collector (``forwarding.syslog``)."""

    url: str = Field(description="tcp://host:port, tls://host:port (RFC 5425) or udp://host:port")
    ca: str | None = Field(
        default=None,
        description="tls: PEM file of the CA the collector's certificate must be signed by, "
        "relative to the project folder (unset: the system's CAs)",
    )
    cert: str | None = Field(default=None, description="tls: this station's certificate (PEM)")
    key: str | None = Field(default=None, description="tls: the key of cert (PEM)")
    server_name: str | None = Field(
        default=None, description="tls: the name the certificate must carry (default: the host)"
    )
    format: Literal["rfc5424", "json", "cef"] = Field(
        default="rfc5424",
        description="rfc5424: structured data; json: one object per message; cef: ArcSight CEF",
    )
    facility: int = Field(default=13, ge=0, le=23, description="syslog facility (13: log audit)")
    app_name: str = Field(default="hmi", min_length=1, max_length=48, pattern=r"^[!-~]+$")
    sd_id: str = Field(
        default="hmi@32473",
        description="the SD-ID of the structured data element (name@enterprise-number)",
    )
    batch: int = Field(default=1000, ge=1, le=10_000, description="events read and sent at once")
    window: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="events sent but not yet confirmed at most: what a failure may resend",
    )
    confirm_s: float = Field(
        default=0.2,
        ge=0,
        le=10,
        description="a batch counts as delivered once the collector's TCP stack has acknowledged "
        "it and the connection stayed up this long",
    )
    timeout_s: float = Field(default=5, gt=0, le=120, description="connect and send timeout")
    reconnect_max_s: float = Field(default=30, gt=0, description="reconnect delay cap")

    @field_validator("url")
    @classmethod
    def _parsed(cls, url: str) -> str:
        try:
            parse_collector(url)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return url

    @field_validator("sd_id")
    @classmethod
    def _sd_name(cls, sd_id: str) -> str:
        if not _SD_NAME.match(sd_id) or any(c in sd_id for c in '="] '):
            raise ValueError(
                f'sd_id {sd_id!r}: 1-32 printable ASCII characters without = ] " or space, '
                "e.g. hmi@32473 (name@your enterprise number)"
            )
        return sd_id

    @model_validator(mode="after")
    def _tls_only(self) -> SyslogSettings:
        collector = parse_collector(self.url)
        given = [n for n in ("ca", "cert", "key", "server_name") if getattr(self, n)]
        if collector.transport != "tls" and given:
            raise ValueError(
                f"{', '.join(given)} only apply to tls:// (the url is {collector.transport}://)"
            )
        if bool(self.cert) != bool(self.key):
            raise ValueError("cert and key go together: give both for a client certificate")
        return self

    @property
    def collector(self) -> Collector:
        return parse_collector(self.url)

    def resolved(self, folder: Path) -> SyslogSettings:
        """The same with ``ca``, ``cert`` and ``key`` made absolute against ``folder``."""
        update = {
            name: str((folder / value).resolve())
            for name in ("ca", "cert", "key")
            if (value := getattr(self, name))
        }
        return self.model_copy(update=update)


class ForwardingSettings(Strict):
    """``forwarding:``: the SIEM the station forwards to, and the alarm when it cannot."""

    syslog: SyslogSettings | None = Field(default=None, description="the syslog collector")
    alarm_after_s: float = Field(
        default=300,
        gt=0,
        description="forwarding failing this long raises the station alarm station.forwarding",
    )
    alarm_priority: Priority = Priority.HIGH
    scope: Literal["all", "station"] = Field(
        default="all",
        description="all: every record of the database; station: only this workstation's "
        "(each station of a shared database forwards its own)",
    )

    def station_alarm(self) -> ConnectionAlarm | None:
        """The station alarm raised while forwarding fails, when there is a collector."""
        if self.syslog is None:
            return None
        return ConnectionAlarm(
            kind="comm_loss",
            id=FORWARDING_ALARM_ID,
            connection=FORWARDING_CONNECTION,
            priority=self.alarm_priority,
            on_delay_s=self.alarm_after_s,
            message=f"Event forwarding to {self.syslog.collector.url} failing: records wait "
            "on this station",
        )
