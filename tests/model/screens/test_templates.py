"""Templates: ``${param}`` substitution into every text of every widget, checked params."""

from __future__ import annotations

import pytest

from hmi.model.errors import ConfigError
from hmi.model.screens.schema import (
    ButtonSpec,
    FaceplateAction,
    GroupSpec,
    IndicatorSpec,
    InstanceSpec,
    NavigateAction,
    SetAction,
    TemplateFile,
    TrendSpec,
    ValueSpec,
)
from hmi.model.screens.templates import (
    PlaceholderError,
    find_placeholders,
    instantiate,
    instantiate_title,
    substitute,
)

TEMPLATE = TemplateFile.model_validate(
    {
        "template": {
            "id": "pump",
            "title": "Pump ${unit} ($${literal})",
            "params": ["unit", "area"],
            "size": [400, 300],
        },
        "widgets": [
            {
                "type": "group",
                "id": "${unit}-group",
                "title": "${unit} in ${area}",
                "rect": [0, 0, 400, 300],
                "widgets": [
                    {
                        "type": "value",
                        "tag": "${unit}.Speed",
                        "rect": [0, 0, 100, 30],
                        "tooltip": "Speed of ${unit}",
                        "visible": "${unit}.Running == 1",
                    },
                    {
                        "type": "indicator",
                        "tag": "${unit}.Running",
                        "rect": [0, 40, 100, 30],
                        "states": [{"value": 1, "text": "${unit} RUNNING", "look": "active"}],
                    },
                ],
            },
            {
                "type": "button",
                "text": "Start ${unit}",
                "rect": [0, 100, 100, 30],
                "action": {"kind": "set", "tag": "${unit}.Start", "value": "${unit}"},
            },
            {
                "type": "button",
                "text": "Details",
                "rect": [0, 140, 100, 30],
                "action": {"kind": "faceplate", "template": "motor", "params": {"m": "${unit}M"}},
            },
            {
                "type": "button",
                "text": "Area",
                "rect": [0, 180, 100, 30],
                "action": {"kind": "navigate", "screen": "${area}"},
            },
            {"type": "trend", "tags": ["${unit}.Speed", "Plant.Power"], "rect": [0, 220, 99, 9]},
            {
                "type": "instance",
                "template": "motor",
                "params": {"m": "${unit}.Motor"},
                "rect": [200, 0, 100, 100],
            },
        ],
    }
)
PARAMS = {"unit": "P101", "area": "pumps"}


def test_every_text_is_substituted() -> None:
    group, start, details, area, trend, nested = instantiate(TEMPLATE, PARAMS)
    assert isinstance(group, GroupSpec)
    assert (group.id, group.title) == ("P101-group", "P101 in pumps")
    value, indicator = group.widgets
    assert isinstance(value, ValueSpec)
    assert (value.tag, value.tooltip, value.visible) == (
        "P101.Speed",
        "Speed of P101",
        "P101.Running == 1",
    )
    assert isinstance(indicator, IndicatorSpec)
    assert indicator.states[0].text == "P101 RUNNING"
    assert indicator.states[0].value == 1
    assert isinstance(start, ButtonSpec) and isinstance(start.action, SetAction)
    assert (start.text, start.action.tag, start.action.value) == (
        "Start P101",
        "P101.Start",
        "P101",
    )
    assert isinstance(details, ButtonSpec) and isinstance(details.action, FaceplateAction)
    assert details.action.params == {"m": "P101M"}
    assert isinstance(area, ButtonSpec) and isinstance(area.action, NavigateAction)
    assert area.action.screen == "pumps"
    assert isinstance(trend, TrendSpec)
    assert trend.tags == ("P101.Speed", "Plant.Power")
    assert isinstance(nested, InstanceSpec)
    assert nested.params == {"m": "P101.Motor"}


def test_geometry_and_non_text_fields_are_kept() -> None:
    widgets = instantiate(TEMPLATE, PARAMS)
    assert [w.rect for w in widgets] == [w.rect for w in TEMPLATE.widgets]


def test_the_template_itself_is_not_changed() -> None:
    instantiate(TEMPLATE, PARAMS)
    assert TEMPLATE.widgets[1].text == "Start ${unit}"  # type: ignore[union-attr]


def test_title() -> None:
    assert instantiate_title(TEMPLATE, PARAMS) == "Pump P101 (${literal})"


def test_missing_param() -> None:
    with pytest.raises(ConfigError, match="missing param 'area'; its params are: unit, area"):
        instantiate(TEMPLATE, {"unit": "P101"})


def test_unknown_param() -> None:
    with pytest.raises(ConfigError, match="unknown param 'speed'"):
        instantiate(TEMPLATE, {**PARAMS, "speed": "1"})
    with pytest.raises(ConfigError, match="unknown param 'speed'"):
        instantiate_title(TEMPLATE, {**PARAMS, "speed": "1"})


def test_undeclared_placeholder() -> None:
    template = TemplateFile.model_validate(
        {
            "template": {"id": "t", "params": ["a"], "size": [10, 10]},
            "widgets": [{"type": "label", "text": "${b}", "rect": [0, 0, 1, 1]}],
        }
    )
    with pytest.raises(ConfigError, match=r"\$\{b\} is used but is not a declared param"):
        instantiate(template, {"a": "1"})


def test_escape_and_substitute() -> None:
    assert substitute("$${a} and ${a}", {"a": "x"}) == "${a} and x"
    assert substitute("no placeholders, $5", {}) == "no placeholders, $5"
    assert substitute("${a}${a}", {"a": "${b}"}) == "${b}${b}"  # values are not expanded again


def test_find_placeholders() -> None:
    assert find_placeholders("${a}.x $${b} ${c_1}") == [("a", 0), ("c_1", 13)]


@pytest.mark.parametrize(
    ("text", "index", "phrase"),
    [
        ("ab ${unit", 3, "without a closing"),
        ("${1x}", 0, "is not a name"),
        ("x${}", 1, "not a name"),
    ],
)
def test_bad_placeholders(text: str, index: int, phrase: str) -> None:
    with pytest.raises(PlaceholderError) as caught:
        find_placeholders(text)
    assert caught.value.index == index
    assert phrase in caught.value.message
