"""Schema of ``project.yaml``: connections, tags, screens, templates and settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from hmi.model.screen import ScreenFile, Strict, TemplateFile
from hmi.model.tags import TagConfig


class OpcUaConnection(Strict):
    driver: Literal["opcua"]
    endpoint: str = Field(pattern=r"^opc\.tcp://", description="opc.tcp://host:port[/path]")
    security: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    policy: Literal["Basic256Sha256", "Aes128_Sha256_RsaOaep"] = "Basic256Sha256"
    username: str | None = None
    password_env: str | None = Field(
        default=None, description="environment variable holding the password"
    )
    publishing_interval_ms: float = Field(default=250, gt=0)
    sampling_interval_ms: float = Field(default=250, ge=0)
    timeout_s: float = Field(default=4, gt=0)


class ModbusConnection(Strict):
    driver: Literal["modbus"]
    transport: Literal["tcp", "rtu", "rtu-over-tcp"] = "tcp"
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    serial_port: str | None = None
    baudrate: int = 19200
    parity: Literal["N", "E", "O"] = "E"
    poll_ms: float = Field(default=500, gt=0)
    timeout_s: float = Field(default=1, gt=0)
    max_registers: int = Field(default=125, ge=1, le=125)
    max_gap: int = Field(default=8, ge=0)


Connection = Annotated[OpcUaConnection | ModbusConnection, Field(discriminator="driver")]


class ProjectHeader(Strict):
    name: str
    site: str = ""
    start_screen: str


class Settings(Strict):
    ui_refresh_hz: float = Field(default=10, gt=0, le=60, description="screen repaint rate")
    stale_after_s: float = Field(default=0, ge=0, description="0: never mark values stale by age")
    theme: str = "isa101"


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

    @field_validator("tags")
    @classmethod
    def _named(cls, tags: dict[str, TagConfig]) -> dict[str, TagConfig]:
        """A tag's name is its key in ``tags:``."""
        return {
            name: tag if tag.name == name else tag.model_copy(update={"name": name})
            for name, tag in tags.items()
        }


class Project(Strict):
    """A loaded, cross-checked project: what the runtime builds from."""

    root: str
    file: ProjectFile
    screens: dict[str, ScreenFile]
    templates: dict[str, TemplateFile]
    screen_paths: dict[str, str] = {}
    template_paths: dict[str, str] = {}

    @property
    def tags(self) -> dict[str, TagConfig]:
        return self.file.tags

    @property
    def start_screen(self) -> str:
        return self.file.project.start_screen
