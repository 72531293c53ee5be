"""Alarm definitions: the schema, message templates, and cross-checks against the tags."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML

from hmi.model.alarms.definitions import (
    AlarmDefinition,
    AlarmSettings,
    DeviationAlarm,
    DigitalAlarm,
    LimitAlarm,
    MessageTemplate,
    Priority,
    QualityAlarm,
    RateAlarm,
    check_alarms,
)
from hmi.model.tags import TagConfig

ALARMS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])
DOCS = Path(__file__).resolve().parents[3] / "docs" / "alarms.md"

EXAMPLE = """\
alarms:
  - id: T100.LevelHiHi
    tag: RawTank.Level
    kind: hihi
    limit: 95
    deadband: 2
    priority: critical
    on_delay_s: 3
    message: "Raw-water tank T100 level very high: {value:.1f} % (inflow {RawTank.Inflow:.0f})"
    cause: Inlet valve XV101 open while the transfer pumps are stopped
    consequence: Tank overflows into the bund within 10 minutes
    action: Close XV101 or start P101/P102
    latching: true
  - {id: P101.Trip, tag: P101.Running, kind: digital, equals: 0, suppress_when: P101.RunCmd == 0}
  - {id: FIC100.Dev, tag: RawTank.Inflow, kind: deviation, setpoint: FIC100.SP, band: 10}
  - {id: T100.Rise, tag: RawTank.Level, kind: rate, rate: 0.5, window_s: 30, direction: rising}
  - {id: T100.Comm, tag: RawTank.Level, kind: bad_quality, priority: high}
"""


def load(text: str) -> list[Any]:
    data = YAML(typ="safe").load(io.StringIO(text))
    return ALARMS.validate_python(data["alarms"])


def test_every_kind_reads_from_yaml() -> None:
    alarms = load(EXAMPLE)
    kinds = [type(a) for a in alarms]
    assert kinds == [LimitAlarm, DigitalAlarm, DeviationAlarm, RateAlarm, QualityAlarm]
    level = alarms[0]
    assert (level.priority, level.latching, level.rising) == (Priority.CRITICAL, True, True)
    assert level.referenced_tags() == {"RawTank.Level", "RawTank.Inflow"}
    assert alarms[1].referenced_tags() == {"P101.Running", "P101.RunCmd"}
    assert alarms[2].referenced_tags() == {"RawTank.Inflow", "FIC100.SP"}
    assert alarms[4].on_delay_s == 10  # comm loss waits 10 s unless told otherwise
    with pytest.raises(ValidationError, match="frozen"):
        level.limit = 3  # type: ignore[misc]


def test_the_examples_in_the_docs_are_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    examples = [b for b in blocks if b.lstrip().startswith("alarms:")]
    assert examples, "docs/alarms.md shows no alarms: example"
    for block in examples:
        assert load(block)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"limit": None}, "limit"),
        ({"kind": "hihihi"}, "does not match any of the expected tags"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"id": "has space"}, "should match pattern"),
        ({"on_delay_s": -1}, "greater than or equal to 0"),
        ({"priority": "urgent"}, "'critical', 'high', 'medium' or 'low'"),
        ({"deadband": -0.1}, "greater than or equal to 0"),
        ({"max_shelve_s": -5}, "greater than or equal to 0"),
        ({"message": "level {value"}, "expected '}'"),
        ({"message": "level {value:.1q}"}, "not a format spec"),
        ({"message": "level {value!r}"}, "'!r' is not allowed"),
        ({"message": "level {0}"}, "name the value"),
        ({"message": "level {value:{width}}"}, "nested braces"),
        ({"message": "level {a b}"}, "not a field or tag name"),
        ({"suppress_when": "Pump.Running = 0"}, "column 14: syntax error.*use =="),
        ({"suppress_when": True}, "must be an expression"),
    ],
)
def test_invalid_definitions_say_what_is_wrong(change: dict[str, Any], error: str) -> None:
    raw = {"id": "L.Hi", "tag": "L", "kind": "hi", "limit": 80, **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ValidationError, match=error):
        ALARMS.validate_python([raw])


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"kind": "digital"}, "exactly one of 'equals' or 'not_equals'"),
        ({"kind": "digital", "equals": 1, "not_equals": 0}, "exactly one"),
        ({"kind": "deviation", "setpoint": "SP", "band": 5, "deadband": 5}, "below band"),
        ({"kind": "deviation", "setpoint": "SP", "band": 0}, "greater than 0"),
        ({"kind": "rate", "rate": 1, "deadband": 1}, "below rate"),
        ({"kind": "rate", "rate": 1, "window_s": 0}, "greater than 0"),
    ],
)
def test_kind_specific_rules(raw: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        ALARMS.validate_python([{"id": "x", "tag": "t", **raw}])


def test_templates_render_fields_and_never_raise() -> None:
    text = MessageTemplate("{{literal}} {value:.1f} % / {Other.Tag:d} / {tag} / {value:>8}")
    assert text.tags == {"Other.Tag"}
    assert text.render({"value": 3.14159, "Other.Tag": 7, "tag": "T"}) == (
        "{literal} 3.1 % / 7 / T /  3.14159"
    )
    assert (
        text.render({"value": "n/a", "Other.Tag": 1.5}) == "{literal} n/a % / 1.5 / ---- /      n/a"
    )
    assert text.render({}) == "{literal} ---- % / ---- / ---- / ----"


def test_a_definition_without_a_message_gets_a_plain_one() -> None:
    (alarm,) = ALARMS.validate_python([{"id": "x", "tag": "T1", "kind": "lolo", "limit": 1}])
    assert alarm.text.render({"tag": "T1", "value": 0.5}) == "T1 low low: 0.5"


def test_settings_have_sane_defaults_and_limits() -> None:
    assert AlarmSettings().max_shelve_s == 8 * 3600
    with pytest.raises(ValidationError):
        AlarmSettings(max_shelve_s=0)


def test_cross_check_against_the_tags_names_each_problem_and_where() -> None:
    tags: dict[str, TagConfig | None] = {
        "RawTank.Level": TagConfig(address="sim://sine"),
        "RawTank.Inflow": None,  # defined but broken: not reported again
        "P101.Running": TagConfig(address="local://p?type=bool", datatype="bool"),
    }
    alarms = load(EXAMPLE) + ALARMS.validate_python(
        [
            {"id": "T100.Comm", "tag": "RawTank.Levle", "kind": "bad_quality"},
            {"id": "P101.Hi", "tag": "P101.Running", "kind": "hi", "limit": 0.5},
        ]
    )
    problems = [(p.index, p.field, p.message) for p in check_alarms(alarms, tags)]
    assert problems == [
        (1, "suppress_when", "alarm 'P101.Trip' suppress_when: unknown tag 'P101.RunCmd'; "
                             "did you mean 'P101.Running'?"),
        (2, "setpoint", "alarm 'FIC100.Dev': unknown tag 'FIC100.SP'"),
        (5, "id", "duplicate alarm id 'T100.Comm'; alarm 4 has it"),
        (5, "tag", "alarm 'T100.Comm': unknown tag 'RawTank.Levle'; did you mean 'RawTank.Level'?"),
        (6, "kind", "alarm 'P101.Hi': a hi alarm needs a number, but tag 'P101.Running' is bool; "
                    "use kind: digital"),
    ]  # fmt: skip
    assert check_alarms(load(EXAMPLE)[:1], tags) == []
