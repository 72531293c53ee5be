"""A sheet of every widget in every quality, saved to artifacts/widgets.png to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QWidget

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import (
    BarSpec,
    ButtonSpec,
    GroupSpec,
    ImageSpec,
    IndicatorSpec,
    LabelSpec,
    Look,
    SetpointSpec,
    StateLook,
    SymbolSpec,
    TrendSpec,
    ValueSpec,
)
from hmi.model.tags import TagConfig
from hmi.widgets import WIDGET_CLASSES, SetpointWidget
from hmi.widgets.theme import chrome

from .conftest import Station, make_station, plant_tags

ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "widgets.png"
QUALITIES = {
    "good": Quality.good(),
    "uncertain": Quality.uncertain(QualityReason.STALE),
    "bad": Quality.bad(QualityReason.COMM_FAILURE),
    "disconnected": None,  # never received: starts as Bad(Initial)
}
LOOKS = tuple(Look)
RUNNING = (
    StateLook(value=0, text="STOPPED", look=Look.NORMAL),
    StateLook(value=1, text="RUNNING", look=Look.ACTIVE),
)
LOOK_STATES = tuple(
    StateLook(value=i, text=look.value.upper(), look=look) for i, look in enumerate(LOOKS)
)


def column(prefix: str) -> list[Any]:
    p = prefix
    title = prefix.rstrip(".").upper()
    return [
        LabelSpec(type="label", text=title, style="heading", rect=(0, 0, 220, 28)),
        LabelSpec(type="label", text="Level", style="caption", rect=(0, 44, 60, 30)),
        ValueSpec(type="value", tag=f"{p}Tank1.Level", rect=(64, 44, 130, 30)),
        LabelSpec(type="label", text="Pump", style="caption", rect=(0, 84, 60, 30)),
        IndicatorSpec(type="indicator", tag=f"{p}Pump1.Running", states=RUNNING,
                      rect=(64, 84, 130, 30)),
        SetpointSpec(type="setpoint", tag=f"{p}Tank1.Setpoint", rect=(0, 124, 220, 36)),
        ButtonSpec(
            type="button", text="Start", rect=(0, 170, 100, 32),
            action={"kind": "set", "tag": f"{p}Pump1.Start", "value": True},
        ),
        ButtonSpec(
            type="button", text="Run", rect=(110, 170, 100, 32),
            action={"kind": "toggle", "tag": f"{p}Pump1.Start"},
        ),
        BarSpec(type="bar", tag=f"{p}Tank1.Level", rect=(0, 214, 44, 150)),
        SymbolSpec(type="symbol", symbol="tank", tag=f"{p}Pump1.Running",
                   rect=(52, 214, 60, 100)),
        SymbolSpec(type="symbol", symbol="pump", tag=f"{p}Pump1.Running", states=RUNNING,
                   rect=(120, 214, 64, 64)),
        SymbolSpec(type="symbol", symbol="valve", tag=f"{p}Pump1.Mode", rect=(120, 288, 64, 52)),
        BarSpec(type="bar", tag=f"{p}Tank1.Level", orientation="horizontal",
                rect=(52, 340, 160, 26)),
        TrendSpec(type="trend", tags=(f"{p}Tank1.Level", f"{p}Pump1.Running"),
                  rect=(0, 376, 220, 84)),
    ]  # fmt: skip


def gallery(project_root: Path) -> list[Any]:
    specs: list[Any] = [
        LabelSpec(type="label", text="Title", style="title", rect=(0, 0, 200, 34)),
        LabelSpec(type="label", text="Heading", style="heading", rect=(0, 36, 200, 26)),
        LabelSpec(type="label", text="Normal label", rect=(0, 64, 200, 22)),
        LabelSpec(type="label", text="Caption text", style="caption", rect=(0, 88, 200, 20)),
        GroupSpec(type="group", title="Group", rect=(0, 116, 200, 90)),
        ImageSpec(type="image", source="logo.png", rect=(10, 140, 80, 60)),
        ImageSpec(type="image", source="missing.png", rect=(100, 140, 90, 60)),
        ButtonSpec(type="button", text="Overview", rect=(0, 216, 96, 30),
                   action={"kind": "navigate", "screen": "overview"}),
        ButtonSpec(type="button", text="Faceplate", rect=(104, 216, 96, 30),
                   action={"kind": "faceplate", "template": "pump", "params": {}}),
    ]  # fmt: skip
    for i in range(len(LOOKS)):
        y = 260 + i * 34
        specs.append(
            IndicatorSpec(
                type="indicator", tag=f"Look.{i}", states=LOOK_STATES, rect=(0, y, 110, 28)
            )
        )
        for j, name in enumerate(("pump", "valve", "motor", "fan")):
            specs.append(
                SymbolSpec(type="symbol", symbol=name, tag=f"Look.{i}", states=LOOK_STATES,
                           rect=(118 + j * 34, y - 2, 32, 32))
            )  # fmt: skip
    specs.append(SymbolSpec(type="symbol", symbol="pipe", rect=(0, 470, 200, 14)))
    specs.append(SymbolSpec(type="symbol", symbol="arrow", rect=(206, 464, 40, 24)))
    specs.append(SymbolSpec(type="symbol", symbol="pipe", rotation=90, rect=(258, 260, 14, 230)))
    specs.append(
        SetpointSpec(
            type="setpoint", id="refused", tag="good.Tank1.Setpoint", rect=(0, 500, 220, 36)
        )
    )
    return specs


def build_sheet(station: Station, project_root: Path) -> tuple[QWidget, list[QWidget]]:
    sheet = QWidget()
    sheet.setObjectName("ScreenStage")
    sheet.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
    chrome.wear_ground(sheet, "stage")  # as the canvas's stage
    sheet.resize(1260, 560)
    widgets: list[QWidget] = []

    def place(specs: list[Any], x0: float, y0: float, parent: QWidget) -> None:
        for spec in specs:
            widget = WIDGET_CLASSES[spec.type](spec, station.ctx, parent)
            x, y, w, h = spec.rect
            widget.setGeometry(round(x0 + x), round(y0 + y), round(w), round(h))
            widget.apply_scale(1.0)
            widgets.append(widget)

    for index, state in enumerate(QUALITIES):
        place(column(f"{state}."), 16 + index * 240, 16, sheet)
    place(gallery(project_root), 16 + 4 * 240 + 10, 16, sheet)
    return sheet, widgets


def feed(station: Station) -> None:
    for state, quality in QUALITIES.items():
        if quality is None:
            continue
        station.feed(f"{state}.Tank1.Level", 6.42, quality)
        station.feed(f"{state}.Tank1.Setpoint", 5.0, quality)
        station.feed(f"{state}.Pump1.Running", True, quality)
        station.feed(f"{state}.Pump1.Start", True, quality)
        station.feed(f"{state}.Pump1.Mode", 0, quality)
    for i in range(len(LOOKS)):
        station.feed(f"Look.{i}", i)


def test_sheet_of_all_widgets_in_every_quality(
    qapp: Any, qtbot: Any, tmp_path: Path, themed: None
) -> None:
    logo = QImage(120, 80, QImage.Format.Format_ARGB32)
    logo.fill(QColor("#b0b0b0"))
    painter = QPainter(logo)
    painter.fillRect(20, 20, 80, 40, QColor("#505050"))
    painter.end()
    logo.save(str(tmp_path / "logo.png"))
    tags: dict[str, TagConfig] = {}
    for state in QUALITIES:
        tags.update(plant_tags(f"{state}."))
    for i in range(len(LOOKS)):
        tags[f"Look.{i}"] = TagConfig(
            name=f"Look.{i}", address=f"local://look{i}?type=int", datatype="int"
        )
    station = make_station(tags, tmp_path)
    sheet, widgets = build_sheet(station, tmp_path)
    qtbot.addWidget(sheet)
    sheet.show()
    qtbot.waitExposed(sheet)
    feed(station)
    refused = next(w for w in widgets if isinstance(w, SetpointWidget) and w.spec.id == "refused")
    refused.field.selectAll()
    qtbot.keyClicks(refused.field, "12.5")
    refused.submit()
    assert refused.entry == "refused" and refused.last_write is None
    for widget in widgets:
        if hasattr(widget, "binding") and widget.binding is not None:
            assert widget.binding.value is station.broker.latest(widget.binding.tag)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    assert sheet.grab().save(str(ARTIFACT))
    for widget in widgets:
        widget.release()  # type: ignore[attr-defined]
    assert all(station.broker.subscribers(name) == 0 for name in tags)
