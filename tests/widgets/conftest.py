"""Widgets built on a real WidgetContext: TagBroker over the default driver registry (local://
memory tags), the Qt bridge and the command service. Values reach widgets the way they do in
the station: published into the broker, then flushed by the bridge."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hmi.drivers.defaults import default_registry
from hmi.model.quality import GOOD, Quality
from hmi.model.tags import Limits, TagConfig, WritePolicy
from hmi.model.value import TagValue
from hmi.resources import theme_path
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome


def plant_tags(prefix: str = "") -> dict[str, TagConfig]:
    """A small plant; ``prefix`` makes an independent copy (its own local:// memory)."""
    key = prefix.replace(".", "_")

    def tag(name: str, address: str, **kwargs: Any) -> tuple[str, TagConfig]:
        full = f"{prefix}{name}"
        return full, TagConfig(name=full, address=f"local://{key}{address}", **kwargs)

    return dict(
        [
            tag(
                "Tank1.Level",
                "tank1_level?type=float",
                description="Tank 1 level",
                units="m",
                range=(0, 10),
                format=".2f",
                limits=Limits(lolo=0.5, lo=1.0, hi=8.5, hihi=9.5),
            ),
            tag(
                "Tank1.Setpoint",
                "tank1_sp?type=float",
                description="Tank 1 level setpoint",
                units="m",
                range=(0, 10),
                format=".1f",
                write=WritePolicy(min=1.0, max=9.0),
            ),
            tag(
                "Pump1.Running",
                "pump1_running?type=bool",
                description="Pump 1 running",
                datatype="bool",
                states={0: "Stopped", 1: "Running"},
            ),
            tag(
                "Pump1.Start",
                "pump1_start?type=bool",
                description="Pump 1 start command",
                datatype="bool",
                write=WritePolicy(),
            ),
            tag(
                "Pump1.Mode",
                "pump1_mode?type=int",
                description="Pump 1 mode",
                datatype="int",
                write=WritePolicy(min=0, max=3),
            ),
            tag("Plant.Name", "plant_name?type=str", description="Plant name", datatype="str"),
        ]
    )


@dataclass
class Station:
    """What a screen's widgets are given, plus helpers to feed values in."""

    broker: TagBroker
    bridge: QtTagBridge
    ctx: WidgetContext
    navigated: list[str] = field(default_factory=list)
    faceplates: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def feed(
        self,
        tag: str,
        value: Any,
        quality: Quality = GOOD,
        source_time: float | None = None,
    ) -> None:
        """Publish a value as a driver would, and flush it to the widgets."""
        address = self.broker.tag(tag).address
        self.broker.publish([(address, TagValue.now(value, quality, source_time))])
        self.bridge.flush()

    def driver_value(self, tag: str) -> Any:
        driver = self.broker.pool.drivers["local"]
        return driver.value(self.broker.tag(tag).address.connection)  # type: ignore[attr-defined]


def make_station(tags: dict[str, TagConfig], project_root: Path) -> Station:
    broker = TagBroker(tags, default_registry(), {})
    bridge = QtTagBridge(broker, CommandService(broker))
    navigated: list[str] = []
    faceplates: list[tuple[str, dict[str, str]]] = []
    ctx = WidgetContext(
        bridge=bridge,
        tags=tags,
        navigate=navigated.append,
        open_faceplate=lambda template, params: faceplates.append((template, dict(params))),
        project_root=project_root,
        screen_id="test",
    )
    return Station(broker, bridge, ctx, navigated, faceplates)


@pytest.fixture
def station(qapp: Any, tmp_path: Path) -> Station:
    return make_station(plant_tags(), tmp_path)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The loop ``submit_write`` creates its task on; tests run it until the write is done."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    pending = asyncio.all_tasks(loop)
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def themed(qapp: Any) -> Iterator[None]:
    """The ISA-101 theme for the widgets one test builds."""
    chrome.install(qapp, theme_path().read_text(encoding="utf-8"))
    yield
    chrome.uninstall()
