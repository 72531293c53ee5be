"""docs/screens.md, the guide to writing screens: every widget type of the schema has an
entry with its field table, an example that the project checker accepts and a picture; the
page in docs/ is what the generator makes from today's schema (``make docs`` after a change)."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hmi.guide.__main__ import check
from hmi.guide.examples import EXAMPLES
from hmi.guide.page import guide_markdown, picture_name
from hmi.guide.schema_tables import FieldTables
from hmi.model.screens.loader import json_schema
from hmi.model.screens.schema import WIDGET_TYPES

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "screens.md"
MAX_PICTURE_BYTES = 40_000


def test_the_guide_in_docs_is_up_to_date_with_the_schema() -> None:
    assert PAGE.read_text(encoding="utf-8") == guide_markdown(), (
        "docs/screens.md is out of date with the screen schema or the examples: run make docs"
    )
    assert check(DOCS) == []


def test_every_widget_type_has_an_entry_a_table_and_a_small_picture() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for kind in WIDGET_TYPES:
        section = page.split(f"\n### {kind}\n", 1)
        assert len(section) == 2, f"docs/screens.md has no entry for widget type {kind!r}"
        body = section[1].split("\n### ", 1)[0]
        assert f"]({picture_name(kind)})" in body
        assert "| field | type | default | meaning |" in body
        picture = DOCS / picture_name(kind)
        assert picture.is_file(), f"{picture} is missing: run make docs"
        assert 0 < picture.stat().st_size <= MAX_PICTURE_BYTES, picture


def test_a_widget_type_without_an_entry_fails_the_generator() -> None:
    """A new widget type in the schema, say a gauge, with no example: no guide is made."""
    schema: dict[str, Any] = copy.deepcopy(json_schema())
    gauge = copy.deepcopy(schema["$defs"]["BarSpec"])
    gauge["properties"]["type"] = {"const": "gauge", "title": "Type", "type": "string"}
    schema["$defs"]["GaugeSpec"] = gauge
    with pytest.raises(KeyError, match="'gauge'"):
        guide_markdown(FieldTables(schema))


def test_a_changed_field_changes_the_table() -> None:
    """The tables are the schema's: a new field or description shows up in them."""
    schema: dict[str, Any] = copy.deepcopy(json_schema())
    schema["$defs"]["BarSpec"]["properties"]["ticks"] = {
        "type": "integer", "default": 5, "description": "scale marks along the bar",
    }  # fmt: skip
    page = guide_markdown(FieldTables(schema))
    assert "| `ticks` | integer | `5` | scale marks along the bar |" in page
    assert page != PAGE.read_text(encoding="utf-8")


def test_every_field_of_every_widget_is_in_its_table() -> None:
    page = PAGE.read_text(encoding="utf-8")
    tables = FieldTables()
    for kind, name in tables.widgets.items():
        body = page.split(f"\n### {kind}\n", 1)[1].split("\n### ", 1)[0]
        own = set(re.findall(r"^\| `(\w+)` \|", body.split("\n#### ", 1)[0], flags=re.M))
        fields = set(tables.defs[name]["properties"]) - {"type"}
        common = {"id", "rect", "tooltip", "visible", "font_size"}
        assert fields - common == own, kind


def colours_of(path: Path) -> set[int]:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    return {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}


def not_connected(colours: set[int]) -> int:
    """How many colours are the theme's magenta of a value that is not connected."""
    return sum(1 for c in colours if c >> 16 & 255 > 150 and c & 255 > 150 and c >> 8 & 255 < 80)


def test_the_examples_are_valid_and_render_with_good_values(qapp: Any, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    from hmi.guide.render import render_pictures, write_example_project

    project = write_example_project(tmp_path / "check")  # the checker of `hmi check`
    assert {example.type for example in EXAMPLES} == set(WIDGET_TYPES)
    assert set(project.screens) == {*WIDGET_TYPES, "tank_farm"}
    pictures = render_pictures(tmp_path / "project", tmp_path / "out")
    assert set(pictures) == set(WIDGET_TYPES)
    for example in EXAMPLES:
        image = QImage(str(pictures[example.type]))
        assert (image.width(), image.height()) == example.size, example.type
        colours = colours_of(pictures[example.type])
        assert len(colours) > 3, f"{example.type}: the picture is blank"
        # no widget waits for data (the dashed magenta frame of a value not connected)
        assert not_connected(colours) == 0, f"{example.type}: a widget shows no value"


def test_a_picture_without_values_is_caught(qapp: Any, tmp_path: Path) -> None:
    """The check above sees a widget that has no value."""
    from hmi.guide.render import render_pictures

    pictures = render_pictures(tmp_path / "project", tmp_path / "out", values={})
    assert not_connected(colours_of(pictures["value"])) > 0
