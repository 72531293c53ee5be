"""The tag picker on the running demo plant: search, and the live value and quality shown."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.design.tag_search import search_tags
from hmi.model.screens.loader import Project
from hmi.views.designer.tag_picker import TagPicker


def test_search_by_name_description_units(demo_project: Project) -> None:
    tags = demo_project.tags
    by_units = search_tags(tags, "m³/h")
    assert by_units and all("m³/h" in f"{n} {tags[n].description} {tags[n].units}".lower()
                            for n in by_units)  # fmt: skip
    assert search_tags(tags, "no such words anywhere") == []
    name = next(iter(tags))
    assert search_tags(tags, name.lower())[0] == name


def test_live_value_and_quality(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    station = make_station(plant_project, connected=True)
    picker = TagPicker(plant_project.tags, station.bridge)
    qtbot.addWidget(picker)
    name = next(n for n, t in plant_project.tags.items() if t.units)
    picker.query.setText(name)
    item = picker.table.topLevelItem(0)
    assert item.text(0) == name
    qtbot.waitUntil(lambda: item.text(2) == "good" and item.text(1) != "", timeout=10_000)
    spec = plant_project.tags[name].format
    qtbot.waitUntil(
        lambda: item.text(1) == format(station.broker.latest(name).value, spec), timeout=5_000
    )
    picked: list[str] = []
    picker.picked.connect(picked.append)
    picker.query.returnPressed.emit()
    assert picked == [name]
