"""The tag picker's browse: a real server browsed, one tag added to the demo project.yaml with
its comments kept, and the project still loads."""

from __future__ import annotations

import asyncio
import difflib
import shutil
from pathlib import Path

import pytest

from hmi.drivers.opcua import browse, tags_yaml
from hmi.model.design.tag_search import add_tags
from hmi.model.errors import ConfigError
from hmi.model.screens.sources import load_with

DEMO = Path(__file__).resolve().parents[3] / "screens"


def test_a_browsed_tag_goes_into_project_yaml(plant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    path = root / "project.yaml"
    before = path.read_text(encoding="utf-8")
    tree = asyncio.run(asyncio.wait_for(browse(plant.endpoint, depth=3), 20))
    text = tags_yaml(tree, "plant_ua")
    after = add_tags(before, str(path), text, ["Plant.Level"])
    added = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line.startswith(("+", "-"))
    ]  # fmt: skip
    assert added and all(line.startswith("+") for line in added), added  # nothing else changed
    assert any("opcua://plant_ua/ns=2;s=Plant.Level" in line for line in added)
    project = load_with(root, {path: after})
    level = project.tags["Plant.Level"]
    assert (level.units, level.range) == ("m", (0.0, 10.0))
    with pytest.raises(ConfigError, match="already"):
        add_tags(after, str(path), text, ["Plant.Level"])
    with pytest.raises(ConfigError, match="no tag 'Nope'"):
        add_tags(before, str(path), text, ["Nope"])
