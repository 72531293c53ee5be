"""The ``mqtt:`` section of ``project.yaml``: the broker the station publishes to as a
Sparkplug B edge node, and which enterprise commands it accepts (none unless named)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from hmi.model.tags import Strict

__all__ = ["MqttCommands", "MqttSettings", "SparkplugSettings", "topic_id_problem"]

_TOPIC_FORBIDDEN = re.compile(r"[/+#\x00-\x1f]")


def topic_id_problem(text: str) -> str | None:
    """Why ``text`` cannot be a Sparkplug topic element (group, edge node or device id), or
    None. Those ids are topic levels: ``/``, ``+`` and ``#`` would change the topic's shape."""
    if not text:
        return "is empty"
    bad = sorted(set(_TOPIC_FORBIDDEN.findall(text)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"contains {shown}; MQTT topic levels may not hold / + # or control characters"
    return None


def _topic_id(value: str) -> str:
    problem = topic_id_problem(value)
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return value


class SparkplugSettings(Strict):
    group_id: str = Field(description="Sparkplug group id (a topic level)")
    edge_node_id: str = Field(description="this station's edge node id (a topic level)")
    tags: tuple[str, ...] = Field(
        default=("*",), description="tag names or glob patterns published as metrics"
    )
    deadband: float = Field(
        default=0, ge=0, description="a number must move more than this (in its units) to be sent"
    )
    publish_ms: float = Field(
        default=100, gt=0, le=10_000, description="changes are gathered into one DATA per period"
    )
    primary_host: str | None = Field(
        default=None,
        description="the primary host application's id: born only while its spBv1.0/STATE "
        "says online",
    )

    @field_validator("group_id", "edge_node_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return _topic_id(value)

    @field_validator("primary_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else _topic_id(value)

    def publishes(self, tag: str) -> bool:
        return any(fnmatchcase(tag, pattern) for pattern in self.tags)


class MqttCommands(Strict):
    """NCMD/DCMD writes from the enterprise: off unless tags are named. Each one goes through
    the command service as a write by ``user`` holding ``role`` (permission, limits, the tag's
    confirmation policy); a tag that needs a reason or a second person is refused."""

    tags: tuple[str, ...] = Field(
        default=(), description="tag names or glob patterns that may be written from MQTT"
    )
    user: str = Field(default="mqtt", min_length=1, description="who the audit trail names")
    role: str = Field(default="operator", min_length=1, description="the role checked")

    def allows(self, tag: str) -> bool:
        return any(fnmatchcase(tag, pattern) for pattern in self.tags)


class MqttSettings(Strict):
    broker: str = Field(description="mqtt://host:port or mqtts://host:port (TLS)")
    client_id: str | None = Field(default=None, description="default: hmi-<edge_node_id>")
    username: str | None = None
    password_env: str | None = Field(
        default=None, description="environment variable holding the broker password"
    )
    ca: str | None = Field(
        default=None, description="CA file for mqtts (relative to the project folder)"
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    buffer_max: int = Field(
        default=100_000, ge=0, description="metric values kept while the broker is away"
    )
    sparkplug: SparkplugSettings
    commands: MqttCommands = MqttCommands()

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not a broker URL; write mqtt://host:1883 or mqtts://host:8883"
            )
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            raise ValueError(f"{value!r}: the port is not a number from 1 to 65535") from None
        return value

    @model_validator(mode="after")
    def _tls(self) -> MqttSettings:
        if self.ca is not None and not self.tls:
            raise ValueError("mqtt.ca is set but the broker URL is mqtt://; use mqtts://")
        return self

    @property
    def tls(self) -> bool:
        return urlsplit(self.broker).scheme == "mqtts"

    @property
    def host(self) -> str:
        return urlsplit(self.broker).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.broker).port or (8883 if self.tls else 1883)
