"""Schema of ``project.yaml``: connections, tags, screens, templates and settings."""

from __future__ import annotations

import os
import re
import socket
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings, ConnectionAlarm
from hmi.model.errors import ConfigError
from hmi.model.forwarding import ForwardingSettings
from hmi.model.mqtt import MqttSettings
from hmi.model.security import SecurityConfig
from hmi.model.tags import Strict, TagConfig
from hmi.model.trends.historian import HistorianConfig


class OpcUaConnection(Strict):
    class SubscriptionGroup(Strict):
        """Subscription settings for the tags whose NodeId matches ``match`` (the first group
        that matches wins); a setting left out is the connection's."""

        match: str = Field(
            min_length=1, description="glob on the NodeId string, e.g. 'ns=2;s=Plant.Tank*'"
        )
        publishing_interval_ms: float | None = Field(default=None, gt=0)
        sampling_interval_ms: float | None = Field(default=None, ge=0)
        queue_size: int | None = Field(default=None, ge=1)
        deadband_type: Literal["none", "absolute", "percent"] | None = None
        deadband_value: float | None = Field(default=None, ge=0)

    driver: Literal["opcua"]
    endpoint: str = Field(pattern=r"^opc\.tcp://", description="opc.tcp://host:port[/path]")
    security: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    policy: Literal["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] = (
        "Basic256Sha256"
    )
    username: str | None = None
    password_env: str | None = Field(
        default=None, description="environment variable holding the password"
    )
    publishing_interval_ms: float = Field(default=250, gt=0)
    sampling_interval_ms: float = Field(default=250, ge=0)
    timeout_s: float = Field(default=4, gt=0)
    queue_size: int = Field(default=1, ge=1, description="values the server queues per item")
    deadband_type: Literal["none", "absolute", "percent"] = "none"
    deadband_value: float = Field(default=0, ge=0, description="in units, or % of EURange")
    groups: tuple[OpcUaConnection.SubscriptionGroup, ...] = Field(
        default=(), description="per-tag subscription settings; first match wins"
    )
    keepalive_s: float = Field(
        default=5, gt=0, description="keep-alive period; two silent periods mean connection lost"
    )
    reconnect_min_s: float = Field(default=0.5, gt=0, description="first reconnect delay")
    reconnect_max_s: float = Field(default=30, gt=0, description="reconnect delay cap")
    max_items_per_call: int = Field(
        default=1000,
        ge=1,
        description="monitored items per CreateMonitoredItems call (capped by the server's limit)",
    )
    max_notifications_per_publish: int = Field(
        default=0,
        ge=0,
        description="notifications per Publish response, 0 for the server's limit; a smaller "
        "figure spreads a burst of changes over more, smaller responses",
    )
    comm_loss_alarm: bool | None = Field(
        default=None,
        description="a communication-loss alarm for this connection; default: "
        "settings.alarms.comm_loss.enabled",
    )


class ModbusConnection(Strict):
    """One Modbus line: a TCP server or gateway, or one serial port, with every unit behind it.
    The limits and timings apply to every unit unless a ``unit_*`` field overrides them."""

    driver: Literal["modbus"]
    transport: Literal["tcp", "rtu", "rtu-over-tcp"] = "tcp"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535, description="default 502")
    serial_port: str | None = None
    baudrate: int = 19200
    parity: Literal["N", "E", "O"] = "E"
    stopbits: Literal[1, 2] = Field(default=1, description="2 is usual with parity N")
    poll_ms: float = Field(default=500, gt=0)
    timeout_s: float = Field(default=1, gt=0)
    retries: int = Field(default=1, ge=0, le=5, description="re-sends after a timeout")
    max_registers: int = Field(default=125, ge=1, le=125)
    max_bits: int = Field(default=2000, ge=1, le=2000, description="coils/inputs per read")
    unit_max_registers: dict[int, Annotated[int, Field(ge=1, le=125)]] = Field(
        default_factory=dict, description="smaller read limit for some units, e.g. {3: 32}"
    )
    max_gap: int | None = Field(
        default=None,
        ge=0,
        le=125,
        description="unused registers a read may bridge; default: from the transport's cost "
        "of a request against a register (docs/modbus.md)",
    )
    max_in_flight: int = Field(
        default=1, ge=1, le=16, description="requests outstanding at once (TCP only)"
    )
    force_multiple_write: bool = Field(
        default=False, description="FC15/FC16 even for a single coil or register"
    )
    backoff_max_s: float = Field(
        default=10, gt=0, description="cap of reconnect and silent-unit retry delays"
    )
    stale_periods: float = Field(
        default=3, gt=1, description="a value older than this many poll periods is Stale"
    )
    relearn_s: float = Field(
        default=600, gt=0, description="how often addresses a device refused are tried again"
    )
    comm_loss_alarm: bool | None = Field(
        default=None,
        description="a communication-loss alarm for this connection; default: "
        "settings.alarms.comm_loss.enabled",
    )


Connection = Annotated[OpcUaConnection | ModbusConnection, Field(discriminator="driver")]


class ProjectHeader(Strict):
    name: str
    site: str = ""
    start_screen: str


class Settings(Strict):
    ui_refresh_hz: float = Field(default=10, gt=0, le=60, description="screen repaint rate")
    theme: str = Field(
        default="isa101",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="resources/theme/<theme>.qss: the chrome's style sheet and, in its "
        "ScreenTheme rule, the screen widgets' colours (a name naming no file: Qt's look)",
    )
    alarms: AlarmSettings = AlarmSettings()


def _host_name() -> str:
    return socket.gethostname() or "station"


class DesignSettings(Strict):
    """The screen designer's change control (``design:``); see docs/designer.md."""

    reason: Literal["optional", "required"] = Field(
        default="optional",
        description="required: every saved, new, renamed or deleted screen needs a reason, "
        "which goes into its audit record",
    )


class DatabaseSettings(Strict):
    """Where the audit trail and the users live (``database:``). The default is the station's
    own SQLite file in the user data folder; a site's PostgreSQL is shared by all stations."""

    url: str | None = Field(
        default=None,
        description="sqlite:///path or postgresql+psycopg://user@host/db; default: hmi.sqlite "
        "in the user data folder",
    )
    hmac_key_env: str | None = Field(
        default=None,
        description="environment variable holding the site's audit HMAC key (unset: SHA-256)",
    )
    workstation: str = Field(
        default_factory=_host_name,
        min_length=1,
        max_length=128,
        description="this station's name on audit records; default: the host name",
    )
    spool_failure: Literal["refuse", "warn"] = Field(
        default="refuse",
        description="when the station's audit spool fails its check before forwarding: "
        "refuse further audited operator actions until an administrator releases them "
        "(`hmi audit spool release`), or only warn; see docs/audit.md",
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite:///", "postgresql")):
            raise ValueError(
                f"database url {url!r}: use sqlite:///path/to/file.sqlite or "
                "postgresql+psycopg://user@host/database"
            )
        return url


def comm_loss_id(connection: str) -> str:
    """The id of a connection's default communication-loss alarm: ``<connection>.CommLoss``."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", connection)
    return f"{name if re.match(r'[A-Za-z_]', name) else '_' + name}.CommLoss"


class ProjectFile(Strict):
    """``project.yaml`` as written; screens and templates are file paths relative to it."""

    project: ProjectHeader
    settings: Settings = Settings()
    connections: dict[str, Connection] = {}
    tags: dict[str, TagConfig] = {}
    screens: tuple[str, ...] = Field(
        min_length=1, description="screen files, relative to the project folder"
    )
    templates: tuple[str, ...] = ()
    alarms: tuple[AlarmDefinition, ...] = Field(
        default=(), description="the master alarm database: one entry per alarm, see docs/alarms.md"
    )
    security: SecurityConfig = Field(
        default_factory=SecurityConfig,
        description="roles, session lock, lockout, password policy; see docs/audit.md",
    )
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="audit trail and users; see docs/audit.md"
    )
    historian: HistorianConfig = HistorianConfig()
    design: DesignSettings = Field(
        default_factory=DesignSettings, description="the screen designer; see docs/designer.md"
    )
    forwarding: ForwardingSettings = Field(
        default_factory=ForwardingSettings,
        description="audit records and alarm events to a SIEM; see docs/it-integration.md",
    )
    mqtt: MqttSettings | None = Field(
        default=None, description="Sparkplug B edge node on an MQTT broker; see docs/mqtt.md"
    )

    @field_validator("tags")
    @classmethod
    def _named(cls, tags: dict[str, TagConfig]) -> dict[str, TagConfig]:
        """A tag's name is its key in ``tags:``."""
        return {
            name: tag if tag.name == name else tag.model_copy(update={"name": name})
            for name, tag in tags.items()
        }

    @model_validator(mode="after")
    def _one_audit_key(self) -> ProjectFile:
        named = {self.database.hmac_key_env, self.security.audit_key_env} - {None}
        if len(named) > 1:
            raise ValueError(
                "database.hmac_key_env and security.audit_key_env name different variables; "
                "set the site's audit key once (database.hmac_key_env)"
            )
        return self

    @model_validator(mode="after")
    def _station_alarm_ids_free(self) -> ProjectFile:
        taken = {alarm.id for alarm in self.alarms}
        for alarm in self.station_alarms():
            if alarm.id in taken:
                raise ValueError(
                    f"alarm id {alarm.id!r} is the station's own alarm (forwarding); "
                    "rename the alarm written in alarms:"
                )
        return self

    def comm_loss_alarms(self) -> tuple[ConnectionAlarm, ...]:
        """The communication-loss alarm of every connection that gets one by default: unless
        switched off (``settings.alarms.comm_loss.enabled``, the connection's
        ``comm_loss_alarm``) or written by hand in ``alarms:`` (kind ``comm_loss``)."""
        defaults = self.settings.alarms.comm_loss
        written = {a.connection for a in self.alarms if isinstance(a, ConnectionAlarm)}
        made = []
        for name, connection in self.connections.items():
            wanted = connection.comm_loss_alarm
            if name in written or not (defaults.enabled if wanted is None else wanted):
                continue
            made.append(
                ConnectionAlarm(
                    kind="comm_loss", id=comm_loss_id(name), connection=name,
                    priority=defaults.priority, on_delay_s=defaults.on_delay_s,
                )
            )  # fmt: skip
        return tuple(made)

    def station_alarms(self) -> tuple[ConnectionAlarm, ...]:
        """The station's own alarms: forwarding to the SIEM failing (``forwarding``)."""
        forwarding = self.forwarding.station_alarm()
        return () if forwarding is None else (forwarding,)

    def site_key(self) -> bytes | None:
        """The site's audit HMAC key, from the environment variable this project names (None
        where it names none); ``ConfigError`` where that variable is not set."""
        name = self.audit_key_env
        if not name:
            return None
        value = os.environ.get(name)
        if not value:
            raise ConfigError(
                f"project.yaml: {self.audit_key_setting} names {name}, which is not set in the "
                "environment; set it to the site's audit key"
            )
        return value.encode("utf-8")

    @property
    def audit_key_env(self) -> str | None:
        """The environment variable holding the site's audit HMAC key, if any."""
        return self.database.hmac_key_env or self.security.audit_key_env

    @property
    def audit_key_setting(self) -> str:
        """The setting in project.yaml that names the key's variable: the one this project
        uses, or where a project without a key would set it."""
        if self.security.audit_key_env and not self.database.hmac_key_env:
            return "security.audit_key_env"
        return "database.hmac_key_env"
